# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain-text layout for the screen-share output: styles, wrapping, tables and framed blocks.

Used by the ems.enable.onboarding callback and by the attended_step action (its plain ``msg``).
Every function returns lines no wider than the width it is given (the callback uses 100 columns),
counting display cells (East Asian wide characters count two). Colors are bold plus the basic
eight ANSI colors only (they survive a projector); there is no dim or grey text, and a Style with
color off emits no escape sequence at all (NO_COLOR, TERM=dumb, CI logs).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")

# One color per verdict. Bold + basic colors: readable on a washed-out projector image.
_CODES = {
    "bold": "1",
    "red": "1;31",
    "green": "1;32",
    "yellow": "1;33",
    "blue": "1;34",
    "magenta": "1;35",
    "cyan": "1;36",
}

STATUS_COLORS = {
    "ok": "green",
    "done": "green",
    "pass": "green",
    "changed": "yellow",
    "warn": "yellow",
    "skipped": "cyan",
    "pending": "magenta",
    "failed": "red",
    "fail": "red",
    "unreachable": "red",
    "rescued": "yellow",
    "ignored": "yellow",
}

_UNICODE_GLYPHS = {
    "h": "\u2500", "v": "\u2502", "tl": "\u250c", "tr": "\u2510", "bl": "\u2514", "br": "\u2518",
    "t": "\u252c", "b": "\u2534", "l": "\u251c", "r": "\u2524", "x": "\u253c",
    "H": "\u2550", "V": "\u2551", "TL": "\u2554", "TR": "\u2557", "BL": "\u255a", "BR": "\u255d",
    "arrow": "\u2192", "bullet": "\u2022", "ellipsis": "\u2026", "dot": "\u00b7",
}
_ASCII_GLYPHS = {
    "h": "-", "v": "|", "tl": "+", "tr": "+", "bl": "+", "br": "+",
    "t": "+", "b": "+", "l": "+", "r": "+", "x": "+",
    "H": "=", "V": "#", "TL": "#", "TR": "#", "BL": "#", "BR": "#",
    "arrow": "->", "bullet": "*", "ellipsis": "...", "dot": "-",
}


def color_wanted(stream=None, setting="auto", environ=None):
    """Decide whether to emit colors. ``setting``: auto | always | never.

    auto: the stream is a terminal, NO_COLOR is unset or empty, TERM is not ``dumb``, and Ansible's
    own switch ANSIBLE_NOCOLOR is not set. ANSIBLE_FORCE_COLOR forces colors unless NO_COLOR is set.
    """
    env = os.environ if environ is None else environ
    if setting == "never":
        return False
    if env.get("NO_COLOR"):
        return False
    if setting == "always":
        return True
    if env.get("TERM", "") == "dumb":
        return False
    if _truthy(env.get("ANSIBLE_NOCOLOR")):
        return False
    if _truthy(env.get("ANSIBLE_FORCE_COLOR")):
        return True
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def unicode_wanted(stream=None, setting="auto", environ=None):
    """Box-drawing characters unless TERM=dumb or the stream cannot encode them (setting auto|ascii|unicode)."""
    env = os.environ if environ is None else environ
    if setting in ("ascii", "unicode"):
        return setting == "unicode"
    if env.get("TERM", "") == "dumb":
        return False
    stream = sys.stdout if stream is None else stream
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf_8")


