# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Microsoft Graph from the controller: clouds, errors, credentials, the client (docs/tenant.md)."""
