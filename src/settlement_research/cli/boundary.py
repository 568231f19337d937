"""The one place where errors meet the terminal.

``run_guarded`` runs a command and turns what escapes it into a message and an exit code:

* ``SettlementResearchError``: its paragraph (what, where, what to do) on stderr, exit 1 for
  invalid data, 2 for unusable input or arguments;
* an operating-system refusal about a named path (permission denied, read-only file system, no
  such file, a folder where a file was expected, disk full): the same kind of paragraph, exit 2;
* ``MemoryError``: the request was too large for this machine, exit 2;
* anything else: a bug. The traceback is printed with a request to report it, exit 70.

``--debug`` (or ``SETTLEMENT_RESEARCH_DEBUG=1``) adds the traceback to the first three.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import traceback
from collections.abc import Callable

from settlement_research import __version__
from settlement_research.errors import (
    EXIT_BUG,
    EXIT_UNUSABLE_INPUT,
    ISSUES_URL,
    SettlementResearchError,
)
from settlement_research.textsafe import escape_terminal

PROG = "settlement-research"
DEBUG_ENV = "SETTLEMENT_RESEARCH_DEBUG"
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# errno values that describe the user's paths or machine, not a fault in the package
_ENVIRONMENT_ERRNOS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EEXIST: "it already exists (and is not a folder that can be used)",
    errno.ENOSPC: "no space left on the device",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EDQUOT: "the disk quota is exceeded",
}


def run_guarded(command: Callable[[], int], *, name: str | None = None, debug: bool = False) -> int:
    """Run ``command`` and return its exit code; print every escaping error the same way."""
    prefix = f"{PROG} {name}" if name else PROG
    debug = debug or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
    try:
        return command()
    except SettlementResearchError as exc:
        _show(prefix, exc.paragraph(), exc, debug, suggest_debug=False)
        return exc.exit_code
    except MemoryError as exc:
        _show(prefix, "the request needs more memory than this machine has (MemoryError); "
              "ask for less at once (a smaller parameter grid, fewer files, a smaller scale)", exc, debug)
        return EXIT_UNUSABLE_INPUT
    except BrokenPipeError:  # the reader of our output went away (`| head`): not an error of ours
        with contextlib.suppress(OSError, ValueError):  # Python's advice: no flush error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        text = _environment_message(exc)
        if text is None:
            return _bug(prefix, exc)
        _show(prefix, text, exc, debug)
        return EXIT_UNUSABLE_INPUT
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the boundary: everything else is a bug
        return _bug(prefix, exc)


def _environment_message(exc: OSError) -> str | None:
    """A paragraph for an OS refusal about a named path; None if it is not one."""
    reason = _ENVIRONMENT_ERRNOS.get(exc.errno or -1)
    if reason is None or not exc.filename:
        return None
    target = exc.filename if not exc.filename2 else f"{exc.filename} -> {exc.filename2}"
    return (f"cannot use {target}: {reason}\n"
            "  hint: check the path and its permissions, or choose another folder with --out/--report")


def _show(prefix: str, text: str, exc: BaseException, debug: bool, suggest_debug: bool = True) -> None:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    print(f"{prefix}: error: {escape_terminal(text)}", file=sys.stderr)
    if suggest_debug and not debug:
        print("  (--debug shows where it happened)", file=sys.stderr)


def _bug(prefix: str, exc: BaseException) -> int:
    traceback.print_exception(exc, file=sys.stderr)
    print(
        f"{prefix}: internal error ({type(exc).__name__}). This is a bug in settlement-research "
        f"{__version__}, not a problem with your data or arguments; please report it to "
        f"{ISSUES_URL} with the command you ran and the traceback above.",
        file=sys.stderr,
    )
    return EXIT_BUG


__all__ = ["DEBUG_ENV", "run_guarded"]
