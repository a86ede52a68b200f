"""Smoke test of the frozen app that `make build` writes (build.spec).

Runs only when CONCORD_FROZEN_APP names the built executable (`make smoke`, and CI after the
unit tests); `make test` needs no build and skips it.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = os.environ.get("CONCORD_FROZEN_APP")
pytestmark = pytest.mark.skipif(not APP, reason="no frozen app: set CONCORD_FROZEN_APP (make smoke)")

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def app() -> Path:
    path = Path(APP).resolve()
    assert path.is_file() and os.access(path, os.X_OK), f"{APP} is not an executable: run make build"
    return path


@pytest.fixture(scope="module")
def bundle(app) -> dict:
    """The module names in the executable's archive and the files beside it."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(app))
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    files = {p.relative_to(app.parent).as_posix() for p in app.parent.rglob("*")}
    return {"modules": modules, "files": files, "internal": app.parent / "_internal"}


def run(app: Path, *args: str, stdin: str | None = None, timeout: int = 180,
        env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(app), *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def readme_decide_example() -> str:
    """The JSON line the README pipes into `concord decide`, as one line."""
    section = README.split("### `concord decide`", 1)[1]
    match = re.search(r"echo '(.*?)' \|", section, re.S)
    assert match, "the README's concord decide example is not an echo '...' | pipeline"
    return json.dumps(json.loads(match.group(1)))


def test_version_is_the_projects(app):
    result = run(app, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"concord {PROJECT['version']}"


def test_decide_answers_the_readme_example_as_the_dev_install_does(app):
    line = readme_decide_example()
    frozen = run(app, "decide", stdin=line + "\n")
    assert frozen.returncode == 0, frozen.stderr
    decision = json.loads(frozen.stdout)
    assert decision["id"] == "p1" and decision["conflict"] is True
    assert decision["recommendation"]["rule"] and decision["recommendation"]["reason"]
    dev = subprocess.run([str(Path(sys.executable).parent / "concord"), "decide"],
                         input=line + "\n", capture_output=True, text=True, timeout=120)
    assert dev.returncode == 0, dev.stderr
    assert decision == json.loads(dev.stdout)


def test_bad_decide_input_is_one_line_not_a_traceback(app):
    result = run(app, "decide", stdin='{"id": "x", "apollo": 5}\n')
    assert result.returncode == 2
    assert "error" in json.loads(result.stdout)
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_screenshot_is_a_picture_of_the_populated_window(app, tmp_path):
    from PySide6.QtGui import QImage

    target = tmp_path / "shots" / "window.png"
    result = run(app, "demo", "--records", "300", "--screenshot", str(target),
                 env={"QT_QPA_PLATFORM": "offscreen", "CONCORD_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(target))
    assert image.width() >= 800 and image.height() >= 500
    # A populated window has text in many colours; an empty or failed one is a few flat areas.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 200, len(colours)


def test_no_tests_benchmarks_or_plain_text_keyring_in_the_bundle(bundle):
    tops = {name.split(".")[0] for name in bundle["modules"]}
    assert not tops & {"tests", "bench", "pytest", "_pytest", "pytestqt", "hypothesis",
                       "keyrings", "PyInstaller", "tkinter"}
    assert not [f for f in bundle["files"] if f.startswith(("_internal/tests", "_internal/bench"))]
    assert not [f for f in bundle["files"] if "keyrings.alt" in f or "keyrings_alt" in f]


def test_keyring_backends_and_their_entry_points_are_in_the_bundle(bundle):
    for backend in ("SecretService", "kwallet", "libsecret", "macOS", "Windows", "chainer"):
        assert f"keyring.backends.{backend}" in bundle["modules"], backend
    assert {"secretstorage", "jeepney"} <= {name.split(".")[0] for name in bundle["modules"]}
    entry_points = list(bundle["internal"].glob("keyring-*.dist-info/entry_points.txt"))
    assert entry_points and "[keyring.backends]" in entry_points[0].read_text(encoding="utf-8")


def test_resources_and_the_version_metadata_are_in_the_bundle(bundle):
    shipped = {f.removeprefix("_internal/") for f in bundle["files"]}
    wanted = {p.relative_to(ROOT).as_posix() for p in (ROOT / "resources").rglob("*")
              if p.is_file()}
    assert wanted <= shipped, wanted - shipped
    dist_info = PROJECT["name"].replace("-", "_") + "-" + PROJECT["version"] + ".dist-info"
    assert f"_internal/{dist_info}/METADATA" in bundle["files"]


def test_only_the_qt_plugins_the_window_uses(bundle):
    plugins = {Path(f).name.split(".")[0].removeprefix("lib")
               for f in bundle["files"] if re.search(r"PySide6/(Qt/)?plugins/[^/]+/[^/]+$", f)}
    assert "qoffscreen" in plugins and "qsvgicon" in plugins and "qsvg" in plugins
    if sys.platform.startswith("linux"):
        assert {"qxcb", "qwayland", "xdg-shell", "qxdgdesktopportal"} <= plugins
    dropped = {"qeglfs", "qlinuxfb", "qvnc", "qminimal", "qtvirtualkeyboardplugin", "qpdf",
               "qjpeg", "qgtk3", "qevdevkeyboardplugin", "ivi-shell"}
    assert not plugins & dropped, plugins & dropped
    libraries = {Path(f).name for f in bundle["files"]}
    assert not [name for name in libraries
                if re.match(r"(lib)?Qt6(Pdf|Quick|Qml|VirtualKeyboard|Network)\b", name)]
