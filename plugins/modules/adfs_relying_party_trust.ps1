#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# A relying party trust of the AD FS farm (run on the primary node): created from the partner's
# federation metadata URL with Add-AdfsRelyingPartyTrust, else compared and updated with
# Set-AdfsRelyingPartyTrust (only the settings that differ). Issuance transform rules are compared
# with runs of white space collapsed (AD FS may store them re-formatted [uncertain]).
# Cmdlet references: https://learn.microsoft.com/powershell/module/adfs/get-adfsrelyingpartytrust
# https://learn.microsoft.com/powershell/module/adfs/add-adfsrelyingpartytrust
# https://learn.microsoft.com/powershell/module/adfs/set-adfsrelyingpartytrust

$spec = @{
    options = @{
        name = @{ type = 'str'; required = $true }
        identifier = @{ type = 'str'; required = $true }
        metadata_url = @{ type = 'str'; required = $true }
        monitoring_enabled = @{ type = 'bool'; default = $true }
        auto_update_enabled = @{ type = 'bool'; default = $true }
        issuance_transform_rules = @{ type = 'str'; required = $true }
        access_control_policy_name = @{ type = 'str' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

function Format-EmsClaimRule {
    param([string]$Text)
    if ($null -eq $Text) { return '' }
    return (($Text -replace '\s+', ' ').Trim())
}

$p = $module.Params
if ($p.metadata_url -notmatch '^https://') {
    $module.FailJson(("metadata_url: {0} is not an https:// URL. Remedy: give the partner's federation metadata " +
            "URL, e.g. https://nexus.microsoftonline-p.com/federationmetadata/2007-06/federationmetadata.xml.") -f
        $p.metadata_url)
}
if (-not (Get-Command -Name Get-AdfsRelyingPartyTrust -ErrorAction SilentlyContinue)) {
    $module.FailJson(("{0}: the ADFS PowerShell module is not available. Remedy: run this on a configured AD FS " +
            "farm node (the role's federation entry point runs it on the primary).") -f $env:COMPUTERNAME)
}

try {
    $trust = Get-AdfsRelyingPartyTrust -Name $p.name -ErrorAction Stop
}
catch {
    $module.FailJson(("{0}: reading relying party trust '{1}' failed: {2}" -f $env:COMPUTERNAME, $p.name,
            $_.Exception.Message), $_)
}

$wanted = [ordered]@{
    present = $true
    identifier = $p.identifier
    metadata_url = $p.metadata_url
    monitoring_enabled = $p.monitoring_enabled
    auto_update_enabled = $p.auto_update_enabled
    issuance_transform_rules = Format-EmsClaimRule -Text $p.issuance_transform_rules
}
if ($p.access_control_policy_name) { $wanted.access_control_policy_name = $p.access_control_policy_name }

if ($null -eq $trust) {
    $before = @{ present = $false }
    $module.Result.changed = $true
    $module.Result.action = 'created'
    if (-not $module.CheckMode) {
        $add = @{
            Name = $p.name
            MetadataUrl = $p.metadata_url
            MonitoringEnabled = $p.monitoring_enabled
            AutoUpdateEnabled = $p.auto_update_enabled
            IssuanceTransformRules = $p.issuance_transform_rules
        }
        if ($p.access_control_policy_name) { $add.AccessControlPolicyName = $p.access_control_policy_name }
        try {
            Add-AdfsRelyingPartyTrust @add -ErrorAction Stop
        }
        catch {
            $module.FailJson((("{0}: Add-AdfsRelyingPartyTrust '{1}' from {2} failed: {3}. Remedy: the AD FS " +
                        "server must reach the metadata URL over HTTPS (proxy, firewall).") -f $env:COMPUTERNAME,
                    $p.name, $p.metadata_url, $_.Exception.Message), $_)
        }
    }
}
else {
    $before = [ordered]@{
        present = $true
        identifier = (@($trust.Identifier) -join ', ')
        metadata_url = [string]$trust.MetadataUrl
        monitoring_enabled = [bool]$trust.MonitoringEnabled
        auto_update_enabled = [bool]$trust.AutoUpdateEnabled
        issuance_transform_rules = Format-EmsClaimRule -Text $trust.IssuanceTransformRules
    }
    if ($p.access_control_policy_name) { $before.access_control_policy_name = [string]$trust.AccessControlPolicyName }
    if (@($trust.Identifier) -notcontains $p.identifier) {
        $module.FailJson((("{0}: relying party trust '{1}' has identifier(s) {2}, not {3}. Remedy: rename or " +
                    "remove that trust by hand; this module does not replace another trust.") -f $env:COMPUTERNAME,
                $p.name, $before.identifier, $p.identifier))
    }
    $wanted.identifier = $before.identifier
    $set = @{}
    if ($before.metadata_url -ne $p.metadata_url) { $set.MetadataUrl = $p.metadata_url }
    if ($before.monitoring_enabled -ne $p.monitoring_enabled) { $set.MonitoringEnabled = $p.monitoring_enabled }
    if ($before.auto_update_enabled -ne $p.auto_update_enabled) { $set.AutoUpdateEnabled = $p.auto_update_enabled }
    if ($before.issuance_transform_rules -cne $wanted.issuance_transform_rules) {
        $set.IssuanceTransformRules = $p.issuance_transform_rules
    }
    if ($p.access_control_policy_name -and $before.access_control_policy_name -ne $p.access_control_policy_name) {
        $set.AccessControlPolicyName = $p.access_control_policy_name
    }
    $module.Result.changed = $set.Count -gt 0
    $module.Result.action = if ($set.Count -gt 0) { 'updated' } else { 'none' }
    $module.Result.updated = @($set.Keys | Sort-Object)
    if ($set.Count -gt 0 -and -not $module.CheckMode) {
        try {
            Set-AdfsRelyingPartyTrust -TargetName $p.name @set -ErrorAction Stop
        }
        catch {
            $module.FailJson(("{0}: Set-AdfsRelyingPartyTrust '{1}' failed: {2}" -f $env:COMPUTERNAME, $p.name,
                    $_.Exception.Message), $_)
        }
    }
}

$module.Diff.before = $before
$module.Diff.after = $wanted
$module.Result.relying_party_trust = @{
    name = $p.name
    identifier = $p.identifier
    rules = @($p.issuance_transform_rules -split '@RuleName = ' | Where-Object { $_.Trim() }).Count
}
$module.ExitJson()
