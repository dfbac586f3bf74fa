# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's data files: the one place that reads them.

Tables that are facts (IdFix's TLDs and rules, ports, endpoints, the RMS connector registry values)
live as data in the package of the component that owns them (module_utils/<component>/<file>);
every reader goes through here. The controller-side modules run in the controller process (action
plugins), where Ansible's collection loader serves package data; a plain import (unit tests,
scripts) reads the file under the directory of this module.
"""

from __future__ import annotations

import os
import pkgutil

PACKAGE = "ansible_collections.ems.enable.plugins.module_utils"


def read_bytes(component, name):
    """Raw content of <component>/<name>, e.g. ("network", "ports.yml")."""
    raw = None
    try:
        raw = pkgutil.get_data("%s.%s" % (PACKAGE, component), name)
    except (OSError, ImportError, ValueError):
        raw = None
    if raw is None:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), component, name), "rb") as handle:
            raw = handle.read()
    return raw


def read_text(component, name):
    return read_bytes(component, name).decode("utf-8")


def load_yaml(component, name):
    """<component>/<name> parsed with PyYAML's safe loader (PyYAML comes with ansible-core)."""
    import yaml

    return yaml.safe_load(read_text(component, name))
