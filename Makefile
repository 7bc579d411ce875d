# The two commands in README.md are the contract: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test venv dev-venv system-deps firmware clean

demo: $(STAMP_BASE)
	$(VENV)/bin/emberwatch demo

test: $(STAMP_DEV) system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The demo runs its own broker and draws figures: the base install plus the demo extra.
$(STAMP_BASE): pyproject.toml $(VENV)/bin/python
	$(PIP) install --quiet -e '.[demo]'
	touch $@

$(STAMP_DEV): pyproject.toml $(VENV)/bin/python
	$(PIP) install --quiet -e '.[train,dev,demo]'
	touch $(STAMP_BASE) $@

# Debian servers the integration tests start on private ports, plus node for real MicroPython.
system-deps:
	@bash tests/harness/install_system_deps.sh

# Edge-node firmware: .mpy files under build/firmware/ (see edge_node/README.md to deploy).
firmware: $(STAMP_DEV)
	$(VENV)/bin/emberwatch firmware build

clean:
	rm -rf $(VENV) build *.egg-info
