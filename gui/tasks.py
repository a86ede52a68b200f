"""Background work: one serial writer, one reader, results back on the main thread.

Two kinds of background operation and one task manager:

- :class:`CacheOp` runs ``op(cache)`` on the **writer**, a single thread with its own
  :class:`core.store.cache.Cache` connection, so every change to the cache goes down one serial
  path. Long operations (reconcile, pull) take ``op(cache, job)`` and report progress and
  watch ``job.cancel``.
- :class:`QueryOp` runs ``op(reader)`` on the **reader**, a single thread with another
  connection (WAL lets it read while the writer writes). Its queue is ordered by priority,
  so a page of the list is read before a background snapshot or index step, and a stale
  long statement can be interrupted.
- :class:`NetworkOp` runs ``op()`` on a small pool, for work that touches no cache
  (testing a connection).

Workers receive core objects only, never widgets. Success and failure callbacks run on the
main thread; an error with no failure callback goes to the one presenter
(:func:`gui.errors.show_exception`), which stays silent when the user cancelled.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from core.store.cache import Cache
from core.store.pairs import ListReader

log = logging.getLogger(__name__)

# Reader priorities: lower runs first.
PRIO_PAGE, PRIO_QUERY, PRIO_SNAPSHOT, PRIO_BACKGROUND = 0, 1, 2, 3


@dataclass
class Job:
    """What a long operation sees: report progress, watch for cancel."""

    label: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    _report: Callable[[str, int, int], None] | None = None
    _last: float = 0.0

    def progress(self, phase: str, done: int = 0, total: int = 0) -> None:
        """Report progress (throttled to about 20 updates a second)."""
        now = time.monotonic()
        if self._report is None or (now - self._last < 0.05 and done < total):
            return
        self._last = now
        self._report(phase, done, total)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()


class _ReaderJob:
    __slots__ = ("fn", "callback", "tag", "dropped")

    def __init__(self, fn, callback, tag):
        self.fn, self.callback, self.tag, self.dropped = fn, callback, tag, False


class _Reader(threading.Thread):
    """The reading thread: a priority queue in front of one connection and a ListReader."""

    def __init__(self, path: Path, deliver: Callable[[Callable[[], None]], None]):
        super().__init__(name="concord-read", daemon=True)
        self.path = path
        self.deliver = deliver
        self.queue: queue.PriorityQueue = queue.PriorityQueue()
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.current: _ReaderJob | None = None
        self.cache: Cache | None = None
        self.list: ListReader | None = None

    def submit(self, fn, callback, priority: int, tag=None) -> _ReaderJob:
        job = _ReaderJob(fn, callback, tag)
        self.queue.put((priority, next(self.counter), job))
        return job

    def drop(self, predicate: Callable[[Any], bool]) -> None:
        """Drop queued jobs whose tag matches, and interrupt the running one if it does."""
        with self.lock:
            for _, _, job in list(self.queue.queue):
                if job is not None and predicate(job.tag):
                    job.dropped = True
            current = self.current
            if current is not None and predicate(current.tag) and self.cache is not None:
                current.dropped = True
                self.cache.conn.interrupt()

    def stop(self) -> None:
        self.queue.put((-1, next(self.counter), None))

    def run(self) -> None:
        try:
            self.cache = Cache(self.path)
            self.list = ListReader(self.cache)
        except Exception as exc:  # report on every job rather than dying silently
            log.exception("the reader could not open the cache")
            self._fail_all(exc)
            return
        while True:
            _, _, job = self.queue.get()
            if job is None:
                break
            with self.lock:
                if job.dropped:
                    continue
                self.current = job
            result = error = None
            try:
                result = job.fn(self)
            except BaseException as exc:  # delivered to the callback
                error = exc
            with self.lock:
                self.current = None
                dropped = job.dropped
            if not dropped and job.callback is not None:
                self.deliver(lambda job=job, r=result, e=error: job.callback(r, e))
        self.cache.close()

    def _fail_all(self, exc: Exception) -> None:
        while True:
            _, _, job = self.queue.get()
            if job is None:
                return
            if job.callback is not None:
                self.deliver(lambda job=job: job.callback(None, exc))


class TaskManager(QObject):
    """Owns the writer, the reader and the network pool of one open cache."""

    _deliver = Signal(object)
    busy_changed = Signal(bool)
    progress = Signal(str, str, int, int)  # label, phase, done, total

    def __init__(self, cache_path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.cache_path = Path(cache_path)
        self._deliver.connect(self._on_deliver)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="concord-write")
        self._write_cache: Cache | None = None
        self._network = ThreadPoolExecutor(max_workers=4, thread_name_prefix="concord-net")
        self.reader = _Reader(self.cache_path, self.run_on_main)
        self.reader.start()
        self._pending_writes = 0
        self.current_job: Job | None = None
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------------

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on the main thread (safe from any thread)."""
        if not self._closed:
            self._deliver.emit(fn)

    @Slot(object)
    def _on_deliver(self, fn) -> None:
        fn()

    def _writer_cache(self) -> Cache:
        # Only ever called on the writer thread.
        if self._write_cache is None:
            self._write_cache = Cache(self.cache_path)
        return self._write_cache

    @property
    def busy(self) -> bool:
        return self._pending_writes > 0

    def close(self) -> None:
        """Stop the threads (waits for the running write to finish)."""
        if self._closed:
            return
        if self.current_job is not None:
            self.current_job.cancel.set()
        self._closed = True
        self.reader.stop()

        def close_writer():
            if self._write_cache is not None:
                self._write_cache.close()

        self._writer.submit(close_writer)
        self._writer.shutdown(wait=True)
        self._network.shutdown(wait=False, cancel_futures=True)
        self.reader.join(timeout=5)

    # -- submitting -------------------------------------------------------------------------

    def write(self, fn: Callable[..., Any], done: Callable[[Any, BaseException | None], None],
              job: Job | None = None) -> None:
        """Run ``fn(cache)`` (or ``fn(cache, job)``) on the writer; ``done`` on the main thread."""
        self._pending_writes += 1
        if self._pending_writes == 1:
            self.busy_changed.emit(True)
        if job is not None:
            self.current_job = job
            label = job.label
            job._report = lambda phase, n, total: self.run_on_main(
                lambda: self.progress.emit(label, phase, n, total))

        def work():
            try:
                cache = self._writer_cache()
                result = fn(cache, job) if job is not None else fn(cache)
                error = None
            except BaseException as exc:
                result, error = None, exc
            self.run_on_main(lambda: self._write_done(done, result, error, job))

        self._writer.submit(work)

    def _write_done(self, done, result, error, job) -> None:
        self._pending_writes -= 1
        if job is not None and self.current_job is job:
            self.current_job = None
        if self._pending_writes == 0:
            self.busy_changed.emit(False)
        done(result, error)

    def read(self, fn: Callable[[_Reader], Any], done: Callable[[Any, BaseException | None], None],
             priority: int = PRIO_QUERY, tag=None):
        """Run ``fn(reader)`` on the reader thread; ``done(result, error)`` on the main thread."""
        return self.reader.submit(fn, done, priority, tag)

    def network(self, fn: Callable[[], Any],
                done: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``fn()`` on the network pool (no cache access)."""
        def work():
            try:
                result, error = fn(), None
            except BaseException as exc:
                result, error = None, exc
            self.run_on_main(lambda: done(result, error))
        self._network.submit(work)


# -- the operations ----------------------------------------------------------------------------

class _Op:
    def __init__(self, tasks: TaskManager, op: Callable, parent=None):
        self._tasks = tasks
        self._op = op
        self._parent = parent
        self._success: Callable[[Any], None] | None = None
        self._failure: Callable[[BaseException], None] | None = None

    def success(self, fn: Callable[[Any], None]):
        self._success = fn
        return self

    def failure(self, fn: Callable[[BaseException], None]):
        self._failure = fn
        return self

    def _finish(self, result, error) -> None:
        if error is None:
            if self._success is not None:
                self._success(result)
            return
        if self._failure is not None:
            self._failure(error)
            return
        from gui.errors import show_exception
        show_exception(self._parent, error)


class CacheOp(_Op):
    """A change to the cache, run on the serial writer: ``CacheOp(tasks, lambda cache: ...)``.

    ``with_progress(label)`` makes it a long operation: ``op(cache, job)`` with progress and
    cancel shown by the window.
    """

    def __init__(self, tasks: TaskManager, op: Callable, parent=None):
        super().__init__(tasks, op, parent)
        self._job: Job | None = None

    def with_progress(self, label: str) -> "CacheOp":
        self._job = Job(label)
        return self

    @property
    def job(self) -> Job | None:
        return self._job

    def run_in_background(self) -> "CacheOp":
        self._tasks.write(self._op, self._finish, self._job)
        return self


class QueryOp(_Op):
    """A read on the reader thread: ``QueryOp(tasks, lambda reader: ...)``."""

    def __init__(self, tasks: TaskManager, op: Callable, parent=None, priority: int = PRIO_QUERY,
                 tag=None):
        super().__init__(tasks, op, parent)
        self._priority = priority
        self._tag = tag

    def run_in_background(self) -> "QueryOp":
        self._tasks.read(self._op, self._finish, self._priority, self._tag)
        return self


class NetworkOp(_Op):
    """Work that talks to a remote system and not to the cache (e.g. testing a connection)."""

    def run_in_background(self) -> "NetworkOp":
        self._tasks.network(self._op, self._finish)
        return self


class Detached(QObject):
    """Work before any cache is open (starting the demo sandbox): one thread, results and
    progress back on the main thread through signals."""

    _done = Signal(object, object)
    _progress = Signal(str, int, int)

    def __init__(self, fn: Callable[[Job], Any], done: Callable[[Any, BaseException | None], None],
                 progress: Callable[[str, int, int], None] | None = None, parent=None):
        super().__init__(parent)
        self.job = Job("start")
        self.job._report = lambda phase, n, total: self._emit(self._progress, phase, n, total)
        self._on_done = done
        self._on_progress = progress
        # Bound slots of this (main-thread) object: emitted from the worker, run on the main thread.
        self._done.connect(self._deliver_done)
        self._progress.connect(self._deliver_progress)
        self._thread = threading.Thread(target=self._run, args=(fn,), name="concord-start",
                                        daemon=True)

    @Slot(object, object)
    def _deliver_done(self, result, error) -> None:
        self._on_done(result, error)

    @Slot(str, int, int)
    def _deliver_progress(self, phase: str, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(phase, done, total)

    def start(self) -> "Detached":
        self._thread.start()
        return self

    def _run(self, fn) -> None:
        try:
            result, error = fn(self.job), None
        except BaseException as exc:
            result, error = None, exc
        self._emit(self._done, result, error)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            pass  # the window that asked was closed meanwhile: nobody is left to tell


def run_off_ui(tasks: TaskManager | None, fn: Callable[[], Any], done: Callable[[Any], None],
               failure: Callable[[BaseException], None] | None = None, parent=None) -> None:
    """Run ``fn()`` (local files, the keyring, the network; never the cache) off the UI
    thread and ``done(result)`` on it: on the network pool of an open cache, otherwise on a
    thread of its own."""
    if tasks is not None:
        op = NetworkOp(tasks, fn, parent).success(done)
        if failure is not None:
            op.failure(failure)
        op.run_in_background()
        return

    def finished(result, error):
        if error is None:
            done(result)
        elif failure is not None:
            failure(error)
        else:
            from gui.errors import show_exception
            show_exception(parent, error)
    Detached(lambda job: fn(), finished, parent=parent).start()
