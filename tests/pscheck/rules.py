"""PowerShell rules of pscheck, on the tree-sitter-pwsh syntax tree (no PowerShell runtime here).

Each rule is one bug class a review of the Windows side found (issue 19). A finding is
``Finding(path, line, col, rule, message)`` with 1-based line and column.

Known false positives are silenced only in the code itself, one line at a time, with a reason:

    $x | ForEach-Object { ... }   # pscheck: allow PS003 -- $x is always an array here (built above)

(or the same comment alone on the line above). A marker without a reason after ``--`` does not
count, and a marker that silences nothing is itself a finding (PS900), so the list cannot rot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tree_sitter
import tree_sitter_pwsh

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))

#: rule id -> one-line description (the CLI's --list and the README table).
RULES = {
    "PS001": "a -f inside a method's argument list whose right side is cut by the argument comma",
    "PS002": "a format string whose {n} placeholders outnumber the -f arguments",
    "PS003": "a value that may be $null piped into ForEach-Object (PowerShell runs the block once with $null)",
    "PS004": "under Set-StrictMode, a property read on the output of a cmdlet Microsoft types only 'Object'",
    "PS005": "$null on the right of a comparison (an array on the left filters instead of comparing)",
    "PS006": "PowerShell 7-only syntax (Windows PowerShell 5.1 runs the modules): ??, ??=, ?., ?[], "
             "a ? b : c, && / || pipeline chains, ForEach-Object -Parallel",
    "PS900": "a pscheck allow marker that silences nothing, or has no reason",
}

#: Cmdlets whose Microsoft Learn page gives the output type as plain "Object": their properties are
#: not documented, so under Set-StrictMode a read must first test the property exists
#: (``$o.PSObject.Properties.Name -contains 'X'``) or go through a safe accessor.
OBJECT_OUTPUT_CMDLETS = {
    # https://learn.microsoft.com/powershell/module/webapplicationproxy/get-webapplicationproxysslcertificate
    # ("Outputs: Object")
    "get-webapplicationproxysslcertificate",
}

FOREACH_NAMES = {"foreach-object", "%", "foreach"}
NULL_COMPARISONS = {"-eq", "-ne", "-ceq", "-cne", "-ieq", "-ine"}
#: Nodes that start a new expression context: a -f inside them is not cut by an outer comma.
ENCLOSING = {"parenthesized_expression", "sub_expression", "array_expression", "script_block_expression",
             "hash_literal_expression", "argument_list", "string_literal"}
ALLOW = re.compile(r"#\s*pscheck:\s*allow\s+(PS\d{3})(?:\s*--\s*(\S.*))?")
PLACEHOLDER = re.compile(r"\{(\d+)(?:\s*,\s*-?\d+)?(?::[^{}]*)?\}")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    col: int
    rule: str
    message: str

    def __str__(self) -> str:
        return "%s:%d:%d: %s %s" % (self.path, self.line, self.col, self.rule, self.message)


class _File:
    def __init__(self, path: str, source: bytes):
        self.path = path
        self.source = source
        self.tree = PARSER.parse(source)
        self.findings: list[Finding] = []
        self.strict = b"set-strictmode" in source.lower()

    def text(self, node) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def add(self, node, rule: str, message: str) -> None:
        self.findings.append(Finding(self.path, node.start_point[0] + 1, node.start_point[1] + 1, rule, message))


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def _named(node, *types):
    return [c for c in node.named_children if c.type in types]


def _unwrap(node):
    """The expression inside unary_expression / pipeline / pipeline_chain wrappers."""
    while node is not None and node.type in ("unary_expression", "pipeline", "pipeline_chain",
                                             "assignment_value") and node.named_child_count == 1:
        node = node.named_children[0]
    return node


# ---------------------------------------------------------------------------------------------
# PS001 / PS002: the format operator
def _format_under(node):
    """format_(argument_)expression nodes in node, not inside a nested expression context."""
    for child in node.named_children:
        if child.type in ENCLOSING:
            continue
        if child.type in ("format_argument_expression", "format_expression"):
            yield child
        yield from _format_under(child)


def rule_format_cut(f: _File) -> None:
    for lst in walk(f.tree.root_node):
        if lst.type != "argument_expression_list":
            continue
        args = _named(lst, "argument_expression")
        for arg in args[:-1]:
            for fmt in _format_under(arg):
                f.add(fmt, "PS001", "-f inside a method argument list: the next argument after the comma is "
                      "a method argument, not a -f value; wrap the whole format expression in parentheses: "
                      "$m.Method((\"{0} {1}\" -f $a, $b))")
                break


def _literal_strings(f: _File, node) -> list[str] | None:
    """The texts of a string literal or a '+' concatenation of them (in parentheses), else None."""
    node = _unwrap(node)
    if node is None:
        return None
    if node.type == "parenthesized_expression":
        inner = _named(node, "pipeline")
        return _literal_strings(f, inner[0]) if len(inner) == 1 else None
    if node.type == "string_literal":
        return [f.text(node)]
    if node.type == "additive_expression":
        parts = []
        for child in node.named_children:
            strings = _literal_strings(f, child)
            if strings is None:
                return None
            parts.extend(strings)
        return parts
    return None


def _count_values(node) -> int | None:
    """How many values the right side of -f gives, when the syntax says so, else None."""
    node = _unwrap(node)
    if node is None:
        return None
    if node.type == "array_literal_expression":
        return len(node.named_children)
    if node.type in ("variable", "array_expression", "sub_expression", "parenthesized_expression",
                     "invocation_expression", "member_access", "element_access"):
        return None  # may be an array at run time
    return 1


def rule_format_count(f: _File) -> None:
    for node in walk(f.tree.root_node):
        if node.type not in ("format_expression", "format_argument_expression"):
            continue
        named = node.named_children
        ops = [i for i, c in enumerate(named) if c.type == "format_operator"]
        if not ops:
            continue
        strings = _literal_strings(f, named[ops[0] - 1]) if ops[0] > 0 else None
        if strings is None:
            continue
        indexes = [int(m.group(1)) for s in strings for m in PLACEHOLDER.finditer(s.replace("{{", "").replace("}}", ""))]
        if not indexes:
            continue
        right = named[ops[0] + 1:]
        if node.type == "format_argument_expression":
            count = 1 if right else 0  # a method argument comma ends the right side
        else:
            count = _count_values(right[0]) if len(right) == 1 else None
        if count is not None and max(indexes) + 1 > count:
            f.add(node, "PS002", "format string uses {%d} but -f gets %d value(s)" % (max(indexes), count))


# ---------------------------------------------------------------------------------------------
# PS003: a value that may be $null piped into ForEach-Object
def _always_array_variables(f: _File) -> set[str]:
    """Variables whose every assignment in the file is @(...) or a literal list: never $null."""
    seen: dict[str, bool] = {}
    for node in walk(f.tree.root_node):
        if node.type != "assignment_expression":
            continue
        left = _unwrap(node.named_children[0].named_children[0]) if node.named_children[0].named_children else None
        if left is None or left.type != "variable":
            continue
        name = f.text(left).lower()
        value = _unwrap(node.named_children[-1])
        ok = value is not None and value.type in ("array_expression", "array_literal_expression")
        op = f.text(node.named_children[1]) if node.named_child_count > 2 else "="
        ok = ok or op.strip() == "+="
        seen[name] = seen.get(name, True) and ok
    return {name for name, ok in seen.items() if ok}


def _command_name(f: _File, command) -> str:
    names = _named(command, "command_name")
    return f.text(names[0]).lower() if names else ""


def rule_null_foreach(f: _File) -> None:
    arrays = _always_array_variables(f)
    for chain in walk(f.tree.root_node):
        if chain.type != "pipeline_chain":
            continue
        parts = chain.named_children
        if len(parts) < 2 or parts[0].type != "unary_expression":
            continue
        first = _unwrap(parts[0])
        if first is None or first.type not in ("variable", "member_access", "element_access", "invocation_expression"):
            continue
        if first.type == "variable" and f.text(first).lower() in arrays:
            continue
        if first.type == "invocation_expression" and re.search(r"\.Split\($", f.text(first)[:f.text(first).find("(") + 1]):
            continue  # String.Split returns an array, never $null
        nxt = parts[1]
        if nxt.type == "command" and _command_name(f, nxt) in FOREACH_NAMES:
            f.add(first, "PS003", "%s may be $null: piped into ForEach-Object the block runs once with $_ = $null; "
                  "use foreach ($x in @(...)) and skip empty values" % f.text(first))


# ---------------------------------------------------------------------------------------------
# PS004: property reads on outputs typed only "Object" under StrictMode
def _guarded(f: _File, scope, prop: str) -> bool:
    """The scope tests the property exists before reading it (PSObject.Properties)."""
    text = f.text(scope)
    return bool(re.search(r"PSObject\.Properties\S*\s+-contains\s+['\"]%s['\"]" % re.escape(prop), text, re.I)
                or re.search(r"PSObject\.Properties\[['\"]%s['\"]\]" % re.escape(prop), text, re.I))


def _object_cmdlet(f: _File, node) -> str | None:
    for n in walk(node):
        if n.type == "command" and _command_name(f, n) in OBJECT_OUTPUT_CMDLETS:
            return _command_name(f, n)
    return None


def _member_reads(f: _File, scope, variable: str):
    for n in walk(scope):
        if n.type == "member_access" and n.named_children and n.named_children[0].type == "variable" \
                and f.text(n.named_children[0]).lower() == variable:
            member = _named(n, "member_name")
            if member:
                yield n, f.text(member[0])


def _enclosing_scope(node):
    while node.parent is not None and node.type not in ("function_statement", "script_block_expression"):
        node = node.parent
    return node


def rule_strict_object(f: _File) -> None:
    if not f.strict:
        return
    for chain in walk(f.tree.root_node):
        if chain.type == "pipeline_chain":
            parts = chain.named_children
            for i, part in enumerate(parts[1:], start=1):
                if part.type != "command" or _command_name(f, part) not in FOREACH_NAMES | {"where-object", "?"}:
                    continue
                source = _object_cmdlet(f, parts[i - 1]) if parts[i - 1].type == "command" else None
                if not source:
                    continue
                for block in walk(part):
                    if block.type == "script_block_expression":
                        for read, prop in _member_reads(f, block, "$_"):
                            if prop.lower() != "psobject" and not _guarded(f, block, prop):
                                f.add(read, "PS004", "%s: Microsoft types the output of %s only as Object; "
                                      "test $_.PSObject.Properties.Name -contains '%s' first" % (f.text(read), source, prop))
                        break
        if chain.type == "assignment_expression":
            left = _unwrap(chain.named_children[0].named_children[0]) if chain.named_children[0].named_children else None
            source = _object_cmdlet(f, chain.named_children[-1])
            if left is None or left.type != "variable" or not source:
                continue
            scope = _enclosing_scope(chain)
            for read, prop in _member_reads(f, scope, f.text(left).lower()):
                if read.start_byte > chain.end_byte and prop.lower() != "psobject" and not _guarded(f, scope, prop):
                    f.add(read, "PS004", "%s: Microsoft types the output of %s only as Object; test "
                          "%s.PSObject.Properties.Name -contains '%s' first" % (f.text(read), source, f.text(left), prop))


# ---------------------------------------------------------------------------------------------
# PS005: $null on the right of a comparison
def rule_null_right(f: _File) -> None:
    for node in walk(f.tree.root_node):
        if node.type != "comparison_expression" or node.named_child_count != 3:
            continue
        left, op, right = node.named_children
        right = _unwrap(right)
        if f.text(op).lower() in NULL_COMPARISONS and right is not None and right.type == "variable" \
                and f.text(right).lower() == "$null":
            f.add(node, "PS005", "put $null on the left: '$null %s %s' (with an array on the left, %s filters "
                  "the array instead of testing it)" % (f.text(op), f.text(left), f.text(op)))


# ---------------------------------------------------------------------------------------------
# PS006: PowerShell 7-only syntax
def rule_ps7(f: _File) -> None:
    for node in walk(f.tree.root_node):
        what = None
        if node.type == "null_coalesce_expression":
            what = "the ?? operator"
        elif node.type == "ternary_expression":
            what = "the ternary operator a ? b : c"
        elif node.type == "pipeline_chain_tail":
            what = "the %s pipeline chain operator" % f.text(node).strip()
        elif node.type == "assignment_operator" and f.text(node).strip() == "??=":
            what = "the ??= operator"
        elif not node.is_named and node.type == "?" and node.next_sibling is not None \
                and f.text(node.next_sibling)[:1] in (".", "["):
            what = "the null-conditional member access ?%s" % f.text(node.next_sibling)[:1]
        elif node.type == "command_parameter" and f.text(node).lower() == "-parallel" \
                and node.parent is not None and node.parent.parent is not None \
                and _command_name(f, node.parent.parent) in FOREACH_NAMES:
            what = "ForEach-Object -Parallel"
        if what:
            f.add(node, "PS006", "%s is PowerShell 7 only; Ansible runs the modules in Windows PowerShell 5.1" % what)


ALL_RULES = (rule_format_cut, rule_format_count, rule_null_foreach, rule_strict_object, rule_null_right, rule_ps7)


def _apply_allow_markers(f: _File) -> list[Finding]:
    lines = f.source.decode("utf-8", "replace").splitlines()
    markers = {}
    for number, line in enumerate(lines, start=1):
        match = ALLOW.search(line)
        if match:
            # A marker alone on its line covers the next line; after code it covers its own line.
            target = number + 1 if line.lstrip().startswith("#") else number
            markers[(target, match.group(1))] = (number, match.group(2))
    kept, used = [], set()
    for finding in f.findings:
        key = (finding.line, finding.rule)
        if key in markers and markers[key][1]:
            used.add(key)
            continue
        kept.append(finding)
    for key, (number, reason) in markers.items():
        if not reason:
            kept.append(Finding(f.path, number, 1, "PS900", "allow marker for %s without a reason after '--'" % key[1]))
        elif key not in used:
            kept.append(Finding(f.path, number, 1, "PS900", "allow marker for %s silences nothing: remove it" % key[1]))
    return kept


def check_source(source: bytes | str, path: str = "<string>") -> list[Finding]:
    """Every finding of every rule in one PowerShell source."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    f = _File(path, source)
    for rule in ALL_RULES:
        rule(f)
    return sorted(set(_apply_allow_markers(f)))


def powershell_files(root: Path) -> list[Path]:
    """Every .ps1 / .psm1 under plugins/ and roles/ (found by walking, wherever they move to)."""
    found = []
    for top in ("plugins", "roles"):
        base = root / top
        if base.is_dir():
            found.extend(p for p in base.rglob("*") if p.suffix.lower() in (".ps1", ".psm1") and p.is_file())
    return sorted(found)


def check_tree(root: Path) -> list[Finding]:
    findings = []
    for path in powershell_files(root):
        findings.extend(check_source(path.read_bytes(), str(path.relative_to(root))))
    return findings
