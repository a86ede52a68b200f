"""A sandbox serving from a child process (``python -m core.sandbox.standalone``).

The benchmarks measure a client against it: in another process, the servers and the client
never share one interpreter lock.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # where ``python -m core.sandbox.standalone`` runs


def limits_argument(limits: Mapping) -> str:
    """Per-minute/hour/day limits as ``--apollo-limits`` takes them (the inverse of
    :func:`core.sandbox.standalone.parse_limits`)."""
    return "/".join("none" if limits.get(window) is None else str(int(limits[window]))
                    for window in ("minute", "hour", "day"))


class ChildSandbox:
    """A sandbox serving from a child process (``python -m core.sandbox.standalone``), so
    its servers and the caller never share one interpreter lock; ready when constructed.

    ``info()`` is the info file's content; ``start_seconds`` how long the child took to
    serve; ``stop()`` (or leaving the ``with`` block) ends it with SIGTERM.
    """

    def __init__(self, records: int, seed: int, *, tls_dir=None, apollo_limits=None,
                 poll_seconds: float = 0.05):
        self._directory = Path(tempfile.mkdtemp(prefix="concord-sandbox-"))
        self.info_path = self._directory / "sandbox.json"
        command = [sys.executable, "-m", "core.sandbox.standalone", "--records", str(records),
                   "--seed", str(seed), "--info-file", str(self.info_path)]
        if tls_dir is not None:
            command += ["--tls-dir", str(tls_dir)]
        if apollo_limits is not None:
            command += ["--apollo-limits", limits_argument(apollo_limits)]
        started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            while not self.info_path.exists():
                if self.process.poll() is not None:
                    raise RuntimeError(f"the sandbox failed to start:\n{self.process.stderr.read()}")
                time.sleep(poll_seconds)
            self._info = json.loads(self.info_path.read_text())
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started

    def info(self) -> dict:
        """Base URLs, the CA certificate path, credentials and admin routes (as written)."""
        return self._info

    def stop(self, timeout: float = 60) -> None:
        """End the child (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> "ChildSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
