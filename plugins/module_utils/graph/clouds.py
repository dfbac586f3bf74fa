# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The national clouds: ONE table of sign-in authority and Graph endpoint per cloud.

Sources: Microsoft Learn graph/deployments.md ("National cloud deployments": Graph and Microsoft
Entra endpoints per cloud) and entra-docs identity-platform/authentication-national-cloud.md.
docs/tenant.md prints this table; the module options' choices come from it.
"""

from __future__ import annotations

CLOUDS = {
    "global": {"authority": "https://login.microsoftonline.com", "graph": "https://graph.microsoft.com",
               "name": "Microsoft global service"},
    "usgov": {"authority": "https://login.microsoftonline.us", "graph": "https://graph.microsoft.us",
              "name": "Microsoft Graph for US Government L4 (GCC High)"},
    "china": {"authority": "https://login.chinacloudapi.cn", "graph": "https://microsoftgraph.chinacloudapi.cn",
              "name": "Microsoft Graph China operated by 21Vianet"},
}
CLOUD_NAMES = sorted(CLOUDS)
API_VERSION = "v1.0"
#: Graph beta: "APIs under the /beta version in Microsoft Graph are subject to change. Use of these APIs in
#: production applications is not supported" (the banner of every beta page on Learn). The client calls it
#: only where a module asks for it by name (``version=BETA_VERSION``), and counts those calls.
BETA_VERSION = "beta"


def endpoints(cloud, authority_url=None, graph_url=None):
    """(authority host URL, Graph root URL) of a cloud, with the optional overrides (a stand-in)."""
    table = CLOUDS[cloud]
    return ((authority_url or table["authority"]).rstrip("/"), (graph_url or table["graph"]).rstrip("/"))
