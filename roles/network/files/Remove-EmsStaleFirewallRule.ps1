#Requires -Version 5.1
# Removes the Windows Firewall rules of the ems.enable rule group that the port table no longer
# produces for this host (a row removed, a component or feature dropped). Only rules of that group
# are touched. Run by ansible.windows.win_powershell; supports check mode (-WhatIf).
[CmdletBinding(SupportsShouldProcess = $true)]
param (
    [Parameter(Mandatory = $true)]
    [string]
    $Group,

    [string[]]
    $Keep = @()
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$removed = [System.Collections.Generic.List[string]]::new()
$rules = @(Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue)
foreach ($rule in $rules) {
    if ($Keep -notcontains $rule.DisplayName) {
        if ($PSCmdlet.ShouldProcess($rule.DisplayName, 'Remove firewall rule')) {
            Remove-NetFirewallRule -Name $rule.Name
        }
        $removed.Add($rule.DisplayName)
        $Ansible.Changed = $true
    }
}
[PSCustomObject]@{
    removed = @($removed)
}
