# Two commands on a fresh clone: `make demo` and `make test`. Each bootstraps what it needs:
# the Debian packages (scripts/system-deps.sh, only the missing ones) and the venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_DEPS := scripts/system-deps.sh
OFFLINE := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

.PHONY: venv test-deps demo test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(SYSTEM_DEPS) venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first: the CPU build; nothing later may pull a CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(OFFLINE) $(BIN)/otklik demo

test-deps:  # before the venv, so a missing package stops the run before pip does its work
	$(SYSTEM_DEPS) test

test: test-deps venv
	$(OFFLINE) $(BIN)/ruff check .
	$(OFFLINE) $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data/demo.db* data/demo-sources.yaml data/jobs
