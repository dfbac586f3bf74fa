# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on the farm's primary before the role changes
# an existing farm. Backs the farm up with the AD FS Rapid Restore Tool when it is installed; reports
# present=false (and changes nothing) when it is not.
# Source: https://learn.microsoft.com/windows-server/identity/ad-fs/operations/ad-fs-rapid-restore-tool
#   the tool's module: C:\Program Files (x86)\ADFS Rapid Recreation Tool\ADFSRapidRecreationTool.dll
#   Backup-ADFS -StorageType "FileSystem" -StoragePath <folder> -EncryptionPassword <password>
#               -BackupComment <string[]> [-BackupDKM]
#   With WID it must run on the primary server; -BackupDKM needs access to the DKM container in AD
#   (domain admin, or delegated).
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)][string]$StoragePath,
    [Parameter(Mandatory = $true)][string]$EncryptionPassword,
    [bool]$BackupDkm = $true,
    [string]$Comment = 'ems.enable adfs role, before changing the farm'
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$tool = Join-Path -Path ${env:ProgramFiles(x86)} -ChildPath 'ADFS Rapid Recreation Tool\ADFSRapidRecreationTool.dll'
$result = [ordered]@{ present = (Test-Path -LiteralPath $tool); configured = $false; backed_up = $false; storage_path = $StoragePath }
if (-not $result.present) {
    return [PSCustomObject]$result
}
# FSConfigurationStatus = 2: a configured federation server (Microsoft's AD FS diagnostics, adfsToolbox).
$status = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ADFS' -Name FSConfigurationStatus -ErrorAction SilentlyContinue
$result.configured = ($null -ne $status) -and ([int]$status.FSConfigurationStatus -eq 2)
if (-not $result.configured) {
    return [PSCustomObject]$result
}
if ($PSCmdlet.ShouldProcess($StoragePath, 'Backup-ADFS')) {
    if (-not (Test-Path -LiteralPath $StoragePath)) {
        $null = New-Item -Path $StoragePath -ItemType Directory -Force
    }
    Import-Module -Name $tool
    $params = @{
        StorageType = 'FileSystem'
        StoragePath = $StoragePath
        EncryptionPassword = $EncryptionPassword
        BackupComment = @($Comment)
    }
    if ($BackupDkm) {
        $params.BackupDKM = $true
    }
    $null = Backup-ADFS @params
    $result.backed_up = $true
}
$Ansible.Changed = $true
[PSCustomObject]$result