def _truthy(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on", "y")


class Style:
    """Colors and glyphs for one output stream."""

    def __init__(self, color=False, unicode=True):
        self.color = color
        self.glyphs = _UNICODE_GLYPHS if unicode else _ASCII_GLYPHS

    def paint(self, text, color):
        if not self.color or not color or not text:
            return text
        return "\x1b[%sm%s\x1b[0m" % (_CODES[color], text)

    def bold(self, text):
        return self.paint(text, "bold")

    def status(self, text, status=None):
        """Paint ``text`` in the color of ``status`` (default: the text itself, lower-cased)."""
        return self.paint(text, STATUS_COLORS.get((status or text).strip().lower()))

    def g(self, name):
        return self.glyphs[name]


def visible_width(text):
    """Display cells taken by ``text`` (ANSI sequences removed, wide characters count two)."""
    text = ANSI_RE.sub("", text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text, width, align="left"):
    """Pad ``text`` (which may hold ANSI sequences) to ``width`` cells."""
    gap = max(0, width - visible_width(text))
    return (" " * gap + text) if align == "right" else (text + " " * gap)


def truncate(text, width, ellipsis="..."):
    """Cut plain ``text`` to ``width`` cells, ending with ``ellipsis`` when cut."""
    if visible_width(text) <= width:
        return text
    room = max(0, width - visible_width(ellipsis))
    out, used = [], 0
    for char in text:
        cells = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used + cells > room:
            break
        out.append(char)
        used += cells
    return "".join(out) + ellipsis[:width]


def wrap(text, width, indent="", subsequent=None):
    """Wrap plain ``text`` into lines of at most ``width`` cells; keeps explicit newlines and the
    spaces inside a line (aligned values), drops spaces at a break.

    Words longer than the line are cut (URLs, paths, DNs, JSON), so no line is ever wider than
    ``width``: after a separator (``/``, ``\\``, ``,``, then ``-``, ``_``, ``.``) where one falls in
    the line's last two thirds, so a path breaks between its parts, not inside a name.
    """
    subsequent = indent if subsequent is None else subsequent
    if visible_width(subsequent) > width // 2:  # a hanging indent wider than half the line: shorten it
        subsequent = " " * (width // 4) if not subsequent.strip() else ""
    lines = []
    text = "" if text is None else str(text)
    for paragraph in text.replace("\r\n", "\n").replace("\t", "    ").split("\n"):
        current = indent if not lines else subsequent
        start_width = visible_width(current)
        current_width = start_width
        for token in _TOKENS.findall(paragraph):
            token_width = visible_width(token)
            if token.isspace():
                if current_width + token_width <= width:
                    current += token
                    current_width += token_width
                else:  # a break: the spaces go
                    lines.append(current.rstrip())
                    current, current_width = subsequent, visible_width(subsequent)
                    start_width = current_width
                continue
            if current_width + token_width > width and current_width > start_width:
                lines.append(current.rstrip())
                current, current_width = subsequent, visible_width(subsequent)
                start_width = current_width
            room = max(1, width - current_width)
            while token_width > room:  # longer than a whole line: cut it
                piece = _cut(token, room)
                lines.append(current + piece)
                token = token[len(piece):]
                token_width = visible_width(token)
                current, current_width = subsequent, visible_width(subsequent)
                start_width = current_width
                room = max(1, width - current_width)
            current += token
            current_width += token_width
        lines.append(current.rstrip())
    return lines or [indent.rstrip()]


_TOKENS = re.compile(r"\s+|\S+")


#: where a word too long for a line may break, best first (after the character)
_BREAK_AFTER = ("/\\", ",;", "-_.")


def _cut(word, cells):
    out, used = [], 0
    for char in word:
        width = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used + width > cells:
            break
        out.append(char)
        used += width
    piece = "".join(out) or word[:1]
    if len(piece) < len(word):  # the word goes on: prefer a separator to a cut inside a name
        for separators in _BREAK_AFTER:
            at = max(piece.rfind(c) for c in separators)
            if at + 1 >= max(2, len(piece) // 3):
                return piece[:at + 1]
    return piece


def table(rows, columns, width, style, indent="  "):
    """A boxed table. ``columns``: list of dicts {title, min, max, weight, align}; ``rows``: lists of
    cells, each a str or (str, status) for a colored cell. Cells wrap; the table fits in ``width``.
    A row that is None draws a separator line.
    """
    g = style.g
    count = len(columns)
    inner = width - visible_width(indent) - (count + 1) - 2 * count  # borders and one space of padding each side
    widths = _column_widths(rows, columns, inner)

    def border(left, mid, right):
        return indent + g(left) + g(mid).join(g("h") * (w + 2) for w in widths) + g(right)

    def render_row(cells, bold=False):
        wrapped = []
        for index, cell in enumerate(cells):
            text, status = (cell if isinstance(cell, tuple) else (cell, None))
            text = "" if text is None else str(text)
            wrapped.append((wrap(text, widths[index]), status))
        height = max(len(w[0]) for w in wrapped)
        out = []
        for line_no in range(height):
            parts = []
            for index, (lines, status) in enumerate(wrapped):
                text = lines[line_no] if line_no < len(lines) else ""
                cell = pad(text, widths[index], columns[index].get("align", "left"))
                if status and text:
                    cell = style.status(cell, status)
                elif bold and text:
                    cell = style.bold(cell)
                parts.append(" " + cell + " ")
            out.append(indent + g("v") + g("v").join(parts) + g("v"))
        return out

    lines = [border("tl", "t", "tr")]
    lines.extend(render_row([c["title"] for c in columns], bold=True))
    lines.append(border("l", "x", "r"))
    for row in rows:
        if row is None:
            lines.append(border("l", "x", "r"))
        else:
            lines.extend(render_row(row))
    lines.append(border("bl", "b", "br"))
    return lines


def _column_widths(rows, columns, inner):
    natural = []
    for index, column in enumerate(columns):
        longest = visible_width(str(column["title"]))
        for row in rows:
            if row is None:
                continue
            cell = row[index]
            text = cell[0] if isinstance(cell, tuple) else cell
            for line in str("" if text is None else text).split("\n"):
                longest = max(longest, visible_width(line))
        natural.append(max(column.get("min", 1), min(longest, column.get("max", 10 ** 6))))
    total = sum(natural)
    if total <= inner:
        return natural
    # shrink the weighted (flexible) columns until the table fits
    flexible = [i for i, c in enumerate(columns) if c.get("weight")]
    fixed = sum(natural[i] for i in range(len(columns)) if i not in flexible)
    room = max(len(flexible), inner - fixed)
    weights = sum(columns[i]["weight"] for i in flexible) or 1
    widths = list(natural)
    remaining = room
    for position, i in enumerate(flexible):
        if position == len(flexible) - 1:
            share = remaining
        else:
            share = max(columns[i].get("min", 1), room * columns[i]["weight"] // weights)
        widths[i] = max(1, min(natural[i], share))
        remaining -= widths[i]
    # give back what a narrow column did not need
    spare = inner - sum(widths)
    for i in flexible:
        if spare <= 0:
            break
        extra = min(spare, natural[i] - widths[i])
        widths[i] += extra
        spare -= extra
    return widths


def frame(title_left, title_right, body, width, style, indent="  ", color="magenta"):
    """A double-lined frame (the attended-step block): a title bar and wrapped body lines.

    ``body``: list of (text, hanging_indent) or plain strings; an empty string is a blank line.
    """
    g = style.g
    inner = width - visible_width(indent) - 4  # '# ' and ' #'
    left = " %s " % title_left
    right = (" %s " % title_right) if title_right else ""
    fill = max(0, inner + 2 - visible_width(left) - visible_width(right) - 2)
    if fill < 2:
        left = " %s " % truncate(title_left, max(4, inner - visible_width(right) - 6))
        fill = max(2, inner + 2 - visible_width(left) - visible_width(right) - 2)
    top = indent + style.paint(g("TL") + g("H") * 2, color) + style.bold(left) + \
        style.paint(g("H") * fill, color) + style.bold(right) + style.paint(g("TR"), color)
    lines = [top]
    side = style.paint(g("V"), color)
    for item in body:
        text, hang = (item if isinstance(item, tuple) else (item, ""))
        for line in wrap(text, inner, subsequent=hang):
            lines.append(indent + side + " " + pad(line, inner) + " " + side)
    lines.append(indent + style.paint(g("BL") + g("H") * (inner + 2) + g("BR"), color))
    return lines


def rule(title, width, style, char="H", color=None):
    """A full-width heading line: '== TITLE ====...'."""
    g = style.g
    head = g(char) * 2 + " " + title + " "
    line = head + g(char) * max(2, width - visible_width(head))
    return style.paint(truncate(line, width, ""), color) if color else style.bold(truncate(line, width, ""))


def duration(seconds):
    """'0.4s', '12s', '3m 07s', '1h 02m'."""
    if seconds is None:
        return ""
    if seconds < 10:
        return "%.1fs" % seconds
    seconds = int(round(seconds))
    if seconds < 60:
        return "%ds" % seconds
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return "%dm %02ds" % (minutes, secs)
    hours, minutes = divmod(minutes, 60)
    return "%dh %02dm" % (hours, minutes)
