"""The declared minimum of each Windows collection covers every module the roles and playbooks use.

Issue 19 finding 6: win_feature_info is version_added 2.7.0 in ansible.windows, while galaxy.yml and
requirements.yml asked for >= 2.6.0. The bundled collections' own DOCUMENTATION says when each module
was added; the minimum in galaxy.yml and requirements.yml must be at least the newest of those.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections")).split(os.pathsep)[0])
NAMESPACES = ("ansible.windows", "microsoft.ad", "community.windows")


def minimum(spec: str) -> tuple[int, ...]:
    match = re.search(r">=\s*([\d.]+)", spec)
    assert match, spec
    return tuple(int(p) for p in match.group(1).split("."))


def used_modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {ns: set() for ns in NAMESPACES}
    for path in list((ROOT / "roles").rglob("*.yml")) + list((ROOT / "playbooks").rglob("*.yml")):
        for ns in NAMESPACES:
            found[ns] |= set(re.findall(r"^\s*-?\s*%s\.(\w+):" % re.escape(ns), path.read_text(), re.M))
    return found


def version_added(ns: str, module: str) -> tuple[int, ...] | None:
    namespace, name = ns.split(".")
    base = COLLECTIONS / "ansible_collections" / namespace / name / "plugins" / "modules"
    for candidate in (base / (module + ".py"), base / (module + ".yml")):
        if candidate.exists():
            match = re.search(r"^version_added:\s*['\"]?([\d.]+)", candidate.read_text(), re.M)
            return tuple(int(p) for p in match.group(1).split(".")) if match else None
    return None


@pytest.mark.parametrize("ns", NAMESPACES)
def test_declared_minimum_covers_every_module_used(ns):
    if not (COLLECTIONS / "ansible_collections" / ns.replace(".", "/")).exists():
        pytest.skip("Windows collections not installed (scripts/bootstrap)")
    galaxy = minimum(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"][ns])
    requirements = {c["name"]: minimum(c["version"]) for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    assert requirements[ns] == galaxy, ns
    too_new = {m: v for m in used_modules()[ns] if (v := version_added(ns, m)) and v > galaxy}
    assert not too_new, "%s >= %s declared, but these need more: %s" % (ns, galaxy, too_new)


def test_win_feature_info_is_covered():
    assert "win_feature_info" in used_modules()["ansible.windows"]
    assert minimum(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]["ansible.windows"]) >= (2, 7, 0)


def maximum(spec: str) -> tuple[int, ...] | None:
    match = re.search(r"<\s*([\d.]+)", spec)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def removal_versions(ns: str) -> dict[str, tuple[int, ...]]:
    """Modules the bundled collection deprecates, with the version that removes them (meta/runtime.yml)."""
    runtime = COLLECTIONS / "ansible_collections" / ns.replace(".", "/") / "meta" / "runtime.yml"
    routing = (yaml.safe_load(runtime.read_text()) or {}).get("plugin_routing", {}).get("modules", {})
    return {m: tuple(int(p) for p in str(r["deprecation"]["removal_version"]).split("."))
            for m, r in routing.items() if "removal_version" in (r.get("deprecation") or {})}


@pytest.mark.parametrize("ns", NAMESPACES)
def test_declared_upper_bound_excludes_the_version_that_removes_a_module_used(ns):
    """Issue 19 finding 17: win_iis_webbinding is removed in community.windows 4.0.0, so the range ends below it."""
    if not (COLLECTIONS / "ansible_collections" / ns.replace(".", "/")).exists():
        pytest.skip("Windows collections not installed (scripts/bootstrap)")
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"][ns]
    requirements = {c["name"]: c["version"] for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    assert maximum(requirements[ns]) == maximum(galaxy), ns
    removed = {m: v for m, v in removal_versions(ns).items() if m in used_modules()[ns]}
    for module, version in removed.items():
        assert maximum(galaxy) is not None and maximum(galaxy) <= version, (
            "%s.%s is removed in %s but %s allows it" % (ns, module, ".".join(map(str, version)), galaxy))


def test_win_iis_webbinding_pins_community_windows_below_4():
    assert "win_iis_webbinding" in used_modules()["community.windows"]
    assert removal_versions("community.windows").get("win_iis_webbinding") == (4, 0, 0)
