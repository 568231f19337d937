"""textsafe: untrusted text renders as exactly that text in HTML, Markdown and matplotlib."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from settlement_research.textsafe import (
    escape_html,
    escape_markdown,
    escape_mathtext,
    escape_terminal,
    one_line,
    safe_href,
)

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "[x](javascript:alert(3))",
    "![i](javascript:alert(4))",
    '<a href="javascript:alert(5)">y</a>',
    "<javascript:alert(6)>",
    "*em* __strong__ `code` ~~del~~ $\\alpha$ $$x$$",
    "line\n# heading\n> quote\n- item\n1. one",
    "www.example.com http://example.com a@b.no",
    "Nord-Odal & Sør-Odal",
    "x\\",
    "\\[not a link\\](javascript:x)",
]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(markdown: str) -> _Page:
    page = _Page()
    page.feed(markdown2html_mistune(markdown))
    return page


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_renders_the_text_and_no_markup(text: str) -> None:
    page = _render(f"# {escape_markdown(text)}\n\nSettled in **{escape_markdown(text)}**: 12.")
    assert [t for t, _ in page.tags] == ["h1", "a", "p", "strong"]  # the heading's own anchor only
    for _tag, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs)
        assert all(not (v or "").strip().lower().startswith("javascript:") for v in attrs.values())
    assert _words(one_line(text)) in _words("".join(page.text))
    # control: unescaped, the same text does become markup
    if text.startswith(("<img", "<script", "[x]", "![i]", "<a ")):
        raw = _render(f"# {text}\n\nSettled in **{text}**.")
        assert {t for t, _ in raw.tags} - {"h1", "a", "p", "strong"} or any(
            (a.get("href") or "").startswith("javascript:") for _, a in raw.tags)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_comes_out_of_markdown_as_itself(text: str) -> None:
    page = _render(f"Name: {escape_markdown(text)} end")
    assert [t for t, _ in page.tags] == ["p"]
    assert _words("".join(page.text)) == _words(f"Name: {one_line(text)} end")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&;#[]()!*_`$\\-+.:@=/~|{}^%\"' ajvscript1x")), max_size=40))
def test_markdown_syntax_soup_comes_out_as_itself(text: str) -> None:
    page = _render(f"Name: {escape_markdown(text)} end")
    assert [t for t, _ in page.tags] == ["p"]
    assert _words("".join(page.text)) == _words(f"Name: {one_line(text)} end")


def test_html_escapes_text_and_attributes() -> None:
    assert escape_html('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#x27;"
    assert escape_html(None) == "" and escape_html(12) == "12"


def test_one_line_and_terminal_text() -> None:
    assert one_line("a\r\nb\tc\u2028d\x00e\x1b") == "a b c de"
    assert escape_terminal("red\x1b[31m\rx\nnext") == "red\\x1b[31m\\x0dx\nnext"


def test_only_plain_file_names_are_links() -> None:
    assert safe_href("kommune_nr-0301.html") == "kommune_nr-0301.html"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:x", "../secret.html", "/etc/passwd", "a/b.html",
                "http://x.no/a.html", " x.html", "", None, ".hidden", "data:text/html,x"):
        assert safe_href(bad) is None


def test_mathtext_is_not_parsed_in_labels() -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = r"Bad $\notacommand{$ name $x^2$"

    def draw(label: str) -> None:
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label=label)
        ax.legend()
        ax.set_title(label)
        try:
            fig.savefig(io.BytesIO(), format="png")
        finally:
            plt.close(fig)

    draw(escape_mathtext(name))  # drawn as text
    with pytest.raises(ValueError):  # control: as mathtext the name breaks the figure
        draw(name)
