"""emslab: Samba AD DC forests inside Linux network namespaces, for tests.

Stdlib only. Usable as a module (``Lab``) and as a CLI (``python tests/lab/emslab.py -h``).
Needs root and the Debian packages samba samba-ad-dc samba-ad-provision krb5-user ldap-utils
winbind ldb-tools bind9-dnsutils iproute2.

Topology of one lab (id = 4 hex chars, subnet = a free 10.251.N.0/24)::

    emslab-<id>-ctl               bridge br0 = 10.251.N.1, the "controller" (run tests here)
      vethK  <-->  eth0 in  emslab-<id>-dc1-corp      10.251.N.10  dc1.corp.emslab.test
      vethK  <-->  eth0 in  emslab-<id>-dc2-corp      10.251.N.11  dc2.corp.emslab.test
      ...

Both ends of every veth pair live in namespaces created here; nothing is attached to the root
namespace, there is no default route, and the DCs' DNS has no forwarder: lab traffic cannot
leave the lab. /etc/netns/<ns>/{hosts,resolv.conf} give every namespace the lab's names and DNS
(``ip netns exec`` bind-mounts them over /etc). Kerberos reads the lab's own STATE/krb5.conf:
every command the lab runs gets KRB5_CONFIG pointing at it, so no host file is needed (a new
Debian machine has no /etc/krb5.conf, and ``ip netns exec`` can only bind over existing files).

Everything else lives in the state dir (default ./lab-state or $EMSLAB_STATE)::

    STATE/.emslab            marker: this directory belongs to emslab (down may delete it)
    STATE/lab.json           the lab description (see Lab.status())
    STATE/krb5.conf          the lab's Kerberos realms (KRB5_CONFIG of every lab command)
    STATE/<forest>/ca.pem    CA bundle of all DCs of the forest (stable path for inventories)
    STATE/<forest>/<dc>/     the DC's Samba targetdir (etc/smb.conf, private/, run/, log/)
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

# --------------------------------------------------------------------------------------------
# Constants (one source of truth for the lab's facts)
# --------------------------------------------------------------------------------------------

#: Lab-only administrator password for every forest. Meets Samba's default complexity rules.
#: It is printed and written to lab.json on purpose: the lab is throw-away and unreachable.
LAB_PASSWORD = "EmsLab-Passw0rd"
DNS_SUFFIX = "emslab.test"
NS_PREFIX = "emslab-"
SUBNET_PREFIX = "10.251"  # labs use 10.251.<n>.0/24, n in SUBNET_RANGE
SUBNET_RANGE = range(1, 255)
FIRST_DC_HOST = 10  # first DC gets .10, the next .11, ...
DEFAULT_STATE = "lab-state"
STATE_ENV = "EMSLAB_STATE"
MARKER = ".emslab"
LOCK_FILE = "/run/lock/emslab.lock"

#: Function level name -> forestFunctionality/domainFunctionality value. Samba 4.17 offers no
#: 2012+ levels.
LEVELS = {"2000": 0, "2003": 2, "2008": 3, "2008_R2": 4}
#: --base-schema value -> schema objectVersion. The first four are Samba 4.17's own choices.
#: "2019" is added by emslab: Samba 4.17 ships Microsoft's Windows Server 2016 AD DS schema files
#: (setup/ad-schema/AD_DS_*__Windows_Server_2016.ldf) but does not offer them; emslab registers
#: them under "2019" with objectVersion 88 (what Windows Server 2019/2022 report), the same
#: mapping newer Samba releases use. The objectVersion is always read back from the database.
SCHEMAS = {"2008_R2_old": 47, "2008_R2": 47, "2012": 56, "2012_R2": 69, "2019": 88}
DEFAULT_LEVEL = "2008_R2"
DEFAULT_SCHEMA = "2012_R2"

_SAMBA_TOOL_WRAPPER = r"""
import os, sys
from samba.schema import Schema
from samba.provision.common import setup_path
# Debian's Samba 4.17 ships the 2012 files as {Attributes,Classes}_for_AD_DS__Windows_Server_2012
# while samba.schema looks for AD_DS_{Attributes,Classes}__Windows_Server_2012: use what exists.
for key, (attrs, classes, version) in list(Schema.base_schemas.items()):
    alt = {"AD_DS_Attributes__": "Attributes_for_AD_DS__", "AD_DS_Classes__": "Classes_for_AD_DS__"}
    found = []
    for name in (attrs, classes):
        if not os.path.exists(os.path.join(setup_path("ad-schema"), name)):
            for a, b in alt.items():
                if name.startswith(a) and os.path.exists(
                        os.path.join(setup_path("ad-schema"), b + name[len(a):])):
                    name = b + name[len(a):]
        found.append(name)
    Schema.base_schemas[key] = (found[0], found[1], version)
if "2019" not in Schema.base_schemas:
    Schema.base_schemas["2019"] = ("AD_DS_Attributes__Windows_Server_2016.ldf",
                                   "AD_DS_Classes__Windows_Server_2016.ldf", 88)
    from samba.netcmd import domain
    for opt in domain.cmd_domain_provision.takes_options:
        if opt.dest == "base_schema" and "2019" not in opt.choices:
            opt.choices = list(opt.choices) + ["2019"]
from samba.netcmd.main import cmd_sambatool
sys.exit(cmd_sambatool()._run("samba-tool", *sys.argv[1:]))
"""

_PROBE = r"""
import socket, ssl, sys, time
import os
host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
want_up = sys.argv[4] == "up"
pid_file = sys.argv[5] if len(sys.argv) > 5 else None
start = time.monotonic()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
deadline = time.monotonic() + timeout
while True:
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            if port in (636, 3269):
                with ctx.wrap_socket(s):
                    pass
        up = True
    except OSError:
        up = False
    if up == want_up:
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(1)
    if pid_file:  # give up early when the server died (exit 2)
        try:
            os.kill(int(open(pid_file).read().split()[0]), 0)
        except FileNotFoundError:
            if time.monotonic() - start > 20:
                sys.exit(2)
        except (ProcessLookupError, ValueError, IndexError):
            sys.exit(2)
        except PermissionError:
            pass
    time.sleep(0.2)
