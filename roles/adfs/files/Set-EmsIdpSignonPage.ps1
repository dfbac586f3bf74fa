# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on the farm's primary for the SSO test:
# reads EnableIdpInitiatedSignonPage and sets it to -Enabled when it differs (idempotent). The role
# turns the page on for the test and, when it was off before, back off afterwards.
# Source: https://learn.microsoft.com/windows-server/identity/ad-fs/troubleshooting/ad-fs-tshoot-initiatedsignon
#   Get-AdfsProperties  https://learn.microsoft.com/powershell/module/adfs/get-adfsproperties
#   Set-AdfsProperties -EnableIdpInitiatedSignonPage <Boolean>
#                       https://learn.microsoft.com/powershell/module/adfs/set-adfsproperties
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)][bool]$Enabled
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$before = [bool](Get-AdfsProperties).EnableIdpInitiatedSignonPage
if ($before -ne $Enabled) {
    if ($PSCmdlet.ShouldProcess('EnableIdpInitiatedSignonPage', "Set-AdfsProperties to $Enabled")) {
        Set-AdfsProperties -EnableIdpInitiatedSignonPage $Enabled
    }
    $Ansible.Changed = $true
}
[PSCustomObject]@{ before = $before; after = $Enabled }
