"""pscheck: static checks of the collection's Windows side (no PowerShell runtime on these machines).

* rules: PowerShell rules on the tree-sitter-pwsh syntax tree (PS0xx), see rules.RULES;
* contract: the keys roles read from registered PowerShell module results must be set by the module
  and documented in its RETURN (RCxxx).

Run it: ``scripts/pscheck`` (or ``PYTHONPATH=tests python -m pscheck``); tests/unit/test_pscheck.py
runs it in the units stage, so the suite fails when the tree has a finding.
"""

from __future__ import annotations

from pathlib import Path

from .contract import check_roles
from .rules import Finding, check_tree

__all__ = ["Finding", "check_all"]


def check_all(root: Path) -> list[Finding]:
    """Every finding of the PowerShell rules and the result contract in a collection tree."""
    return sorted(check_tree(root) + check_roles(root))
