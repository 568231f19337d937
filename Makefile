# Two entry points for a newcomer: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLI    := $(VENV)/bin/settlement-research

.PHONY: setup demo test lab lint codebook bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name settlement_research --display-name "settlement_research" >/dev/null
	touch $(STAMP)

demo: setup
	$(CLI) demo

test: setup
	$(PY) -m pytest -q

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

codebook: setup
	$(CLI) codebook

bench: setup
	$(PY) benchmarks/run.py

lock:
	rm -rf /tmp/sr-lock && $(PYTHON) -m venv /tmp/sr-lock && /tmp/sr-lock/bin/pip install --quiet -e '.[dev]' \
	  && /tmp/sr-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) data_clean/*.parquet data_clean/MANIFEST.json reports
