#!powershell

# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell Ansible.ModuleUtils.AddType

# Read-only. Sends one HTTP(S) GET from this host to connect_to:port with server_name as the TLS
# SNI name and as the Host header, so a check reaches ONE given AD FS node or WAP (for example
# itself) through the federation service name, whatever DNS says about that name. Returns the
# status, the certificate the server presented and whether the body holds a marker.
# .NET references (System namespace, .NET Framework 4.x on Windows Server):
#   TcpClient  https://learn.microsoft.com/dotnet/api/system.net.sockets.tcpclient
#   SslStream  https://learn.microsoft.com/dotnet/api/system.net.security.sslstream
#     AuthenticateAsClient(String, X509CertificateCollection, SslProtocols, Boolean)
#     https://learn.microsoft.com/dotnet/api/system.net.security.sslstream.authenticateasclient
#   RemoteCertificateValidationCallback
#     https://learn.microsoft.com/dotnet/api/system.net.security.remotecertificatevalidationcallback

$spec = @{
    options = @{
        server_name = @{ type = 'str'; required = $true }
        connect_to = @{ type = 'str'; default = 'localhost' }
        port = @{ type = 'int' }
        scheme = @{ type = 'str'; default = 'https'; choices = 'https', 'http' }
        path = @{ type = 'str'; default = '/FederationMetadata/2007-06/FederationMetadata.xml' }
        expected_status = @{ type = 'list'; elements = 'int'; default = @(200) }
        body_contains = @{ type = 'str' }
        expected_thumbprint = @{ type = 'str' }
        validate_certs = @{ type = 'bool'; default = $true }
        timeout = @{ type = 'int'; default = 30 }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

Add-CSharpType -AnsibleModule $module -References @'
using System;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ems.enable.adfs_endpoint_info
{
    public class CertificateCapture
    {
        public X509Certificate2 Certificate;
        public string PolicyErrors = "None";

        // Accepts every certificate during the handshake and records it with the errors Windows
        // found (name mismatch, untrusted chain); the module decides afterwards.
        public bool Validate(object sender, X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
        {
            if (certificate != null)
                Certificate = new X509Certificate2(certificate);
            PolicyErrors = errors.ToString();
            return true;
        }
    }
}
'@

$serverName = $module.Params.server_name.Trim().TrimEnd('.')
$connectTo = $module.Params.connect_to
$scheme = $module.Params.scheme
$port = $module.Params.port
if ($null -eq $port) {
    $port = $(if ($scheme -eq 'https') { 443 } else { 80 })
}
$path = $module.Params.path
if (-not $path.StartsWith('/')) {
    $path = '/' + $path
}
$timeoutMs = [Math]::Max(1, $module.Params.timeout) * 1000
$what = "{0}://{1}:{2}{3} (connected to {4})" -f $scheme, $serverName, $port, $path, $connectTo

$module.Result.changed = $false
$module.Result.url = "{0}://{1}:{2}{3}" -f $scheme, $serverName, $port, $path
$module.Result.connect_to = $connectTo
$module.Result.status_code = $null
$module.Result.certificate = $null
$module.Result.certificate_errors = $null
$module.Result.body_contains_match = $null

$client = New-Object -TypeName System.Net.Sockets.TcpClient
try {
    try {
        $pending = $client.BeginConnect($connectTo, $port, $null, $null)
        if (-not $pending.AsyncWaitHandle.WaitOne($timeoutMs)) {
            $module.FailJson((("{0}: no TCP connection to {1}:{2} within {3} s for {4}. Remedy: the service must " +
                    "listen there and the firewall allow it.") -f $env:COMPUTERNAME, $connectTo, $port,
                $module.Params.timeout, $what))
        }
        $client.EndConnect($pending)
    }
    catch [System.Net.Sockets.SocketException] {
        $module.FailJson((("{0}: TCP connection to {1}:{2} failed for {3}: {4}. Remedy: the service must listen " +
                    "there and the firewall allow it.") -f $env:COMPUTERNAME, $connectTo, $port, $what,
                $_.Exception.Message), $_)
    }
    $stream = $client.GetStream()
    $stream.ReadTimeout = $timeoutMs
    $stream.WriteTimeout = $timeoutMs

    if ($scheme -eq 'https') {
        $capture = New-Object -TypeName ems.enable.adfs_endpoint_info.CertificateCapture
        $callback = [System.Delegate]::CreateDelegate([System.Net.Security.RemoteCertificateValidationCallback],
            $capture, 'Validate')
        $ssl = New-Object -TypeName System.Net.Security.SslStream -ArgumentList $stream, $false, $callback
        try {
            # TLS 1.2: what AD FS and WAP on Windows Server 2016+ offer; SNI = server_name.
            $ssl.AuthenticateAsClient($serverName, $null, [System.Security.Authentication.SslProtocols]::Tls12, $false)
        }
        catch {
            $module.FailJson((("{0}: TLS handshake with {1}:{2} for server name {3} failed: {4}. Remedy: AD FS/WAP " +
                        "must have an SSL binding for {3} (Get-AdfsSslCertificate / Get-WebApplicationProxySslCertificate) " +
                        "and TLS 1.2 enabled.") -f $env:COMPUTERNAME, $connectTo, $port, $serverName,
                    $_.Exception.Message), $_)
        }
        $served = $capture.Certificate
        if ($served) {
            $names = @()
            foreach ($extension in $served.Extensions) {
                if ($extension.Oid.Value -eq '2.5.29.17') {
                    $names = @($extension.Format($false) -split ',\s*' | ForEach-Object { $_ -replace '^DNS Name=', '' })
                }
            }
            $module.Result.certificate = @{
                thumbprint = $served.Thumbprint.ToUpperInvariant()
                subject = $served.Subject
                issuer = $served.Issuer
                not_after = $served.NotAfter.ToUniversalTime().ToString('o')
                dns_names = $names
            }
        }
        $module.Result.certificate_errors = $capture.PolicyErrors
        $io = $ssl
    }
    else {
        $io = $stream
    }

    $hostHeader = $serverName
    if (($scheme -eq 'https' -and $port -ne 443) -or ($scheme -eq 'http' -and $port -ne 80)) {
        $hostHeader = "{0}:{1}" -f $serverName, $port
    }
    $request = "GET {0} HTTP/1.1`r`nHost: {1}`r`nUser-Agent: ems.enable-adfs_endpoint_info`r`nAccept: */*`r`nConnection: close`r`n`r`n" -f $path, $hostHeader
    $requestBytes = [System.Text.Encoding]::ASCII.GetBytes($request)
    $io.Write($requestBytes, 0, $requestBytes.Length)
    $io.Flush()

    $buffer = New-Object -TypeName byte[] -ArgumentList 65536
    $received = New-Object -TypeName System.IO.MemoryStream
    while ($received.Length -lt 4MB) {
        try {
            $count = $io.Read($buffer, 0, $buffer.Length)
        }
        catch [System.IO.IOException] {
            break  # the server closed the TLS session without close_notify
        }
        if ($count -le 0) {
            break
        }
        $received.Write($buffer, 0, $count)
    }
}
finally {
    $client.Close()
}

$raw = [System.Text.Encoding]::UTF8.GetString($received.ToArray())
$headerEnd = $raw.IndexOf("`r`n`r`n")
if ($headerEnd -lt 0) {
    $module.FailJson((("{0}: no HTTP answer from {1} ({2} bytes received). Remedy: check the AD FS / WAP service " +
            "and its event log.") -f $env:COMPUTERNAME, $what, $received.Length))
}
$head = $raw.Substring(0, $headerEnd)
$body = $raw.Substring($headerEnd + 4)
$statusLine = ($head -split "`r`n")[0]
if ($statusLine -notmatch '^HTTP/\d\.\d\s+(\d{3})\s*(.*)$') {
    $module.FailJson((("{0}: {1} answered something that is not HTTP: {2}") -f $env:COMPUTERNAME, $what, $statusLine))
}
$status = [int]$Matches[1]
$module.Result.status_code = $status
$module.Result.reason = $Matches[2]
if ($head -match '(?im)^Transfer-Encoding:\s*chunked') {
    $decoded = New-Object -TypeName System.Text.StringBuilder
    $rest = $body
    while ($rest.Length -gt 0) {
        $lineEnd = $rest.IndexOf("`r`n")
        if ($lineEnd -lt 0) { break }
        $size = [Convert]::ToInt32(($rest.Substring(0, $lineEnd) -split ';')[0].Trim(), 16)
        if ($size -eq 0) { break }
        $start = $lineEnd + 2
        if ($start + $size -gt $rest.Length) { $size = $rest.Length - $start }
        $null = $decoded.Append($rest.Substring($start, $size))
        $next = $start + $size + 2
        if ($next -ge $rest.Length) { break }
        $rest = $rest.Substring($next)
    }
    $body = $decoded.ToString()
}
$module.Result.content_length = $body.Length

$problems = [System.Collections.Generic.List[string]]@()
$expected = @($module.Params.expected_status)
if ($expected -notcontains $status) {
    $problems.Add(("HTTP {0} {1}, expected {2}" -f $status, $module.Result.reason, ($expected -join ' or ')))
}
if ($module.Params.body_contains) {
    $module.Result.body_contains_match = $body.Contains($module.Params.body_contains)
    if (-not $module.Result.body_contains_match) {
        $problems.Add(("the answer does not contain '{0}'" -f $module.Params.body_contains))
    }
}
if ($scheme -eq 'https') {
    if ($module.Params.validate_certs -and $module.Result.certificate_errors -ne 'None') {
        $problems.Add(("the certificate is not valid for {0} on this host ({1})" -f $serverName, $module.Result.certificate_errors))
    }
    if ($module.Params.expected_thumbprint -and $module.Result.certificate) {
        $want = ($module.Params.expected_thumbprint -replace '[^0-9A-Fa-f]', '').ToUpperInvariant()
        if ($module.Result.certificate.thumbprint -ne $want) {
            $problems.Add(("it served certificate {0}, expected {1}" -f $module.Result.certificate.thumbprint, $want))
        }
    }
}
if ($problems.Count -gt 0) {
    $module.FailJson((("{0}: {1}: {2}. Remedy: check the AD FS / WAP configuration of {3} on {4} (service running, " +
            "SSL binding for {3}, the expected certificate).") -f $env:COMPUTERNAME, $what, ($problems -join '; '),
        $serverName, $connectTo))
}
$module.ExitJson()
