# epi — the two README commands (`make demo`, `make test`) set up everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOCOL ?= protocols/acute_admission_65plus.yaml

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/epi run $(PROTOCOL)

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check epi tests bench
	$(BIN)/ruff format --check epi tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
