#Requires -Version 5.1
# Connectivity checks of the ems.enable network role, run by ansible.windows.win_powershell.
#
# Every check comes from the collection's port and endpoint tables (lookup ems.enable.network_plan):
#   kind tcp    TCP connect to host:port (internal flows, e.g. the DC ports from the sync server)
#   kind dns    a DNS query over UDP 53 to host, asking it for its own name
#   kind tls    TLS handshake with host (certificate validated by Windows); through the proxy when
#               via_proxy is set (an HTTPS request: any answer means the tunnel and TLS worked)
#   kind https  HTTPS request to https://host<path>, status compared with expect_status (if given)
#   kind http   HTTP request to http://host<path> (CRL hosts), any answer of the service passes
# A proxy that answers 407 (authentication required) or 403 (URL not allowed) fails the check:
# that is Microsoft's own test for Entra Connect (Invoke-WebRequest, tshoot-connect-connectivity).
# When issuer_contains is set and the certificate's issuer lacks it, the check warns: a TLS
# inspecting proxy is likely (Azure RMS breaks behind one).
# Read-only: nothing on the host changes; the role runs it in check mode too.
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)]
    [object[]]
    $Checks,

    [string]
    $Proxy = '',

    [bool]
    $ProxyUseDefaultCredentials = $false,

    [int]
    $TimeoutSeconds = 10
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
# .NET Framework before 4.7 does not offer TLS 1.2 by default to web requests.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

$timeoutMs = $TimeoutSeconds * 1000

function New-CheckResult {
    param ($Check, [string]$Status, [string]$Message, [string]$Remedy)
    [PSCustomObject]@{
        check = $Check.id
        kind = $Check.kind
        component = $Check.component
        target = '{0}:{1}' -f $Check.host, $Check.port
        via_proxy = [bool]$Check.via_proxy
        status = $Status
        message = $Message
        remedy = $Remedy
        source = $Check.source
    }
}

function Get-InnerMessage {
    param ([System.Exception]$Exception)
    $Exception.GetBaseException().Message
}

function Test-TcpPort {
    param ($Check)
    $label = 'TCP {0}:{1}' -f $Check.host, $Check.port
    $remedy = 'Allow TCP {0} from this host to {1} on every firewall between them (port table row {2}).' -f $Check.port, $Check.host, $Check.id
    $client = New-Object -TypeName System.Net.Sockets.TcpClient
    try {
        $task = $client.ConnectAsync([string]$Check.host, [int]$Check.port)
        if (-not $task.Wait($timeoutMs)) {
            return New-CheckResult $Check 'fail' ('{0}: no answer within {1} s (filtered?).' -f $label, $TimeoutSeconds) $remedy
        }
        New-CheckResult $Check 'pass' ('{0}: connected.' -f $label) $null
    }
    catch {
        $reason = Get-InnerMessage $_.Exception
        New-CheckResult $Check 'fail' ('{0}: {1}' -f $label, $reason) $remedy
    }
    finally {
        $client.Dispose()
    }
}

function Test-DnsServer {
    param ($Check)
    $label = 'DNS (UDP {0}) {1}' -f $Check.port, $Check.host
    try {
        $answer = Resolve-DnsName -Name ([string]$Check.host) -Server ([string]$Check.host) -Type A -DnsOnly -QuickTimeout
        $addresses = @($answer | Where-Object { $_.Type -eq 'A' } | ForEach-Object { $_.IPAddress }) -join ', '
        New-CheckResult $Check 'pass' ('{0}: answered ({1}).' -f $label, $addresses) $null
    }
    catch {
        $reason = Get-InnerMessage $_.Exception
        New-CheckResult $Check 'fail' ('{0}: {1}' -f $label, $reason) ('Allow UDP and TCP {0} from this host to {1}.' -f $Check.port, $Check.host)
    }
}

function Test-TlsDirect {
    param ($Check)
    $label = 'TLS {0}:{1}' -f $Check.host, $Check.port
    $script:peerCertificate = $null
    $script:policyErrors = [System.Net.Security.SslPolicyErrors]::None
    $callback = [System.Net.Security.RemoteCertificateValidationCallback] {
        param ($connection, $certificate, $chain, $errors)
        $script:peerCertificate = $certificate
        $script:policyErrors = $errors
        $true
    }
    $client = New-Object -TypeName System.Net.Sockets.TcpClient
    $stream = $null
    try {
        $task = $client.ConnectAsync([string]$Check.host, [int]$Check.port)
        if (-not $task.Wait($timeoutMs)) {
            return New-CheckResult $Check 'fail' ('{0}: no TCP answer within {1} s.' -f $label, $TimeoutSeconds) ('Allow TCP {0} outbound to {1} (or set network_proxy).' -f $Check.port, $Check.host)
        }
        $client.ReceiveTimeout = $timeoutMs
        $client.SendTimeout = $timeoutMs
        $stream = [System.Net.Security.SslStream]::new($client.GetStream(), $false, $callback)
        $stream.AuthenticateAsClient([string]$Check.host)
        if ($script:policyErrors -ne [System.Net.Security.SslPolicyErrors]::None) {
            return New-CheckResult $Check 'fail' ('{0}: certificate not accepted by Windows ({1}); issuer {2}.' -f $label, $script:policyErrors, $script:peerCertificate.Issuer) 'Update the trusted root certificates of this host; check that no proxy or firewall intercepts TLS to this name.'
        }
        Test-Issuer $Check $label $script:peerCertificate ('{0}: handshake {1} done.' -f $label, $stream.SslProtocol)
    }
    catch {
        $reason = Get-InnerMessage $_.Exception
        New-CheckResult $Check 'fail' ('{0}: {1}' -f $label, $reason) ('Allow TCP {0} outbound to {1}; enable TLS 1.2 on this host.' -f $Check.port, $Check.host)
    }
    finally {
        if ($stream) { $stream.Dispose() }
        $client.Dispose()
    }
}

