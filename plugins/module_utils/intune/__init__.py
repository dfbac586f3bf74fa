# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Intune enablement objects kept as data and compared with the tenant (desired state over Graph)."""
