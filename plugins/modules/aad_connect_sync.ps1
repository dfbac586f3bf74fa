#!powershell
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.connectors.AadConnect

# The settings of an Entra Connect Sync server that Microsoft supports changing with PowerShell
# after the wizard's configuration: password hash sync per AD connector, the sync scheduler
# (interval, SyncCycleEnabled), and an on-demand sync cycle. Staging mode is NOT set here: setting
# it with Set-ADSyncScheduler is unsupported (how-to-connect-sync-feature-scheduler.md); the wizard
# does it. Read first, change only what differs, report before/after as a diff.

$spec = @{
    options = @{
        password_hash_sync = @{ type = 'bool'; default = $true }
        sync_interval = @{ type = 'int' }
        scheduler_enabled = @{ type = 'bool' }
        start_sync_cycle = @{ type = 'str'; default = 'none'; choices = @('none', 'delta', 'initial') }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$computer = $env:COMPUTERNAME

if (-not (Import-AadcSyncModule)) {
    $module.FailJson("$($computer): the ADSync PowerShell module is not installed: the sync engine comes with the " +
        "Entra Connect wizard's configuration. Remedy: complete the wizard (attended step aad_connect.initial_configuration).")
}

if ($module.Params.sync_interval -and ($module.Params.sync_interval -lt 1)) {
    $module.FailJson("sync_interval: $($module.Params.sync_interval) minutes. Remedy: a positive number of minutes (30 or more).")
}

# Get-ADSyncConnector (reference-connect-adsync.md).
$connectors = @()
foreach ($c in @(Get-ADSyncConnector -ErrorAction Stop)) { $connectors += Get-AadcConnectorInfo -Connector $c }
$adConnectors = @($connectors | Where-Object { $_.kind -eq 'ad' })
$entraConnectors = @($connectors | Where-Object { $_.kind -eq 'entra' })
if ($adConnectors.Count -eq 0 -or $entraConnectors.Count -eq 0) {
    $module.FailJson("$($computer): Entra Connect is not configured ($($adConnectors.Count) AD and $($entraConnectors.Count) " +
        "Entra connector(s)). Remedy: complete the installation wizard first (attended step aad_connect.initial_configuration).")
}
if ($entraConnectors.Count -gt 1) {
    $module.FailJson("$($computer): $($entraConnectors.Count) Entra ID connectors ($(($entraConnectors | ForEach-Object { $_.name }) -join ', ')); " +
        "this module handles one tenant. Remedy: configure password hash sync in the wizard.")
}
$entra = $entraConnectors[0]
$module.Result.connectors = $connectors

$before = @{}
$after = @{}
$actions = @()

# ---- password hash sync per AD connector -------------------------------------------------------
# Set-ADSyncAADPasswordSyncConfiguration -SourceConnector -TargetConnector -Enable
# (tshoot-connect-password-hash-synchronization.md).
$phs = Get-AadcPasswordHashSync -Connectors $adConnectors
$before.password_hash_sync = @{}
$after.password_hash_sync = @{}
foreach ($entry in $phs) {
    $before.password_hash_sync[$entry.connector] = $entry.enabled
    $after.password_hash_sync[$entry.connector] = $entry.enabled
    if ($entry.enabled -ne $module.Params.password_hash_sync) {
        $after.password_hash_sync[$entry.connector] = $module.Params.password_hash_sync
        $actions += "password hash sync $($entry.connector) -> $($entra.name): $($module.Params.password_hash_sync)"
        if (-not $module.CheckMode) {
            Set-ADSyncAADPasswordSyncConfiguration -SourceConnector $entry.connector -TargetConnector $entra.name `
                -Enable $module.Params.password_hash_sync -ErrorAction Stop | Out-Null
        }
    }
}

# ---- scheduler ---------------------------------------------------------------------------------
# Get-ADSyncScheduler / Set-ADSyncScheduler -CustomizedSyncCycleInterval -SyncCycleEnabled
# (how-to-connect-sync-feature-scheduler.md; reference-connect-adsync.md).
$scheduler = Get-AadcScheduler
$currentInterval = Get-AadcIntervalMinutes -Scheduler $scheduler
$before.sync_interval = $currentInterval
$after.sync_interval = $currentInterval
$before.scheduler_enabled = $scheduler.sync_cycle_enabled
$after.scheduler_enabled = $scheduler.sync_cycle_enabled
$set = @{}
if ($null -ne $module.Params.sync_interval) {
    $wanted = $module.Params.sync_interval
    if ($null -ne $scheduler.allowed_interval_minutes -and $wanted -lt $scheduler.allowed_interval_minutes) {
        $module.Warn("sync_interval: $wanted minutes is below the AllowedSyncCycleInterval of $($scheduler.allowed_interval_minutes); " +
            "the scheduler uses $($scheduler.allowed_interval_minutes).")
        $wanted = $scheduler.allowed_interval_minutes
    }
    if ($currentInterval -ne $wanted) {
        $set.CustomizedSyncCycleInterval = New-TimeSpan -Minutes $wanted
        $after.sync_interval = $wanted
        $actions += "sync interval $currentInterval -> $wanted minutes"
    }
}
if ($null -ne $module.Params.scheduler_enabled -and $scheduler.sync_cycle_enabled -ne $module.Params.scheduler_enabled) {
    $set.SyncCycleEnabled = $module.Params.scheduler_enabled
    $after.scheduler_enabled = $module.Params.scheduler_enabled
    $actions += "SyncCycleEnabled $($scheduler.sync_cycle_enabled) -> $($module.Params.scheduler_enabled)"
}
if ($set.Count -gt 0 -and -not $module.CheckMode) {
    Set-ADSyncScheduler @set -ErrorAction Stop | Out-Null
}

# ---- on-demand sync cycle ----------------------------------------------------------------------
# Start-ADSyncSyncCycle -PolicyType Delta|Initial (how-to-connect-sync-feature-scheduler.md).
$module.Result.sync_cycle = $null
if ($module.Params.start_sync_cycle -ne 'none') {
    $policy = if ($module.Params.start_sync_cycle -eq 'initial') { 'Initial' } else { 'Delta' }
    if ($scheduler.sync_cycle_in_progress) {
        $module.Warn("A sync cycle is already running on $($computer); no $policy cycle started.")
        $module.Result.sync_cycle = @{ policy = $policy; started = $false; result = 'busy' }
    }
    else {
        $actions += "start a $policy sync cycle"
        $module.Result.sync_cycle = @{ policy = $policy; started = -not $module.CheckMode; result = $null }
        if (-not $module.CheckMode) {
            $answer = Start-ADSyncSyncCycle -PolicyType $policy -ErrorAction Stop
            $module.Result.sync_cycle.result = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $answer -Name 'Result')
        }
    }
}

$module.Result.actions = $actions
$module.Result.changed = $actions.Count -gt 0
$module.Result.staging_mode = $scheduler.staging_mode_enabled
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()
