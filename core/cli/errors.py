"""The command line's exit codes and error types, and the one place that reports them.

Subcommands raise one of the errors below (or let a typed error of core escape); ``main``
hands it to :func:`report`, which prints one or two lines (or a JSON object with
``--json``) and returns the exit code. Nothing else in ``core/cli`` prints a failure.

    0  all done
    1  done, but some pairs need review, or part of the work failed or was cancelled
    2  bad usage or input: an option, a file named, a line of input
    3  could not run: a cache file, a system, the keyring
"""

from __future__ import annotations

import json
import sqlite3
import sys

EXIT_OK, EXIT_REVIEW, EXIT_USAGE, EXIT_COULD_NOT_RUN = 0, 1, 2, 3


class CommandError(Exception):
    """A failure the user can act on: the message says what, where, and the way out."""

    cause = "could-not-run"
    exit_code = EXIT_COULD_NOT_RUN

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}  # extra JSON members for ``--json`` (e.g. a pull result)


class UsageError(CommandError):
    """Bad arguments: an unknown workspace, an option out of range, a missing file named."""

    cause, exit_code = "usage", EXIT_USAGE


class InputError(CommandError):
    """Input that cannot be read: a decide line, a sandbox info file's contents."""

    cause, exit_code = "input", EXIT_USAGE


class FileProblem(CommandError):
    """A cache (or other file Concord keeps) that cannot be opened, read or written."""

    cause, exit_code = "file", EXIT_COULD_NOT_RUN


class RemoteProblem(CommandError):
    """Salesforce or Apollo (or the sandbox) could not be reached or refused the request."""

    cause, exit_code = "remote", EXIT_COULD_NOT_RUN


class CouldNotRun(CommandError):
    """Anything else that stops a command: no secure keyring, no display."""

    cause, exit_code = "could-not-run", EXIT_COULD_NOT_RUN


class CutShort(CommandError):
    """The user cancelled (Ctrl-C): what was done is kept and the next run continues."""

    cause, exit_code = "cancelled", EXIT_REVIEW


def _core_errors() -> tuple:
    """Core's typed errors and the cause each stands for (imported late: ``--help`` stays
    quick)."""
    from core.credentials import CredentialError
    from core.sources.errors import SourceError
    from core.store.cache import CacheError
    from core.sync.connections import SandboxInfoError
    from core.workspace import WorkspaceError

    return ((CacheError, FileProblem), (WorkspaceError, UsageError),
            (SandboxInfoError, InputError), (CredentialError, CouldNotRun),
            (SourceError, RemoteProblem))


def as_command_error(exc: BaseException) -> CommandError | None:
    """``exc`` as a :class:`CommandError`, or ``None`` for a bug (which should be seen)."""
    if isinstance(exc, CommandError):
        return exc
    for core_type, cause in _core_errors():
        if isinstance(exc, core_type):
            return cause(str(exc))
    if isinstance(exc, sqlite3.Error):  # the cache refused outside a transaction
        return FileProblem(f"SQLite refused the cache: {exc}. Check that its disk has room "
                           f"and is writable, and run `concord cache check` on it.")
    if isinstance(exc, OSError) and exc.filename:
        return FileProblem(f"Cannot use {exc.filename}: {exc.strerror or exc}.")
    return None


def report(error: CommandError, *, command: str, as_json: bool) -> int:
    """Print ``error`` (JSON on standard output with ``--json``); return its exit code.
    Known secrets are masked, whatever a message quotes."""
    from core.credentials import redact

    message = redact(str(error))
    if as_json:
        print(json.dumps({"error": message, "cause": error.cause,
                          "exit_code": error.exit_code, **error.details}, indent=2))
    else:
        prefix = f"concord {command}".rstrip()
        print(f"{prefix}: {message}", file=sys.stderr)
    return error.exit_code
