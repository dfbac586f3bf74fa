#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ansible_collections.ems.enable.plugins.module_utils.adfs.AdfsDeployment

# Adds this host to an existing AD FS farm with Add-AdfsFarmNode, once: a host that already is a
# node of this federation service is left as it is (changed=false).
# Cmdlet reference: https://learn.microsoft.com/powershell/module/adfs/add-adfsfarmnode

$spec = @{
    options = @{
        federation_service_name = @{ type = 'str'; required = $true }
        primary_computer_name = @{ type = 'str' }
        primary_computer_port = @{ type = 'int'; default = 80 }
        sql_connection_string = @{ type = 'str' }
        certificate_thumbprint = @{ type = 'str'; required = $true }
        group_service_account = @{ type = 'str' }
        service_account_username = @{ type = 'str' }
        service_account_password = @{ type = 'str'; no_log = $true }
        overwrite_configuration = @{ type = 'bool'; default = $false }
        install_username = @{ type = 'str' }
        install_password = @{ type = 'str'; no_log = $true }
    }
    mutually_exclusive = @(
        @('group_service_account', 'service_account_username'),
        @('primary_computer_name', 'sql_connection_string')
    )
    required_one_of = @(
        @('group_service_account', 'service_account_username'),
        @('primary_computer_name', 'sql_connection_string')
    )
    required_together = @(
        @('service_account_username', 'service_account_password'),
        @('install_username', 'install_password')
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$fsName = $module.Params.federation_service_name.Trim().TrimEnd('.').ToLowerInvariant()
$primary = $module.Params.primary_computer_name
$thumbprint = ConvertTo-EmsThumbprint -Value $module.Params.certificate_thumbprint
$module.Result.changed = $false
$module.Result.reboot_required = $false
$module.Result.federation_service_name = $fsName

if ($primary -and (Test-EmsSameHost -A $primary -B $env:COMPUTERNAME)) {
    $module.FailJson((("{0}: primary_computer_name {1} is this host; a farm node joins another primary. Remedy: " +
            "configure the primary with ems.enable.adfs_farm.") -f $env:COMPUTERNAME, $primary))
}

$state = Get-EmsAdfsServerState
Initialize-EmsServerModule -Module $module -State $state -FeatureName ADFS-Federation `
    -DiffKeys 'configured', 'federation_service_name', 'sync_role', 'primary_computer_name', 'service_account' `
    -MissingRemedy 'install it first (ansible.windows.win_feature name=ADFS-Federation), then reboot if asked.' `
    -FederationServiceName $fsName

if ($state.configured) {
    # The WID sync Role (Get-AdfsSyncProperties) is documented for WID farms only; on a SQL farm every node
    # shares the database, so a SQL farm's node is never refused for its Role.
    if ($state.sync_role -eq 'PrimaryComputer' -and $state.configuration_database -eq 'wid') {
        $module.FailJson((("{0}: is the primary server of the WID farm of {1}, so it cannot join it as a node of {2}. " +
                "Remedy: make {0} the role's adfs_primary_host, or promote {2} first (Set-AdfsSyncProperties " +
                "-Role PrimaryComputer on it, -Role SecondaryComputer here).") -f $env:COMPUTERNAME, $fsName, $primary))
    }
    if ($primary -and $state.primary_computer_name -and -not (Test-EmsSameHost -A $primary -B $state.primary_computer_name)) {
        $module.Warn((("{0}: synchronizes from {1}, not {2}. Nothing changed; Set-AdfsSyncProperties " +
                "-PrimaryComputerName changes it.") -f $env:COMPUTERNAME, $state.primary_computer_name, $primary))
    }
    if ($state.ssl_certificate_thumbprints -and ($state.ssl_certificate_thumbprints -notcontains $thumbprint)) {
        $module.Warn((("{0}: AD FS serves certificate(s) {1}, not {2}; this module does not replace it.") -f
            $env:COMPUTERNAME, ($state.ssl_certificate_thumbprints -join ', '), $thumbprint))
    }
    if ($module.DiffMode) {
        $module.Diff.after = $module.Diff.before
    }
    $module.ExitJson()
}

# Add-AdfsFarmNode parameters (all documented on the cmdlet's Learn page):
#   -PrimaryComputerName and -PrimaryComputerPort (WID farm; "required even if the default HTTP port
#   of 80 is used", the cmdlet otherwise assumes 443) or -SQLConnectionString (SQL farm);
#   -CertificateThumbprint (the primary's SSL certificate); -GroupServiceAccountIdentifier or
#   -ServiceAccountCredential (the farm's service account); -OverwriteConfiguration (WID only);
#   -Credential; -Confirm.
$params = @{
    CertificateThumbprint = $thumbprint
    Confirm = $false
    ErrorAction = 'Stop'
}
if ($primary) {
    $params.PrimaryComputerName = $primary
    $params.PrimaryComputerPort = $module.Params.primary_computer_port
    if ($module.Params.overwrite_configuration) {
        $params.OverwriteConfiguration = $true
    }
}
else {
    $params.SQLConnectionString = $module.Params.sql_connection_string
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
if ($module.Params.install_username) {
    $params.Credential = New-EmsCredential -UserName $module.Params.install_username -Password $module.Params.install_password
}

$module.Result.changed = $true
if ($module.DiffMode) {
    $module.Diff.after = @{
        configured = $true
        federation_service_name = $fsName
        sync_role = $(if ($primary) { 'SecondaryComputer' } else { $null })
        primary_computer_name = $primary
        service_account = $account
    }
}
if ($module.CheckMode) {
    $module.ExitJson()
}

# The certificate is imported by the role before this module runs; in check mode it may not be yet.
$null = Get-EmsMachineCertificate -Module $module -Thumbprint $thumbprint

try {
    # Add-AdfsFarmNode: https://learn.microsoft.com/powershell/module/adfs/add-adfsfarmnode
    $result = Add-AdfsFarmNode @params
}
catch [System.IO.FileNotFoundException] {
    $module.Result.reboot_required = $true
    $module.FailJson((("{0}: Add-AdfsFarmNode could not load the AD FS assemblies: the role service was installed " +
                "without the reboot it needs. Remedy: reboot the host and run again.") -f $env:COMPUTERNAME), $_)
}
catch {
    $target = $(if ($primary) { "primary {0} on HTTP port {1}" -f $primary, $module.Params.primary_computer_port } else { 'the SQL configuration database' })
    $module.FailJson((("{0}: Add-AdfsFarmNode failed joining {1} through {2}: {3} Remedy: the primary must be " +
                "configured and reachable (TCP {4} open, firewall rule from the port table), the service account ({5}) " +
                "must be the farm's, and the certificate the primary's.") -f $env:COMPUTERNAME, $fsName, $target,
            $_.Exception.Message, $module.Params.primary_computer_port, $account), $_)
}
Assert-EmsDeploymentResult -Module $module -Result $result -What 'Add-AdfsFarmNode' `
    -Remedy "read the AD FS/Admin event log on $env:COMPUTERNAME, fix the cause, run again (the host stays unconfigured)."

$module.Result.reboot_required = $true
$module.Result.state = Get-EmsStateAfterChange -Module $module -Role FederationServer
$module.ExitJson()