function Test-Issuer {
    param ($Check, [string]$Label, $Certificate, [string]$PassMessage)
    if ($Check.issuer_contains -and $Certificate -and $Certificate.Issuer -notlike ('*{0}*' -f $Check.issuer_contains)) {
        return New-CheckResult $Check 'warn' ('{0}: the certificate comes from "{1}", not from a {2} CA: TLS inspection is likely.' -f $Label, $Certificate.Issuer, $Check.issuer_contains) ('Exclude {0} from TLS inspection on the proxy or firewall.' -f $Check.host)
    }
    New-CheckResult $Check 'pass' $PassMessage $null
}

function Test-WebRequest {
    param ($Check)
    $scheme = if ($Check.kind -eq 'http') { 'http' } else { 'https' }
    $path = if ($Check.path) { [string]$Check.path } else { '/' }
    $url = '{0}://{1}:{2}{3}' -f $scheme, $Check.host, $Check.port, $path
    $via = if ($Check.via_proxy -and $Proxy) { ' via proxy {0}' -f $Proxy } else { '' }
    $label = '{0}{1}' -f $url, $via
    $request = [System.Net.HttpWebRequest]::Create($url)
    $request.Method = 'GET'
    $request.Timeout = $timeoutMs
    $request.ReadWriteTimeout = $timeoutMs
    $request.AllowAutoRedirect = $false
    $request.UserAgent = 'ems.enable-network-check'
    if ($Check.via_proxy -and $Proxy) {
        $webProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList $Proxy
        $webProxy.UseDefaultCredentials = $ProxyUseDefaultCredentials
        $request.Proxy = $webProxy
    }
    else {
        $request.Proxy = $null
    }
    $status = $null
    try {
        $response = $request.GetResponse()
        $status = [int]$response.StatusCode
        $response.Close()
    }
    catch [System.Net.WebException] {
        $webError = $_.Exception
        if ($webError.Response) {
            $status = [int]$webError.Response.StatusCode
            $webError.Response.Close()
        }
        else {
            $reason = '{0} ({1})' -f $webError.Status, (Get-InnerMessage $webError)
            $remedy = switch ([string]$webError.Status) {
                'NameResolutionFailure' { 'This host cannot resolve {0}: check its DNS forwarders or set network_proxy.' -f $Check.host }
                'ProxyNameResolutionFailure' { 'The proxy name in network_proxy does not resolve on this host.' }
                'TrustFailure' { 'The certificate is not trusted: update the root certificates; exclude the name from TLS inspection.' }
                'SecureChannelFailure' { 'TLS failed: enable TLS 1.2 for .NET (SchUseStrongCrypto) on this host.' }
                default { 'Allow TCP {0} outbound to {1} on the firewall or proxy.' -f $Check.port, $Check.host }
            }
            return New-CheckResult $Check 'fail' ('{0}: {1}' -f $label, $reason) $remedy
        }
    }
    catch {
        $reason = Get-InnerMessage $_.Exception
        return New-CheckResult $Check 'fail' ('{0}: {1}' -f $label, $reason) ('Allow TCP {0} outbound to {1}.' -f $Check.port, $Check.host)
    }
    if ($status -eq 407) {
        return New-CheckResult $Check 'fail' ('{0}: HTTP 407, the proxy requires authentication.' -f $label) 'Let the proxy allow this URL without authentication (RMS connector), or set network_proxy_use_default_credentials and configure machine.config (Entra Connect).'
    }
    # foreach over @(...): a check without expect_status expects nothing (piped into ForEach-Object a $null
    # became [int]0, and every answer failed as "expected 0").
    $expected = @()
    foreach ($code in @($Check.expect_status)) {
        if ($null -ne $code) {
            $expected += [int]$code
        }
    }
    if ($expected.Count -gt 0 -and $expected -notcontains $status) {
        $remedy = if ($status -eq 403) { 'HTTP 403: the proxy has not opened this URL; allow it (see the endpoint table in docs/network.md).' } else { 'Check the proxy and firewall rules for this URL.' }
        return New-CheckResult $Check 'fail' ('{0}: HTTP {1}, expected {2}.' -f $label, $status, ($expected -join ' or ')) $remedy
    }
    if ($status -eq 403 -and $via) {
        return New-CheckResult $Check 'warn' ('{0}: HTTP 403 through the proxy: the proxy may refuse this URL (or the service refused an anonymous request).' -f $label) ('Check that the proxy allows {0} (see the endpoint table in docs/network.md).' -f $Check.host)
    }
    $certificate = $null
    if ($scheme -eq 'https' -and $request.ServicePoint.Certificate) {
        $certificate = $request.ServicePoint.Certificate
    }
    Test-Issuer $Check $label $certificate ('{0}: HTTP {1}.' -f $label, $status)
}

$results = foreach ($check in $Checks) {
    switch ([string]$check.kind) {
        'tcp' { Test-TcpPort $check }
        'dns' { Test-DnsServer $check }
        'tls' {
            if ($check.via_proxy -and $Proxy) { Test-WebRequest $check } else { Test-TlsDirect $check }
        }
        'https' { Test-WebRequest $check }
        'http' { Test-WebRequest $check }
        default { New-CheckResult $check 'fail' ('unknown check kind {0}' -f $check.kind) 'Report this: the port table and this script disagree.' }
    }
}
$results
