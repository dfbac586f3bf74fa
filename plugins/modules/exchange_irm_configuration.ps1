#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.ems.enable.plugins.module_utils.connectors.ExchangeSession

# The organization's IRM settings that the RMS connector needs (Microsoft, "Configuring servers for
# the Microsoft Rights Management connector": "Enable IRM functionality for Exchange by using the
# Exchange PowerShell cmdlet Set-IRMConfiguration. Set InternalLicensingEnabled $true and
# ClientAccessServerEnabled $true."). Cmdlet references (MicrosoftDocs/office-docs-powershell,
# exchange/exchange-ps/ExchangePowerShell/): Get-IRMConfiguration, Set-IRMConfiguration
# -InternalLicensingEnabled -ClientAccessServerEnabled -Confirm, Test-IRMConfiguration -Sender ("Use the
# Test-IRMConfiguration cmdlet to test Information Rights Management (IRM) configuration and functionality";
# it changes no setting, so it also runs in check mode). Microsoft documents no output type for it: the
# text is read from its Results property where the object has one, else from its formatted output.

$spec = @{
    options = @{
        internal_licensing_enabled = @{ type = 'bool' }
        client_access_server_enabled = @{ type = 'bool' }
        test_sender = @{ type = 'str' }
    }
    required_one_of = @(, @('internal_licensing_enabled', 'client_access_server_enabled', 'test_sender'))
    supports_check_mode = $true
}
$spec.options += Get-EmsExchangeSessionSpec
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$session = Connect-EmsExchangeSession -Module $module -CommandName @('Get-IRMConfiguration', 'Set-IRMConfiguration', 'Test-IRMConfiguration')
try {
    # Get-IRMConfiguration: https://learn.microsoft.com/powershell/module/exchangepowershell/get-irmconfiguration
    $current = Get-IRMConfiguration -ErrorAction Stop
    $before = @{
        internal_licensing_enabled = [bool]$current.InternalLicensingEnabled
        client_access_server_enabled = [bool]$current.ClientAccessServerEnabled
    }
    $after = $before.Clone()
    $set = @{}
    foreach ($pair in @(
            @('internal_licensing_enabled', 'InternalLicensingEnabled'),
            @('client_access_server_enabled', 'ClientAccessServerEnabled'))) {
        $wanted = $module.Params[$pair[0]]
        if ($null -ne $wanted -and $before[$pair[0]] -ne $wanted) {
            $set[$pair[1]] = $wanted
            $after[$pair[0]] = $wanted
        }
    }
    $module.Result.changed = $set.Count -gt 0
    if ($set.Count -gt 0 -and -not $module.CheckMode) {
        # Set-IRMConfiguration -InternalLicensingEnabled -ClientAccessServerEnabled: https://learn.microsoft.com/powershell/module/exchangepowershell/set-irmconfiguration
        Set-IRMConfiguration @set -Confirm:$false -ErrorAction Stop
    }
    $module.Diff.before = $before
    $module.Diff.after = $after
    $module.Result.irm_configuration = $after
    if ($module.Params.test_sender) {
        # Test-IRMConfiguration -Sender: https://learn.microsoft.com/powershell/module/exchangepowershell/test-irmconfiguration
        $tests = @(Test-IRMConfiguration -Sender $module.Params.test_sender -ErrorAction Stop)
        $lines = foreach ($test in $tests) {
            if ($test.PSObject.Properties.Name -contains 'Results') { [string]$test.Results }
            else { ($test | Out-String).Trim() }
        }
        $module.Result.irm_test = @{
            sender = $module.Params.test_sender
            results = ($lines -join [Environment]::NewLine)
        }
    }
}
catch {
    $module.FailJson(("Exchange server {0}: reading or setting the IRM configuration failed: {1}" -f
            $module.Params.exchange_server, $_.Exception.Message), $_)
}
finally {
    Disconnect-EmsExchangeSession -Session $session
}

$module.ExitJson()
