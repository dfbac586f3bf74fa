"""CLI: print every finding as `path:line:col: RULE message`; exit code 1 when there is one.

    scripts/pscheck [ROOT] [--list]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import check_all
from .contract import RULES as CONTRACT_RULES
from .rules import RULES, check_source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pscheck", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="collection root (default: this tree), or .ps1/.psm1 files")
    parser.add_argument("--list", action="store_true", help="list the rules")
    args = parser.parse_args(argv)
    if args.list:
        for rule, text in sorted({**RULES, **CONTRACT_RULES}.items()):
            print("%s  %s" % (rule, text))
        return 0
    findings = []
    paths = args.paths or [str(Path(__file__).resolve().parents[2])]
    for item in paths:
        path = Path(item)
        if path.is_dir():
            findings.extend(check_all(path))
        else:
            findings.extend(check_source(path.read_bytes(), str(path)))
    for finding in findings:
        print(finding)
    print("pscheck: %d finding(s)" % len(findings), file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
