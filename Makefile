# Two entry points for a newcomer: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLI    := $(VENV)/bin/settlement-research

.PHONY: setup demo test browser lab lint codebook bench lock clean

setup: $(STAMP)

$(STAMP): requirements.lock requirements-nodeps.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name settlement_research --display-name "settlement_research" >/dev/null
	touch $(STAMP)

demo: setup
	$(CLI) demo

test: setup browser
	$(PY) -m pytest -q

# Headless Chromium for the browser test (tests/reports/test_report_browser.py): installed from
# Debian when missing and apt-get is usable as root; otherwise nothing happens and that test skips.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true; \
	fi

# JupyterLab on notebooks/, .py notebooks opening as notebooks (settings in jupyter_config/),
# the project kernel preselected; adds --allow-root only when run as root.
lab: setup
	$(CLI) lab

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

codebook: setup
	$(CLI) codebook

bench: setup
	$(PY) benchmarks/run.py

lock:
	rm -rf /tmp/sr-lock && $(PYTHON) -m venv /tmp/sr-lock && /tmp/sr-lock/bin/pip install --quiet -e '.[all,dev]' \
	  && /tmp/sr-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) data_clean/*/ data_clean/MANIFEST.json reports
