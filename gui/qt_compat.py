"""A work-around for the Qt binding Concord runs on, applied when ``gui`` is imported.

PySide6 6.12 hands ``None`` back from every void method and every empty ``QVariant``, and
``True`` from ``SignalInstance.emit()``, without taking a reference to them: it relies on
these objects being immortal, as they are from CPython 3.12 on. On CPython 3.11 each such
call costs the object one reference, until its count reaches zero and the interpreter
aborts ("none_dealloc" / "bool_dealloc"), mid-session or at exit. Giving the three
singletons a reference surplus no program can spend makes them immortal the way 3.12 does;
they are statically allocated and never freed either way.
"""

from __future__ import annotations

import ctypes
import sys

_SURPLUS = 1 << 40  # about 10^12 calls
_done = False


def immortalize_singletons() -> bool:
    """Make ``None``, ``True`` and ``False`` immortal on CPython before 3.12 (once)."""
    global _done
    if _done or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _SURPLUS
    _done = True
    return True
