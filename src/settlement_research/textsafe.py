"""Untrusted text stays text: one helper for every format the package writes.

Municipality names, county names, office labels, parameter values and error messages come from
data files or from the command line, so they are untrusted input. Wherever such a string is put
into a page it goes through one of these functions first:

* :func:`escape_html` — HTML text and attribute values (index.html, validation reports, tables);
* :func:`escape_markdown` — Markdown cells and ``display(Markdown(...))`` (headings, prose): raw
  HTML tags, link and image syntax, emphasis, code spans, math and line structure are neutralised,
  so the text renders literally in nbconvert's HTML and in JupyterLab;
* :func:`escape_mathtext` — matplotlib titles, labels and legends (``$`` would start mathtext);
* :func:`safe_href` — a link target, allowed only as a plain relative file name (no scheme, no
  folder), so no ``javascript:`` or foreign URL can become a link;
* :func:`escape_terminal` — text printed to a console (no escape sequences reach the terminal).

Why one module: an escape written in place is an escape forgotten in the next place. Keep the
rules here, and test them here (tests/test_textsafe.py).
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

# CommonMark lets any ASCII punctuation be backslash-escaped. These are the characters that start
# or close an inline construct (emphasis, code, links, images, math, strike-through, tables) or,
# at the start of a line, a block (headings, lists, quotes, thematic breaks); ':' '.' '@' also stop
# GFM autolinks (www.x, http://x, a@b). '&', '<', '>' are turned into entities first.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:@=^%])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u0085\u2028\u2029]+")
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def one_line(value: Any) -> str:
    """The text on one line: line breaks and tabs become a space, other control characters are
    dropped (a name from a file must not open a new Markdown block or a new console line)."""
    text = _LINE_BREAKS.sub(" ", _text(value))
    return "".join(c for c in text if unicodedata.category(c) != "Cc")


def escape_html(value: Any, *, quote: bool = True) -> str:
    """Text for HTML element content and (quoted) attribute values: ``& < > " '`` as entities."""
    return html.escape(_text(value), quote=quote)


def escape_markdown(value: Any) -> str:
    """Text for a Markdown cell that renders as exactly this text (on one line).

    ``<`` ``>`` ``&`` become entities (so no raw HTML tag survives), then every character that
    could start Markdown syntax is backslash-escaped: ``[x](javascript:...)`` and ``![](...)``
    are no links or images, ``*a*`` is no emphasis, ``$x$`` is no math.
    """
    text = html.escape(one_line(value), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def escape_mathtext(value: Any) -> str:
    """Text for a matplotlib label: ``$`` is escaped, so no mathtext is parsed (one line)."""
    return one_line(value).replace("$", r"\$")


def safe_href(value: Any) -> str | None:
    """``value`` if it is a plain relative file name (``kommune_nr-0301.html``), else None.

    A link in a page the package writes only ever points at a file next to that page.
    """
    text = _text(value)
    return text if _SAFE_FILE.fullmatch(text) and ".." not in text else None


def escape_terminal(value: Any) -> str:
    """Text for a console: control characters (ANSI escapes, carriage returns) shown as ``\\xNN``."""
    return "".join(c if unicodedata.category(c) != "Cc" or c == "\n" else f"\\x{ord(c):02x}" for c in _text(value))


__all__ = ["escape_html", "escape_markdown", "escape_mathtext", "escape_terminal", "one_line", "safe_href"]
