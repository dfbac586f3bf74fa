# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Read-only helpers shared by the modules adfs_farm, adfs_farm_node and web_application_proxy:
# what an AD FS federation server or a Web Application Proxy server currently is.
# Every cmdlet is cited next to its call (Microsoft Learn, PowerShell module reference).

Set-StrictMode -Version 2.0

Function Get-EmsAdfsConfigurationStatus {
    <#
    .SYNOPSIS
    The AD FS configuration status value of this host: 2 = configured.
    .DESCRIPTION
    HKLM:\SOFTWARE\Microsoft\ADFS holds FSConfigurationStatus (federation server) and
    ProxyConfigurationStatus (Web Application Proxy); 2 means configured. Source: Microsoft's AD FS
    diagnostics module, https://github.com/microsoft/adfsToolbox (diagnosticsModule, Get-AdfsRole).
    Read first because the AD FS cmdlets throw on a host that is not configured yet.
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]
        [ValidateSet('FederationServer', 'Proxy')]
        [string]$Role
    )
    $name = 'FSConfigurationStatus'
    if ($Role -eq 'Proxy') {
        $name = 'ProxyConfigurationStatus'
    }
    # Get-ItemProperty: https://learn.microsoft.com/powershell/module/microsoft.powershell.management/get-itemproperty
    $item = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ADFS' -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return 0
    }
    return [int]$item.$name
}

Function ConvertTo-EmsThumbprint {
    <# Upper-case hex without spaces or invisible characters (as copied from certlm.msc). #>
    [CmdletBinding()]
    param ([string]$Value)
    return ($Value -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
}

Function New-EmsCredential {
    <# A PSCredential from a user name and a password, or $null without a user name. #>
    [CmdletBinding()]
    param (
        [string]$UserName,
        [string]$Password
    )
    if (-not $UserName) {
        return $null
    }
    # ConvertTo-SecureString: https://learn.microsoft.com/powershell/module/microsoft.powershell.security/convertto-securestring
    $secure = ConvertTo-SecureString -String $Password -AsPlainText -Force
    # PSCredential: https://learn.microsoft.com/dotnet/api/system.management.automation.pscredential
    return New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList $UserName, $secure
}

Function Get-EmsMachineCertificate {
    <#
    .SYNOPSIS
    The certificate with this thumbprint in Cert:\LocalMachine\My, or a failure naming the host.
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]$Module,
        [Parameter(Mandatory = $true)][string]$Thumbprint
    )
    # Certificate provider (Cert: drive): https://learn.microsoft.com/powershell/module/microsoft.powershell.security/about/about_certificate_provider
    $cert = Get-Item -LiteralPath "Cert:\LocalMachine\My\$Thumbprint" -ErrorAction SilentlyContinue
    if (-not $cert) {
        $Module.FailJson((("{0}: certificate {1} is not in Cert:\LocalMachine\My. Remedy: import the PFX " +
                "first (the role's certificate phase, ansible.windows.win_certificate_store).") -f $env:COMPUTERNAME, $Thumbprint))
    }
    if (-not $cert.HasPrivateKey) {
        $Module.FailJson((("{0}: certificate {1} in Cert:\LocalMachine\My has no private key. Remedy: import " +
                "it again from the PFX with its key.") -f $env:COMPUTERNAME, $Thumbprint))
    }
    return $cert
}

