# vae-course: every target creates and reuses .venv on its own, so `make book` and
# `make test` are the whole set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_ROOT ?= data
DATA_MIRROR ?= ../shared/data
export VAE_DATA_ROOT ?= $(abspath $(DATA_ROOT))
# Quick versions by default; `make bench BENCH_ARGS="--record"` for the record runs.
BENCH_ARGS ?=
TRAIN_ARGS ?= --dataset cifar10 --model conv --epochs 10 --out runs/cifar10-conv

.DEFAULT_GOAL := help
.PHONY: help venv test test-fast book data train figures notebooks bench release autograde grade-folder clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP) ## Create .venv with every dependency (done by the other targets too)

test: $(STAMP) ## Run the whole test suite (real-data tests skip when ./data is absent)
	$(PY) -m pytest -n 2 --dist loadgroup -q -rs

test-fast: $(STAMP) ## Run the tests that need neither real data nor a browser
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not slow and not browser"

book: $(STAMP) ## Build the Jupyter Book offline into _build/html
	$(PY) -m course_utils.book

data: $(STAMP) ## Unpack the data mirror ($(DATA_MIRROR)) into $(DATA_ROOT), or say how to download
	$(PY) -m course_utils.data unpack --mirror $(DATA_MIRROR) --data-root $(DATA_ROOT)

train: $(STAMP) ## Train a reference VAE (TRAIN_ARGS="--dataset celeba --model conv ...")
	$(PY) -m solutions.train $(TRAIN_ARGS)

figures: $(STAMP) ## Regenerate the book's figures from trained runs in runs/
	$(PY) -m solutions.figures

notebooks: $(STAMP) ## Rebuild the instructor notebooks from the reference code (after editing solutions/)
	$(PY) exercises/build_notebooks.py

bench: $(STAMP) ## Run the quick benchmarks (BENCH_ARGS="--record" for the record runs)
	$(PY) -m benchmarks $(BENCH_ARGS)
	$(PY) -m benchmarks.report

release: $(STAMP) ## nbgrader generate_assignment for every assignment, scan it, build the student bundle
	$(PY) -m autograder.instructor release

autograde: $(STAMP) ## nbgrader autograde everything in exercises/submitted, then feedback and grades.csv
	$(PY) -m autograder.instructor autograde

grade-folder: $(STAMP) ## Grade a folder of submissions in parallel: make grade-folder ASSIGNMENT=conv_vae DIR=path
	$(PY) -m autograder grade-folder $(ASSIGNMENT) $(DIR)

clean: ## Remove build outputs (keeps .venv, data and runs)
	rm -rf _build dist test-artifacts .pytest_cache