"""

REQUIRED_TOOLS = ("ip", "unshare", "samba", "samba-tool", "ldbadd", "ldbsearch", "ldapsearch",
                  "kinit", "dig")


class LabError(RuntimeError):
    """Expected failure of a lab operation (message says what and where to look)."""


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,14}$")


@dataclasses.dataclass(frozen=True)
class ForestSpec:
    """What to build for one forest. ``name`` becomes <name>.emslab.test / <NAME>."""

    name: str
    level: str = DEFAULT_LEVEL
    schema: str = DEFAULT_SCHEMA
    dcs: int = 1
    users: int = 0  # generated users loaded offline before the first start
    users_ldif: str | None = None  # or an LDIF file of your own (loaded offline likewise)
    password_users: int = 0  # of the generated users, how many get LAB_PASSWORD (slow: ~20 ms each)
    # generated users also get three proxyAddresses: with mail and userPrincipalName, 5 values each
    # in IdFix's duplicate checks (the readiness benchmark's "about 5 values each")
    mailbox_attrs: bool = False
    # sam.ldb's backend: "tdb" or "mdb" (LMDB); None: mdb above MDB_ABOVE_USERS generated users (a
    # TDB file stops at 4 GB, and a Samba user takes about 10 KB in it: 400,000 users at most)
    backend_store: str | None = None

    @property
    def store(self) -> str:
        if self.backend_store:
            return self.backend_store
        return "mdb" if self.users > MDB_ABOVE_USERS else "tdb"

    def __post_init__(self):
        if not _NAME_RE.match(self.name):
            raise LabError(f"forest name {self.name!r}: use 1-15 lowercase letters/digits, "
                           "starting with a letter")
        if self.level not in LEVELS:
            raise LabError(f"forest {self.name}: level {self.level!r} not one of "
                           f"{', '.join(LEVELS)} (Samba 4.17 has no 2012+ levels)")
        if self.schema not in SCHEMAS:
            raise LabError(f"forest {self.name}: schema {self.schema!r} not one of "
                           f"{', '.join(SCHEMAS)}")
        if not 1 <= self.dcs <= 9:
            raise LabError(f"forest {self.name}: dcs must be 1..9")
        if self.users < 0 or self.password_users < 0 or self.password_users > self.users:
            raise LabError(f"forest {self.name}: users/password_users out of range")
        if self.backend_store not in (None, "tdb", "mdb"):
            raise LabError(f"forest {self.name}: backend_store must be tdb or mdb")

    @classmethod
    def parse(cls, text: str) -> "ForestSpec":
        """``name`` or ``name:level``."""
        name, _sep, level = text.partition(":")
        return cls(name=name, level=level or DEFAULT_LEVEL)


@dataclasses.dataclass
class DC:
    name: str  # dc1
    fqdn: str  # dc1.corp.emslab.test
    ip: str
    netns: str
    dir: str  # Samba targetdir
    ca_file: str  # the DC's own CA (private/tls/ca.pem)
    running: bool = False

    @property
    def smb_conf(self) -> str:
        return os.path.join(self.dir, "etc", "smb.conf")

    @property
    def pid_file(self) -> str:
        return os.path.join(self.dir, "run", "samba.pid")

    @property
    def sam_ldb(self) -> str:
        return os.path.join(self.dir, "private", "sam.ldb")


@dataclasses.dataclass
class Forest:
    name: str
    dns_domain: str
    realm: str
    netbios: str
    base_dn: str
    level: str
    forest_functionality: int | None
    schema: str
    schema_object_version: int | None
    admin_user: str  # administrator@REALM (simple bind, kinit)
    admin_netbios: str  # NETBIOS\Administrator
    admin_password: str
    ca_file: str  # STATE/<forest>/ca.pem, bundle of the DCs' CAs
    users: int
    dcs: list[DC]

    @classmethod
    def from_dict(cls, d: dict) -> "Forest":
        d = dict(d)
        d["dcs"] = [DC(**x) for x in d["dcs"]]
        return cls(**d)


@dataclasses.dataclass(frozen=True)
class LabSpec:
    forests: tuple[ForestSpec, ...]
    trusts: tuple[tuple[str, str], ...] = ()

    def kwargs(self) -> dict:
        return {"forests": list(self.forests), "trusts": list(self.trusts)}


#: The integration suite's standard lab.
STANDARD_LAB = LabSpec(
    forests=(
        ForestSpec("legacy", "2003"),
        ForestSpec("f2008", "2008"),
        ForestSpec("corp", "2008_R2", schema="2019", dcs=2),
        ForestSpec("partner", "2008_R2"),
    ),
    trusts=(("corp", "partner"),),
)
#: The small lab for the assess walk-through: the standard lab's corp forest (2 DCs, so
#: failover shows) with 25 generated users, whose .test addresses the directory readiness scan
#: reports (IdFix's top-level domain rule), as it would a customer's .local ones.
ASSESS_LAB = LabSpec(forests=(ForestSpec("corp", "2008_R2", schema="2019", dcs=2, users=25),))
PRESETS = {"standard": STANDARD_LAB, "assess": ASSESS_LAB}


def forest_names(name: str) -> dict:
    dns = f"{name}.{DNS_SUFFIX}"
    return {
        "dns_domain": dns,
        "realm": dns.upper(),
        "netbios": name.upper()[:15],
        "base_dn": ",".join(f"DC={p}" for p in dns.split(".")),
    }


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


_CHILDREN: set = set()
_CHILDREN_LOCK = threading.Lock()


def _run(cmd: Sequence[str], *, timeout: float | None = None, input: str | None = None,
         **kw) -> subprocess.CompletedProcess:
    """subprocess.run that registers the child, so that an interrupted up() (Ctrl-C, SIGTERM
    in the main thread while workers build forests) can end it at once."""
    kw.setdefault("stdin", None if input is not None else subprocess.DEVNULL)
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    with subprocess.Popen(list(cmd), text=True, **kw) as proc:
        with _CHILDREN_LOCK:
            _CHILDREN.add(proc)
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            with _CHILDREN_LOCK:
                _CHILDREN.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill_children() -> None:
    with _CHILDREN_LOCK:
        children = list(_CHILDREN)
    for proc in children:
        with contextlib.suppress(OSError):
            proc.kill()


def _sh(cmd: Sequence[str], *, check: bool = True, timeout: float | None = 120,
        env: dict | None = None, input: str | None = None, log: str | None = None
        ) -> subprocess.CompletedProcess:
    """Run a command (root namespace), capture text output; on failure raise LabError."""
    out = None
    if log:
        out = open(log, "a", encoding="utf-8")
        out.write(f"\n$ {shlex.join(cmd)}\n")
        out.flush()
    try:
        cp = _run(cmd, env=env, input=input, timeout=timeout, stdout=out or subprocess.PIPE,
                  stderr=subprocess.STDOUT if out else subprocess.PIPE)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timeout after {timeout}s: {shlex.join(cmd)}") from exc
    finally:
        if out:
            out.close()
    if check and cp.returncode != 0:
        detail = f"see {log}" if log else (cp.stderr or cp.stdout or "").strip()[-2000:]
        raise LabError(f"command failed (rc={cp.returncode}): {shlex.join(cmd)}\n{detail}")
    return cp


def _write(path: str | Path, text: str, mode: int = 0o644) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def list_netns() -> list[str]:
    cp = _sh(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]


def netns_pids(ns: str) -> list[int]:
    cp = _sh(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in cp.stdout.split() if x.isdigit()]


def _kill_netns_processes(ns: str, grace: float = 10.0) -> None:
    """SIGTERM then SIGKILL every process in a lab namespace (they are all ours)."""
    pids = netns_pids(ns)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = list(netns_pids(ns))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while netns_pids(ns) and time.monotonic() < deadline:
        time.sleep(0.1)


def _remove_netns(ns: str) -> None:
    if ns in list_netns():
        _kill_netns_processes(ns)
        _sh(["ip", "netns", "del", ns], check=False)
    shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)


def _samba_python() -> str:
    """The interpreter samba-tool runs with (it has the samba module)."""
    tool = shutil.which("samba-tool")
    if tool:
        with open(tool, "rb") as fh:
            first = fh.readline().decode(errors="replace").strip()
        if first.startswith("#!"):
            parts = first[2:].split()
            if parts and parts[0].endswith("env") and len(parts) > 1:
                return shutil.which(parts[1]) or parts[1]
            if parts:
                return parts[0]
    return "/usr/bin/python3"


def preflight() -> list[str]:
    """Reasons the lab cannot run here (empty list = fine)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("needs root (network namespaces, Samba DC)")
    missing = [t for t in REQUIRED_TOOLS if not shutil.which(t)]
    if missing:
        problems.append("missing tools: " + ", ".join(missing) + " (apt-get install samba "
                        "samba-ad-dc samba-ad-provision krb5-user ldap-utils winbind ldb-tools "
                        "bind9-dnsutils iproute2)")
    if not Path("/usr/share/samba/setup/ad-schema").is_dir():
        problems.append("Samba provisioning data missing (apt-get install samba-ad-provision)")
    return problems


