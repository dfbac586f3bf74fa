"""pytest setup for the unit tests: make `ansible_collections.ems.enable...` importable.

scripts/bootstrap builds .venv/collections/ansible_collections/ with the Windows collections and
a link ems/enable -> this working tree. That directory goes first on sys.path and becomes the
collections path of Ansible's collection loader, the way `ansible-test units` sets it up, so

    from ansible_collections.ems.enable.plugins.module_utils.ad import levels as ad_levels

imports the code of this working tree (through the link), and module_utils that import other
collections (ansible.windows, microsoft.ad ...) resolve too. Run them with `scripts/test units`
(or `pytest tests/unit` after `source scripts/env`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".venv" / "collections"
OWN = COLLECTIONS / "ansible_collections" / "ems" / "enable"

if not OWN.exists():  # pragma: no cover - only without scripts/bootstrap
    raise RuntimeError(
        f"{OWN} is missing: run scripts/bootstrap first (it links this working tree there)"
    )

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))


def _install_collection_loader() -> None:
    """Let Ansible's own loader serve `ansible_collections.*` from COLLECTIONS (as ansible-test)."""
    try:
        # pylint: disable-next=import-outside-toplevel
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    except ImportError:  # pragma: no cover - ansible-core missing: plain namespace packages
        return
    finder = _AnsibleCollectionFinder(paths=[str(COLLECTIONS)], scan_sys_paths=False)
    finder._install()  # pylint: disable=protected-access


_install_collection_loader()
