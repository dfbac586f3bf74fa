# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on the Windows DNS server (adfs_dns_server).
# Read-only: the record types that exist for a name in a zone, so the role refuses to add the
# federation service's A record next to a CNAME (Windows Integrated Authentication needs an A record,
# not a CNAME: https://learn.microsoft.com/windows-server/identity/ad-fs/overview/ad-fs-requirements).
#   Get-DnsServerResourceRecord -ZoneName -Name
#   https://learn.microsoft.com/powershell/module/dnsserver/get-dnsserverresourcerecord
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$ZoneName,
    [Parameter(Mandatory = $true)][string]$Name
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$records = @(Get-DnsServerResourceRecord -ZoneName $ZoneName -Name $Name -ErrorAction SilentlyContinue)
[PSCustomObject]@{
    types = @($records | ForEach-Object { [string]$_.RecordType } | Sort-Object -Unique)
    cname = @($records | Where-Object { [string]$_.RecordType -eq 'CNAME' } |
            ForEach-Object { [string]$_.RecordData.HostNameAlias })
    a = @($records | Where-Object { [string]$_.RecordType -eq 'A' } |
            ForEach-Object { [string]$_.RecordData.IPv4Address })
}
