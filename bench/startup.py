"""Start-up of the frozen app (`make build`) against the dev venv's, and the bundle's size.

    python bench/startup.py [--repeat 5] [--app dist/concord/concord] [--dev .venv/bin/concord]

For each of the two executables:

- ``window_shown_s``: from starting ``concord`` (no workspace yet, so the window opens with
  its Connect dialog) to its main window being mapped and viewable on an X server of its own
  (Xvfb, watched with xdotool); each run, their median and the fastest. Needs ``xvfb`` and
  ``xdotool``; without them these are null and ``missing`` says what to install.
- ``demo_screenshot_s``: ``concord demo --screenshot`` under the offscreen platform, from
  start to exit: generating and serving the demo sandbox, the populated window with a
  conflict selected, and the saved PNG (one run; dominated by the sandbox, not by start-up).

``bundle``: the frozen app's folder, in bytes (files, not following links) and files.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW_TITLE = "^Concord "  # the main window's title: "Concord <version>"
TIMEOUT_S = 60


def bundle_size(app: Path) -> dict:
    files = [p for p in app.parent.rglob("*") if p.is_file() and not p.is_symlink()]
    return {"path": str(app.parent), "bytes": sum(p.stat().st_size for p in files),
            "files": len(files)}


class Xvfb:
    """A private X server, started on a free display number it picks itself."""

    def __enter__(self) -> str:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp",
             "-noreset"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise SystemExit("bench/startup.py: Xvfb did not start")
        return f":{number}"

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def window_shown(executable: Path, display: str) -> float:
    """Seconds from starting the executable to its main window being viewable."""
    with tempfile.TemporaryDirectory(prefix="concord-startup-") as home, \
            tempfile.TemporaryFile("w+") as errors:
        env = {**os.environ, "DISPLAY": display, "CONCORD_HOME": home}
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        started = time.perf_counter()
        app = subprocess.Popen([str(executable)], env=env, stdout=subprocess.DEVNULL,
                               stderr=errors)
        try:
            while True:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE],
                                       env=env, capture_output=True).returncode == 0
                elapsed = time.perf_counter() - started
                if found:
                    return elapsed
                if app.poll() is not None:
                    errors.seek(0)
                    raise SystemExit(f"bench/startup.py: {executable} exited ({app.returncode}) "
                                     f"before showing a window: {errors.read().strip()[-500:]}")
                if elapsed > TIMEOUT_S:
                    raise SystemExit(f"bench/startup.py: no window from {executable} "
                                     f"after {TIMEOUT_S} s")
                time.sleep(0.01)
        finally:
            app.terminate()
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()


def demo_screenshot(executable: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="concord-startup-") as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CONCORD_HOME": tmp}
        started = time.perf_counter()
        result = subprocess.run([str(executable), "demo", "--screenshot", f"{tmp}/window.png"],
                                env=env, capture_output=True, text=True, timeout=300)
        elapsed = time.perf_counter() - started
        if result.returncode != 0 or not Path(tmp, "window.png").exists():
            raise SystemExit(f"bench/startup.py: {executable} demo --screenshot failed: "
                             f"{result.stderr.strip()[-300:]}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--app", type=Path, default=ROOT / "dist" / "concord" / "concord",
                        help="the frozen executable (make build)")
    parser.add_argument("--dev", type=Path, default=ROOT / ".venv" / "bin" / "concord",
                        help="the dev venv's console script (make venv)")
    args = parser.parse_args()
    for executable, how in ((args.app, "make build"), (args.dev, "make venv")):
        if not os.access(executable, os.X_OK):
            raise SystemExit(f"bench/startup.py: {executable} is not an executable; run {how}")
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    result: dict = {"bench": "startup", "repeat": args.repeat, "missing": missing}
    targets = {"frozen": args.app, "dev": args.dev}
    if not missing:
        with Xvfb() as display:
            for name, executable in targets.items():
                runs = [window_shown(executable, display) for _ in range(args.repeat)]
                result[name] = {"window_shown_s": {"runs": [round(t, 3) for t in runs],
                                                   "median": round(statistics.median(runs), 3),
                                                   "min": round(min(runs), 3)}}
    for name, executable in targets.items():
        result.setdefault(name, {"window_shown_s": None})
        result[name]["demo_screenshot_s"] = round(demo_screenshot(executable), 3)
    result["bundle"] = bundle_size(args.app)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
