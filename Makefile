# The two commands of the README, and the benchmark.
#   make demo [DATA=/path/with/real_and_fake]   install; inspect a folder, run detect on it,
#                                                evaluate the shipped model on it when labelled
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

MODEL := exported/synthdet/2
DETECT_SAMPLE ?= 24
EVAL_SPLIT ?= test

demo: $(VENV)/.installed
ifeq ($(DATA),)
	test -d runs/sample_data || $(BIN)/synthdet-data sample --out_dir=runs/sample_data
	$(BIN)/synthdet-data inspect --data_dir=runs/sample_data
	$(BIN)/synthdet-detect runs/sample_data
	$(BIN)/synthdet-evaluate --model=$(MODEL) --data_dir=runs/sample_data --split=all --output_dir=runs/demo_report --overwrite
else
	$(BIN)/synthdet-data inspect --data_dir=$(DATA)
	$(BIN)/synthdet-detect --sample=$(DETECT_SAMPLE) $(DATA)
	if [ -d "$(DATA)/real" ] && [ -d "$(DATA)/fake" ]; then \
	  $(BIN)/synthdet-evaluate --model=$(MODEL) --data_dir=$(DATA) --split=$(EVAL_SPLIT) --output_dir=runs/demo_report --overwrite; fi
endif

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -rs --durations=15 $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/synthdet-benchmark pipeline --data_dir=$(or $(DATA),$(SHARED_DEV))

clean:
	rm -rf $(VENV) runs/sample_data runs/demo_report
