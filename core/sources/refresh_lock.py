"""One Salesforce token refresh at a time per workspace, across processes.

With refresh-token rotation on, each refresh token works once: Salesforce issues a new one
with every refresh and invalidates the old (help.salesforce.com "OAuth 2.0 Refresh Token
Flow for Renewed Sessions"). The window and a scheduled ``concord reconcile`` share a
workspace, so both may find the session expired at once; if both sent the same refresh
token, the second would present a token already rotated away. A lock file beside the
profile makes the refresh single-flight: whoever takes it second re-reads the stored
token first and uses the one the other just saved.

The lock is ``filelock`` (well kept, cross-platform: ``fcntl.flock`` on POSIX and
``msvcrt.locking`` on Windows, where the app also runs; a bare ``fcntl`` would not). The
file holds nothing; the operating system releases the lock if a process dies holding it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from core.sources.errors import SourceUnavailable

LOCK_NAME = "salesforce-refresh.lock"


class RefreshLock:
    """A context manager around the workspace's refresh lock file.

    ``on_wait()`` is called once when another process (or thread) holds the lock and this
    one has to wait for it; ``timeout`` seconds later the wait gives up.
    """

    def __init__(self, path: Path, *, timeout: float = 120.0,
                 on_wait: Callable[[], None] | None = None):
        self.path = Path(path)
        self.timeout = timeout
        self.on_wait = on_wait
        self._lock = FileLock(str(self.path), thread_local=False)

    @classmethod
    def beside(cls, profile_dir: Path, **options) -> "RefreshLock":
        """The lock of the workspace whose profile lives in ``profile_dir``."""
        return cls(Path(profile_dir) / LOCK_NAME, **options)

    def __enter__(self) -> "RefreshLock":
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            if self.on_wait is not None:
                self.on_wait()
            try:
                self._lock.acquire(timeout=self.timeout)
            except Timeout:
                raise SourceUnavailable("salesforce", f"Another Concord process kept the "
                                                      f"Salesforce sign-in busy for "
                                                      f"{self.timeout:.0f} s; try again.") from None
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()
