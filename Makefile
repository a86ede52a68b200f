# Every target bootstraps .venv first; re-running is quick when nothing changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD_STAMP := $(VENV)/.installed-build
APP := dist/concord/concord

.PHONY: venv demo test test-long bench bench-1m build smoke screenshots clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# Checks first that Qt can open a window here, and prints the one install command if not.
demo: venv
	@$(PY) -m gui.platform_check
	$(VENV)/bin/concord demo

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

test-long: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m long

# Benchmarks print one JSON line each; bench/README.md says what each measures.
bench: venv
	$(PY) bench/engine.py --records 10000
	$(PY) bench/engine.py --records 100000
	$(PY) bench/engine.py --records 100000 --mix demo
	$(PY) bench/sandbox.py --records 100000 --build 0
	$(PY) bench/report.py --csv-rows 100000 --rows 100000

bench-1m: venv
	$(PY) bench/engine.py --records 1000000 --repeat 1
	$(PY) bench/engine.py --records 1000000 --repeat 1 --mix demo
	$(PY) bench/sandbox.py --records 100000 --build 1000000
	$(PY) bench/report.py --csv-rows 1000000 --rows 100000

# The desktop app, one folder (build.spec; docs/building.md). Prints its build time and size.
$(BUILD_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[build]'
	@touch $(BUILD_STAMP)

build: $(BUILD_STAMP)
	@start=$$(date +%s); \
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN build.spec || exit 1; \
	echo "build: $(APP) in $$(( $$(date +%s) - start )) s, $$(du -sh $(dir $(APP)) | cut -f1)"

# The frozen app's smoke test (tests/test_build.py, skipped without CONCORD_FROZEN_APP).
smoke: build
	CONCORD_FROZEN_APP=$(APP) QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests/test_build.py

# The guide's pictures: the demo window with a conflict selected, drawn offscreen.
screenshots: venv
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/concord demo --screenshot docs/images/window.png

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
