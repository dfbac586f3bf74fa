#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.ems.enable.plugins.module_utils.adfs.AdfsDeployment

# Creates the first (primary) node of an AD FS farm with Install-AdfsFarm, once: a host that is
# already configured for this federation service is left as it is (changed=false); a host that is
# configured for another service, or is a secondary node, is an error (never reconfigured here).
# Cmdlet reference: https://learn.microsoft.com/powershell/module/adfs/install-adfsfarm

$spec = @{
    options = @{
        federation_service_name = @{ type = 'str'; required = $true }
        display_name = @{ type = 'str' }
        certificate_thumbprint = @{ type = 'str'; required = $true }
        group_service_account = @{ type = 'str' }
        service_account_username = @{ type = 'str' }
        service_account_password = @{ type = 'str'; no_log = $true }
        sql_connection_string = @{ type = 'str' }
        overwrite_configuration = @{ type = 'bool'; default = $false }
        install_username = @{ type = 'str' }
        install_password = @{ type = 'str'; no_log = $true }
    }
    mutually_exclusive = @(, @('group_service_account', 'service_account_username'))
    required_one_of = @(, @('group_service_account', 'service_account_username'))
    required_together = @(
        @('service_account_username', 'service_account_password'),
        @('install_username', 'install_password')
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$fsName = $module.Params.federation_service_name.Trim().TrimEnd('.').ToLowerInvariant()
$thumbprint = ConvertTo-EmsThumbprint -Value $module.Params.certificate_thumbprint
$module.Result.changed = $false
$module.Result.reboot_required = $false
$module.Result.federation_service_name = $fsName

$state = Get-EmsAdfsServerState
Initialize-EmsServerModule -Module $module -State $state -FeatureName ADFS-Federation `
    -DiffKeys 'configured', 'federation_service_name', 'sync_role', 'service_account', 'ssl_certificate_thumbprints' `
    -MissingRemedy 'install it first (ansible.windows.win_feature name=ADFS-Federation), then reboot if asked.' `
    -FederationServiceName $fsName

if ($state.configured) {
    if ($state.sync_role -eq 'SecondaryComputer') {
        $module.FailJson((("{0}: already a secondary node of {1} (primary {2}), so it cannot be the primary. " +
                "Remedy: name the current primary {2} as adfs_primary_host.") -f $env:COMPUTERNAME, $fsName,
            $state.primary_computer_name))
    }
    if ($state.ssl_certificate_thumbprints -and ($state.ssl_certificate_thumbprints -notcontains $thumbprint)) {
        $module.Warn((("{0}: AD FS serves certificate(s) {1}, not {2}; this module does not replace it. To " +
                "change it: Set-AdfsSslCertificate -Thumbprint {2} on every node.") -f $env:COMPUTERNAME,
            ($state.ssl_certificate_thumbprints -join ', '), $thumbprint))
    }
    if ($module.DiffMode) {
        $module.Diff.after = $module.Diff.before
    }
    $module.ExitJson()
}

# Install-AdfsFarm parameters (all documented on the cmdlet's Learn page):
#   -FederationServiceName, -FederationServiceDisplayName, -CertificateThumbprint (becomes the SSL and
#   the service communication certificate), -GroupServiceAccountIdentifier (gMSA, 'DOMAIN\name$') or
#   -ServiceAccountCredential (domain user), -SQLConnectionString (WID when absent),
#   -OverwriteConfiguration, -Credential (an account with rights to create the farm's AD objects),
#   -Confirm (common ShouldProcess parameter, no prompt in a non-interactive session).
$params = @{
    FederationServiceName = $fsName
    CertificateThumbprint = $thumbprint
    Confirm = $false
    ErrorAction = 'Stop'
}
if ($module.Params.display_name) {
    $params.FederationServiceDisplayName = $module.Params.display_name
}
if ($module.Params.group_service_account) {
    $params.GroupServiceAccountIdentifier = $module.Params.group_service_account
    $account = $module.Params.group_service_account
}
else {
    $params.ServiceAccountCredential = New-EmsCredential -UserName $module.Params.service_account_username `
        -Password $module.Params.service_account_password
    $account = $module.Params.service_account_username
}
if ($module.Params.sql_connection_string) {
    $params.SQLConnectionString = $module.Params.sql_connection_string
}
if ($module.Params.overwrite_configuration) {
    $params.OverwriteConfiguration = $true
}
if ($module.Params.install_username) {
    $params.Credential = New-EmsCredential -UserName $module.Params.install_username -Password $module.Params.install_password
}

$module.Result.changed = $true
if ($module.DiffMode) {
    $module.Diff.after = @{
        configured = $true
        federation_service_name = $fsName
        sync_role = $(if ($module.Params.sql_connection_string) { $null } else { 'PrimaryComputer' })
        service_account = $account
        ssl_certificate_thumbprints = @($thumbprint)
    }
}
if ($module.CheckMode) {
    $module.ExitJson()
}

# The certificate is imported by the role before this module runs; in check mode it may not be yet.
$null = Get-EmsMachineCertificate -Module $module -Thumbprint $thumbprint

try {
    # Install-AdfsFarm: https://learn.microsoft.com/powershell/module/adfs/install-adfsfarm
    $result = Install-AdfsFarm @params
}
catch [System.IO.FileNotFoundException] {
    $module.Result.reboot_required = $true
    $module.FailJson((("{0}: Install-AdfsFarm could not load the AD FS assemblies: the role service was installed " +
            "without the reboot it needs. Remedy: reboot the host and run again.") -f $env:COMPUTERNAME), $_)
}
catch {
    $module.FailJson((("{0}: Install-AdfsFarm failed for {1}: {2} Remedy: check the PDC is reachable, the " +
            "account running it may create objects in the domain (Domain Admins, or install_username), the " +
            "service account exists ({3}) and AD FS event log 'AD FS/Admin'.") -f $env:COMPUTERNAME, $fsName,
        $_.Exception.Message, $account), $_)
}
Assert-EmsDeploymentResult -Module $module -Result $result -What 'Install-AdfsFarm' `
    -Remedy "read the AD FS/Admin event log on $env:COMPUTERNAME, fix the cause, run again (the host stays unconfigured)."

$module.Result.reboot_required = $true
$module.Result.state = Get-EmsStateAfterChange -Module $module -Role FederationServer
$module.ExitJson()
