# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Shared helpers of the aad_connect_* PowerShell modules: finding the Entra Connect product, the
# ADSync PowerShell module and reading its objects defensively (property names differ between
# releases). Microsoft references for every cmdlet are in roles/aad_connect/README.md.

Set-StrictMode -Version 2.0

# DisplayName of the wizard's product in "Programs and Features" over the releases: "Microsoft
# Azure AD Connect", later "Microsoft Entra Connect" / "Microsoft Entra Connect Sync"
# [names observed on installed servers; not in a Microsoft document].
$script:ProductNamePattern = '^Microsoft (Azure AD|Azure Active Directory|Entra) Connect( Sync)?$'
# Install folders: how-to-connect-configure-ad-ds-connector-account.md imports AdSyncConfig.psm1
# from "C:\Program Files\Microsoft Azure Active Directory Connect\AdSyncConfig" and notes
# "C:\Program Files\Microsoft Entra Connect\AdSyncConfig" for newer builds.
$script:InstallFolders = @('Microsoft Azure Active Directory Connect', 'Microsoft Entra Connect')
$script:UninstallRoots = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
)

Function Get-AadcPropertyValue {
    <#
    .SYNOPSIS
    The value of a property, or $null when the object does not have it (no error under StrictMode).
    #>
    param (
        [AllowNull()][object]$InputObject,
        [Parameter(Mandatory)][string]$Name
    )
    if ($null -eq $InputObject) { return $null }
    if ($InputObject -is [System.Collections.IDictionary]) {
        if ($InputObject.Contains($Name)) { return $InputObject[$Name] }
        return $null
    }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

Function ConvertTo-AadcMinutes {
    <#
    .SYNOPSIS
    A TimeSpan (or its text, d.HH:mm:ss) as whole minutes, or $null.
    #>
    param ([AllowNull()][object]$Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [TimeSpan]) { return [int][Math]::Round($Value.TotalMinutes) }
    $parsed = [TimeSpan]::Zero
    if ([TimeSpan]::TryParse([string]$Value, [ref]$parsed)) { return [int][Math]::Round($parsed.TotalMinutes) }
    return $null
}

Function ConvertTo-AadcText {
    param ([AllowNull()][object]$Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [DateTime]) { return $Value.ToUniversalTime().ToString('o') }
    return [string]$Value
}

Function Find-AadcProduct {
    <#
    .SYNOPSIS
    The installed Entra Connect product (uninstall registry entry), by product code or by name.
    #>
    param ([string]$ProductId)
    $found = $null
    foreach ($root in $script:UninstallRoots) {
        if (-not (Test-Path -LiteralPath $root)) { continue }
        foreach ($key in @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
            $props = Get-ItemProperty -LiteralPath $key.PSPath -ErrorAction SilentlyContinue
            $name = Get-AadcPropertyValue -InputObject $props -Name 'DisplayName'
            if ($ProductId) {
                $match = $key.PSChildName -eq $ProductId
            }
            else {
                $match = ($null -ne $name) -and ([string]$name -match $script:ProductNamePattern)
            }
            if ($match) {
                $found = @{
                    installed = $true
                    name = [string]$name
                    version = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $props -Name 'DisplayVersion')
                    product_id = $key.PSChildName
                    install_location = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $props -Name 'InstallLocation')
                }
                break
            }
        }
        if ($found) { break }
    }
    if (-not $found) {
        $found = @{ installed = $false; name = $null; version = $null; product_id = $null; install_location = $null }
    }
    $found.install_dir = $null
    $candidates = @()
    if ($found.install_location) { $candidates += $found.install_location }
    foreach ($folder in $script:InstallFolders) { $candidates += (Join-Path -Path $env:ProgramFiles -ChildPath $folder) }
    foreach ($dir in $candidates) {
        if ($dir -and (Test-Path -LiteralPath $dir -PathType Container)) { $found.install_dir = $dir; break }
    }
    $found.adsync_config = $null
    foreach ($dir in $candidates) {
        if (-not $dir) { continue }
        $psm1 = Join-Path -Path $dir -ChildPath 'AdSyncConfig\AdSyncConfig.psm1'
        if (Test-Path -LiteralPath $psm1 -PathType Leaf) { $found.adsync_config = $psm1; break }
    }
    return $found
}

Function Import-AadcSyncModule {
    <#
    .SYNOPSIS
    Loads the ADSync module the wizard installs with the sync engine (how-to-connect-sync-feature-
    scheduler.md: "run Import-Module ADSync"). $true when loaded.
    #>
    if (Get-Module -Name ADSync) { return $true }
    try {
        # -Global: imported from inside this module, it would otherwise be visible here only.
        Import-Module -Name ADSync -Global -ErrorAction Stop
        return $true
    }
    catch {
        return $false
    }
}

