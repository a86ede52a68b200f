# Every target bootstraps .venv first; re-running is quick when nothing changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-long bench bench-1m clean

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

bench-1m: venv
	$(PY) bench/engine.py --records 1000000 --repeat 1
	$(PY) bench/engine.py --records 1000000 --repeat 1 --mix demo
	$(PY) bench/sandbox.py --records 100000 --build 1000000

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
