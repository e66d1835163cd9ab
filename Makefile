# epi — the two README commands (`make demo`, `make test`) set up everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOCOL ?= protocols/acute_admission_65plus.yaml

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

# '.[bayes]' adds nutpie, the faster NUTS sampler the Bayesian models use when it
# is installed (PyMC's own sampler otherwise)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bayes]'
	touch $(STAMP)

demo: setup
	$(BIN)/epi run $(PROTOCOL)

test: setup
	$(BIN)/python -m pytest

# Benchmark peers that are not runtime dependencies: medspaCy (NLP peer). Its
# pins would pull numpy below 2, so spaCy 3.8 goes in first and medspaCy
# without its dependency pins.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet "spacy==3.8.*" "numpy>=2" pysbd PyFastNER quicksectx loguru
	$(BIN)/python -m pip install --quiet --no-deps medspacy==1.3.1 PyRuSH medspacy_quickumls
	touch $(BENCH_STAMP)

bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench

lint: setup
	$(BIN)/ruff check epi tests bench
	$(BIN)/ruff format --check epi tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
