"""Work-arounds for bugs of the Qt binding Concord runs on, each checked at import.

``SignalInstance.emit()`` of PySide6 6.12 returns ``True`` without taking a reference to
it. On Python 3.11, where ``True`` is an ordinary object, every emit from Python code then
costs ``True`` one reference until its count reaches zero and the interpreter aborts
("bool_dealloc"), mid-session or at exit. :func:`emit` gives the reference back, only when
the probe below shows the binding drops it, so a fixed binding costs nothing.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _emit_drops_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.ping.emit()
    dropped = sys.getrefcount(True) < before
    if dropped:
        _incref(True)  # the probe's own emit
    return dropped


EMIT_DROPS_TRUE = _emit_drops_true()


def emit(signal, *args) -> None:
    """``signal.emit(*args)``, keeping ``True``'s reference count right on every binding."""
    result = signal.emit(*args)
    if EMIT_DROPS_TRUE and result is True:
        _incref(True)
