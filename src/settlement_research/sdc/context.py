"""Is this number a count of people? Small numbers judged by where they stand, not by how written.

The gate denies by default: a whole number between 1 and ``t - 1`` that stands where a count of
people stands is withheld unless the disclosure API signed it (:mod:`.provenance`). Where a count
stands:

- **a cell** of a table (HTML ``<td>``/``<th>``, a printed polars or pandas frame): always, unless
  its column shows it is not a count — a column holding fractional values is a column of ratios,
  shares or estimates, so its ``1.00`` is a ratio of one (a ``3`` written without decimals beside it
  is still a count: one fraction does not launder a column); a column of whole numbers written with
  decimals is a column of counts, so its ``1.00`` is a count of one (the decimals decide nothing),
  unless its header says it holds rates (``exits per dwelling-year``, ``share``, ``%``);
- **prose** (Markdown, headings, captions, printed text, chart titles and annotations): a number
  followed within a few words by a word for people (``3 persons``, ``only 2 refugees``,
  ``2 of them were``) or preceded by a counting word (``settled 3``, ``n = 4``). A number whose own
  unit says it is something else (``3 years``, ``3 of 6 years``, ``rank 3 of 9``, ``3 %``,
  ``step 2``, ``2012``, ``0301``, ``1st``) is not a count;
- **results.json**: any number whose key does not say it is something else (``*_year``, ``seed``,
  ``rank``, ``*_share``…), see :func:`key_is_not_a_count`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # Hangul fillers: letters that show nothing
_SHOWN_AS_NOTHING = frozenset({"Cf", "Mn", "Me"})  # format characters (zero-width, bidi, tags), combining marks


def fold(text: str) -> str:
    """Text as a reader reads its digits: compatibility forms and every script's decimal digits
    folded (a superscript ``³``, a circled ``③``, a subscript ``₄``, an Arabic-Indic ``٣`` read as
    ``3``, ``3``, ``4``, ``3``) and what shows no character of its own removed (zero-width and other format characters, combining marks such as an underline on
    each digit, fillers), so none of them splits a number. ASCII text is returned as is."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(_folded, unicodedata.normalize("NFKC", text))  # only the non-ASCII characters looked at


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _folded(match: re.Match[str]) -> str:
    return _fold_char(match.group())


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """One non-ASCII character as a reader reads it: nothing when it shows nothing of its own, a
    decimal digit of any script as its ASCII digit (NFKC leaves a script's own digits: ١ is 1)."""
    if unicodedata.category(c) in _SHOWN_AS_NOTHING or c in _FILLERS:
        return ""
    value = unicodedata.decimal(c, None)
    return c if value is None else str(value)


_PEOPLE = (
    r"persons?|people|peoples?|individuals?|refugees?|leavers?|participants?|households?|child(?:ren)?|kids?|"
    r"adults?|wom[ae]n|m[ae]n|girls?|boys?|youths?|minors?|residents?|inhabitants?|citizens?|movers?|"
    r"cases?|observations?|obs|respondents?|famil(?:y|ies)|members?|pupils?|students?|employees?|workers?|"
    r"recipients?|applicants?|arrivals?|migrants?|immigrants?|asylum|seekers?|owners?|tenants?|patients?|"
    r"settled|newcomers?|unaccompanied|spouses?|parents?|siblings?|"
    r"personer|flyktning(?:er)?|bosatte?|deltakere?|husholdning(?:er)?|barn|voksne|kvinner|menn|innbyggere|"
    # verbs a count of people is the subject of ("2 of them were", "3 moved")
    r"were|was|are|have|had|moved|left|lived|live|died|received|remained?|stayed|came|arrived|emigrated|"
    r"got|found|dropped|var|flyttet"
)
_PEOPLE_RE = re.compile(rf"^(?:{_PEOPLE})$", re.IGNORECASE)
_OF_PEOPLE = re.compile(r"^(?:them|whom|those|these|us|you|which)$", re.IGNORECASE)
_CUES_BEFORE = re.compile(
    r"(?:\b[nN]\s*[=:]|\b(?:settled|settle|housed|requested|decided|moved|counted|count|total|totals|number|"
    r"numbers|only|just|exactly|bosatt|anmodet|vedtatt|antall|kun|bare)\s*(?:of\s+\w+\s*)?(?:was|were|is|are|=|:)?)\s*$",
    re.IGNORECASE)
