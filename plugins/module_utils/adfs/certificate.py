# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side check of the AD FS / Web Application Proxy TLS certificate (a PFX file).

Entry point of ems.enable.adfs_certificate_info (run in the controller process by its action
plugin, see plugin_utils/controller_action.py). Nothing is copied to a host before this passes.

Requirements checked, with their Microsoft sources:
  - windowsserverdocs identity/ad-fs/overview/ad-fs-requirements.md, "Certificate requirements":
    Server Authentication EKU; the federation service name in the Subject or the SAN;
    certauth.<federation service name> in the SAN for user certificate authentication on 443;
    enterpriseregistration.<UPN suffix> in the SAN for each UPN suffix used for device registration;
    publicly trusted for production (only "self-signed" can be seen here: a warning).
  - windowsserverdocs identity/ad-fs/technical-reference/AD-FS-and-KeySpec-Property.md: the
    certificate Install-AdfsFarm gets (-CertificateThumbprint) becomes the SSL AND the service
    communication certificate; service communication needs a legacy CSP key (KeySpec 1), a CNG key
    (KeySpec 0) is valid for SSL only. Hence: a CSP, not a CNG, key.

What a PFX shows without Windows (and what it does not):
  - visible: the certificate (names, dates, EKU, key type and size) once the password opens the
    file; the key's bag attributes when the key bag sits in an unencrypted SafeContents (the layout
    Windows and OpenSSL both write): the Microsoft CSP name attribute (1.3.6.1.4.1.311.17.1) says
    into which provider Windows will import the key (a CSP such as "Microsoft Enhanced RSA and AES
    Cryptographic Provider" or a CNG key storage provider such as "Microsoft Software Key Storage
    Provider"); the encryption algorithms of the containers.
  - not visible: the KeySpec (AT_KEYEXCHANGE / AT_SIGNATURE) a key gets when no provider is named
    (it is decided at import; a key-usage marking, when present, sits inside the encrypted key);
    whether the chain is trusted on the hosts. The role reads the provider and the KeySpec of the
    imported key on every host (tasks/certificate.yml) and fails there if it is a CNG key or
    AT_SIGNATURE.
"""

from __future__ import annotations

import datetime
import hashlib

from ansible_collections.ems.enable.plugins.module_utils.network.host_names import HostNameError, check_range, is_dns_name

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported as a failing check
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = str(exc)

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    password=dict(type="str", required=True, no_log=True),
    federation_service_name=dict(type="str", required=True),
    certificate_authentication=dict(type="bool", default=False),
    device_registration_upn_suffixes=dict(type="list", elements="str", default=[]),
    min_days_valid=dict(type="int", default=30),
    min_rsa_key_size=dict(type="int", default=2048),
    import_on_windows_server_2016=dict(type="bool", default=True),
)
KWARGS = {}

# OIDs of PKCS#12 (RFC 7292) and the Microsoft bag attributes.
OID_DATA = "1.2.840.113549.1.7.1"
OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
OID_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
OID_MS_CSP_NAME = "1.3.6.1.4.1.311.17.1"
OID_PBES2 = "1.2.840.113549.1.5.13"
PBE_NAMES = {
    "1.2.840.113549.1.12.1.1": "pbeWithSHAAnd128BitRC4",
    "1.2.840.113549.1.12.1.2": "pbeWithSHAAnd40BitRC4",
    "1.2.840.113549.1.12.1.3": "pbeWithSHAAnd3-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.4": "pbeWithSHAAnd2-KeyTripleDES-CBC",
    "1.2.840.113549.1.12.1.5": "pbeWithSHAAnd128BitRC2-CBC",
    "1.2.840.113549.1.12.1.6": "pbeWithSHAAnd40BitRC2-CBC",
    OID_PBES2: "PBES2",
}
DIGEST_NAMES = {
    "1.3.14.3.2.26": "SHA1",
    "2.16.840.1.101.3.4.2.1": "SHA256",
    "2.16.840.1.101.3.4.2.2": "SHA384",
    "2.16.840.1.101.3.4.2.3": "SHA512",
}
# Key storage providers (CNG) Windows names in PFX files; every legacy CSP's name ends with
# "Cryptographic Provider" (e.g. "Microsoft Enhanced RSA and AES Cryptographic Provider").
CNG_PROVIDERS = ("Microsoft Software Key Storage Provider", "Microsoft Platform Crypto Provider",
                 "Microsoft Smart Card Key Storage Provider", "Microsoft Passport Key Storage Provider")

SOURCE_REQUIREMENTS = "https://learn.microsoft.com/windows-server/identity/ad-fs/overview/ad-fs-requirements"
SOURCE_KEYSPEC = ("https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/"
                  "ad-fs-and-keyspec-property")


# ---- a small BER reader (PFX files from Windows may use indefinite lengths) ---------------------

class BerError(ValueError):
    """The bytes are not the BER structure expected."""


def _read_tlv(data, pos):
    """(tag byte, constructed, content start, content end, next position) of the TLV at pos."""
    if pos >= len(data):
        raise BerError("truncated at %d" % pos)
    tag = data[pos]
    constructed = bool(tag & 0x20)
    pos += 1
    if tag & 0x1F == 0x1F:  # high tag number form
        while pos < len(data) and data[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= len(data):
        raise BerError("truncated length at %d" % pos)
    first = data[pos]
    pos += 1
    if first == 0x80:  # indefinite length: children up to the end-of-contents octets
        if not constructed:
            raise BerError("indefinite length on a primitive value")
        end = pos
        while True:
            if data[end:end + 2] == b"\x00\x00":
                return tag, constructed, pos, end, end + 2
            end = _read_tlv(data, end)[4]
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 8 or pos + count > len(data):
            raise BerError("bad length at %d" % pos)
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(data):
        raise BerError("length beyond the data at %d" % pos)
    return tag, constructed, pos, pos + length, pos + length


def ber_children(data, start=0, end=None):
    """[(tag, constructed, bytes of the content)] of the TLVs between start and end."""
    end = len(data) if end is None else end
    items = []
    pos = start
    while pos < end:
        tag, constructed, cstart, cend, pos = _read_tlv(data, pos)
        items.append((tag, constructed, data[cstart:cend]))
    return items


def ber_octets(tag, constructed, content):
    """The value of an OCTET STRING, also in the constructed (segmented) BER form."""
    if tag & 0x1F != 0x04:
        raise BerError("expected an OCTET STRING, got tag 0x%02x" % tag)
    if not constructed:
        return content
    return b"".join(ber_octets(t, c, v) for t, c, v in ber_children(content))


def ber_oid(content):
    if not content:
        raise BerError("empty OID")
    first = content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _expect(items, index, tag, what):
    if len(items) <= index or items[index][0] != tag:
        raise BerError("%s: expected tag 0x%02x" % (what, tag))
    return items[index]


def _algorithm(content):
    """Name of an AlgorithmIdentifier (PBES2 shows its cipher and PRF: 'PBES2 (AES-256-CBC ...)')."""
    items = ber_children(content)
    oid = ber_oid(_expect(items, 0, 0x06, "algorithm")[2])
    name = PBE_NAMES.get(oid, oid)
    if oid == OID_PBES2 and len(items) > 1:
        try:
            _kdf, enc = ber_children(items[1][2])[:2]
            cipher = ber_oid(ber_children(enc[2])[0][2])
            name = "PBES2 (%s)" % {"2.16.840.1.101.3.4.1.42": "AES-256-CBC", "2.16.840.1.101.3.4.1.2": "AES-128-CBC",
                                   "1.2.840.113549.3.7": "DES-EDE3-CBC"}.get(cipher, cipher)
        except (BerError, ValueError, IndexError):
            pass
    return name


def pfx_structure(data):
    """What the PFX shows without its password.

    Returns {containers: [{type: data|encrypted, algorithm}], key_bags: [{encrypted_with,
    csp_name, visible}], mac_digest}. Raises BerError when the bytes are not a PKCS#12 PFX.
    """
    top = ber_children(data)
    if len(top) != 1 or top[0][0] != 0x30:
        raise BerError("not a DER/BER SEQUENCE")
    pfx = ber_children(top[0][2])
    version = _expect(pfx, 0, 0x02, "PFX version")[2]
    if int.from_bytes(version, "big") != 3:
        raise BerError("PFX version is not 3")
    auth_safe = ber_children(_expect(pfx, 1, 0x30, "authSafe")[2])
    if ber_oid(_expect(auth_safe, 0, 0x06, "authSafe contentType")[2]) != OID_DATA:
        raise BerError("authSafe is not of type data (public-key integrity mode is not supported)")
    explicit = ber_children(_expect(auth_safe, 1, 0xA0, "authSafe content")[2])
    authenticated_safe = ber_octets(*explicit[0])
    result = {"containers": [], "key_bags": [], "mac_digest": None}
    if len(pfx) > 2 and pfx[2][0] == 0x30:
        try:
            digest_info = ber_children(pfx[2][2])[0]
            digest_alg = ber_children(ber_children(digest_info[2])[0][2])[0]
            oid = ber_oid(digest_alg[2])
            result["mac_digest"] = DIGEST_NAMES.get(oid, oid)
        except (BerError, IndexError):
            result["mac_digest"] = "unreadable"
    sequence = ber_children(authenticated_safe)
    if len(sequence) != 1 or sequence[0][0] != 0x30:
        raise BerError("AuthenticatedSafe is not a SEQUENCE")
    for _tag, _cons, content_info in ber_children(sequence[0][2]):
        parts = ber_children(content_info)
        ctype = ber_oid(_expect(parts, 0, 0x06, "ContentInfo type")[2])
        if ctype == OID_ENCRYPTED_DATA:
            algorithm = "unreadable"
            try:
                encrypted_data = ber_children(ber_children(parts[1][2])[0][2])
                encrypted_content_info = ber_children(encrypted_data[1][2])
                algorithm = _algorithm(encrypted_content_info[1][2])
            except (BerError, IndexError):
                pass
            result["containers"].append({"type": "encrypted", "algorithm": algorithm})
            continue
        if ctype != OID_DATA:
            result["containers"].append({"type": ctype, "algorithm": None})
            continue
        result["containers"].append({"type": "data", "algorithm": None})
        safe_contents = ber_octets(*ber_children(_expect(parts, 1, 0xA0, "data content")[2])[0])
        for _t, _c, bag in ber_children(ber_children(safe_contents)[0][2]):
            fields = ber_children(bag)
            bag_id = ber_oid(_expect(fields, 0, 0x06, "bagId")[2])
            if bag_id not in (OID_KEY_BAG, OID_SHROUDED_KEY_BAG):
                continue
            entry = {"visible": True, "csp_name": None,
                     "encrypted_with": None if bag_id == OID_KEY_BAG else "unreadable"}
            if bag_id == OID_SHROUDED_KEY_BAG:
                try:
                    value = ber_children(fields[1][2])[0]
                    entry["encrypted_with"] = _algorithm(ber_children(value[2])[0][2])
                except (BerError, IndexError):
                    pass
            if len(fields) > 2 and fields[2][0] == 0x31:
                for _at, _ac, attribute in ber_children(fields[2][2]):
                    attr = ber_children(attribute)
                    if ber_oid(attr[0][2]) != OID_MS_CSP_NAME:
                        continue
                    values = ber_children(attr[1][2])
                    if values:
                        tag, _c2, raw = values[0]
                        entry["csp_name"] = (raw.decode("utf-16-be") if tag == 0x1E
                                             else raw.decode("utf-8", "replace"))
            result["key_bags"].append(entry)
    return result


def provider_kind(name):
    """'csp', 'cng' or 'unknown' for a provider name found in a PFX."""
    if not name:
        return "unknown"
    if name in CNG_PROVIDERS or "key storage provider" in name.lower():
        return "cng"
    if name.lower().endswith("cryptographic provider") or "cryptographic provider v1.0" in name.lower():
        return "csp"
    return "unknown"


# ---- names ---------------------------------------------------------------------------------------

def normalize_name(name):
    return (name or "").strip().rstrip(".").lower()


def name_matches(pattern, name):
    """RFC 6125 matching: exact, or a wildcard that is the whole left-most label of the pattern."""
    pattern, name = normalize_name(pattern), normalize_name(name)
    if not pattern or not name:
        return False
    if pattern == name:
        return True
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        host, _sep, rest = name.partition(".")
        return bool(host) and rest == pattern[2:]
    return False


def required_names(params):
    """[(name, why)] the certificate must cover."""
    fs_name = normalize_name(params["federation_service_name"])
    names = [(fs_name, "the federation service name")]
    if params.get("certificate_authentication"):
        names.append(("certauth." + fs_name, "user certificate authentication on port 443"))
    for suffix in params.get("device_registration_upn_suffixes") or []:
        names.append(("enterpriseregistration." + normalize_name(suffix),
                      "device registration for UPN suffix %s" % normalize_name(suffix)))
    return names


# ---- the check -----------------------------------------------------------------------------------

def _check(checks, check_id, status, message, remedy=None):
    checks.append({"id": "adfs_certificate." + check_id, "status": status, "message": message,
                   "remedy": remedy if status != "pass" else None})


def _utc(cert, attr):
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def describe_certificate(cert):
    """Facts of an x509.Certificate, JSON-friendly."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        has_san = True
    except x509.ExtensionNotFound:
        dns_names, has_san = [], False
    try:
        ekus = [oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
        has_eku = True
    except x509.ExtensionNotFound:
        ekus, has_eku = [], False
    common_names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_info = {"algorithm": "RSA", "size": key.key_size}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_info = {"algorithm": "EC", "size": key.curve.key_size, "curve": key.curve.name}
    else:
        key_info = {"algorithm": type(key).__name__, "size": None}
    der = cert.public_bytes(serialization.Encoding.DER)
    return {
        "thumbprint": hashlib.sha1(der).hexdigest().upper(),  # nosec - Windows' certificate thumbprint
        "sha256_fingerprint": hashlib.sha256(der).hexdigest().upper(),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.subject == cert.issuer,
        "serial_number": format(cert.serial_number, "X"),
        "not_before": _iso(_utc(cert, "not_valid_before")),
        "not_after": _iso(_utc(cert, "not_valid_after")),
        "common_names": common_names,
        "has_san": has_san,
        "dns_names": dns_names,
        "has_eku": has_eku,
        "extended_key_usages": ekus,
        "key": key_info,
    }


def _same_key(private_key, cert):
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return private_key.public_key().public_bytes(enc, pub) == cert.public_key().public_bytes(enc, pub)


def validate_params(params):
    """Input errors, one line naming the option, before the PFX is read."""
    if not is_dns_name(params.get("federation_service_name")):
        raise HostNameError("federation_service_name: %r is not a fully qualified DNS name. Give the name users "
                            "reach, e.g. fs.contoso.com." % (params.get("federation_service_name"),))
    for index, suffix in enumerate(params.get("device_registration_upn_suffixes") or []):
        if not is_dns_name(suffix):
            raise HostNameError("device_registration_upn_suffixes[%d]: %r is not a DNS domain name. Give UPN "
                                "suffixes such as contoso.com." % (index, suffix))
    check_range(params.get("min_days_valid"), "min_days_valid", 0, 3650,
                "Give the days of validity the certificate must have left (default 30).")
    check_range(params.get("min_rsa_key_size"), "min_rsa_key_size", 1024, 16384,
                "Give the RSA key size in bits the certificate needs (default 2048).")


def run_certificate_info(params, check_mode=False, now=None):
    """Every check of the PFX, in a stable order; `failed` with all failing checks in `msg`.

    Read-only (check mode gives the same result). Never raises for expected faults: a missing file,
    a wrong password or a file that is not a PFX are failing checks like the others.
    """
    del check_mode
    validate_params(params)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    checks = []
    path = params["path"]
    fs_name = normalize_name(params["federation_service_name"])
    result = {"changed": False, "path": path, "certificate": None, "pfx": None,
              "required_names": [n for n, _why in required_names(params)]}

    if not HAS_CRYPTOGRAPHY:
        _check(checks, "library", "fail", "The Python library cryptography is missing on the controller (%s)."
               % CRYPTOGRAPHY_IMPORT_ERROR, "pip install cryptography in the controller's Python.")
        return _finish(result, checks)
    if not fs_name or "." not in fs_name:
        _check(checks, "federation_service_name", "fail",
               "Federation service name %r is not a DNS name (e.g. fs.contoso.com)."
               % params["federation_service_name"], "Set adfs_federation_service_name to the FQDN users reach.")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        _check(checks, "pfx_file", "fail", "PFX %s cannot be read on the controller: %s." % (path, err.strerror or err),
               "Point adfs_certificate_pfx_path at the PFX file on the controller (not on the Windows hosts).")
        return _finish(result, checks)
    _check(checks, "pfx_file", "pass", "PFX %s read on the controller (%d bytes)." % (path, len(data)))

    try:
        structure = pfx_structure(data)
    except (BerError, UnicodeDecodeError, IndexError) as err:
        _check(checks, "pfx_format", "fail", "%s is not a PKCS#12 (PFX) file: %s." % (path, err),
               "Export the certificate with its private key as .pfx (Export-PfxCertificate, or openssl "
               "pkcs12 -export).")
        return _finish(result, checks)
    result["pfx"] = structure

    password = params["password"]
    try:
        loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password is not None else None)
    except ValueError:
        _check(checks, "pfx_password", "fail",
               "PFX %s does not open with the password given (adfs_certificate_pfx_password): wrong password "
               "or a damaged file." % path,
               "Put the PFX's password in the vault (vault_adfs_certificate_pfx_password) and check the file "
               "with: openssl pkcs12 -info -noout -in <file>.")
        return _finish(result, checks)
    _check(checks, "pfx_password", "pass", "PFX %s opens with the password given." % path)

    if loaded.cert is None:
        _check(checks, "certificate_present", "fail", "PFX %s holds no certificate with its key." % path,
               "Export the TLS certificate together with its private key.")
        return _finish(result, checks)
    cert = loaded.cert.certificate
    info = describe_certificate(cert)
    info["friendly_name"] = (loaded.cert.friendly_name or b"").decode("utf-8", "replace") or None
    info["chain_certificates"] = len(loaded.additional_certs)
    result["certificate"] = info
    subject = info["subject"]

    if loaded.key is None:
        _check(checks, "private_key", "fail",
               "PFX %s holds the certificate %s without its private key." % (path, subject),
               "Export again with the private key (Export-PfxCertificate, or certlm.msc: "
               "'Yes, export the private key').")
    elif not _same_key(loaded.key, cert):
        _check(checks, "private_key", "fail",
               "PFX %s: the private key does not belong to the certificate %s." % (path, subject),
               "Export the certificate and its own private key together.")
    else:
        _check(checks, "private_key", "pass", "PFX %s holds the private key of %s." % (path, subject))

    # Names: the SAN when the certificate has one (RFC 6125), the subject CN otherwise.
    presented = info["dns_names"] if info["has_san"] else info["common_names"]
    where = "SAN" if info["has_san"] else "subject CN (no SAN extension)"
    for name, why in required_names(params):
        covered = [p for p in presented if name_matches(p, name)]
        if covered:
            _check(checks, "name", "pass", "%s is covered by the %s entry %s (%s)." % (name, where, covered[0], why))
        else:
            _check(checks, "name", "fail",
                   "Certificate %s does not cover %s (%s): its %s holds %s." % (
                       subject, name, why, where, ", ".join(presented) or "no DNS name"),
                   "Request a certificate whose SAN lists %s (a wildcard covers one label only); source: %s"
                   % (name, SOURCE_REQUIREMENTS))

    not_before = _utc(cert, "not_valid_before")
    not_after = _utc(cert, "not_valid_after")
    days_left = (not_after - now).total_seconds() / 86400.0
    info["days_remaining"] = int(days_left) if days_left > 0 else 0
    if now < not_before:
        _check(checks, "validity", "fail", "Certificate %s is not valid before %s." % (subject, info["not_before"]),
               "Wait until it becomes valid, or check the controller's and the CA's clocks.")
    elif now >= not_after:
        _check(checks, "validity", "fail", "Certificate %s expired on %s." % (subject, info["not_after"]),
               "Renew the certificate and give the new PFX.")
    elif days_left < params["min_days_valid"]:
        _check(checks, "validity", "warn", "Certificate %s expires on %s, in %d day(s) (fewer than %d)." % (
            subject, info["not_after"], int(days_left), params["min_days_valid"]),
            "Renew it soon: every AD FS and WAP node needs the new certificate (Set-AdfsSslCertificate, "
            "Set-WebApplicationProxySslCertificate).")
    else:
        _check(checks, "validity", "pass", "Certificate %s is valid until %s (%d days)." % (
            subject, info["not_after"], int(days_left)))

    server_auth = ExtendedKeyUsageOID.SERVER_AUTH.dotted_string
    if server_auth in info["extended_key_usages"]:
        _check(checks, "eku", "pass", "Certificate %s has the Server Authentication EKU." % subject)
    else:
        found = ", ".join(info["extended_key_usages"]) or "no Enhanced Key Usage extension"
        _check(checks, "eku", "fail", "Certificate %s lacks the Server Authentication EKU (%s); found: %s." % (
            subject, server_auth, found),
            "Request it from a Web Server (Server Authentication) template; source: %s" % SOURCE_REQUIREMENTS)

    key = info["key"]
    if key["algorithm"] == "RSA":
        if key["size"] >= params["min_rsa_key_size"]:
            _check(checks, "key", "pass", "RSA key of %d bits." % key["size"])
        else:
            _check(checks, "key", "fail", "RSA key of %d bits; %d or more are required." % (
                key["size"], params["min_rsa_key_size"]),
                "Request a new certificate with a 2048-bit or larger RSA key.")
    else:
        _check(checks, "key", "fail",
               "Certificate %s has a %s key: Windows keeps such keys in CNG key storage providers only, and "
               "AD FS needs a legacy CSP key for the service communication certificate." % (subject, key["algorithm"]),
               "Request an RSA certificate; source: %s" % SOURCE_KEYSPEC)

    _check_provider(checks, structure, subject)
    if params["import_on_windows_server_2016"]:
        _check_windows_2016(checks, structure, path)

    if info["self_signed"]:
        _check(checks, "trust", "warn", "Certificate %s is self-signed: acceptable in a lab only." % subject,
               "Production needs a publicly trusted certificate; source: %s" % SOURCE_REQUIREMENTS)
    else:
        _check(checks, "trust", "pass", "Certificate %s is issued by %s (trust is checked on the hosts, not here)."
               % (subject, info["issuer"]))
    result["federation_service_name"] = fs_name
    return _finish(result, checks)


def _check_provider(checks, structure, subject):
    bags = structure.get("key_bags") or []
    if not bags:
        _check(checks, "key_provider", "pass",
               "Key provider of %s not visible here: the key bag is inside an encrypted container; the role "
               "reads the provider and the KeySpec of the imported key on every host." % subject)
        return
    names = [b["csp_name"] for b in bags if b.get("csp_name")]
    if not names:
        _check(checks, "key_provider", "pass",
               "The PFX names no key provider for the key of %s: Windows imports an RSA key into its default "
               "legacy CSP (the role confirms the provider and KeySpec 1 on every host after import)." % subject)
        return
    kinds = {name: provider_kind(name) for name in names}
    cng = [n for n, k in kinds.items() if k == "cng"]
    unknown = [n for n, k in kinds.items() if k == "unknown"]
    if cng:
        _check(checks, "key_provider", "fail",
               "The PFX puts the key of %s into the CNG key storage provider %r; AD FS uses this certificate for "
               "service communication too, which needs a legacy CSP key (KeySpec 1)." % (subject, cng[0]),
               "Export it again from a CSP (certutil -importpfx <file> AT_KEYEXCHANGE, then export), or re-key "
               "with a CSP such as 'Microsoft Enhanced RSA and AES Cryptographic Provider'; source: %s"
               % SOURCE_KEYSPEC)
    elif unknown:
        _check(checks, "key_provider", "warn", "The PFX names the key provider %r for %s: not a provider this "
               "check knows as CSP or CNG." % (unknown[0], subject),
               "Make sure it is a legacy CSP; the role checks the imported key on every host.")
    else:
        _check(checks, "key_provider", "pass",
               "The PFX puts the key of %s into the legacy CSP %r." % (subject, names[0]))


def _check_windows_2016(checks, structure, path):
    algorithms = [c["algorithm"] for c in structure.get("containers") or [] if c.get("algorithm")]
    algorithms += [b["encrypted_with"] for b in structure.get("key_bags") or [] if b.get("encrypted_with")]
    modern = sorted({a for a in algorithms if a.startswith("PBES2")})
    mac = structure.get("mac_digest")
    if modern or (mac and mac not in ("SHA1", None)):
        mac_text = " and a %s MAC" % mac if mac and mac != "SHA1" else ""
        _check(checks, "pfx_encryption", "warn",
               "PFX %s is protected with %s%s; Windows Server 2016 imports only the legacy PKCS#12 algorithms "
               "(e.g. TripleDES-SHA1 with a SHA1 MAC)." % (path, ", ".join(modern) or "legacy encryption", mac_text),
               "If a node runs Windows Server 2016, export with: openssl pkcs12 -export -legacy ... (or "
               "Export-PfxCertificate -CryptoAlgorithmOption TripleDES_SHA1); 2019 and later read both.")
    else:
        _check(checks, "pfx_encryption", "pass", "PFX %s uses legacy PKCS#12 algorithms (%s), importable on Windows "
               "Server 2016 and later." % (path, ", ".join(sorted(set(algorithms))) or "none visible"))


def _finish(result, checks):
    summary = {"pass": 0, "warn": 0, "fail": 0}
    for check in checks:
        summary[check["status"]] += 1
    result["checks"] = checks
    result["summary"] = summary
    result["warnings"] = ["%s Remedy: %s" % (c["message"], c["remedy"]) for c in checks if c["status"] == "warn"]
    failing = [c for c in checks if c["status"] == "fail"]
    if failing:
        result["failed"] = True
        result["msg"] = "%d of %d certificate checks failed: %s" % (len(failing), len(checks), " | ".join(
            "[%s] %s Remedy: %s" % (c["id"], c["message"], c["remedy"]) for c in failing))
    return result
