# Detection of the attended step rms_connector.authorize (read-only; runs in check mode too).
# monitor-rms-connector.md: the connector logs to the Application log, source "Microsoft RMS connector";
# Information 1004 "The list of authorized accounts has been updated" each time it downloads the list
# (every 15 minutes), Warning 2003 "The list of authorizations is empty". Done when the newest of the
# two is 1004. Get-WinEvent: learn.microsoft.com/powershell/module/microsoft.powershell.diagnostics/get-winevent
[CmdletBinding(SupportsShouldProcess)]
param ()

$Ansible.Changed = $false
$filter = @{
    LogName = 'Application'
    ProviderName = 'Microsoft RMS connector'
    Id = 1004, 2003
}
$newest = @(Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction SilentlyContinue)
if ($newest.Count -eq 0) {
    $Ansible.Result = @{ Done = $false; LastEventId = $null; LastEventTime = $null }
}
else {
    $Ansible.Result = @{
        Done = ($newest[0].Id -eq 1004)
        LastEventId = $newest[0].Id
        LastEventTime = $newest[0].TimeCreated.ToUniversalTime().ToString('o')
    }
}
