# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's data files (plugins/module_utils/data/): the one place that reads them.

Tables that are facts (IdFix's TLDs and rules, ports, endpoints, the RMS connector registry values)
live as data next to the code; every reader goes through here. The controller-side modules run in
the controller process (action plugins), where Ansible's collection loader serves package data;
a plain import (unit tests, scripts) reads the file next to this module.
"""

from __future__ import annotations

import os
import pkgutil

PACKAGE = "ansible_collections.ems.enable.plugins.module_utils"


def read_bytes(name):
    """Raw content of data/<name>."""
    raw = None
    try:
        raw = pkgutil.get_data(PACKAGE, "data/" + name)
    except (OSError, ImportError, ValueError):
        raw = None
    if raw is None:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name), "rb") as handle:
            raw = handle.read()
    return raw


def read_text(name):
    return read_bytes(name).decode("utf-8")


def load_yaml(name):
    """data/<name> parsed with PyYAML's safe loader (PyYAML comes with ansible-core)."""
    import yaml

    return yaml.safe_load(read_text(name))
