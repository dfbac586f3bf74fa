# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant's view (tenant_info) and the tenant preflight rules (docs/tenant.md)."""
