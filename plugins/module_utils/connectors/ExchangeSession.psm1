# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The Exchange Management Shell session of the ems.enable Exchange modules (exchange_management_role,
# exchange_irm_configuration), opened the way Microsoft documents in "Connect to Exchange servers
# using remote PowerShell" (MicrosoftDocs/office-docs-powershell
# exchange/docs-conceptual/connect-to-exchange-servers-using-remote-powershell.md):
#   New-PSSession -ConfigurationName Microsoft.Exchange -ConnectionUri http://<ServerFQDN>/PowerShell/
#                 -Authentication Kerberos [-Credential]
#   Import-PSSession $Session -DisableNameChecking
#   Remove-PSSession $Session            (always: sessions per user are limited)
# The Exchange Management Shell itself opens the same kind of session (RemoteExchange.ps1). RBAC
# decides which cmdlets the account gets. With an explicit credential the session works from a
# WinRM logon without credential delegation (no second hop).

Function Get-EmsExchangeSessionSpec {
    <#
    .SYNOPSIS
    The module options every Exchange module of ems.enable takes (merge into the module spec).
    #>
    @{
        exchange_server = @{ type = 'str'; required = $true }
        exchange_username = @{ type = 'str' }
        exchange_password = @{ type = 'str'; no_log = $true }
    }
}

Function Connect-EmsExchangeSession {
    <#
    .SYNOPSIS
    Opens the remote Exchange session and imports the given cmdlets. Fails the module with the
    server, the cause and the remedy when it cannot connect.
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]
        [object]
        $Module,

        [Parameter(Mandatory = $true)]
        [string[]]
        $CommandName
    )

    $server = $Module.Params.exchange_server
    # One host, never a URL, port, path or space (the rule of module_utils/network/host_names.py):
    # Uri.CheckHostName gives Dns, IPv4 or IPv6 only for a bare host name or address. The URI is then
    # built from its parts by UriBuilder, not spliced (it brackets an IPv6 address).
    $hostType = [System.Uri]::CheckHostName($server)
    if ($hostType -notin @([System.UriHostNameType]::Dns, [System.UriHostNameType]::IPv4, [System.UriHostNameType]::IPv6)) {
        $Module.FailJson(("exchange_server: '{0}' is not a host name. Remedy: give the Exchange server's FQDN alone " +
                "(no scheme, port, path or space).") -f $server)
    }
    $uri = (New-Object -TypeName System.UriBuilder -ArgumentList @('http', $server, 80, 'PowerShell/')).Uri.AbsoluteUri
    $sessionParams = @{
        ConfigurationName = 'Microsoft.Exchange'
        ConnectionUri = $uri
        Authentication = 'Kerberos'
        ErrorAction = 'Stop'
    }
    if ($Module.Params.exchange_username) {
        if ($null -eq $Module.Params.exchange_password) {
            $Module.FailJson("exchange_password is required with exchange_username")
        }
        $secure = ConvertTo-SecureString -String $Module.Params.exchange_password -AsPlainText -Force
        $sessionParams.Credential = New-Object -TypeName System.Management.Automation.PSCredential -ArgumentList @(
            $Module.Params.exchange_username, $secure)
    }
    try {
        # New-PSSession -ConfigurationName -ConnectionUri -Authentication -Credential:
        # https://learn.microsoft.com/powershell/module/microsoft.powershell.core/new-pssession
        $session = New-PSSession @sessionParams
    }
    catch {
        $Module.FailJson((("Exchange server {0}: cannot open the Exchange Management Shell session {1}: {2}. " +
                "Remedy: give exchange_server as the FQDN of an Exchange server (Kerberos needs the name, port 80 " +
                "open), and an account with remote PowerShell enabled and the Organization Management role " +
                "group (exchange_username/exchange_password).") -f $server, $uri, $_.Exception.Message), $_)
    }
    try {
        # Import-PSSession returns the temporary module it built; importing that module globally makes
        # the cmdlets visible to the calling module script, not only inside this module_util.
        # Import-PSSession -Session -DisableNameChecking -CommandName -AllowClobber:
        # https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/import-pssession
        $imported = Import-PSSession -Session $session -DisableNameChecking -CommandName $CommandName -AllowClobber `
            -ErrorAction Stop
        # Import-Module -ModuleInfo -Global: https://learn.microsoft.com/powershell/module/microsoft.powershell.core/import-module
        Import-Module -ModuleInfo $imported -Global -DisableNameChecking -ErrorAction Stop
    }
    catch {
        Remove-PSSession -Session $session -ErrorAction SilentlyContinue
        $Module.FailJson((("Exchange server {0}: the session opened but these cmdlets could not be imported: {1} ({2}). " +
                "Remedy: use an account in the Organization Management role group.") -f $server,
            ($CommandName -join ', '), $_.Exception.Message), $_)
    }
    $missing = @($CommandName | Where-Object { -not (Get-Command -Name $_ -ErrorAction SilentlyContinue) })
    if ($missing.Count -gt 0) {
        Remove-PSSession -Session $session -ErrorAction SilentlyContinue
        $Module.FailJson((("Exchange server {0}: RBAC does not give this account the cmdlets {1}. Remedy: use an " +
                "account in the Organization Management role group.") -f $server, ($missing -join ', ')))
    }
    $session
}

Function Disconnect-EmsExchangeSession {
    <#
    .SYNOPSIS
    Closes the session (Microsoft: disconnect, or the account runs out of remote sessions).
    #>
    [CmdletBinding()]
    param (
        [Parameter()]
        [object]
        $Session
    )
    if ($Session) {
        # Remove-PSSession: https://learn.microsoft.com/powershell/module/microsoft.powershell.core/remove-pssession
        Remove-PSSession -Session $Session -ErrorAction SilentlyContinue
    }
}

Function Get-EmsExchangeIdName {
    <#
    .SYNOPSIS
    The name of a (deserialized) Exchange object id: "Mail Recipients" from a name, a DN or a path.
    #>
    [CmdletBinding()]
    param (
        [Parameter()]
        [object]
        $Id
    )
    $text = [string]$Id
    if ($text -match '^CN=([^,]+),') {
        $Matches[1]
    }
    elseif ($text -match '[\\/]') {
        ($text -split '[\\/]')[-1]
    }
    else {
        $text
    }
}

$exportMembers = @{
    Function = 'Get-EmsExchangeSessionSpec', 'Connect-EmsExchangeSession', 'Disconnect-EmsExchangeSession',
    'Get-EmsExchangeIdName'
}
Export-ModuleMember @exportMembers