Function Get-EmsBindingThumbprint {
    <#
    .SYNOPSIS
    The sorted, unique thumbprints (CertificateHash) of SSL binding objects; objects without the property
    are skipped (their cmdlets' output types are not documented, and StrictMode throws on a missing one).
    #>
    [CmdletBinding()]
    param ([object[]]$Binding)
    $thumbprints = @()
    foreach ($item in @($Binding)) {
        if ($null -ne $item -and $item.PSObject.Properties.Name -contains 'CertificateHash') {
            $value = ConvertTo-EmsThumbprint -Value ([string]$item.CertificateHash)
            if ($value) {
                $thumbprints += $value
            }
        }
    }
    return , @($thumbprints | Sort-Object -Unique)
}

Function ConvertTo-EmsDatabaseKind {
    <# 'wid' or 'sql' from an AD FS configuration database connection string, $null when empty. #>
    [CmdletBinding()]
    param ([string]$ConnectionString)
    if (-not $ConnectionString) {
        return $null
    }
    if ($ConnectionString -match 'MICROSOFT##WID|##SSEE') {
        return 'wid'
    }
    return 'sql'
}

Function Test-EmsSameHost {
    <# Two host names name the same computer (FQDN or short name, any case). #>
    [CmdletBinding()]
    param ([string]$A, [string]$B)
    if (-not $A -or -not $B) {
        return $false
    }
    if ($A -ieq $B) {
        return $true
    }
    if (($A.IndexOf('.') -lt 0) -or ($B.IndexOf('.') -lt 0)) {
        return ($A.Split('.')[0] -ieq $B.Split('.')[0])
    }
    return $false
}

Function Get-EmsAdfsServerState {
    <#
    .SYNOPSIS
    What this federation server is: installed, configured, for which federation service, primary or
    secondary, with which service account, certificate and farm nodes. Read-only.
    #>
    [CmdletBinding()]
    param ([int]$ServiceTimeoutSeconds = 300)
    $state = @{
        feature_installed = $false
        configured = $false
        federation_service_name = $null
        display_name = $null
        sync_role = $null
        primary_computer_name = $null
        primary_computer_port = $null
        ssl_certificate_thumbprints = @()
        service_account = $null
        farm_behavior_level = $null
        farm_nodes = @()
        idp_initiated_signon_page = $null
        configuration_database = $null
    }
    # Get-Command: https://learn.microsoft.com/powershell/module/microsoft.powershell.core/get-command
    # The ADFS module (Install-AdfsFarm) comes with the ADFS-Federation role service.
    if (-not (Get-Command -Name Install-AdfsFarm -ErrorAction SilentlyContinue)) {
        return $state
    }
    $state.feature_installed = $true
    if ((Get-EmsAdfsConfigurationStatus -Role FederationServer) -ne 2) {
        return $state
    }
    $state.configured = $true
    # adfssrv starts "Automatic (Delayed Start)": right after a boot (or the configuration) the AD FS cmdlets
    # throw until it runs, so wait for it first, bounded (Wait-EmsAdfsService).
    $null = Wait-EmsAdfsService -TimeoutSeconds $ServiceTimeoutSeconds
    # Get-AdfsProperties (HostName = federation service name, DisplayName, EnableIdpInitiatedSignonPage):
    # https://learn.microsoft.com/powershell/module/adfs/get-adfsproperties
    $properties = Get-AdfsProperties -ErrorAction Stop
    $state.federation_service_name = [string]$properties.HostName
    $state.display_name = [string]$properties.DisplayName
    if ($properties.PSObject.Properties.Name -contains 'EnableIdpInitiatedSignonPage') {
        $state.idp_initiated_signon_page = [bool]$properties.EnableIdpInitiatedSignonPage
    }
    # Get-AdfsSyncProperties (Role PrimaryComputer/SecondaryComputer, PrimaryComputerName and
    # PrimaryComputerPort on a WID farm): https://learn.microsoft.com/powershell/module/adfs/get-adfssyncproperties
    $sync = Get-AdfsSyncProperties -ErrorAction SilentlyContinue
    if ($sync) {
        $names = $sync.PSObject.Properties.Name
        if ($names -contains 'Role') {
            $state.sync_role = [string]$sync.Role
        }
        if ($names -contains 'PrimaryComputerName') {
            $state.primary_computer_name = [string]$sync.PrimaryComputerName
        }
        if ($names -contains 'PrimaryComputerPort') {
            $state.primary_computer_port = $sync.PrimaryComputerPort
        }
    }
    # WID or SQL: the AD FS WMI provider's SecurityTokenService.ConfigurationDatabaseConnectionString (the value
    # Microsoft's AD FS articles read to tell the two apart); WID's connection string names its named pipe
    # (MICROSOFT##WID, ##SSEE on 2008). "One database type per farm": https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/the-role-of-the-ad-fs-configuration-database
    $sts = Get-CimInstance -Namespace 'root/ADFS' -ClassName SecurityTokenService -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if ($sts -and $sts.PSObject.Properties.Name -contains 'ConfigurationDatabaseConnectionString') {
        $state.configuration_database = ConvertTo-EmsDatabaseKind -ConnectionString ([string]$sts.ConfigurationDatabaseConnectionString)
    }
    # Get-AdfsSslCertificate (HostName, PortNumber, CertificateHash):
    # https://learn.microsoft.com/powershell/module/adfs/get-adfssslcertificate
    $state.ssl_certificate_thumbprints = Get-EmsBindingThumbprint -Binding @(Get-AdfsSslCertificate -ErrorAction SilentlyContinue)
    # Get-CimInstance Win32_Service (StartName = the account adfssrv runs as):
    # https://learn.microsoft.com/powershell/module/cimcmdlets/get-ciminstance
    # https://learn.microsoft.com/windows/win32/cimwin32prov/win32-service
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='adfssrv'" -ErrorAction SilentlyContinue
    if ($service) {
        $state.service_account = [string]$service.StartName
    }
    # Get-AdfsFarmInformation (CurrentFarmBehavior, FarmNodes), Windows Server 2016 and later:
    # https://learn.microsoft.com/powershell/module/adfs/get-adfsfarminformation
    if (Get-Command -Name Get-AdfsFarmInformation -ErrorAction SilentlyContinue) {
        $farm = Get-AdfsFarmInformation -ErrorAction SilentlyContinue
        if ($farm) {
            if ($farm.PSObject.Properties.Name -contains 'CurrentFarmBehavior') {
                $state.farm_behavior_level = $farm.CurrentFarmBehavior
            }
            if ($farm.PSObject.Properties.Name -contains 'FarmNodes') {
                # foreach over @(...): a $null FarmNodes gives no node (piped into ForEach-Object it gave '').
                $nodes = @()
                foreach ($node in @($farm.FarmNodes)) {
                    if ($null -eq $node) {
                        continue
                    }
                    $fqdn = $(if ($node.PSObject.Properties.Name -contains 'FQDN') { [string]$node.FQDN } else { [string]$node })
                    if ($fqdn) {
                        $nodes += $fqdn
                    }
                }
                $state.farm_nodes = $nodes
            }
        }
    }
    return $state
}

Function Wait-EmsAdfsService {
    <#
    .SYNOPSIS
    Wait until the AD FS service (adfssrv) runs, at most TimeoutSeconds; starts it when it is stopped.
    Returns whether it runs. Never throws: the caller's AD FS cmdlet then fails with its own message.
    .DESCRIPTION
    adfssrv is set to Automatic (Delayed Start), so it starts about two minutes after a boot.
    Get-Service / Start-Service: https://learn.microsoft.com/powershell/module/microsoft.powershell.management/get-service
    ServiceController.WaitForStatus: https://learn.microsoft.com/dotnet/api/system.serviceprocess.servicecontroller.waitforstatus
    #>
    [CmdletBinding()]
    param ([int]$TimeoutSeconds = 300)
    $service = Get-Service -Name adfssrv -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        return $false
    }
    if ($service.Status -eq 'Running') {
        return $true
    }
    if ($service.Status -eq 'Stopped') {
        Start-Service -Name adfssrv -ErrorAction SilentlyContinue
    }
    try {
        $service.WaitForStatus('Running', [TimeSpan]::FromSeconds($TimeoutSeconds))
    }
    catch {
        return $false
    }
    return $true
}