Function Get-AadcConnectorInfo {
    <#
    .SYNOPSIS
    Name, id and kind of an ADSync connector: 'ad' (ConnectorTypeName AD) or 'entra' (SubType
    "Windows Azure Active Directory (Microsoft)"), as tshoot-connect-password-hash-synchronization.md
    tells them apart.
    #>
    param ([Parameter(Mandatory)][object]$Connector)
    $typeName = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $Connector -Name 'ConnectorTypeName')
    $subType = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $Connector -Name 'SubType')
    $kind = 'other'
    if ($typeName -eq 'AD') { $kind = 'ad' }
    elseif ($subType -and $subType -like '*Azure Active Directory (Microsoft)*') { $kind = 'entra' }
    return @{
        name = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $Connector -Name 'Name')
        identifier = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $Connector -Name 'Identifier')
        type_name = $typeName
        subtype = $subType
        kind = $kind
    }
}

Function Get-AadcScheduler {
    <#
    .SYNOPSIS
    Get-ADSyncScheduler as a plain hashtable (how-to-connect-sync-feature-scheduler.md lists the
    fields), intervals in minutes.
    #>
    $s = Get-ADSyncScheduler -ErrorAction Stop
    $allowed = ConvertTo-AadcMinutes (Get-AadcPropertyValue -InputObject $s -Name 'AllowedSyncCycleInterval')
    $customized = ConvertTo-AadcMinutes (Get-AadcPropertyValue -InputObject $s -Name 'CustomizedSyncCycleInterval')
    $effective = ConvertTo-AadcMinutes (Get-AadcPropertyValue -InputObject $s -Name 'CurrentlyEffectiveSyncCycleInterval')
    $inProgress = Get-AadcPropertyValue -InputObject $s -Name 'SyncCycleInProgress'
    return @{
        allowed_interval_minutes = $allowed
        customized_interval_minutes = $customized
        effective_interval_minutes = $effective
        sync_cycle_enabled = [bool](Get-AadcPropertyValue -InputObject $s -Name 'SyncCycleEnabled')
        maintenance_enabled = [bool](Get-AadcPropertyValue -InputObject $s -Name 'MaintenanceEnabled')
        staging_mode_enabled = [bool](Get-AadcPropertyValue -InputObject $s -Name 'StagingModeEnabled')
        scheduler_suspended = [bool](Get-AadcPropertyValue -InputObject $s -Name 'SchedulerSuspended')
        sync_cycle_in_progress = if ($null -eq $inProgress) { $null } else { [bool]$inProgress }
        next_sync_cycle_policy_type = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $s -Name 'NextSyncCyclePolicyType')
        next_sync_cycle_start_utc = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $s -Name 'NextSyncCycleStartTimeInUTC')
    }
}

Function Get-AadcIntervalMinutes {
    <#
    .SYNOPSIS
    The interval the scheduler uses: CustomizedSyncCycleInterval when set, else the allowed
    (default) one; never below AllowedSyncCycleInterval (how-to-connect-sync-feature-scheduler.md).
    #>
    param ([Parameter(Mandatory)][hashtable]$Scheduler)
    $value = $Scheduler.customized_interval_minutes
    if ($null -eq $value) { $value = $Scheduler.allowed_interval_minutes }
    if ($null -ne $Scheduler.allowed_interval_minutes -and $null -ne $value -and $value -lt $Scheduler.allowed_interval_minutes) {
        $value = $Scheduler.allowed_interval_minutes
    }
    return $value
}

Function Get-AadcPasswordHashSync {
    <#
    .SYNOPSIS
    Password hash sync per AD connector: Get-ADSyncAADPasswordSyncConfiguration -SourceConnector
    (output columns SourceConnector, TargetConnector, Enabled).
    #>
    param ([Parameter(Mandatory)][AllowEmptyCollection()][object[]]$Connectors)
    $result = @()
    foreach ($c in $Connectors) {
        if ($c.kind -ne 'ad') { continue }
        $config = Get-ADSyncAADPasswordSyncConfiguration -SourceConnector $c.name -ErrorAction Stop
        $enabled = Get-AadcPropertyValue -InputObject $config -Name 'Enabled'
        $result += @{
            connector = $c.name
            target = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $config -Name 'TargetConnector')
            enabled = if ($null -eq $enabled) { $null } else { [bool]$enabled }
        }
    }
    return , $result
}

Export-ModuleMember -Function Get-AadcPropertyValue, ConvertTo-AadcMinutes, ConvertTo-AadcText, Find-AadcProduct,
    Import-AadcSyncModule, Get-AadcConnectorInfo, Get-AadcScheduler, Get-AadcIntervalMinutes, Get-AadcPasswordHashSync