def generate_users_ldif(path: str | Path, count: int, base_dn: str, *, upn_suffix: str,
                        ou: str = "EmsLabUsers", prefix: str = "emsuser", start: int = 1,
                        create_ou: bool = True, password: str | None = None,
                        password_count: int = 0, mailbox_attrs: bool = False,
                        guid_prefix: bytes | None = None,
                        extra_attrs: Callable[[int], dict] | None = None) -> Path:
    """Write an LDIF that creates OU=<ou>,<base_dn> and ``count`` user objects in it.

    Users are ``<prefix><NNNNNN>`` (sAMAccountName <= 20 chars) with userPrincipalName
    ``<sam>@<upn_suffix>``, givenName, sn, displayName, mail, department, company.
    The first ``password_count`` users get ``password`` and userAccountControl 512 (enabled);
    the others have no password and userAccountControl 546 (disabled, password not required),
    which keeps an offline load fast (password hashing costs ~20 ms per user).
    ``mailbox_attrs``: also three proxyAddresses (SMTP:<mail>, smtp:<sam>@alias.<suffix>, an X500
    address); mailNickname and targetAddress are Exchange attributes, not in Samba's schema.
    ``guid_prefix`` (12 bytes): objectGUID = prefix + user number (4 bytes, big-endian), increasing
    through the file; loading it needs ldbadd's relax control (see load_generated_users).
    ``extra_attrs(i)`` may return more attributes (or overrides) for user ``i``.
    """
    path = Path(path)
    if password_count and not password:
        password = LAB_PASSWORD
    departments = ("Sales", "Finance", "IT", "Operations", "Legal", "HR")
    pw_b64 = (base64.b64encode(f'"{password}"'.encode("utf-16-le")).decode()
              if password else None)
    ou_dn = f"OU={ou},{base_dn}"
    with path.open("w", encoding="utf-8") as fh:
        if create_ou:
            fh.write(f"dn: {ou_dn}\nobjectClass: top\nobjectClass: organizationalUnit\n"
                     f"ou: {ou}\ndescription: emslab generated users\n\n")
        for n in range(count):
            i = start + n
            sam = f"{prefix}{i:06d}"
            if len(sam) > 20:
                raise LabError(f"sAMAccountName {sam!r} longer than 20 characters")
            attrs: dict = {
                "objectClass": ["top", "person", "organizationalPerson", "user"],
                "cn": sam,
                "sAMAccountName": sam,
                "userPrincipalName": f"{sam}@{upn_suffix}",
                "givenName": "Test",
                "sn": f"User{i:06d}",
                "displayName": f"Test User{i:06d}",
                "mail": f"{sam}@{upn_suffix}",
                "department": departments[i % len(departments)],
                "company": "EmsLab",
            }
            if mailbox_attrs:
                attrs["proxyAddresses"] = [f"SMTP:{sam}@{upn_suffix}", f"smtp:{sam}@alias.{upn_suffix}",
                                           f"X500:/o=EmsLab/ou=Users/cn={sam}"]
            if guid_prefix is not None:
                attrs["objectGUID::"] = base64.b64encode(guid_prefix + struct.pack(">I", i)).decode()
            if n < password_count:
                attrs["unicodePwd::"] = pw_b64
                attrs["userAccountControl"] = "512"
            else:
                attrs["userAccountControl"] = "546"
            if extra_attrs:
                attrs.update(extra_attrs(i))
            fh.write(f"dn: CN={attrs['cn']},{ou_dn}\n")
            for key, val in attrs.items():
                # a key ending in "::" carries a base64 value (LDIF "attr:: b64")
                name, sep = (key[:-2], "::") if key.endswith("::") else (key, ":")
                for v in val if isinstance(val, (list, tuple)) else [val]:
                    fh.write(f"{name}{sep} {v}\n")
            fh.write("\n")
    return path


def ldbadd_offline(sam_ldb: str, ldif: str | Path, *, objects: int = 0,
                   log: str | None = None, relax: bool = False, expect: int | None = None) -> float:
    """Bulk-load an LDIF into a stopped DC's sam.ldb (one transaction). Returns seconds taken.
    ``relax``: pass the relax control (needed to add objects with their own objectGUID).
    ``expect``: the number of records the LDIF holds; ldbadd exits 0 when it added some records
    and then stopped at a refused one, so a load that added another number raises LabError."""
    cache = max(20000, 4 * objects)
    cmd = (["ldbadd", "-H", sam_ldb, "-o", "batch_mode:1", "-o",
            f"transaction_index_cache_size:{cache}", "--nosync"] + (["--relax"] if relax else [])
           + [str(ldif)])
    t0 = time.monotonic()
    cp = _sh(cmd, timeout=3600, log=None if expect is not None else log)
    if expect is not None:
        output = (cp.stdout or "") + (cp.stderr or "")
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"\n$ {shlex.join(cmd)}\n{output}")
        if f"Added {expect} records successfully" not in output:
            raise LabError(f"ldbadd added other than {expect} records from {ldif}: "
                           f"{output.strip()[-2000:]}")
    return time.monotonic() - t0


#: generated users per ldbadd run (one transaction each): ldbadd's memory grows with the
#: transaction (about 2 GB for 100,000 users), a chunk's stays near 1 GB
LOAD_CHUNK = 50000
#: above this many generated users a forest's sam.ldb uses LMDB (see ForestSpec.backend_store)
MDB_ABOVE_USERS = 200000


def load_generated_users(sam_ldb: str, work_dir: str | Path, count: int, base_dn: str, *,
                         upn_suffix: str, start: int = 1, create_ou: bool = True,
                         password_count: int = 0, mailbox_attrs: bool = False,
                         chunk: int = LOAD_CHUNK, log: str | None = None,
                         progress: Callable[[str], None] | None = None) -> float:
    """Generate ``count`` users (see generate_users_ldif) and load them into a stopped DC's sam.ldb,
    ``chunk`` users per ldbadd run. Returns the seconds spent generating and loading.

    The users get increasing objectGUIDs, all above the provisioned objects' random ones: Samba keeps
    each index entry's GUID list sorted and inserts a new GUID with a memmove of the entries after it,
    so with random GUIDs every user added costs a move of half of the objectClass, objectCategory,
    one-level ... lists (16 bytes per user already there): quadratic, a 20,000-user chunk took 27 s
    into an empty domain and 52-109 s on top of 120,000 users; with increasing GUIDs it takes the same
    time at any size (36 s at 140,000 and 180,000 on a loaded machine). The prefix holds the time and 4
    random bytes, so users of other loads and other forests get other GUIDs."""
    t0 = time.monotonic()
    work_dir = Path(work_dir)
    prefix = b"\xff\xff\xff\xfe" + struct.pack(">I", int(time.time()) & 0xFFFFFFFF) + os.urandom(4)
    done = 0
    while done < count:
        size = min(chunk, count - done)
        ldif = work_dir / f"users-{start + done}.ldif"
        generate_users_ldif(ldif, size, base_dn, upn_suffix=upn_suffix, start=start + done,
                            create_ou=create_ou and done == 0,
                            password_count=max(0, min(size, password_count - done)),
                            mailbox_attrs=mailbox_attrs, guid_prefix=prefix)
        try:
            ldbadd_offline(sam_ldb, ldif, objects=size, log=log, relax=True,
                           expect=size + (1 if create_ou and done == 0 else 0))
        finally:
            ldif.unlink(missing_ok=True)
        done += size
        if progress and count > chunk:
            progress(f"{done}/{count} users loaded ({time.monotonic() - t0:.0f}s)")
    return time.monotonic() - t0


