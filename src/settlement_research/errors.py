"""One error boundary: every domain error is a ``SettlementResearchError``.

Each error says what went wrong (``message``), where (``file``, ``line``, ``column``, ``key``) and
what to do (``hint``). The console script catches the base class once and prints
``paragraph()`` on stderr with ``exit_code``: 1 for invalid data (``DataError``), 2 for unusable
input or arguments (``InputError``). Anything else that escapes is a bug and is shown as one.

Older error classes (``HarmonizeError``, ``CatalogError`` ...) keep their builtin bases as well
(``ValueError``, ``KeyError`` ...), so code that catches those still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXIT_INVALID_DATA = 1
EXIT_UNUSABLE_INPUT = 2
EXIT_BUG = 70  # EX_SOFTWARE: an exception the package did not expect

ISSUES_URL = "the project's issue tracker (settlement_research, label 'bug')"


class SettlementResearchError(Exception):
    """What went wrong, where (file, line, column, key) and what to do about it."""

    exit_code: int = EXIT_UNUSABLE_INPUT

    def __init__(
        self,
        message: str = "",
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: str | int | None = None,
        key: Any = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.key = key
        self.hint = hint

    def __str__(self) -> str:  # KeyError/LookupError would quote the message
        return self.message

    def where(self) -> str:
        """'file, line 3, column kommune_nr, key 0301': the parts that are known and not yet in
        the message."""
        parts = []
        if self.file and self.file not in self.message:
            parts.append(self.file)
        if self.line is not None and f"line {self.line}" not in self.message:
            parts.append(f"line {self.line}")
        if self.column is not None and str(self.column) not in self.message:
            parts.append(f"column {self.column}")
        if self.key is not None and str(self.key) not in self.message:
            parts.append(f"key {self.key}")
        return ", ".join(parts)

    def paragraph(self) -> str:
        """The short text the console shows: where, what, and what to do."""
        where = self.where()
        if not where:
            text = self.message
        elif self.file and self.file not in self.message:
            text = f"{where}: {self.message}"
        else:  # the message names the file already; add the rest of the place after it
            text = f"{self.message} ({where})"
        if self.hint and self.hint not in text:
            text += f"\n  hint: {self.hint}"
        return text


class DataError(SettlementResearchError):
    """The data are invalid: a rule is broken, a value lies, a file is incomplete (exit 1)."""

    exit_code = EXIT_INVALID_DATA


class InputError(SettlementResearchError):
    """The input cannot be used: a bad argument, setting, path or file format (exit 2)."""

    exit_code = EXIT_UNUSABLE_INPUT


class SettingError(InputError, ValueError):
    """A malformed command-line value or environment setting."""


class OutputError(InputError, OSError):
    """An output cannot be written where it was asked for (folder instead of file, read-only ...)."""


class UnreadableFileError(InputError, OSError):
    """A file could not be read as a table (missing, empty, corrupt, binary, unsupported type)."""


class UnsupportedEncodingError(UnreadableFileError):
    """A text file in an encoding the package does not read (UTF-16/32, NUL bytes, binary)."""


class TextFormatError(DataError, ValueError):
    """A text table that is not what its format promises: cut short, mixed encoding, ragged,
    a header repeated inside (two files joined). Names the file and the first bad line."""


__all__ = [
    "EXIT_BUG", "EXIT_INVALID_DATA", "EXIT_UNUSABLE_INPUT", "DataError", "InputError",
    "OutputError", "SettingError", "SettlementResearchError", "TextFormatError",
    "UnreadableFileError", "UnsupportedEncodingError",
]