Function Get-EmsStateAfterChange {
    <#
    .SYNOPSIS
    The server state read after Install-AdfsFarm / Add-AdfsFarmNode / Install-WebApplicationProxy, for the
    result only: a failure to read it is a warning, so reboot_required and changed (already set by the
    caller) reach the controller and the role reboots (as AdfsDsc, which only reports after a change).
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]$Module,
        [Parameter(Mandatory = $true)][ValidateSet('FederationServer', 'Proxy')][string]$Role
    )
    try {
        if ($Role -eq 'Proxy') {
            return Get-EmsProxyState
        }
        return Get-EmsAdfsServerState -ServiceTimeoutSeconds 120
    }
    catch {
        $Module.Warn(("{0}: configured, but reading the new state failed ({1}); it is read again after the reboot." -f
                $env:COMPUTERNAME, $_.Exception.Message))
        return $Module.Result.state
    }
}

Function Get-EmsProxyState {
    <#
    .SYNOPSIS
    What this Web Application Proxy server is: installed, configured, for which federation service.
    #>
    [CmdletBinding()]
    param ()
    $state = @{
        feature_installed = $false
        configured = $false
        federation_service_name = $null
        adfs_url = $null
        connected_servers = @()
        ssl_certificate_thumbprints = @()
    }
    # The WebApplicationProxy module comes with the Web-Application-Proxy role service.
    if (-not (Get-Command -Name Install-WebApplicationProxy -ErrorAction SilentlyContinue)) {
        return $state
    }
    $state.feature_installed = $true
    if ((Get-EmsAdfsConfigurationStatus -Role Proxy) -ne 2) {
        return $state
    }
    $state.configured = $true
    # Get-WebApplicationProxyConfiguration (ADFSUrl, ConnectedServersName):
    # https://learn.microsoft.com/powershell/module/webapplicationproxy/get-webapplicationproxyconfiguration
    $config = Get-WebApplicationProxyConfiguration -ErrorAction Stop
    $state.adfs_url = [string]$config.ADFSUrl
    if ($state.adfs_url) {
        $state.federation_service_name = ([System.Uri]$state.adfs_url).Host
    }
    $servers = @()
    if ($config.PSObject.Properties.Name -contains 'ConnectedServersName') {
        foreach ($server in @($config.ConnectedServersName)) {
            if ($null -ne $server -and [string]$server) {
                $servers += [string]$server
            }
        }
    }
    $state.connected_servers = $servers
    # Get-WebApplicationProxySslCertificate (binding of the federation server proxy certificate):
    # https://learn.microsoft.com/powershell/module/webapplicationproxy/get-webapplicationproxysslcertificate
    # Its Learn page types the output only as "Object": Get-EmsBindingThumbprint reads CertificateHash only
    # where the object has it (Set-StrictMode 2.0 throws on a missing property).
    $state.ssl_certificate_thumbprints = Get-EmsBindingThumbprint -Binding @(Get-WebApplicationProxySslCertificate -ErrorAction SilentlyContinue)
    return $state
}

