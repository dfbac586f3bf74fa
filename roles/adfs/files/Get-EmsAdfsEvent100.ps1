# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs verify, on every AD FS node. Read-only: the latest event 100 of the AD FS Admin log
# ("the Federation Service was able to successfully communicate with ..."), the sign Microsoft gives
# that a federation server is operational.
# Source: https://learn.microsoft.com/windows-server/identity/ad-fs/deployment/verify-that-a-federation-server-is-operational
#   Get-WinEvent -FilterHashtable @{ LogName; Id } -MaxEvents
#   https://learn.microsoft.com/powershell/module/microsoft.powershell.diagnostics/get-winevent
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$latest = Get-WinEvent -FilterHashtable @{ LogName = 'AD FS/Admin'; Id = 100 } -MaxEvents 1 -ErrorAction SilentlyContinue
[PSCustomObject]@{
    found = [bool]$latest
    time = $(if ($latest) { $latest.TimeCreated.ToUniversalTime().ToString('o') } else { $null })
    message = $(if ($latest) { ($latest.Message -split "`r?`n")[0] } else { $null })
}
