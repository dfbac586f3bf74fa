# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active Directory level tables: the one source of truth for functional levels and schema versions.

Functional levels: MS-ADTS 6.1.4.4 (msDS-Behavior-Version; rootDSE forestFunctionality,
domainFunctionality, domainControllerFunctionality) and the Windows SDK's DS_BEHAVIOR_WIN2025 (10).
Schema versions: objectVersion on the schema naming context (Microsoft Learn, "How to find the
current Schema Version"; windowsserverdocs identity/ad-ds/deploy/find-active-directory-schema).
"""

from __future__ import annotations

# number -> (option key, display name). Keys are what users write in options (minimum_forest_level).
FUNCTIONAL_LEVELS = {
    0: ("2000", "Windows 2000"),
    1: ("2003_interim", "Windows Server 2003 interim"),
    2: ("2003", "Windows Server 2003"),
    3: ("2008", "Windows Server 2008"),
    4: ("2008_R2", "Windows Server 2008 R2"),
    5: ("2012", "Windows Server 2012"),
    6: ("2012_R2", "Windows Server 2012 R2"),
    7: ("2016", "Windows Server 2016"),  # also the level of Windows Server 2019 and 2022
    10: ("2025", "Windows Server 2025"),
}

LEVEL_BY_KEY = {key: number for number, (key, _name) in FUNCTIONAL_LEVELS.items()}
LEVEL_KEYS = [FUNCTIONAL_LEVELS[n][0] for n in sorted(FUNCTIONAL_LEVELS)]

# objectVersion of the schema NC -> the Windows Server release that introduced it.
SCHEMA_VERSIONS = {
    13: "Windows 2000",
    30: "Windows Server 2003",
    31: "Windows Server 2003 R2",
    44: "Windows Server 2008",
    47: "Windows Server 2008 R2",
    56: "Windows Server 2012",
    69: "Windows Server 2012 R2",
    72: "Windows Server 2016 Technical Preview",
    81: "Windows Server 2016 Technical Preview 5",
    85: "Windows Server 2016 (pre-release)",
    87: "Windows Server 2016",
    88: "Windows Server 2019/2022",
    91: "Windows Server 2025",
}


def level_name(number):
    """'Windows Server 2008 (3)' style text for a level number (unknown numbers are said so)."""
    if number is None:
        return "unknown"
    entry = FUNCTIONAL_LEVELS.get(int(number))
    return entry[1] if entry else "unknown level %d" % int(number)


def level_info(number):
    """Level as returned by the modules: {'number': 3, 'key': '2008', 'name': 'Windows Server 2008'}."""
    if number is None:
        return None
    entry = FUNCTIONAL_LEVELS.get(int(number))
    return {
        "number": int(number),
        "key": entry[0] if entry else None,
        "name": entry[1] if entry else "unknown level %d" % int(number),
    }


def schema_name(version):
    """Best description of a schema objectVersion: the newest release at or below it."""
    if version is None:
        return "unknown"
    known = [v for v in SCHEMA_VERSIONS if v <= int(version)]
    if not known:
        return "objectVersion %d" % int(version)
    best = max(known)
    name = SCHEMA_VERSIONS[best]
    return name if best == int(version) else "%s or later (objectVersion %d)" % (name, int(version))
