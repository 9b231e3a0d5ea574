# The two commands of the README, and the benchmark.
#   make demo [DATA=/path/with/real_and_fake]   install, then inspect a folder
#   make test                                    install the dev extra, run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SHARED_DEV := ../shared/data/dev
# Default data: the shared dev set when this checkout has it, else a sample
# folder built from images that installed packages ship.
DATA ?= $(if $(wildcard $(SHARED_DEV)/real),$(SHARED_DEV),)
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
ifeq ($(DATA),)
	test -d runs/sample_data || $(BIN)/synthdet-data sample --out_dir=runs/sample_data
	$(BIN)/synthdet-data inspect --data_dir=runs/sample_data
else
	$(BIN)/synthdet-data inspect --data_dir=$(DATA)
endif

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/synthdet-benchmark pipeline --data_dir=$(or $(DATA),$(SHARED_DEV))

clean:
	rm -rf $(VENV) runs/sample_data
