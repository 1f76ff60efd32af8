"""Errors the plugin expects, each carrying the kubectl-style line to print and its exit code.

The CLI catches `PluginError` and prints `str(err)` on stderr; nothing else is printed
for an expected failure, so no traceback ever reaches the user.
"""

from __future__ import annotations

# Exit codes, documented in the README. A code is never reused for another meaning.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_FINDINGS = 3  # only with --exit-code: the scan found a Docker dependency
EXIT_INCOMPLETE = 4  # part of the input could not be read; the report may miss findings


class PluginError(Exception):
    """An expected failure: `message` is the full line kubectl would print (e.g. `error: ...`)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The plugin's own advice, printed on a `hint: ` line of its own. Kept apart from the
        # message, which may quote a server or a file: a line break there is escaped, and so
        # can never forge a hint line.
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\nhint: {self.hint}"


class UsageError(PluginError):
    """Bad flags or arguments. `message` is printed as `error: <message>` plus a help hint."""


class ConfigError(PluginError):
    """The kubeconfig (or the flags that override it) cannot be used."""


class ApiError(PluginError):
    """The API server answered with an error `Status`, or could not be reached.

    `status` is the HTTP status (0 when no answer came back) and `reason` the Status reason
    (`Forbidden`, `NotFound`, `Unauthorized`, ...), so callers can decide to degrade
    (a forbidden owner lookup) instead of failing.
    """

    def __init__(self, message: str, status: int = 0, reason: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
        self.reason = reason