# a number whose own unit or label says what it is (and that is not people)
_UNIT_AFTER = re.compile(
    r"^(?:years?|yrs?|months?|weeks?|days?|hours?|minutes?|seconds?|s|ms|quarters?|decades?|times?|x|"
    r"dimensions?|decimals?|digits?|steps?|%|per|pp|percent|prosent|år|måned(?:er)?|uker?|dager?)$",
    re.IGNORECASE)
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:table|tab|figure|fig|model|models|column|col|row|step|section|chapter|part|wave|round|notebook|cell|"
    r"version|rank|item|equation|eq|panel|specification|spec|hypothesis|level|class|quintile|quartile|decile|"
    r"tier|category|centrality|group|type|stage|phase|lag|degree|order|window|scale|grade|page|no|nr|number|"
    r"h|q|k|p|df|lags?|seed|threshold)\.?\s*(?:#|no\.?|nr\.?)?\s*$)", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,:/#§+\-–−\u00a0\u2009\u202f])(\d+)(?:[.,](0+))?"
                     r"(?![\w%‰°]|[.,:/]\d|[–−-]\d|[ \u00a0\u2009\u202f]\d{3}(?!\d))")
_WORD = re.compile(r"[\w%']+|[.;:!?()\[\]¶|]")
_ENUMERATION = re.compile(r"^\s*(?:[#>*-]+\s*)?$")  # nothing before the number on its line
_WINDOW = 3


def _following_words(text: str, end: int) -> list[str]:
    words: list[str] = []
    for match in _WORD.finditer(text, end):
        token = match.group()
        if token in ".;:!?()[]¶|":
            if token == "." and not words and text[match.end():match.end() + 1] in (" ", "\n", ""):
                words.append(".")  # "1." as an enumeration marker
            break
        words.append(token)
        if len(words) >= _WINDOW:
            break
    return words


def is_count_in_prose(text: str, start: int, end: int) -> bool:
    """True when the number at ``text[start:end]`` stands where a count of people stands."""
    after = _following_words(text, end)
    before = text[max(0, start - 40):start]
    line_start = text.rfind("\n", 0, start) + 1
    if after[:1] == ["."] and _ENUMERATION.match(text[line_start:start]):
        return False  # "1. Settlement": a numbered heading or list item
    if _LABEL_BEFORE.search(before):
        return False  # "Table 3", "rank 3", "step 2"
    for i, word in enumerate(after):
        if i == 0 and _UNIT_AFTER.match(word):
            return False
        if i == 1 and after[0].lower() == "of":
            if _OF_PEOPLE.match(word):
                return True  # "2 of them"
            if word.isdigit():  # "3 of 6 years": the unit after the second number decides
                rest = after[2:]
                return bool(rest) and bool(_PEOPLE_RE.match(rest[0]))
        if _PEOPLE_RE.match(word):
            return True
        if word.isdigit():  # another number: this one's context ends
            break
    return bool(_CUES_BEFORE.search(before))


def labelled_as_not_a_count(text: str, start: int, end: int) -> bool:
    """True when the number at ``text[start:end]`` says itself what it is, and it is not people:
    a label before it (``cell 3``, ``step 2``), a unit after it (``3 years``) or a list marker
    (``1.``). The default-deny reading of untrusted text (an error message) keeps only these."""
    after = _following_words(text, end)
    line_start = text.rfind("\n", 0, start) + 1
    if after[:1] == ["."] and _ENUMERATION.match(text[line_start:start]):
        return True
    return bool(_LABEL_BEFORE.search(text[max(0, start - 40):start])) or bool(after and _UNIT_AFTER.match(after[0]))


_DIGITS = re.compile(r"(?<!\d)(?<!\d[.,])\d+(?!\d)")


def unlabelled_numbers(text: str, t: int) -> list[tuple[int, int]]:
    """Every run of digits 1..t-1 in untrusted text (an error message) that its own label does not
    say is something else (:func:`labelled_as_not_a_count`): default deny, whatever stands next to
    it (``0534=3,0567=3`` hides its counts from :func:`small_numbers`, which reads ``3,0567`` as a
    decimal). The decimal part of a number (``0.3``) is not a run of its own."""
    out = []
    for match in _DIGITS.finditer(text):
        digits = match.group()
        if 0 < int(digits) < t and not (len(digits) > 1 and digits.startswith("0")) \
                and not labelled_as_not_a_count(text, match.start(), match.end()):
            out.append((match.start(), match.end()))
    return out


