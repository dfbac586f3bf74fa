# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on every Web Application Proxy. Read-only:
# the IPv4 addresses this host resolves the federation service name to (DNS client, hosts file
# included). Each proxy must resolve it to the AD FS farm's load balancer, through a perimeter DNS
# server or the hosts file:
# https://learn.microsoft.com/windows-server/identity/ad-fs/overview/ad-fs-requirements (DNS Requirements)
#   Resolve-DnsName -Name -Type A  https://learn.microsoft.com/powershell/module/dnsclient/resolve-dnsname
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$Name
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$answers = @(Resolve-DnsName -Name $Name -Type A -ErrorAction SilentlyContinue)
[PSCustomObject]@{
    name = $Name
    addresses = @($answers | Where-Object { $_.PSObject.Properties.Name -contains 'IPAddress' -and $_.IPAddress } |
            ForEach-Object { [string]$_.IPAddress } | Sort-Object -Unique)
    cname = @($answers | Where-Object { [string]$_.Type -eq 'CNAME' } | ForEach-Object { [string]$_.NameHost })
}
