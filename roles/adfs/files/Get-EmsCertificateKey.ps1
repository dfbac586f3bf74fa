# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# ems.enable.adfs, run by ansible.windows.win_powershell on every AD FS and WAP host after the
# import. Read-only. Reports where Windows put the certificate's private key: a legacy CSP with
# KeySpec 1 (AT_KEYEXCHANGE) is what AD FS needs for a certificate that is both the SSL and the
# service communication certificate; CNG (KeySpec 0) is valid for SSL only, KeySpec 2
# (AT_SIGNATURE) breaks TLS and sign-in.
# Source: https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/ad-fs-and-keyspec-property
# .NET Framework APIs:
#   X509Certificate2.PrivateKey (CSP keys only; throws or is null for CNG keys)
#     https://learn.microsoft.com/dotnet/api/system.security.cryptography.x509certificates.x509certificate2.privatekey
#   RSACryptoServiceProvider.CspKeyContainerInfo (ProviderName, ProviderType, KeyNumber = Exchange|Signature)
#     https://learn.microsoft.com/dotnet/api/system.security.cryptography.cspkeycontainerinfo
#   RSACertificateExtensions.GetRSAPrivateKey, RSACng.Key.Provider
#     https://learn.microsoft.com/dotnet/api/system.security.cryptography.x509certificates.rsacertificateextensions.getrsaprivatekey
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)]
    [string]$Thumbprint
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$cert = Get-Item -LiteralPath "Cert:\LocalMachine\My\$Thumbprint" -ErrorAction SilentlyContinue
$info = [ordered]@{
    thumbprint = $Thumbprint
    present = [bool]$cert
    has_private_key = $false
    provider_kind = 'unknown'
    provider_name = $null
    provider_type = $null
    key_spec = $null
}
if (-not $cert) {
    return [PSCustomObject]$info
}
$info.has_private_key = [bool]$cert.HasPrivateKey
if (-not $cert.HasPrivateKey) {
    return [PSCustomObject]$info
}

$csp = $null
try {
    $csp = $cert.PrivateKey
}
catch {
    $csp = $null  # "Invalid provider type specified": a CNG key
}
if ($csp -is [System.Security.Cryptography.RSACryptoServiceProvider]) {
    $container = $csp.CspKeyContainerInfo
    $info.provider_kind = 'csp'
    $info.provider_name = $container.ProviderName
    $info.provider_type = $container.ProviderType
    $info.key_spec = [string]$container.KeyNumber  # Exchange = AT_KEYEXCHANGE (1), Signature = AT_SIGNATURE (2)
}
else {
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert)
    if ($rsa -is [System.Security.Cryptography.RSACng]) {
        $info.provider_kind = 'cng'
        $info.provider_name = $rsa.Key.Provider.Provider
        $info.provider_type = 0
        $info.key_spec = 'None'
    }
}
[PSCustomObject]$info
