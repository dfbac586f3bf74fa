#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.ems.enable.plugins.module_utils.adfs.AdfsDeployment

# Configures Web Application Proxy as the federation server proxy of an AD FS farm with
# Install-WebApplicationProxy, once: a proxy already configured for this federation service is left
# as it is (changed=false); one configured for another service is an error.
# Cmdlet reference: https://learn.microsoft.com/powershell/module/webapplicationproxy/install-webapplicationproxy

$spec = @{
    options = @{
        federation_service_name = @{ type = 'str'; required = $true }
        certificate_thumbprint = @{ type = 'str'; required = $true }
        trust_username = @{ type = 'str'; required = $true }
        trust_password = @{ type = 'str'; required = $true; no_log = $true }
        https_port = @{ type = 'int' }
        tls_client_port = @{ type = 'int' }
        forward_proxy = @{ type = 'str' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$fsName = $module.Params.federation_service_name.Trim().TrimEnd('.').ToLowerInvariant()
$thumbprint = ConvertTo-EmsThumbprint -Value $module.Params.certificate_thumbprint
$module.Result.changed = $false
$module.Result.federation_service_name = $fsName

# AD FS and Web Application Proxy never on one host (ad-fs-requirements.md, "Proxy requirements").
if ((Get-EmsAdfsConfigurationStatus -Role FederationServer) -eq 2) {
    $module.FailJson(("{0}: is an AD FS federation server; a federation server and the Web Application Proxy " +
            "role service cannot be installed on the same computer. Remedy: use a separate WAP host.") -f $env:COMPUTERNAME)
}

$state = Get-EmsProxyState
Initialize-EmsServerModule -Module $module -State $state -FeatureName Web-Application-Proxy `
    -DiffKeys 'configured', 'federation_service_name', 'ssl_certificate_thumbprints' `
    -MissingRemedy 'ansible.windows.win_feature name=Web-Application-Proxy include_management_tools=true first.'

if ($state.configured) {
    if ($state.federation_service_name -ine $fsName) {
        $module.FailJson((("{0}: already the proxy of federation service {1} (ADFSUrl {2}), not {3}. Remedy: use " +
                "another host, or reconfigure this one by hand (Install-WebApplicationProxy for {3}) if it must " +
                "move.") -f $env:COMPUTERNAME, $state.federation_service_name, $state.adfs_url, $fsName))
    }
    if ($state.ssl_certificate_thumbprints -and ($state.ssl_certificate_thumbprints -notcontains $thumbprint)) {
        $module.Warn((("{0}: the proxy serves certificate(s) {1}, not {2}; this module does not replace it. To " +
                "change it: Set-WebApplicationProxySslCertificate -Thumbprint {2}.") -f $env:COMPUTERNAME,
            ($state.ssl_certificate_thumbprints -join ', '), $thumbprint))
    }
    if ($module.DiffMode) {
        $module.Diff.after = $module.Diff.before
    }
    $module.ExitJson()
}

# Install-WebApplicationProxy parameters (all documented on the cmdlet's Learn page):
#   -FederationServiceName, -CertificateThumbprint (in the local computer's Personal store),
#   -FederationServiceTrustCredential (an account that may manage the federation service),
#   -HttpsPort (default 443), -TlsClientPort (default 49443), -ForwardProxy (FQDN:port).
$params = @{
    FederationServiceName = $fsName
    CertificateThumbprint = $thumbprint
    FederationServiceTrustCredential = New-EmsCredential -UserName $module.Params.trust_username -Password $module.Params.trust_password
    ErrorAction = 'Stop'
}
if ($null -ne $module.Params.https_port) {
    $params.HttpsPort = $module.Params.https_port
}
if ($null -ne $module.Params.tls_client_port) {
    $params.TlsClientPort = $module.Params.tls_client_port
}
if ($module.Params.forward_proxy) {
    $params.ForwardProxy = $module.Params.forward_proxy
}

$module.Result.changed = $true
if ($module.DiffMode) {
    $module.Diff.after = @{
        configured = $true
        federation_service_name = $fsName
        ssl_certificate_thumbprints = @($thumbprint)
    }
}
if ($module.CheckMode) {
    $module.ExitJson()
}

# The certificate is imported by the role before this module runs; in check mode it may not be yet.
$null = Get-EmsMachineCertificate -Module $module -Thumbprint $thumbprint

try {
    # Install-WebApplicationProxy: https://learn.microsoft.com/powershell/module/webapplicationproxy/install-webapplicationproxy
    $result = Install-WebApplicationProxy @params
}
catch {
    $module.FailJson((("{0}: Install-WebApplicationProxy failed for {1}: {2} Remedy: {1} must resolve on this host " +
                "to the AD FS farm (its load balancer; DNS or hosts file), TCP 443 to it must be open, and " +
                "trust_username must be allowed to manage the federation service.") -f $env:COMPUTERNAME, $fsName,
            $_.Exception.Message), $_)
}
Assert-EmsDeploymentResult -Module $module -Result $result -What 'Install-WebApplicationProxy' `
    -Remedy "read the 'AD FS/Admin' and 'Microsoft-Windows-WebApplicationProxy/Admin' event logs on $env:COMPUTERNAME."

$module.Result.state = Get-EmsStateAfterChange -Module $module -Role Proxy
$module.ExitJson()
