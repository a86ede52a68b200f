"""The demo: a sandbox with generated data, and a cache that starts as a long-used workspace.

No Qt here: the window runs these functions through its background operations.

:func:`start_demo` generates a dataset, serves it through both API emulators
(:func:`core.sandbox.spawn`) and writes the same dataset into a fresh cache
as a workspace reconciled before would hold it (base and observations included), then
reconciles. From then on the window pulls from the emulators over HTTPS with the real
pull (:mod:`core.sync.connections`), as it would from Apollo and Salesforce.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from core.defaults import DEMO_RECORDS, DEMO_SEED
from core.store.cache import Cache
from core.sync.reconcile import Cancelled, reconcile


@dataclass
class DemoSession:
    """A running sandbox and the demo workspace's cache file."""

    sandbox: object  # core.sandbox.running.RunningSandbox
    dataset: object  # core.sandbox.dataset.Dataset
    directory: Path
    records: int
    seed: int

    @property
    def cache_path(self) -> Path:
        return self.directory / "cache.sqlite"

    @property
    def instance_url(self) -> str:
        return self.sandbox.salesforce_instance_url

    def info(self) -> dict:
        return self.sandbox.info()

    def stop(self) -> None:
        """Stop both emulators and delete the demo workspace."""
        try:
            self.sandbox.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_demo(records: int = DEMO_RECORDS, seed: int = DEMO_SEED, progress=None,
               cancel: threading.Event | None = None) -> DemoSession:
    """Generate, serve and cache a sandbox workspace, reconciled once."""
    from core.sandbox import spawn
    from core.sandbox.dataset import Dataset, write_cache

    def report(phase, done=0, total=0):
        if progress:
            progress(phase, done, total)
        if cancel is not None and cancel.is_set():
            raise Cancelled("demo start cancelled")

    report("generating sandbox data", 0, records)
    dataset = Dataset(records, seed=seed)
    report("starting the Salesforce and Apollo emulators", 0, records)
    directory = Path(tempfile.mkdtemp(prefix="concord-demo-"))
    directory.chmod(0o700)
    try:  # the emulators' TLS key lives in the demo's folder, removed with it on stop
        sandbox = spawn(records=records, seed=seed, dataset=dataset, tls_dir=directory / "tls")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    session = DemoSession(sandbox, dataset, directory, records, seed)
    try:
        with Cache(session.cache_path) as cache:
            write_cache(cache, dataset, progress=lambda n, total: report("caching records", n, total))
            reconcile(cache, progress=report, cancel=cancel)
    except BaseException:
        session.stop()
        raise
    return session
