"""Every PowerShell module's payload, rendered as Ansible would send it, holds the module_utils it requires.

There is no Windows host (nor pwsh) here, so nothing runs the .ps1 modules. What can go wrong when a
.psm1 moves (say into module_utils/<component>/) is on the controller: the exec wrapper payload is
built from the `#AnsibleRequires -PowerShell <util>` lines, and a util the payload builder cannot
find fails the task before any host is touched ("Could not find collection imported module support
code"). This test builds that payload with the installed ansible-core's own builder
(ansible/executor/powershell/module_manifest.py: `_create_powershell_wrapper`, the call
module_common.modify_module makes; its signature changed in 2.19, both forms are handled), without
running it, and checks for each .ps1 in plugins/modules that every util it requires, directly or
through another util, is in the payload with the content of the file in this tree.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.ps1"))
FQCN_PREFIX = "ansible_collections.ems.enable.plugins.modules."
REQUIRES = re.compile(r"(?im)^#\s*AnsibleRequires\s+-PowerShell\s+(\S+)")


def resolve(util, fqn):
    """The absolute name of a required util; `..module_utils.X` is relative to the requiring file's fqn."""
    if not util.startswith("."):
        return util
    parts = fqn.split(".")
    dots = len(util) - len(util.lstrip("."))
    return ".".join(parts[:-dots] + util.lstrip(".").split("."))


def util_file(name):
    """The .psm1 in this tree of a collection util name, None for a builtin (Ansible.ModuleUtils.*)."""
    prefix = "ansible_collections.ems.enable."
    if not name.startswith(prefix):
        return None
    return ROOT.joinpath(*name[len(prefix):].split(".")).with_suffix(".psm1")


def required_utils(source, fqn):
    """Every collection util a module requires, recursively: {name: path}."""
    found = {}
    pending = [(source, fqn)]
    while pending:
        text, owner = pending.pop()
        for util in REQUIRES.findall(text):
            name = resolve(util, owner)
            path = util_file(name)
            if path is None or name in found:
                continue
            found[name] = path
            pending.append((path.read_text(encoding="utf-8") if path.exists() else "", name))
    return found


def render_payload(name):
    """The exec wrapper payload of plugins/modules/<name>.ps1, as ansible-core builds it: its manifest JSON."""
    from ansible.executor.powershell import module_manifest  # pylint: disable=import-outside-toplevel

    path = ROOT / "plugins" / "modules" / f"{name}.ps1"
    data = path.read_bytes()
    builder = module_manifest._create_powershell_wrapper  # pylint: disable=protected-access
    args = {"_ansible_check_mode": True}
    if "name" in inspect.signature(builder).parameters:  # ansible-core 2.19 and later: keyword-only
        kwargs = dict(name=FQCN_PREFIX + name, module_data=data, module_path=str(path), module_args=args,
                      environment={}, async_timeout=0, become_plugin=None, substyle="powershell",
                      task_vars={}, profile="legacy")
    else:  # ansible-core 2.16 - 2.18 (a dict, so that pylint does not hold either signature against the other)
        kwargs = dict(b_module_data=data, module_path=str(path), module_args=args, environment={}, async_timeout=0,
                      become=False, become_method=None, become_user=None, become_password=None, become_flags=None,
                      substyle="powershell", task_vars={}, module_fqn=FQCN_PREFIX + name)
    payload = builder(**kwargs)
    return json.loads(payload.split(b"\0\0\0\0", 1)[1])


def payload_utils(manifest, fqn):
    """{util name: content} of the PowerShell module_utils in a rendered payload (both manifest forms)."""
    if "powershell_modules" in manifest:  # 2.16 - 2.18: {name as written in the #AnsibleRequires line: base64}
        return {resolve(name, fqn): base64.b64decode(b64) for name, b64 in manifest["powershell_modules"].items()}
    module = [a for a in manifest["actions"] if a["name"] == "module_wrapper.ps1"][0]  # 2.19: scripts + list
    return {dep[:-len(".psm1")]: base64.b64decode(manifest["scripts"][dep]["script"])
            for dep in module["params"]["PowerShellModules"]}


def test_there_are_powershell_modules():
    assert len(MODULES) >= 9, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_payload_holds_every_required_util(name):
    source = (ROOT / "plugins" / "modules" / f"{name}.ps1").read_text(encoding="utf-8")
    expected = required_utils(source, FQCN_PREFIX + name)
    for util, path in expected.items():
        assert path.is_file(), f"{name}.ps1 requires {util}, but {path.relative_to(ROOT)} does not exist"
    included = payload_utils(render_payload(name), FQCN_PREFIX + name)
    for util, path in expected.items():
        assert util in included, f"{name}.ps1: {util} is not in the payload (has {sorted(included)})"
        assert included[util] == path.read_bytes(), f"{name}.ps1: {util} in the payload is not {path}"
