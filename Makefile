# epi — the two README commands (`make demo`, `make test`) set up everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOCOL ?= protocols/acute_admission_65plus.yaml

.PHONY: setup demo test test-latest lock bench lint clean

setup: $(STAMP)

# The exact, hash-checked dependency set of requirements.lock (made by `make
# lock` from pyproject.toml's ranges with the dev and bayes extras; '.[bayes]'
# is nutpie, the faster NUTS sampler), then epi itself without dependencies.
# A fresh machine gets the same versions every day.
$(STAMP): requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Re-resolve pyproject.toml's ranges to the newest versions for CI's platform
# (Python 3.11, manylinux x86-64) and write requirements.lock with hashes.
# torch comes from the CPU wheel in /opt/wheels (pip's find-links here).
LOCK_PLATFORM := --python-version 3.11 --python-platform x86_64-manylinux_2_28
LOCK_TOOLS := /tmp/epi-lock-tools
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet "uv>=0.5"
	printf 'setuptools>=77\nwheel\npip\n' | $(LOCK_TOOLS)/bin/uv pip compile pyproject.toml - \
		--extra dev --extra bayes $(LOCK_PLATFORM) --generate-hashes \
		--find-links /opt/wheels --emit-find-links --custom-compile-command "make lock" \
		-o requirements.lock

# The suite in a throwaway environment resolved from pyproject.toml's ranges
# (no lock): upstream releases that break epi show here before a lock bump.
# The resolved versions are printed first.
LATEST := /tmp/epi-test-latest
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet '.[dev,bayes]'
	$(LATEST)/bin/python -m pip freeze --exclude epi
	$(LATEST)/bin/python -m pytest -p no:cacheprovider; status=$$?; rm -rf $(LATEST); exit $$status

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
	rm -rf $(VENV) $(LATEST) $(LOCK_TOOLS) build *.egg-info .pytest_cache .ruff_cache
