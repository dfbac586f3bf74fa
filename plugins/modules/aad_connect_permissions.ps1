#!powershell
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.connectors.AadConnect

# The Active Directory permissions of an Entra Connect AD DS Connector account, granted with
# Microsoft's own AdSyncConfig.psm1 cmdlets (how-to-connect-configure-ad-ds-connector-account.md,
# reference-connect-adsyncconfig.md) and only when the domain roots' ACEs show them missing:
#   basic_read              Set-ADSyncBasicReadPermissions: Read all properties on descendant
#                           computer, device, foreignSecurityPrincipal, user, inetOrgPerson, group,
#                           contact objects
#   password_hash_sync      Set-ADSyncPasswordHashSyncPermissions: Replicating Directory Changes and
#                           Replicating Directory Changes All on the domain root (this object only)
#   ms_ds_consistency_guid  Set-ADSyncMsDsConsistencyGuidPermissions: Read/Write mS-DS-ConsistencyGuid
#                           on descendant user objects
# The cmdlets act on every domain of the forest of the computer they run on (Get-ADForest), so this
# module checks that forest is the one asked for.

$spec = @{
    options = @{
        account_dn = @{ type = 'str'; required = $true }
        forest = @{ type = 'str'; required = $true }
        features = @{
            type = 'list'
            elements = 'str'
            default = @('basic_read', 'password_hash_sync')
            choices = @('basic_read', 'password_hash_sync', 'ms_ds_consistency_guid')
        }
        module_path = @{ type = 'str' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$computer = $env:COMPUTERNAME
$accountDn = $module.Params.account_dn
$features = @($module.Params.features | Select-Object -Unique)

# extended rights (rightsGuid) - the same GUIDs as ems.enable.sync_permissions_info
$rightReplicate = [Guid]'1131f6aa-9c07-11d1-f79f-00c04fc2dcd2'      # Replicating Directory Changes
$rightReplicateAll = [Guid]'1131f6ad-9c07-11d1-f79f-00c04fc2dcd2'   # Replicating Directory Changes All
$readProperty = [int][System.DirectoryServices.ActiveDirectoryRights]::ReadProperty
$writeProperty = [int][System.DirectoryServices.ActiveDirectoryRights]::WriteProperty
$extendedRight = [int][System.DirectoryServices.ActiveDirectoryRights]::ExtendedRight
# the object classes Set-ADSyncBasicReadPermissions grants "RP" on (AdSyncConfig.psm1)
$basicReadClasses = @('computer', 'device', 'foreignSecurityPrincipal', 'user', 'inetOrgPerson', 'group', 'contact')
$cmdlets = @{
    basic_read = 'Set-ADSyncBasicReadPermissions'
    password_hash_sync = 'Set-ADSyncPasswordHashSyncPermissions'
    ms_ds_consistency_guid = 'Set-ADSyncMsDsConsistencyGuidPermissions'
}

# ---- prerequisites --------------------------------------------------------------------------
try {
    Import-Module -Name ActiveDirectory -ErrorAction Stop
}
catch {
    $module.FailJson("$($computer): the ActiveDirectory PowerShell module is missing; AdSyncConfig.psm1 needs it. " +
        "Remedy: Install-WindowsFeature RSAT-AD-Tools (the aad_connect role does it on the sync server).", $_)
}
if (-not (Get-Command -Name dsacls.exe -CommandType Application -ErrorAction SilentlyContinue)) {
    $module.FailJson("$($computer): dsacls.exe is missing; AdSyncConfig.psm1 grants permissions with it. " +
        "Remedy: Install-WindowsFeature RSAT-AD-Tools -IncludeAllSubFeature.")
}
try {
    # Get-ADForest without -Identity: the forest of the local computer (AdSyncConfig's GetADDomains).
    $adForest = Get-ADForest -ErrorAction Stop
}
catch {
    $module.FailJson("$($computer): Get-ADForest failed: $($_.Exception.Message). Remedy: run with credentials " +
        "that reach the domain controllers (become runas with an administrator of the forest, or Kerberos delegation).", $_)
}
if ($adForest.Name -ne $module.Params.forest) {
    $module.FailJson("$($computer) belongs to forest $($adForest.Name), not $($module.Params.forest): AdSyncConfig's cmdlets act on " +
        "the forest of the computer they run on. Remedy: set permissions_host of forest $($module.Params.forest) to a " +
        "host joined to it.")
}
$domains = @($adForest.Domains | Sort-Object)

Function ConvertTo-DomainDn {
    param ([string]$Dns)
    return ($Dns.Split('.') | ForEach-Object { "DC=$_" }) -join ','
}

Function Get-DomainOfDn {
    param ([string]$Dn)
    $parts = @($Dn -split ',(?=DC=)' | Where-Object { $_ -like 'DC=*' })
    return ($parts | ForEach-Object { $_.Substring(3) }) -join '.'
}

# ---- the account and the groups it is in ------------------------------------------------------
$accountDomain = Get-DomainOfDn -Dn $accountDn
try {
    # Get-ADObject -Identity -Properties (learn.microsoft.com/powershell/module/activedirectory/get-adobject):
    # tokenGroups, the account's transitive group SIDs, is computed by the DC for a base search.
    $account = Get-ADObject -Identity $accountDn -Server $accountDomain -Properties objectSid, tokenGroups -ErrorAction Stop
}
catch {
    $module.FailJson("account_dn: $accountDn not found in $($accountDomain): $($_.Exception.Message). Remedy: create " +
        "the connector account first (microsoft.ad.user), or give its distinguished name.", $_)
}
$sids = @($account.objectSid.Value)
foreach ($g in @($account.tokenGroups)) { $sids += $g.Value }
$module.Result.account = @{ dn = $accountDn; sid = $account.objectSid.Value; groups = $sids.Count - 1 }

# ---- schemaIDGUIDs of the classes and the attribute, read from the forest's schema ------------
# Get-ADRootDSE (learn.microsoft.com/powershell/module/activedirectory/get-adrootdse).
$schemaNc = (Get-ADRootDSE -Server $adForest.Name -ErrorAction Stop).schemaNamingContext
$schemaGuids = @{}
foreach ($name in ($basicReadClasses + @('mS-DS-ConsistencyGuid'))) {
    $entry = Get-ADObject -SearchBase $schemaNc -LDAPFilter "(lDAPDisplayName=$name)" -Properties schemaIDGUID `
        -Server $adForest.Name -ErrorAction Stop | Select-Object -First 1
    if ($entry -and $entry.schemaIDGUID) { $schemaGuids[$name] = [Guid]::new([byte[]]$entry.schemaIDGUID) }
}

Function Test-Access {
    <#
    .SYNOPSIS
    'granted', 'denied' or 'missing': does an ACE of the account (or one of its groups) give $Rights
    on $ObjectType (Guid.Empty = every property/right), applying to the object itself ($Scope self)
    or to descendant objects of class $InheritedObjectType ($Scope descendants)? A matching deny wins.
    #>
    param ($Rules, [string[]]$Sids, [int]$Rights, [Guid]$ObjectType, [Guid]$InheritedObjectType, [string]$Scope)
    $allowed = $false
    foreach ($rule in $Rules) {
        if ($Sids -notcontains $rule.IdentityReference.Value) { continue }
        if ($rule.ObjectType -ne [Guid]::Empty -and $rule.ObjectType -ne $ObjectType) { continue }
        $inheritance = [string]$rule.InheritanceType
        if ($Scope -eq 'self') {
            if (@('None', 'All', 'SelfAndChildren') -notcontains $inheritance) { continue }
            if ($rule.InheritedObjectType -ne [Guid]::Empty) { continue }
        }
        else {
            if (@('All', 'Descendents') -notcontains $inheritance) { continue }
            if ($rule.InheritedObjectType -ne [Guid]::Empty -and $rule.InheritedObjectType -ne $InheritedObjectType) { continue }
        }
        $mask = [int]$rule.ActiveDirectoryRights
        if ([string]$rule.AccessControlType -eq 'Deny') {
            if (($mask -band $Rights) -ne 0) { return 'denied' }
        }
        elseif (($mask -band $Rights) -eq $Rights) {
            $allowed = $true
        }
    }
    if ($allowed) { return 'granted' }
    return 'missing'
}

Function Get-DomainState {
    param ([string]$Domain)
    $dn = ConvertTo-DomainDn -Dns $Domain
    # nTSecurityDescriptor of the domain root: an ActiveDirectorySecurity object.
    $root = Get-ADObject -Identity $dn -Server $Domain -Properties nTSecurityDescriptor -ErrorAction Stop
    $rules = @($root.nTSecurityDescriptor.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]))
    $state = @{}
    foreach ($feature in $features) {
        $checks = @()
        if ($feature -eq 'password_hash_sync') {
            $checks += @{ what = 'Replicating Directory Changes'; rights = $extendedRight; object = $rightReplicate; class = [Guid]::Empty; scope = 'self' }
            $checks += @{ what = 'Replicating Directory Changes All'; rights = $extendedRight; object = $rightReplicateAll; class = [Guid]::Empty; scope = 'self' }
        }
        elseif ($feature -eq 'basic_read') {
            foreach ($class in $basicReadClasses) {
                if (-not $schemaGuids.ContainsKey($class)) { continue }  # class absent from this schema
                $checks += @{ what = "Read all properties of descendant $class objects"; rights = $readProperty; object = [Guid]::Empty; class = $schemaGuids[$class]; scope = 'descendants' }
            }
        }
        elseif ($feature -eq 'ms_ds_consistency_guid') {
            if ($schemaGuids.ContainsKey('mS-DS-ConsistencyGuid') -and $schemaGuids.ContainsKey('user')) {
                $checks += @{ what = 'Read/write mS-DS-ConsistencyGuid of descendant user objects'; rights = ($readProperty -bor $writeProperty); object = $schemaGuids['mS-DS-ConsistencyGuid']; class = $schemaGuids['user']; scope = 'descendants' }
            }
        }
        $missing = @()
        $denied = @()
        foreach ($c in $checks) {
            $verdict = Test-Access -Rules $rules -Sids $sids -Rights $c.rights -ObjectType $c.object -InheritedObjectType $c.class -Scope $c.scope
            if ($verdict -eq 'denied') { $denied += $c.what }
            elseif ($verdict -eq 'missing') { $missing += $c.what }
        }
        $verdict = 'granted'
        if ($denied.Count -gt 0) { $verdict = 'denied' }
        elseif ($missing.Count -gt 0) { $verdict = 'missing' }
        $state[$feature] = @{ state = $verdict; missing = $missing; denied = $denied }
    }
    return @{ domain = $Domain; dn = $dn; features = $state }
}

Function Get-ForestState {
    $all = @()
    foreach ($d in $domains) {
        try {
            $all += Get-DomainState -Domain $d
        }
        catch {
            $module.FailJson("$($computer): reading the permissions on the root of $d failed: $($_.Exception.Message). " +
                "Remedy: run with an account that can read the domain root of every domain of $($adForest.Name).", $_)
        }
    }
    return , $all
}

Function ConvertTo-DiffView {
    param ($State)
    $view = @{}
    foreach ($d in $State) {
        $view[$d.domain] = @{}
        foreach ($f in $d.features.Keys) { $view[$d.domain][$f] = $d.features[$f].state }
    }
    return $view
}

# ---- read first -------------------------------------------------------------------------------
$before = Get-ForestState
$denials = @()
$needed = @()
foreach ($d in $before) {
    foreach ($f in $features) {
        $s = $d.features[$f]
        if ($s.state -eq 'denied') { $denials += "$($d.domain): $($s.denied -join ', ') (deny entry)" }
        if ($s.state -eq 'missing' -and $needed -notcontains $f) { $needed += $f }
    }
}
$module.Result.domains = $before
if ($denials.Count -gt 0) {
    $module.FailJson("Connector account $accountDn is denied: $($denials -join '; '). The AdSyncConfig cmdlets only add " +
        "allow entries, which a deny overrides. Remedy: remove the deny entries (Show-ADSyncADObjectPermissions -ADobjectDN <domain root> lists them).")
}

$module.Result.cmdlets = @()
$module.Result.output = @()
if ($needed.Count -gt 0) {
    $module.Result.changed = $true
    foreach ($f in $needed) { $module.Result.cmdlets += $cmdlets[$f] }
    if (-not $module.CheckMode) {
        $path = $module.Params.module_path
        if (-not $path) { $path = (Find-AadcProduct).adsync_config }
        if (-not $path -or -not (Test-Path -LiteralPath $path -PathType Leaf)) {
            $module.FailJson("$($computer): AdSyncConfig.psm1 not found ($path). It comes with the Entra Connect MSI. " +
                "Remedy: install Entra Connect first, or give module_path.")
        }
        try {
            Import-Module -Name $path -Force -ErrorAction Stop
        }
        catch {
            $module.FailJson("$($computer): Import-Module $path failed: $($_.Exception.Message)", $_)
        }
        foreach ($f in $needed) {
            $name = $cmdlets[$f]
            $params = @{ ADConnectorAccountDN = $accountDn; Confirm = $false; ErrorAction = 'Stop' }
            # Never touch the AdminSDHolder container: older builds update it unless -SkipAdminSdHolders,
            # newer ones only with -IncludeAdminSdHolders (Microsoft: "not recommended").
            if ((Get-Command -Name $name).Parameters.ContainsKey('SkipAdminSdHolders')) { $params.SkipAdminSdHolders = $true }
            try {
                $out = & $name @params 2>&1 | ForEach-Object { [string]$_ }
                $module.Result.output += @($out)
            }
            catch {
                $module.FailJson("$($computer): $name -ADConnectorAccountDN '$accountDn' failed: $($_.Exception.Message). " +
                    "Remedy: run it as an Enterprise Admin, or a Domain Admin of every domain of $($adForest.Name).", $_)
            }
        }
        $after = Get-ForestState
        $module.Result.domains = $after
        $stillMissing = @()
        foreach ($d in $after) {
            foreach ($f in $needed) {
                if ($d.features[$f].state -ne 'granted') { $stillMissing += "$($d.domain): $($d.features[$f].missing -join ', ')" }
            }
        }
        if ($stillMissing.Count -gt 0) {
            $module.Warn("Not yet visible on the domain controller read after the grant (replication?): $($stillMissing -join '; ').")
        }
        $module.Diff.after = ConvertTo-DiffView -State $after
    }
    else {
        $simulated = ConvertTo-DiffView -State $before
        foreach ($d in $simulated.Keys) { foreach ($f in $needed) { $simulated[$d][$f] = 'granted' } }
        $module.Diff.after = $simulated
    }
}
else {
    $module.Diff.after = ConvertTo-DiffView -State $before
}
$module.Diff.before = ConvertTo-DiffView -State $before
$module.ExitJson()
