# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain controllers of a domain, found as Windows' DC locator finds them: through DNS.

Microsoft, MS-ADTS 6.3.6.1 "DNS-Based Discovery" (learn.microsoft.com/openspecs/windows_protocols/ms-adts/
7fcdce70-5205-44d6-9c3a-260e616a2f04): "To locate domain controller (DC) hosting NC N, the client machine
issues a DNS query for the SRV record _ldap._tcp.dc._msdcs.N"; the DC locator ("Types of Locators", Windows
2000 resource kit, and "How DNS support for Active Directory works") looks the name up in DNS and then asks
the DCs returned. The records are tried in RFC 2782 order: lowest priority first; among records of one
priority, a random choice weighted by the weight field. A target of "." means "the service is decidedly not
available at this domain" (RFC 2782) and is skipped. Whether a DC answers and holds the domain is checked by
the caller when it binds (sync_permissions.DomainConnections).

Uses dnspython (already a dependency of the collection's DNS checks).
"""

from __future__ import annotations

import random

try:
    import dns.exception
    import dns.resolver
    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the caller
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = str(exc)

DC_SRV = "_ldap._tcp.dc._msdcs.%s"


class LocatorError(Exception):
    """No domain controller could be found for a domain: one line naming the domain and the record."""


def srv_name(domain):
    return DC_SRV % domain.rstrip(".").lower()


def order_srv(records, rng=None):
    """RFC 2782 order of [(priority, weight, target, port)]: priorities ascending; within one
    priority, repeatedly pick a record at random with probability weight / sum of weights (weight-0
    records first in the running sum, so they are chosen only when nothing heavier is left or by chance
    of a zero-width slot, as the RFC describes). Targets "." are dropped."""
    rng = rng or random.Random()
    ordered = []
    for priority in sorted({r[0] for r in records}):
        group = [r for r in records if r[0] == priority and r[2].rstrip(".")]
        # RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
        # those with weight 0 are placed at the beginning of the list".
        group.sort(key=lambda r: r[1] != 0)
        while group:
            total = sum(r[1] for r in group)
            pick = rng.randint(0, total)  # "a uniform random number between 0 and the sum (inclusive)"
            running = 0
            for index, record in enumerate(group):
                running += record[1]
                if running >= pick:
                    ordered.append(group.pop(index))
                    break
    return ordered


def locate(domain, nameservers=None, timeout=10, rng=None):
    """FQDNs of the domain's DCs in locator order (no duplicates). Raises LocatorError."""
    if not HAS_DNSPYTHON:
        raise LocatorError("the DC locator needs the Python library dnspython (%s)." % DNSPYTHON_IMPORT_ERROR)
    name = srv_name(domain)
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        resolver.nameservers = list(nameservers)
    resolver.lifetime = timeout
    where = "DNS server(s) %s" % ", ".join(nameservers) if nameservers else "the controller's DNS servers"
    try:
        answer = resolver.resolve(name, "SRV")
    except dns.resolver.NXDOMAIN:
        raise LocatorError("no domain controller of %s found: %s does not exist in %s." % (domain, name, where)) from None
    except dns.resolver.NoAnswer:
        raise LocatorError("no domain controller of %s found: %s has no SRV record in %s." % (domain, name, where)) from None
    except dns.resolver.NoNameservers as exc:
        raise LocatorError("no domain controller of %s found: no DNS server answered for %s (%s)." % (
            domain, name, exc)) from None
    except dns.exception.Timeout:
        raise LocatorError("no domain controller of %s found: %s timed out after %s s for %s." % (
            domain, where, timeout, name)) from None
    except dns.exception.DNSException as exc:
        raise LocatorError("no domain controller of %s found: looking up %s failed: %s." % (domain, name, exc)) from None
    records = [(r.priority, r.weight, r.target.to_text(omit_final_dot=True), r.port) for r in answer]
    hosts = []
    for _priority, _weight, target, _port in order_srv(records, rng):
        if target.lower() not in [h.lower() for h in hosts]:
            hosts.append(target)
    if not hosts:
        raise LocatorError("no domain controller of %s found: %s says the service is not available (target \".\")."
                           % (domain, name))
    return hosts
