# qvpipe_nb: `make demo` runs the whole pipeline on synthetic data, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qvpipe-installed
FLAGS ?=

.PHONY: install test demo export bench docs browser-check triage-check lab-check browser-deps mlflow-check gpu-check help

help:
	@echo "make demo   - set up .venv and run the whole pipeline on a synthetic data set"
	@echo "make test   - set up .venv, check notebooks are clean and exported, run all notebook tests"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make docs   - build the docs site (Quarto if present, else a static HTML build) and check it"
	@echo "make browser-check - open the error-analysis widget in JupyterLab in headless Chromium"
	@echo "make mlflow-check  - open the MLflow UI on a tracked toy run in headless Chromium (screenshots in reports/mlflow/)"
	@echo "make lab-check - run the interactive training tutorial from the JupyterLab UI in headless Chromium"
	@echo "make triage-check  - open the triage page of qvpipe_infer in headless Chromium"
	@echo "make gpu-check    - on a GPU machine: #|cuda cells, 2 steps of each recipe at its real size, predict on cuda (gpu_check.json)"

install: $(STAMP)

# The lock pins the package's requirements and those of the extras the tests need (dev, onnx, mlflow: the notebooks test
# the ONNX export and MLflow tracking); the package goes in without resolving again (--no-deps). The browser extra's
# playwright is pinned in requirements-browser.txt (make browser-deps).
$(STAMP): requirements-lock.txt settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-lock.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

export: install
	$(BIN)/nbdev_export

test: install
	$(BIN)/python tools/nbgate.py
	$(BIN)/python tools/readme.py --check
	$(BIN)/python tools/nbtest.py $(if $(FLAGS),--flags "$(FLAGS)")

demo: install
	$(BIN)/qvpipe_demo

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Real-browser checks need Debian's chromium (apt-get install chromium) and the playwright package (no browser download).
browser-deps: install
	@$(BIN)/python -c "import playwright" 2>/dev/null || $(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-browser.txt

docs: install browser-deps
	$(BIN)/python tools/docs.py

browser-check: install browser-deps
	$(BIN)/python tools/browser_check.py

triage-check: install browser-deps
	$(BIN)/python tools/triage_check.py

lab-check: install browser-deps
	$(BIN)/python tools/lab_check.py

mlflow-check: install browser-deps
	$(BIN)/python tools/mlflow_check.py

# On a GPU machine: every #|cuda cell, 2 optimizer steps of each recipe at its real size, qvpipe_predict on cuda,
# a 2-process accelerate fold with 2 GPUs; figures in gpu_check.json (FLAGS=--cpu: the tiny CPU path the tests run).
gpu-check: install
	$(BIN)/python tools/gpu_check.py $(FLAGS)