Function Assert-EmsDeploymentResult {
    <#
    .SYNOPSIS
    Fail when Install-AdfsFarm / Add-AdfsFarmNode / Install-WebApplicationProxy reported an error.
    .DESCRIPTION
    The deployment cmdlets return a result object with Status (Success, Error ...), Context and
    Message instead of always throwing; their Learn pages do not document the type, so only a
    Status other than Success fails here (a missing Status is accepted).
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]$Module,
        $Result,
        [Parameter(Mandatory = $true)][string]$What,
        [Parameter(Mandatory = $true)][string]$Remedy
    )
    foreach ($item in @($Result)) {
        if ($null -eq $item) {
            continue
        }
        if ($item.PSObject.Properties.Name -contains 'Status') {
            $status = [string]$item.Status
            if ($status -and $status -ne 'Success') {
                $Module.Result.deployment_result = @{ status = $status; context = [string]$item.Context; message = [string]$item.Message }
                $Module.FailJson(("{0}: {1} reported {2}: {3} Remedy: {4}" -f $env:COMPUTERNAME, $What, $status,
                        [string]$item.Message, $Remedy))
            }
            $Module.Result.deployment_result = @{ status = $status; context = [string]$item.Context; message = [string]$item.Message }
        }
    }
}

Function Initialize-EmsServerModule {
    <#
    .SYNOPSIS
    The common start of adfs_farm, adfs_farm_node and web_application_proxy: record the state (and
    the diff's "before" with the given keys), then stop early when the role service is missing (check
    mode: report the host as to be configured; otherwise fail with the remedy), and fail when the
    host is already configured for another federation service.
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]$Module,
        [Parameter(Mandatory = $true)]$State,
        [Parameter(Mandatory = $true)][string[]]$DiffKeys,
        [Parameter(Mandatory = $true)][string]$FeatureName,
        [Parameter(Mandatory = $true)][string]$MissingRemedy,
        [string]$FederationServiceName
    )
    $Module.Result.state = $State
    if ($Module.DiffMode) {
        $before = @{}
        foreach ($key in $DiffKeys) {
            $before[$key] = $State.$key
        }
        $Module.Diff.before = $before
    }
    if (-not $State.feature_installed -and $Module.CheckMode) {
        # Check mode on a fresh host: the role would have installed the role service first.
        $Module.Warn((("{0}: the {1} role service is not installed (yet): in check mode this host is reported as " +
                "to be configured.") -f $env:COMPUTERNAME, $FeatureName))
        $Module.Result.changed = $true
        $Module.ExitJson()
    }
    if (-not $State.feature_installed) {
        $Module.FailJson((("{0}: the {1} role service is not installed. Remedy: {2}") -f $env:COMPUTERNAME,
            $FeatureName, $MissingRemedy))
    }
    if ($FederationServiceName -and $State.configured -and $State.federation_service_name -ine $FederationServiceName) {
        $Module.FailJson((("{0}: already configured for federation service {1}, not {2}. Remedy: use a host " +
                "that is not configured, or remove the role service from this one ({3}) if it really must serve {2}.") -f
            $env:COMPUTERNAME, $State.federation_service_name, $FederationServiceName,
            "Uninstall-WindowsFeature $FeatureName"))
    }
}

$exportMembers = @{
    Function = 'Get-EmsAdfsConfigurationStatus', 'ConvertTo-EmsThumbprint', 'New-EmsCredential',
    'Get-EmsMachineCertificate', 'Get-EmsBindingThumbprint', 'ConvertTo-EmsDatabaseKind', 'Test-EmsSameHost', 'Get-EmsAdfsServerState', 'Get-EmsProxyState',
    'Assert-EmsDeploymentResult', 'Initialize-EmsServerModule', 'Wait-EmsAdfsService', 'Get-EmsStateAfterChange'
}
Export-ModuleMember @exportMembers