def small_numbers(text: str, t: int) -> list[tuple[int, int, bool]]:
    """Every whole number 1..t-1 standing on its own in ``text`` (not part of a longer number, a
    code, a decimal, a range, a percentage or a word): (start, end, written with decimals)."""
    out = []
    for match in _NUMBER.finditer(text):
        value = int(match.group(1))
        if 0 < value < t and not (len(match.group(1)) > 1 and match.group(1).startswith("0")):
            out.append((match.start(), match.end(), match.group(2) is not None))
    return out


def prose_counts(text: str, t: int) -> int:
    """How many small numbers of ``text`` stand where a count of people stands (read as
    :func:`fold` reads them)."""
    text = fold(text)
    return sum(1 for start, end, _ in small_numbers(text, t) if is_count_in_prose(text, start, end))


# --------------------------------------------------------------------------------------- tables

_CELL_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def read_cell(text: str) -> float | None:
    """A table cell's text as a number (thin spaces, thousands commas, decimal comma, other
    Unicode digits as :func:`fold` reads them), else None."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", fold(text))
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if not _CELL_NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def fractional_columns(rows: Sequence[Sequence[str]]) -> set[int]:
    """Columns (by position) holding at least one number with a non-zero fractional part: columns
    of ratios, shares, means or estimates, whose whole values (``1.00``) are not counts."""
    out: set[int] = set()
    for row in rows:
        for j, cell in enumerate(row):
            number = read_cell(cell)
            if number is not None and not number.is_integer():
                out.add(j)
    return out


_RATE_HEADER = re.compile(
    r"%|\bper\s*(?:\d|dwelling|inhabitant|capita|bolig|innbygger)|"
    r"\b(?:share|shares|rate|rates|ratio|ratios|mean|average|median|andel|andeler|gjennomsnitt)\b",
    re.IGNORECASE)


def rate_header(text: str) -> bool:
    """A column header saying its numbers are ratios (``exits per dwelling-year``, ``share``, ``%``):
    a whole value under it written as a ratio (``1.0`` exits per dwelling-year) is a ratio of one, not
    a count. It is template wording, so it carries the trust the prose rule gives a unit, no more."""
    return bool(_RATE_HEADER.search(text))


def _with_decimals(text: str) -> bool:
    """A number written with a decimal part (``1.00``, ``1,0``): how a ratio column writes its whole
    values. One fraction in a column does not make a plainly written ``3`` beside it a ratio."""
    return bool(re.search(r"[.,]\d+\s*$", text.strip()))


def small_count_cells(rows: Sequence[Sequence[str]], t: int, *, skip: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
                      typed: bool = False, headers: Sequence[str] = ()) -> list[tuple[int, int]]:
    """(row, column) of every cell that reads as a count 1..t-1 given its column (see module doc);
    ``skip``: cells already accounted for (signed by the disclosure API); ``typed``: the cells are
    stored numbers (a workbook's ``<v>1</v>`` is a float 1.0 as much as an int), so a ratio
    column's whole values are all taken as ratios (residual: a workbook column of counts with one
    fraction in it passes); ``headers``: the column headers by position, where known (a column
    whose header names rates is a ratio column)."""
    ratios = fractional_columns(rows) | {j for j, head in enumerate(headers) if rate_header(head)}
    found = []
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if (i, j) in skip or (j in ratios and (typed or _with_decimals(cell))):
                continue  # a ratio column's 1.00 is a ratio of one; its plainly written 3 is a count
            number = read_cell(cell)
            if number is not None and number.is_integer() and 0 < number < t:
                found.append((i, j))
    return found


_BOX = re.compile(r"[\u2502\u2506]")
_PANDAS_SPLIT = re.compile(r"\s{2,}|\t")


def printed_tables(text: str) -> list[list[list[str]]]:
    """Tables printed as text: polars frames (box-drawing rules) and pandas-style blocks (two or
    more lines of two or more fields apart by two spaces or a tab). A pandas row index (0, 1, 2…
    in the first field) is dropped: it numbers rows, it counts nobody."""
    tables: list[list[list[str]]] = []
    box: list[list[str]] = []
    block: list[list[str]] = []

    def close_block() -> None:
        if len(block) >= 2:
            firsts = [read_cell(r[0]) for r in block]
            numbered = [f for f in firsts if f is not None]
            if len(numbered) >= 2 and all(b - a == 1 for a, b in zip(numbered, numbered[1:], strict=False)) \
                    and numbered[0] in (0, 1):
                tables.append([r[1:] if read_cell(r[0]) is not None else r for r in block])
            else:
                tables.append([list(r) for r in block])
        block.clear()

    for line in text.splitlines():
        if _BOX.search(line):
            box.append([c.strip() for c in _BOX.split(line)])
            close_block()
            continue
        fields = [f for f in _PANDAS_SPLIT.split(line.strip()) if f]
        if len(fields) >= 2:
            block.append(fields)
        else:
            close_block()
    close_block()
    if box:
        width = max(len(r) for r in box)
        tables.append([r + [""] * (width - len(r)) for r in box])
    return tables


def printed_counts(text: str, t: int) -> int:
    """Small counts in the cells of tables printed as text (see :func:`printed_tables`)."""
    total = 0
    for table in printed_tables(text):
        width = max(len(r) for r in table)
        total += len(small_count_cells([r + [""] * (width - len(r)) for r in table], t))
    return total


# ---------------------------------------------------------------------------------- results.json

_NOT_A_COUNT_KEY = re.compile(
    r"(?:^|_)(?:year|years|yr|seed|rank|ranks|scale|threshold|version|digits|step|order|index|level|class|"
    r"centrality|quintile|quartile|decile|month|months|lag|df|degree|k|id|nr|code|share|shares|ratio|rate|"
    r"mean|median|sd|se|std|error|estimate|coef|coefficient|p|pvalue|p_value|ci|low|high|lower|upper|"
    r"value|per_1000|percent|pct|elasticity|index|beta|t|z|r2|weight|bandwidth|exit_code|pairs|hypotheses|"
    r"dimensions|window|duration|seconds|s|version|versions|provenance|data|parameters|first|last|length|width|"
    r"symbol|symbols|lang|status|kommune|fylke|gate|cache|git|hash|sha256|manifest)(?:$|_)", re.IGNORECASE)


# sections whose leaves are not numbers of the data: the run's parameters (strings the user passed)
# and package versions. Other metadata (provenance, data, plan, hypotheses) is judged key by key: a
# template can write anything under a section's name.
_META = {"parameters", "versions", "_sdc", "_public"}
# keys whose values are fractions by nature: a JSON integer under one (``"settled_mean": 3``) is a count
_FRACTION_KEY = re.compile(
    r"(?:^|_)(?:share|shares|ratio|rate|mean|median|sd|se|std|error|estimate|coef|coefficient|p|pvalue|p_value|"
    r"ci|low|high|lower|upper|value|per_1000|percent|pct|elasticity|beta|t|z|r2|weight|bandwidth)(?:$|_)",
    re.IGNORECASE)


def key_is_not_a_count(path: Sequence[str], value: object = None) -> bool:
    """True when a results.json key path names something other than a count of people: a year,
    seed, rank, share, estimate… (the last named key; ``settled_by_year`` is about ``settled`` and
    ``by_kommune_level`` about nothing it names: a count), or lies under the run's parameters or
    versions. ``value``: an ``int`` under a key of fractions (a share, mean, estimate) is a count."""
    keys = [str(k) for k in path if not str(k).isdigit()]
    if any(k in _META for k in keys[:-1]):
        return True
    if not keys:
        return False
    last = re.split(r"(?:^|_)by_", keys[-1])[0]
    if isinstance(value, int) and not isinstance(value, bool) and _FRACTION_KEY.search(last):
        return False
    return bool(_NOT_A_COUNT_KEY.search(last))


__all__ = [
    "fractional_columns", "is_count_in_prose", "key_is_not_a_count", "labelled_as_not_a_count", "printed_counts",
    "printed_tables", "prose_counts", "rate_header", "read_cell", "small_count_cells", "small_numbers",
    "unlabelled_numbers",
]
