"""The workspace's refresh lock holds across processes (issue 12, item 3)."""

from __future__ import annotations

import subprocess
import sys
import threading

from core.sources.refresh_lock import RefreshLock

HOLDER = """
import sys
from core.sources.refresh_lock import RefreshLock
with RefreshLock.beside(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_process_waits_for_the_refresh_lock(tmp_path):
    # Given another process (a scheduled run) holding the workspace's refresh lock
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waiting = threading.Event()
        taken = threading.Event()

        def window():
            with RefreshLock.beside(tmp_path, on_wait=waiting.set):
                taken.set()

        thread = threading.Thread(target=window)
        thread.start()
        # When the window wants it, it waits (and is told so) until the holder is done
        assert waiting.wait(30) and not taken.is_set()
        holder.stdin.write("done\n")
        holder.stdin.flush()
        thread.join(30)
        # Then it gets the lock; the lock file holds nothing
        assert taken.is_set()
        assert (tmp_path / "salesforce-refresh.lock").read_bytes() == b""
    finally:
        holder.kill()
        holder.wait()
