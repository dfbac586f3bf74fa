#!powershell
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils.connectors.AadConnect

# Read-only: what the aad_connect role decides on. Microsoft sources per value in the .yml doc
# and in roles/aad_connect/README.md.

$spec = @{
    options = @{
        product_id = @{ type = 'str' }
        state_key = @{ type = 'str'; default = 'HKLM:\SOFTWARE\ems.enable\aad_connect' }
        run_history = @{ type = 'int'; default = 10 }
        test_cloud_connectivity = @{ type = 'bool'; default = $false }
        azure_environment = @{
            type = 'str'
            default = 'Worldwide'
            choices = @('Worldwide', 'China', 'UsGov', 'Germany', 'AzureUSGovernmentCloud',
                'AzureUSGovernmentCloud2', 'AzureUSGovernmentCloud3')
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false

# ---- the host ---------------------------------------------------------------------------------
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
$nt = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction SilentlyContinue
# ProductType: 1 workstation, 2 domain controller, 3 server (Win32_OperatingSystem).
$productType = 'server'
if ([int]$os.ProductType -eq 1) { $productType = 'workstation' }
elseif ([int]$os.ProductType -eq 2) { $productType = 'domain_controller' }
# InstallationType "Server" (Desktop Experience) or "Server Core" (Entra Connect needs the full GUI).
$installationType = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $nt -Name 'InstallationType')

# .NET Framework 4.x release key (learn.microsoft.com/dotnet/framework/install/how-to-determine-which-versions-are-installed).
$ndp = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -ErrorAction SilentlyContinue
$dotnetRelease = Get-AadcPropertyValue -InputObject $ndp -Name 'Release'

$forest = $null
try {
    # Best effort: needs a DC reachable with the connection's credentials.
    $forest = [System.DirectoryServices.ActiveDirectory.Domain]::GetComputerDomain().Forest.Name
}
catch {
    $forest = $null
}

$stateProps = Get-ItemProperty -LiteralPath $module.Params.state_key -ErrorAction SilentlyContinue
$rebootSince = Get-AadcPropertyValue -InputObject $stateProps -Name 'RebootPendingSince'
$threshold = Get-AadcPropertyValue -InputObject $stateProps -Name 'ExportDeletionThreshold'

$module.Result.host = @{
    os_name = [string]$os.Caption
    os_version = [string]$os.Version
    os_build = [int]$os.BuildNumber
    installation_type = $installationType
    product_type = $productType
    part_of_domain = [bool]$cs.PartOfDomain
    domain = [string]$cs.Domain
    forest = $forest
    dotnet_release = if ($null -eq $dotnetRelease) { $null } else { [int]$dotnetRelease }
    powershell_version = $PSVersionTable.PSVersion.ToString()
    # Get-ExecutionPolicy -Scope (learn.microsoft.com/powershell/module/microsoft.powershell.security/get-executionpolicy)
    execution_policy = @{
        machine_policy = (Get-ExecutionPolicy -Scope MachinePolicy).ToString()
        local_machine = (Get-ExecutionPolicy -Scope LocalMachine).ToString()
    }
    # AdSyncConfig.psm1 needs the ActiveDirectory module and dsacls.exe from RSAT-AD-Tools
    # (how-to-connect-configure-ad-ds-connector-account.md).
    ad_module = [bool](Get-Module -ListAvailable -Name ActiveDirectory)
    dsacls = [bool](Get-Command -Name dsacls.exe -CommandType Application -ErrorAction SilentlyContinue)
    now_epoch = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    boot_epoch = ([DateTimeOffset]$os.LastBootUpTime).ToUnixTimeSeconds()
}
$module.Result.state = @{
    reboot_pending_since = if ($null -eq $rebootSince) { $null } else { [long]$rebootSince }
    deletion_threshold = if ($null -eq $threshold) { $null } else { [int]$threshold }
}

# ---- the product and the sync engine ----------------------------------------------------------
$product = Find-AadcProduct -ProductId $module.Params.product_id
$module.Result.product = @{
    installed = $product.installed
    name = $product.name
    version = $product.version
    product_id = $product.product_id
    install_dir = $product.install_dir
}
$module.Result.adsync_config = $product.adsync_config

$service = Get-CimInstance -ClassName Win32_Service -Filter "Name='ADSync'" -ErrorAction SilentlyContinue
$engineVersion = $null
if ($service -and $service.PathName) {
    $pathName = $service.PathName.Trim()
    if ($pathName.StartsWith('"')) { $exe = $pathName.Split('"')[1] } else { $exe = $pathName.Split(' ')[0] }
    if (Test-Path -LiteralPath $exe -PathType Leaf) { $engineVersion = (Get-Item -LiteralPath $exe).VersionInfo.ProductVersion }
}
$moduleLoaded = $false
if ($service) { $moduleLoaded = Import-AadcSyncModule }
$module.Result.sync_engine = @{
    installed = [bool]$service
    service_state = if ($service) { ([string]$service.State).ToLowerInvariant() } else { $null }
    service_start_mode = if ($service) { ([string]$service.StartMode).ToLowerInvariant() } else { $null }
    version = $engineVersion
    module = $moduleLoaded
}

$connectors = @()
$module.Result.scheduler = $null
$module.Result.staging_mode = $null
$module.Result.password_hash_sync = @()
# The tenant side of password hash sync: Microsoft's PHS troubleshooting script reads
# (Get-ADSyncAADCompanyFeature -ConnectorName <the Entra ID connector>).PasswordHashSync before the
# per-connector settings (entra-docs tshoot-connect-password-hash-synchronization.md).
$module.Result.tenant_password_hash_sync = @{ read = $false; enabled = $null; connector = $null; message = $null }
$module.Result.run_results = @()
if ($moduleLoaded -and $service -and $service.State -eq 'Running') {
    try {
        # Get-ADSyncConnector: the connectors exist only after the wizard's configuration.
        foreach ($c in @(Get-ADSyncConnector -ErrorAction Stop)) { $connectors += Get-AadcConnectorInfo -Connector $c }
        $scheduler = Get-AadcScheduler
        $module.Result.scheduler = $scheduler
        $module.Result.staging_mode = $scheduler.staging_mode_enabled
        if ($connectors.Count -gt 0) {
            $module.Result.password_hash_sync = Get-AadcPasswordHashSync -Connectors $connectors
            $entraNames = @()
            foreach ($c in $connectors) { if ($c.kind -eq 'entra') { $entraNames += $c.name } }
            if ($entraNames.Count -eq 1) {
                $module.Result.tenant_password_hash_sync.connector = $entraNames[0]
                try {
                    # Asks the tenant: needs the connection to Entra ID (a failure is reported, not fatal).
                    $features = Get-ADSyncAADCompanyFeature -ConnectorName $entraNames[0] -ErrorAction Stop
                    $phs = Get-AadcPropertyValue -InputObject $features -Name 'PasswordHashSync'
                    $module.Result.tenant_password_hash_sync.read = $null -ne $phs
                    if ($null -ne $phs) { $module.Result.tenant_password_hash_sync.enabled = [bool]$phs }
                    else { $module.Result.tenant_password_hash_sync.message = 'Get-ADSyncAADCompanyFeature returned no PasswordHashSync' }
                }
                catch {
                    $module.Result.tenant_password_hash_sync.message = $_.Exception.Message
                }
            }
            else {
                $module.Result.tenant_password_hash_sync.message = ('{0} Entra ID connectors (one expected)' -f $entraNames.Count)
            }
            $runs = @()
            # Get-ADSyncRunProfileResult -NumberRequested (reference-connect-adsync.md); newest first.
            foreach ($r in @(Get-ADSyncRunProfileResult -NumberRequested $module.Params.run_history -ErrorAction Stop)) {
                $runs += @{
                    connector = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $r -Name 'ConnectorName')
                    run_profile = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $r -Name 'RunProfileName')
                    result = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $r -Name 'Result')
                    start = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $r -Name 'StartDate')
                    end = ConvertTo-AadcText (Get-AadcPropertyValue -InputObject $r -Name 'EndDate')
                }
            }
            $module.Result.run_results = $runs
        }
    }
    catch {
        $module.FailJson("$($env:COMPUTERNAME): reading the ADSync configuration failed: $($_.Exception.Message). " +
            "Remedy: run as a member of the local ADSyncAdmins group (a local administrator is not enough; the wizard adds only its own account) and check the ADSync service.", $_)
    }
}
$module.Result.connectors = $connectors
$module.Result.configured = $connectors.Count -gt 0

# ---- connectivity to Microsoft Entra ID ------------------------------------------------------
$module.Result.cloud_connectivity = @{ tested = $false; result = $null; message = $null }
if ($module.Params.test_cloud_connectivity) {
    if (-not $moduleLoaded) {
        $module.Result.cloud_connectivity.message = 'the ADSync module is not installed yet'
    }
    else {
        $module.Result.cloud_connectivity.tested = $true
        try {
            # Test-AdSyncAzureServiceConnectivity (reference-connect-adsync.md): "True" when there is no issue.
            $answer = Test-AdSyncAzureServiceConnectivity -AzureEnvironment $module.Params.azure_environment `
                -Service SecurityTokenService -CurrentUser -ErrorAction Stop
            $module.Result.cloud_connectivity.result = ([string]($answer | Select-Object -Last 1)) -eq 'True'
            $module.Result.cloud_connectivity.message = ($answer | Out-String).Trim()
        }
        catch {
            $module.Result.cloud_connectivity.result = $false
            $module.Result.cloud_connectivity.message = $_.Exception.Message
        }
    }
}

$module.ExitJson()