def _ldb_value(sam_ldb: str, base: str, attr: str) -> str | None:
    cp = _sh(["ldbsearch", "-H", sam_ldb, "-b", base, "-s", "base", attr], check=False)
    for line in cp.stdout.splitlines():
        if line.lower().startswith(attr.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


@contextlib.contextmanager
def _global_lock():
    Path(LOCK_FILE).parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def running_labs() -> dict[str, list[str]]:
    """Lab id -> its namespaces, for every emslab-* namespace on this machine."""
    labs: dict[str, list[str]] = {}
    for ns in list_netns():
        if ns.startswith(NS_PREFIX):
            lab_id = ns[len(NS_PREFIX):].split("-", 1)[0]
            labs.setdefault(lab_id, []).append(ns)
    return labs


def _used_subnets() -> set[int]:
    used = set()
    for lab_id, nss in running_labs().items():
        for ns in nss:
            if ns.endswith("-ctl"):
                cp = _sh(["ip", "-n", ns, "-4", "-o", "addr", "show"], check=False)
                for m in re.finditer(r"inet (\d+)\.(\d+)\.(\d+)\.\d+/", cp.stdout):
                    if f"{m.group(1)}.{m.group(2)}" == SUBNET_PREFIX:
                        used.add(int(m.group(3)))
    return used


# --------------------------------------------------------------------------------------------
# The lab
# --------------------------------------------------------------------------------------------


class Lab:
    """One lab: a state dir, a controller namespace and one namespace per DC.

    ``Lab(state_dir)`` loads an existing lab.json if there is one. ``up()`` builds a lab,
    ``down()`` removes it (idempotent). Use as a context manager to always tear down.
    """

    def __init__(self, state_dir: str | os.PathLike | None = None, *,
                 log: Callable[[str], None] | None = None, env: dict | None = None):
        """``env``: variables added to every command run in the lab (``run``/``run_in``)."""
        self.state_dir = Path(state_dir or os.environ.get(STATE_ENV) or DEFAULT_STATE).absolute()
        self.log = log or (lambda msg: print(msg, flush=True))
        self.base_env = dict(env or {})
        self._abort = threading.Event()
        self.data: dict = {}
        self._lock = threading.Lock()
        if self.lab_json.exists():
            self.data = json.loads(self.lab_json.read_text())

    # ---- data access ------------------------------------------------------------------------
    @property
    def lab_json(self) -> Path:
        return self.state_dir / "lab.json"

    @property
    def id(self) -> str | None:
        return self.data.get("id")

    @property
    def ctl_netns(self) -> str | None:
        return self.data.get("ctl_netns")

    @property
    def forests(self) -> list[Forest]:
        return [Forest.from_dict(f) for f in self.data.get("forests", [])]

    @property
    def trusts(self) -> list[dict]:
        return list(self.data.get("trusts", []))

    def forest(self, name: str) -> Forest:
        for f in self.forests:
            if name in (f.name, f.dns_domain, f.realm, f.netbios):
                return f
        raise LabError(f"no forest {name!r} in {self.lab_json}")

    def dc(self, fqdn: str) -> DC:
        for f in self.forests:
            for d in f.dcs:
                if fqdn.lower() in (d.fqdn, d.ip, d.netns):
                    return d
        raise LabError(f"no DC {fqdn!r} in {self.lab_json}")

    def forest_of(self, fqdn: str) -> Forest:
        for f in self.forests:
            if any(d.fqdn == fqdn.lower() for d in f.dcs):
                return f
        raise LabError(f"no DC {fqdn!r} in {self.lab_json}")

    def is_up(self) -> bool:
        return bool(self.ctl_netns) and self.ctl_netns in list_netns()

    def _save(self) -> None:
        with self._lock:
            _write(self.lab_json, json.dumps(self.data, indent=2) + "\n")

    def _set_dc(self, fqdn: str, **changes) -> None:
        with self._lock:
            for f in self.data["forests"]:
                for d in f["dcs"]:
                    if d["fqdn"] == fqdn:
                        d.update(changes)
        self._save()

    def _set_forest(self, name: str, **changes) -> None:
        with self._lock:
            for f in self.data["forests"]:
                if f["name"] == name:
                    f.update(changes)
        self._save()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    # ---- running commands --------------------------------------------------------------------
    @property
    def krb5_conf(self) -> Path:
        """The lab's Kerberos configuration (KRB5_CONFIG of every command run in the lab)."""
        return self.state_dir / "krb5.conf"

    def env(self, extra: dict | None = None) -> dict:
        env = dict(os.environ)
        env.update(self.base_env)
        env[STATE_ENV] = str(self.state_dir)
        env["KRB5_CONFIG"] = str(self.krb5_conf)
        if extra:
            env.update({k: str(v) for k, v in extra.items()})
        return env

    def run_in(self, netns: str, cmd: Sequence[str] | str, *, env: dict | None = None,
               check: bool = False, timeout: float | None = None, input: str | None = None,
               cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` (list, or a string for ``sh -c``) inside namespace ``netns``."""
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        full = ["ip", "netns", "exec", netns, *cmd]
        try:
            cp = _run(full, env=self.env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      input=input, timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"timeout after {timeout}s in {netns}: {shlex.join(cmd)}") from exc
        cp.args = list(cmd)
        if check and cp.returncode != 0:
            raise LabError(f"rc={cp.returncode} in {netns}: {shlex.join(cmd)}\n"
                           f"{(cp.stderr or cp.stdout).strip()[-2000:]}")
        return cp

    def run(self, cmd: Sequence[str] | str, *, env: dict | None = None, check: bool = False,
            timeout: float | None = None, input: str | None = None,
            cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` in the controller namespace (lab DNS/hosts/Kerberos); returns
        CompletedProcess with text stdout/stderr. The environment is ours plus ``env`` and
        EMSLAB_STATE."""
        if not self.is_up():
            raise LabError(f"lab in {self.state_dir} is not up")
        return self.run_in(self.ctl_netns, cmd, env=env, check=check, timeout=timeout,
                           input=input, cwd=cwd)

    def wait_port(self, host: str, port: int, *, up: bool = True, timeout: float = 60,
                  pid_file: str | None = None) -> bool:
        """Wait (from the controller namespace) until host:port accepts connections (for 636
        and 3269 also a TLS handshake), or until it refuses them (``up=False``). With
        ``pid_file``, give up as soon as that process is gone."""
        cmd = [sys.executable, "-c", _PROBE, host, str(port), str(timeout), "up" if up else "down"]
        if pid_file:
            cmd.append(pid_file)
        cp = self.run_in(self.ctl_netns, cmd, timeout=timeout + 30)
        return cp.returncode == 0

    def ldap_env(self, forest: str) -> dict:
        """Environment for OpenLDAP tools: validate against the forest's CA bundle."""
        return {"LDAPTLS_CACERT": self.forest(forest).ca_file, "LDAPTLS_REQCERT": "demand"}

    # ---- up --------------------------------------------------------------------------------
    def up(self, forests: Iterable[ForestSpec | str], trusts: Iterable[tuple[str, str] | str] = (),
           *, workers: int | None = None) -> "Lab":
        """Build and start the lab. Raises LabError (after cleaning up) on failure."""
        problems = preflight()
        if problems:
            raise LabError("; ".join(problems))
        specs = [ForestSpec.parse(f) if isinstance(f, str) else f for f in forests]
        if not specs:
            raise LabError("no forest given")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise LabError(f"duplicate forest names: {names}")
        pairs = []
        for t in trusts:
            a, b = t.split("=", 1) if isinstance(t, str) else t
            by = {s.name: s for s in specs}
            for x in (a, b):
                if x not in by:
                    raise LabError(f"trust {a}={b}: no forest {x!r}")
                if LEVELS[by[x].level] < LEVELS["2003"]:
                    raise LabError(f"trust {a}={b}: forest {x} is level {by[x].level}; "
                                   "forest trusts need level 2003 or higher")
            if a == b:
                raise LabError(f"trust {a}={b}: same forest")
            pairs.append((a, b))
        for s in specs:
            if s.users_ldif and not Path(s.users_ldif).is_file():
                raise LabError(f"forest {s.name}: users LDIF {s.users_ldif} not found")

        longest = self.state_dir / max(names, key=len) / "dc9" / "private" / "ldap_priv" / "ldapi"
        if len(str(longest)) > 100:  # unix socket paths must stay below 108 bytes
            raise LabError(f"state dir {self.state_dir} is too long for Samba's unix sockets "
                           f"({longest} is {len(str(longest))} characters, at most 100); "
                           "choose a shorter --state")
        self._prepare_state_dir()
        t_start = time.monotonic()
        try:
            self._create_network(specs)
            self._save()
            workers = workers or max(2, os.cpu_count() or 2)
            # A forest in a trust gets its extra DCs only after the trust exists: the remote
            # side of "trust create" may pick any DC of this forest, and a DC that has not yet
            # replicated the new trust account answers WERR_NO_TRUST_SAM_ACCOUNT. Joined
            # afterwards, the extra DCs receive the trust with the initial replication.
            in_trust = {x for pair in pairs for x in pair}
            self.log(f"emslab: lab {self.id}, subnet {self.data['subnet']}, ctl netns "
                     f"{self.ctl_netns}; building {len(specs)} forest(s) with {workers} workers")
            self._parallel(lambda s: self._build_forest(s, join=s.name not in in_trust),
                           specs, workers)
            for a, b in pairs:
                self._create_trust(a, b)
            self._parallel(self._join_extra_dcs,
                           [s for s in specs if s.name in in_trust and s.dcs > 1], workers)
        except BaseException as exc:
            self.log(f"emslab: up failed ({exc.__class__.__name__}: {exc}); tearing down, "
                     f"logs kept in {self.state_dir}")
            self.down(keep_state=True)
            raise
        total = time.monotonic() - t_start
        self.data["timings"]["total_s"] = round(total, 1)
        self.data["status"] = "up"
        self._save()
        self.log(f"emslab: lab {self.id} up in {total:.1f}s")
        return self

    def _prepare_state_dir(self) -> None:
        if self.lab_json.exists() and self.data.get("ctl_netns") in list_netns():
            raise LabError(f"a lab is already up in {self.state_dir} (id {self.id}); "
                           "run 'emslab.py down' first")
        if self.state_dir.exists() and any(self.state_dir.iterdir()):
            if not (self.state_dir / MARKER).exists():
                raise LabError(f"state dir {self.state_dir} is not empty and not an emslab "
                               "state dir; choose another --state")
            if self.data:
                self.down(keep_state=True)  # remove a stale lab's leftovers
            for child in self.state_dir.iterdir():
                if child.name != MARKER:
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / MARKER).write_text("emslab state dir; 'emslab.py down' removes it\n")
        self.data = {}

    def _create_network(self, specs: list[ForestSpec]) -> None:
        with _global_lock():
            taken_ids = set(running_labs())
            lab_id = secrets.token_hex(2)
            while lab_id in taken_ids:
                lab_id = secrets.token_hex(2)
            used = _used_subnets()
            free = [n for n in SUBNET_RANGE if n not in used]
            if not free:
                raise LabError("no free /24 left in 10.251.0.0/16")
            net = free[0]
            ctl = f"{NS_PREFIX}{lab_id}-ctl"
            ctl_ip = f"{SUBNET_PREFIX}.{net}.1"
            self.data = {
                "version": 1,
                "id": lab_id,
                "status": "starting",
                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"),
                "owner_pid": os.getpid(),
                "state_dir": str(self.state_dir),
                "subnet": f"{SUBNET_PREFIX}.{net}.0/24",
                "ctl_netns": ctl,
                "ctl_ip": ctl_ip,
                "password": LAB_PASSWORD,
                "forests": [],
                "trusts": [],
                "timings": {"forests": {}},
            }
            self._save()  # from here on, down() can clean up
            _sh(["ip", "netns", "add", ctl])
            _sh(["ip", "-n", ctl, "link", "set", "lo", "up"])
            _sh(["ip", "-n", ctl, "link", "add", "br0", "type", "bridge"])
            _sh(["ip", "-n", ctl, "addr", "add", f"{ctl_ip}/24", "dev", "br0"])
            _sh(["ip", "-n", ctl, "link", "set", "br0", "up"])

        host = FIRST_DC_HOST
        veth = 0
        for spec in specs:
            n = forest_names(spec.name)
            fdir = self.state_dir / spec.name
            dcs = []
            for k in range(1, spec.dcs + 1):
                name = f"dc{k}"
                ip = f"{SUBNET_PREFIX}.{net}.{host}"
                host += 1
                ns = f"{NS_PREFIX}{lab_id}-{name}-{spec.name}"
                ddir = fdir / name
                dcs.append(DC(name=name, fqdn=f"{name}.{n['dns_domain']}", ip=ip, netns=ns,
                              dir=str(ddir), ca_file=str(ddir / "private" / "tls" / "ca.pem")))
                veth += 1
                _sh(["ip", "netns", "add", ns])
                _sh(["ip", "-n", ns, "link", "set", "lo", "up"])
                # both ends are created inside our namespaces: vethN in ctl, eth0 in the DC's
                _sh(["ip", "-n", ctl, "link", "add", f"veth{veth}", "type", "veth", "peer",
                     "name", "eth0", "netns", ns])
                _sh(["ip", "-n", ctl, "link", "set", f"veth{veth}", "master", "br0", "up"])
                _sh(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
                _sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            forest = Forest(
                name=spec.name, level=spec.level, forest_functionality=None, schema=spec.schema,
                schema_object_version=None, admin_user=f"administrator@{n['realm']}",
                admin_netbios=f"{n['netbios']}\\Administrator", admin_password=LAB_PASSWORD,
                ca_file=str(fdir / "ca.pem"), users=0, dcs=dcs, **n)
            self.data["forests"].append(dataclasses.asdict(forest))
        self._write_netns_files()

    def _write_netns_files(self) -> None:
        forests = self.forests
        hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 f"{self.data['ctl_ip']}\tctl.{DNS_SUFFIX}"]
        for f in forests:
            for d in f.dcs:
                hosts.append(f"{d.ip}\t{d.fqdn}")
        hosts_text = "# emslab lab " + self.id + "\n" + "\n".join(hosts) + "\n"
        realms, domain_realm = [], []
        for f in forests:
            kdcs = "".join(f"        kdc = {d.fqdn}\n" for d in f.dcs)
            realms.append(f"    {f.realm} = {{\n{kdcs}"
                          f"        admin_server = {f.dcs[0].fqdn}\n    }}\n")
            domain_realm.append(f"    .{f.dns_domain} = {f.realm}\n"
                                f"    {f.dns_domain} = {f.realm}\n")
        krb5 = ("# emslab lab " + self.id + "\n[libdefaults]\n"
                f"    default_realm = {forests[0].realm}\n"
                "    dns_lookup_kdc = false\n    dns_lookup_realm = false\n"
                "    rdns = false\n    dns_canonicalize_hostname = false\n"
                "    forwardable = true\n\n[realms]\n" + "".join(realms) +
                "\n[domain_realm]\n" + "".join(domain_realm))
        first_dc = forests[0].dcs[0].ip
        _write(f"/etc/netns/{self.ctl_netns}/hosts", hosts_text)
        _write(f"/etc/netns/{self.ctl_netns}/resolv.conf",
               f"# emslab lab {self.id}\nnameserver {first_dc}\nsearch {forests[0].dns_domain}\n")
        _write(self.krb5_conf, krb5)
        for f in forests:
            for d in f.dcs:
                _write(f"/etc/netns/{d.netns}/hosts", hosts_text)
                _write(f"/etc/netns/{d.netns}/resolv.conf",
                       f"# emslab lab {self.id}\nnameserver {f.dcs[0].ip}\n"
                       f"search {f.dns_domain}\n")

    def _parallel(self, fn: Callable[[ForestSpec], None], specs: list[ForestSpec],
                  workers: int) -> None:
        """Run fn for every forest on a thread pool; report every failure; on an interrupt
        (or failure) drop queued work and kill running commands at once."""
        if not specs:
            return
        self._abort.clear()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        try:
            # longest first: extra DCs and bulk users dominate a forest's build time
            order = sorted(specs, key=lambda s: (s.dcs * 10 + s.users / 1000
                                                 + s.password_users / 50), reverse=True)
            futures = {pool.submit(fn, s): s for s in order}
            errors = []
            for fut in concurrent.futures.as_completed(futures):
                try:
                    fut.result()
                except Exception as exc:  # collect all, report all
                    errors.append(f"forest {futures[fut].name}: {exc}")
            if errors:
                raise LabError("\n".join(errors))
        except BaseException:
            # interrupted (or failed): drop queued forests, end running commands now
            self._abort.set()
            pool.shutdown(wait=False, cancel_futures=True)
            _kill_children()
            raise
        finally:
            pool.shutdown(wait=True)

    def _check_abort(self) -> None:
        if self._abort.is_set():
            raise LabError("aborted")

    def _build_forest(self, spec: ForestSpec, join: bool = True) -> None:
        self._check_abort()
        t0 = time.monotonic()
        f = self.forest(spec.name)
        dc1 = f.dcs[0]
        timing: dict = {}
        log = os.path.join(dc1.dir, "..", f"{dc1.name}.provision.log")
        Path(dc1.dir).mkdir(parents=True, exist_ok=True)
        empty = os.path.join(dc1.dir, "..", "empty.conf")
        Path(empty).write_text("")
        t = time.monotonic()
        # provision inside the DC's namespace: Samba registers the addresses it finds (IPv6
        # too) in DNS, and there it finds only the lab address
        _sh(["ip", "netns", "exec", dc1.netns,
             _samba_python(), "-c", _SAMBA_TOOL_WRAPPER, "domain", "provision",
             f"--configfile={empty}", f"--targetdir={dc1.dir}", f"--realm={f.realm}",
             f"--domain={f.netbios}", "--server-role=dc", "--dns-backend=SAMBA_INTERNAL",
             f"--function-level={spec.level}", f"--base-schema={spec.schema}",
             f"--host-name={dc1.name}", f"--host-ip={dc1.ip}", f"--adminpass={LAB_PASSWORD}",
             f"--backend-store={spec.store}"]
            + ([f"--backend-store-size={max(8, spec.users * 32 // 1000000 + 8)}Gb"]
               if spec.store == "mdb" else []),
            timeout=600, log=os.path.normpath(log))
        timing["provision_s"] = round(time.monotonic() - t, 1)
        self._check_abort()
        self._patch_smb_conf(dc1)
        ffl = _ldb_value(dc1.sam_ldb, f"CN=Partitions,CN=Configuration,{f.base_dn}",
                         "msDS-Behavior-Version")
        objver = _ldb_value(dc1.sam_ldb, f"CN=Schema,CN=Configuration,{f.base_dn}",
                            "objectVersion")
        self._set_forest(f.name, forest_functionality=int(ffl) if ffl else 0,
                         schema_object_version=int(objver) if objver else None)
        users = 0
        if spec.users:
            timing["users_load_s"] = round(load_generated_users(
                dc1.sam_ldb, Path(dc1.dir).parent, spec.users, f.base_dn, upn_suffix=f.dns_domain,
                password_count=spec.password_users, mailbox_attrs=spec.mailbox_attrs,
                log=os.path.normpath(log), progress=lambda m: self.log(f"[{f.name}] {m}")), 1)
            users += spec.users
            self.log(f"[{f.name}] {spec.users} users loaded offline in "
                     f"{timing['users_load_s']}s")
        if spec.users_ldif:
            t = time.monotonic()
            ldbadd_offline(dc1.sam_ldb, spec.users_ldif, log=os.path.normpath(log))
            timing["users_ldif_load_s"] = round(time.monotonic() - t, 1)
        self._set_forest(f.name, users=users)
        self._check_abort()
        t = time.monotonic()
        self._start_samba(dc1)
        timing["dc1_start_s"] = round(time.monotonic() - t, 1)
        self.log(f"[{f.name}] {dc1.fqdn} {dc1.ip} level {spec.level} schema {spec.schema} "
                 f"(objectVersion {objver}): provisioned in {timing['provision_s']}s, "
                 f"LDAPS up in {timing['dc1_start_s']}s")
        timing["total_s"] = round(time.monotonic() - t0, 1)
        with self._lock:
            self.data["timings"]["forests"][f.name] = timing
        self._save()
        if join:
            self._join_extra_dcs(spec)
        elif len(f.dcs) == 1:
            self.log(f"[{f.name}] ready in {timing['total_s']}s")

    def _join_extra_dcs(self, spec: ForestSpec) -> None:
        f = self.forest(spec.name)
        with self._lock:
            timing = self.data["timings"]["forests"].setdefault(f.name, {})
        for dc in f.dcs[1:]:
            self._check_abort()
            t = time.monotonic()
            self._join_dc(f, dc)
            join_s = round(time.monotonic() - t, 1)
            self._check_abort()
            t = time.monotonic()
            self._start_samba(dc)
            start_s = round(time.monotonic() - t, 1)
            with self._lock:
                timing[f"{dc.name}_join_s"] = join_s
                timing[f"{dc.name}_start_s"] = start_s
                timing["total_s"] = round(timing.get("total_s", 0) + join_s + start_s, 1)
            self.log(f"[{f.name}] {dc.fqdn} {dc.ip}: joined in {join_s}s, LDAPS up in "
                     f"{start_s}s")
        self._save()
        self.log(f"[{f.name}] ready in {timing['total_s']}s")

    def _join_dc(self, f: Forest, dc: DC) -> None:
        Path(dc.dir).mkdir(parents=True, exist_ok=True)
        empty = os.path.join(dc.dir, "..", "empty.conf")
        log = os.path.normpath(os.path.join(dc.dir, "..", f"{dc.name}.join.log"))
        cmd = ["ip", "netns", "exec", dc.netns, _samba_python(), "-c", _SAMBA_TOOL_WRAPPER,
               "domain", "join", f.dns_domain, "DC", f"--configfile={empty}",
               f"--targetdir={dc.dir}", f"--server={f.dcs[0].fqdn}",
               f"--username={f.admin_user}", f"--password={LAB_PASSWORD}",
               "--use-kerberos=off", "--dns-backend=SAMBA_INTERNAL",
               f"--option=netbios name={dc.name.upper()}"]
        _sh(cmd, timeout=900, log=log, env={**os.environ, "KRB5CCNAME": "MEMORY:"})
        self._patch_smb_conf(dc)

    @staticmethod
    def _patch_smb_conf(dc: DC) -> None:
        """Bind to the DC's own address, keep every socket/pid under DC.dir, no DNS forwarder."""
        text = Path(dc.smb_conf).read_text()
        text = re.sub(r"^\s*dns forwarder\s*=.*\n", "", text, flags=re.M)
        d = dc.dir
        extra = (f"\t# emslab\n\tinterfaces = lo {dc.ip}/24\n\tbind interfaces only = yes\n"
                 f"\tpid directory = {d}/run\n\tncalrpc dir = {d}/run/ncalrpc\n"
                 f"\twinbindd socket directory = {d}/run/winbindd\n"
                 f"\tntp signd socket directory = {d}/ntp_signd\n"
                 f"\tusershare path = {d}/usershares\n"
                 f"\tlog file = {d}/log/samba.log\n\tmax log size = 10000\n\tlog level = 1\n")
        text = text.replace("[global]\n", "[global]\n" + extra, 1)
        _write(dc.smb_conf, text)
        for sub in ("run", "log", "usershares"):
            Path(d, sub).mkdir(parents=True, exist_ok=True)
        Path(d, "ntp_signd").mkdir(mode=0o750, exist_ok=True)
        os.chmod(Path(d, "ntp_signd"), 0o750)  # samba refuses any other mode

    def _start_samba(self, dc: DC, timeout: float = 120) -> None:
        Path("/run/samba").mkdir(parents=True, exist_ok=True)
        Path(dc.dir, "run").mkdir(parents=True, exist_ok=True)
        old = _read_pid(dc.pid_file)
        if old is None or not _pid_alive(old):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dc.pid_file)  # so that the wait below can tell "died" from "stale"
        script = 'mount --bind "$1" /run/samba && exec samba -s "$2" -D'
        with open(os.path.join(dc.dir, "log", "start.log"), "a") as out:
            cp = _run(["ip", "netns", "exec", dc.netns, "unshare", "-m", "--propagation",
                       "private", "sh", "-c", script, "sh", os.path.join(dc.dir, "run"),
                       dc.smb_conf], stdout=out, stderr=out, timeout=60)
        if cp.returncode != 0:
            raise LabError(f"samba did not start for {dc.fqdn} (rc={cp.returncode}); see "
                           f"{dc.dir}/log/start.log and {dc.dir}/log/samba.log")
        if not self.wait_port(dc.ip, 636, up=True, timeout=timeout, pid_file=dc.pid_file):
            raise LabError(f"{dc.fqdn}: samba exited or LDAPS (636) did not answer within "
                           f"{timeout}s; see {dc.dir}/log/samba.log")
        self._set_dc(dc.fqdn, running=True)
        self._write_ca_bundle(self.forest_of(dc.fqdn).name)

    def _write_ca_bundle(self, forest: str) -> None:
        f = self.forest(forest)
        parts = []
        for d in f.dcs:
            if os.path.exists(d.ca_file):
                parts.append(Path(d.ca_file).read_text())
        if parts:
            _write(f.ca_file, "".join(p if p.endswith("\n") else p + "\n" for p in parts))

    def _create_trust(self, a: str, b: str, attempts: int = 3) -> None:
        fa, fb = self.forest(a), self.forest(b)
        t = time.monotonic()
        empty = os.path.join(self.state_dir, a, "empty.conf")
        creds = [f"--configfile={empty}", "--use-kerberos=off", f"--username={fb.admin_user}",
                 f"--password={LAB_PASSWORD}", f"--ipaddress={fb.dcs[0].ip}",
                 "--local-dc-use-kerberos=off", f"--local-dc-ipaddress={fa.dcs[0].ip}",
                 f"--local-dc-username={fa.admin_user}", f"--local-dc-password={LAB_PASSWORD}"]
        tool = [_samba_python(), "-c", _SAMBA_TOOL_WRAPPER, "domain", "trust"]
        log = self.state_dir / f"trust-{a}-{b}.log"
        for attempt in range(1, attempts + 1):
            cp = self.run([*tool, "create", fb.dns_domain, "--type=forest", "--direction=both",
                           "--create-location=both", *creds],
                          env={"KRB5CCNAME": "MEMORY:"}, timeout=300)
            with open(log, "a") as fh:
                fh.write(f"--- attempt {attempt} rc={cp.returncode}\n{cp.stdout}{cp.stderr}")
            if cp.returncode == 0:
                break
            # Seen under heavy load: the remote DC answers netr_DsRGetForestTrustInformation
            # with WERR_NO_TRUST_SAM_ACCOUNT right after the TDO was created. Remove the half-made
            # trust on both sides and try again.
            self.log(f"emslab: trust {a} <-> {b} attempt {attempt} failed: "
                     f"{(cp.stderr or cp.stdout).strip().splitlines()[-1:]}")
            self.run([*tool, "delete", fb.dns_domain, "--delete-location=both", *creds],
                     env={"KRB5CCNAME": "MEMORY:"}, timeout=300)
            if attempt == attempts:
                raise LabError(f"forest trust {fa.realm} <-> {fb.realm} failed {attempts} "
                               f"times; see {log}")
            time.sleep(2 * attempt)
        secs = round(time.monotonic() - t, 1)
        with self._lock:
            self.data["trusts"].append({"a": a, "b": b, "realms": [fa.realm, fb.realm],
                                        "type": "forest", "direction": "both",
                                        "seconds": secs})
        self._save()
        self.log(f"emslab: forest trust {fa.realm} <-> {fb.realm} created in {secs}s")

    # ---- DC control --------------------------------------------------------------------------
    def dc_running(self, dc: DC) -> bool:
        pid = _read_pid(dc.pid_file)
        return bool(pid) and _pid_alive(pid) and dc.netns in list_netns()

    def stop_dc(self, fqdn: str, timeout: float = 30) -> None:
        """Stop one DC (SIGTERM to DIR/run/samba.pid, then any leftover in its namespace) and
        wait until its LDAPS port refuses connections."""
        dc = self.dc(fqdn)
        pid = _read_pid(dc.pid_file)
        if pid and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        _kill_netns_processes(dc.netns, grace=5)
        if not self.wait_port(dc.ip, 636, up=False, timeout=timeout):
            raise LabError(f"{dc.fqdn}: port 636 still answers after stop")
        self._set_dc(dc.fqdn, running=False)
        self.log(f"emslab: {dc.fqdn} stopped")

    def start_dc(self, fqdn: str, timeout: float = 120) -> None:
        """Start one (stopped) DC again and wait for LDAPS."""
        dc = self.dc(fqdn)
        if self.dc_running(dc):
            return
        t = time.monotonic()
        self._start_samba(dc, timeout=timeout)
        self.log(f"emslab: {dc.fqdn} started, LDAPS up in {time.monotonic() - t:.1f}s")

    def load_users(self, forest: str, *, count: int = 0, ldif: str | Path | None = None,
                   password_count: int = 0, start: int | None = None) -> float:
        """Offline bulk load into the forest's first DC: stop it, ldbadd (generated users or
        ``ldif``), start it again. Other DCs get the objects by replication. Returns seconds
        spent in ldbadd."""
        f = self.forest(forest)
        dc1 = f.dcs[0]
        if ldif is None and count <= 0:
            raise LabError("load_users: give count or ldif")
        was_running = self.dc_running(dc1)
        if was_running:
            self.stop_dc(dc1.fqdn)
        log = os.path.join(dc1.dir, "log", "ldbadd.log")
        if ldif is None:
            first = start if start is not None else f.users + 1
            secs = load_generated_users(dc1.sam_ldb, Path(dc1.dir).parent, count, f.base_dn,
                                        upn_suffix=f.dns_domain, start=first, create_ou=(first == 1),
                                        password_count=password_count, log=log)
        else:
            secs = ldbadd_offline(dc1.sam_ldb, ldif, objects=count, log=log)
        if count:
            self._set_forest(f.name, users=f.users + count)
        if was_running:
            self.start_dc(dc1.fqdn)
        return secs

    def dns_add(self, zone: str, name: str, rtype: str, value: str, *,
                server: str | None = None) -> subprocess.CompletedProcess:
        """``samba-tool dns add <server> <zone> <name> <rtype> <value>`` from the controller.
        The forest is the one whose DNS domain ends ``zone``; ``server`` defaults to its first
        running DC. SRV value: 'target port priority weight'."""
        f = None
        for cand in self.forests:
            if zone.lower() == cand.dns_domain or zone.lower().endswith("." + cand.dns_domain) \
                    or zone.lower() == "_msdcs." + cand.dns_domain:
                f = cand
        if server:
            f = self.forest_of(server)
        if f is None:
            raise LabError(f"dns_add: zone {zone} belongs to no lab forest; pass server=")
        if not server:
            server = next((d.fqdn for d in f.dcs if self.dc_running(d)), f.dcs[0].fqdn)
        return self.run([_samba_python(), "-c", _SAMBA_TOOL_WRAPPER, "dns", "add", server, zone,
                         name, rtype.upper(), value, f"--username={f.admin_user}",
                         f"--password={LAB_PASSWORD}", "--use-kerberos=off"],
                        env={"KRB5CCNAME": "MEMORY:"}, check=True, timeout=120)

    # ---- down ------------------------------------------------------------------------------
    def down(self, keep_state: bool = False) -> None:
        """Stop every Samba of this lab, delete its namespaces and /etc/netns entries and,
        unless keep_state, the state dir. Idempotent; also cleans a half-built lab."""
        namespaces = set()
        if self.id:
            namespaces.update(running_labs().get(self.id, []))
            if self.ctl_netns:
                namespaces.add(self.ctl_netns)
            for f in self.forests:
                for d in f.dcs:
                    namespaces.add(d.netns)
        for f in self.forests:  # orderly stop first (pid files), then the namespace sweep
            for d in f.dcs:
                pid = _read_pid(d.pid_file)
                if pid and _pid_alive(pid) and d.netns in list_netns():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
        # DC namespaces first, controller last
        for ns in sorted(namespaces, key=lambda n: n.endswith("-ctl")):
            _remove_netns(ns)
        if self.data.get("forests") and self.lab_json.exists():
            for f in self.data["forests"]:
                for d in f["dcs"]:
                    d["running"] = False
            self.data["status"] = "down"
            self._save()
        lab_id = self.id
        removed = False
        if not keep_state and (self.state_dir / MARKER).exists():
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.data = {}
            removed = True
        if namespaces or removed:
            self.log(f"emslab: lab {lab_id or '?'} down"
                     + (f", removed {self.state_dir}" if removed else ""))
        else:
            self.log(f"emslab: no lab in {self.state_dir}, nothing to do")

    @staticmethod
    def down_all(log: Callable[[str], None] = print,
                 ids: Iterable[str] | None = None) -> list[str]:
        """Remove every emslab-* namespace (and /etc/netns entry) on this machine, including
        labs other people are running (or only the labs ``ids``). State dirs are not touched
        (they may be anywhere). Returns the lab ids removed."""
        labs = running_labs()
        if ids is not None:
            labs = {k: v for k, v in labs.items() if k in set(ids)}
        for lab_id, nss in labs.items():
            for ns in sorted(nss, key=lambda n: n.endswith("-ctl")):
                _remove_netns(ns)
            log(f"emslab: removed lab {lab_id} ({len(nss)} namespaces)")
        if Path("/etc/netns").is_dir():
            for entry in Path("/etc/netns").iterdir():
                lab_id = entry.name[len(NS_PREFIX):].split("-", 1)[0]
                if entry.name.startswith(NS_PREFIX) and (ids is None or lab_id in set(ids)):
                    shutil.rmtree(entry, ignore_errors=True)
        if not labs:
            log("emslab: no emslab-* lab to remove")
        return sorted(labs)

    # ---- reporting ---------------------------------------------------------------------------
    def status(self) -> dict:
        """lab.json plus live facts: up (controller namespace exists) and per DC running."""
        data = json.loads(json.dumps(self.data)) if self.data else {}
        data["up"] = self.is_up() if data else False
        data.setdefault("state_dir", str(self.state_dir))
        if data.get("forests"):
            netns = set(list_netns())
            for f in data["forests"]:
                for d in f["dcs"]:
                    pid = _read_pid(os.path.join(d["dir"], "run", "samba.pid"))
                    d["running"] = bool(pid and _pid_alive(pid) and d["netns"] in netns)
        return data

    def table(self) -> str:
        st = self.status()
        if not st.get("forests"):
            return f"no lab in {self.state_dir}"
        rows = [("DC", "ADDRESS", "REALM", "LEVEL", "SCHEMA", "RUNNING")]
        for f in st["forests"]:
            for d in f["dcs"]:
                rows.append((d["fqdn"], d["ip"], f["realm"], f["level"],
                             f"{f['schema']} (objectVersion {f['schema_object_version']})",
                             "yes" if d["running"] else "no"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [f"emslab lab {st['id']} ({'up' if st['up'] else 'down'}): controller netns "
                 f"{st['ctl_netns']} ({st['ctl_ip']}), subnet {st['subnet']}, "
                 f"state {st['state_dir']}"]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.append(f"Credentials (lab-only): administrator@<REALM> / {LAB_PASSWORD}")
        for f in st["forests"]:
            lines.append(f"  {f['name']:<8} {f['admin_user']:<34} CA {f['ca_file']}"
                         + (f"  users {f['users']}" if f.get("users") else ""))
        for t in st.get("trusts", []):
            lines.append(f"Trust: {t['realms'][0]} <-> {t['realms'][1]} ({t['type']}, "
                         f"{t['direction']})")
        lines.append(f"Run tools in the lab: emslab.py exec --state {st['state_dir']} -- CMD"
                     f"   (or: ip netns exec {st['ctl_netns']} CMD)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _kv(values: list[str] | None, what: str, conv=str) -> dict:
    out = {}
    for item in values or []:
        if "=" not in item:
            raise LabError(f"--{what} {item!r}: expected FOREST=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k] = conv(v)
        except ValueError as exc:
            raise LabError(f"--{what} {item!r}: {exc}") from exc
    return out


def _specs_from_args(args) -> tuple[list[ForestSpec], list[tuple[str, str]]]:
    specs: list[ForestSpec] = []
    trusts: list[tuple[str, str]] = []
    if args.preset:
        preset = PRESETS[args.preset]
        specs, trusts = list(preset.forests), list(preset.trusts)
    for text in args.forest or []:
        spec = ForestSpec.parse(text)
        specs = [s for s in specs if s.name != spec.name] + [spec]
    names = {s.name for s in specs}
    schema, dcs = _kv(args.schema, "schema"), _kv(args.dcs, "dcs", int)
    users, ldifs = _kv(args.users, "users", int), _kv(args.users_ldif, "users-ldif")
    pwu = _kv(args.password_users, "password-users", int)
    for opt in (schema, dcs, users, ldifs, pwu):
        for k in opt:
            if k not in names:
                raise LabError(f"no forest {k!r} (forests: {', '.join(sorted(names))})")
    specs = [dataclasses.replace(
        s, schema=schema.get(s.name, s.schema), dcs=dcs.get(s.name, s.dcs),
        users=users.get(s.name, s.users), users_ldif=ldifs.get(s.name, s.users_ldif),
        password_users=pwu.get(s.name, s.password_users)) for s in specs]
    for t in args.trust or []:
        a, sep, b = t.partition("=")
        if not sep:
            raise LabError(f"--trust {t!r}: expected A=B")
        if (a, b) not in trusts and (b, a) not in trusts:
            trusts.append((a, b))
    return specs, trusts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="emslab.py", description="Samba AD DC forests in network namespaces (lab).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  emslab.py up --forest corp:2008_R2 --forest legacy:2003 "
               "--forest partner --trust corp=partner --dcs corp=2 --schema corp=2019\n"
               "  emslab.py exec -- ldapsearch -H ldaps://dc1.corp.emslab.test ...\n"
               "  emslab.py down")
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, **kw):
        sp = sub.add_parser(name, **kw)
        sp.add_argument("--state", default=os.environ.get(STATE_ENV, DEFAULT_STATE),
                        help="state dir (default: $EMSLAB_STATE or ./lab-state)")
        return sp

    up = add("up", help="build and start a lab")
    up.add_argument("--preset", choices=sorted(PRESETS),
                    help="standard: the integration suite's lab; assess: corp only")
    up.add_argument("--forest", action="append", metavar="NAME[:LEVEL]",
                    help=f"levels: {', '.join(LEVELS)} (default {DEFAULT_LEVEL})")
    up.add_argument("--schema", action="append", metavar="FOREST=SCHEMA",
                    help=f"base schema: {', '.join(SCHEMAS)} (default {DEFAULT_SCHEMA})")
    up.add_argument("--dcs", action="append", metavar="FOREST=N", help="DCs in a forest")
    up.add_argument("--users", action="append", metavar="FOREST=N",
                    help="generate N users (OU=EmsLabUsers), loaded offline before start")
    up.add_argument("--password-users", action="append", metavar="FOREST=N",
                    help="of those, N get the lab password (slow: ~20 ms each)")
    up.add_argument("--users-ldif", action="append", metavar="FOREST=FILE",
                    help="an LDIF of your own, loaded offline before start")
    up.add_argument("--trust", action="append", metavar="A=B", help="two-way forest trust")
    up.add_argument("--workers", type=int, help="forests built in parallel (default: cores)")
    up.add_argument("--json", action="store_true", help="print lab.json instead of the table")

    down = add("down", help="stop and remove the lab (idempotent)")
    down.add_argument("--all", action="store_true",
                      help="also remove EVERY emslab-* lab on this machine (stale ones, "
                           "and other people's running labs)")
    down.add_argument("--id", action="append", metavar="LAB_ID",
                      help="with --all: only these lab ids (see 'list')")
    down.add_argument("--keep", action="store_true", help="keep the state dir")
    add("status", help="lab.json plus live state, as JSON")
    add("table", help="the human summary printed by up")
    sub.add_parser("list", help="emslab-* labs on this machine (JSON)")
    ex = add("exec", help="run a command in the controller namespace")
    ex.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    for name in ("stop-dc", "start-dc"):
        sp = add(name, help=f"{name.split('-', maxsplit=1)[0]} one DC")
        sp.add_argument("fqdn")
    dns = add("dns-add", help="add a DNS record (samba-tool dns add)")
    dns.add_argument("--server", help="DC FQDN (default: first running DC of the zone's forest)")
    dns.add_argument("zone")
    dns.add_argument("name")
    dns.add_argument("type", choices=["A", "AAAA", "CNAME", "SRV", "TXT", "PTR", "MX", "NS"])
    dns.add_argument("value", help="for SRV: 'target port priority weight'")
    lu = add("load-users", help="stop the forest's dc1, load users offline, start it")
    lu.add_argument("forest")
    lu.add_argument("--count", type=int, default=0)
    lu.add_argument("--ldif")
    lu.add_argument("--password-users", type=int, default=0)
    gen = sub.add_parser("gen-users", help="write a users LDIF (no lab needed)")
    gen.add_argument("--forest", required=True, help="forest name (sets base DN, UPN suffix)")
    gen.add_argument("--count", type=int, required=True)
    gen.add_argument("--out", required=True)
    gen.add_argument("--ou", default="EmsLabUsers")
    gen.add_argument("--start", type=int, default=1)
    gen.add_argument("--password-users", type=int, default=0)

    args = p.parse_args(argv)
    try:
        if args.cmd == "gen-users":
            n = forest_names(args.forest)
            generate_users_ldif(args.out, args.count, n["base_dn"], upn_suffix=n["dns_domain"],
                                ou=args.ou, start=args.start, create_ou=args.start == 1,
                                password_count=args.password_users)
            print(f"wrote {args.count} users to {args.out}")
            return 0
        if args.cmd == "list":
            print(json.dumps(running_labs(), indent=2))
            return 0
        lab = Lab(args.state)
        if args.cmd == "up":
            specs, trusts = _specs_from_args(args)
            _install_sigterm_handler()
            lab.up(specs, trusts, workers=args.workers)
            print(json.dumps(lab.status(), indent=2) if args.json else lab.table())
        elif args.cmd == "down":
            if os.geteuid() != 0:
                raise LabError("needs root")
            lab.down(keep_state=args.keep)
            if args.all:
                Lab.down_all(ids=args.id)
        elif args.cmd == "status":
            print(json.dumps(lab.status(), indent=2))
        elif args.cmd == "table":
            print(lab.table())
        elif args.cmd == "exec":
            cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not cmd:
                raise LabError("exec: give a command after --")
            if not lab.is_up():
                raise LabError(f"lab in {lab.state_dir} is not up")
            return subprocess.call(["ip", "netns", "exec", lab.ctl_netns, *cmd], env=lab.env())
        elif args.cmd == "stop-dc":
            lab.stop_dc(args.fqdn)
        elif args.cmd == "start-dc":
            lab.start_dc(args.fqdn)
        elif args.cmd == "dns-add":
            cp = lab.dns_add(args.zone, args.name, args.type, args.value, server=args.server)
            print(cp.stdout.strip())
        elif args.cmd == "load-users":
            secs = lab.load_users(args.forest, count=args.count, ldif=args.ldif,
                                  password_count=args.password_users)
            print(f"loaded in {secs:.1f}s")
        return 0
    except LabError as exc:
        print(f"emslab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("emslab: interrupted", file=sys.stderr)
        return 130


def _install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt so that up() cleans up what it built."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
