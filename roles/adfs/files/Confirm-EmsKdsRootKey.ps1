# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on a domain controller (adfs_directory_host).
# Reports the forest's KDS root keys and whether one is usable for a gMSA; creates one ONLY when
# -Create is given (adfs_kds_root_key_create), backdated by 10 hours ONLY with -LabBackdate
# (adfs_kds_root_key_lab_backdate, a single-DC lab shortcut).
# Source: https://learn.microsoft.com/windows-server/security/group-managed-service-accounts/create-the-key-distribution-services-kds-root-key
#   Get-KdsRootKey  https://learn.microsoft.com/powershell/module/kds/get-kdsrootkey
#   Add-KdsRootKey  https://learn.microsoft.com/powershell/module/kds/add-kdsrootkey
#     -EffectiveImmediately (key used at once on this DC; other DCs after replication),
#     -EffectiveTime (the lab shortcut: (Get-Date).AddHours(-10))
[CmdletBinding(SupportsShouldProcess)]
param (
    [bool]$Create = $false,
    [bool]$LabBackdate = $false
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$keys = @(Get-KdsRootKey)
$created = $false
if ($keys.Count -eq 0 -and $Create) {
    if ($PSCmdlet.ShouldProcess('KDS root key of the forest', 'Add-KdsRootKey')) {
        if ($LabBackdate) {
            $null = Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))
        }
        else {
            $null = Add-KdsRootKey -EffectiveImmediately
        }
        $keys = @(Get-KdsRootKey)
    }
    $created = $true
    $Ansible.Changed = $true
}

# EffectiveTime is a property of the returned root key objects (not described on the Learn page):
# a key serves gMSA passwords once it is 10 hours past it (the documented lab shortcut backdates it).
$now = [DateTime]::UtcNow
$times = @($keys | ForEach-Object {
        if ($_.PSObject.Properties.Name -contains 'EffectiveTime') { ([DateTime]$_.EffectiveTime).ToUniversalTime() }
    })
$usableFrom = @($times | ForEach-Object { $_.AddHours(10) } | Sort-Object)
[PSCustomObject]@{
    present = ($keys.Count -gt 0) -or ($created -and $Ansible.CheckMode)
    created = $created
    count = $keys.Count
    effective_times = @($times | ForEach-Object { $_.ToString('o') })
    usable = ($usableFrom.Count -gt 0 -and $usableFrom[0] -le $now) -or ($keys.Count -gt 0 -and $times.Count -eq 0)
    usable_from = $(if ($usableFrom.Count -gt 0) { $usableFrom[0].ToString('o') } else { $null })
}
