# seclearn: every target sets up .venv on first use, so a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint format clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)  ## simulate a network, ingest, train, evaluate and score, end to end
	$(VENV)/bin/seclearn demo

test: $(STAMP)  ## the test suite (real-data tests skip when ../shared/data is absent)
	$(PY) -m pytest -q

bench: $(STAMP)  ## speed and memory benchmarks, printed as figures and ratios
	$(PY) bench/run.py

lint: $(STAMP)  ## ruff and mypy
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .seclearn .pytest_cache .mypy_cache .ruff_cache
