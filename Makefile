# One Makefile for people and CI. Every target creates the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install test lint typecheck serve train evaluate check-data bench clean

help:
	@echo "make serve     - set up and start the API on 127.0.0.1:8000 with the shipped model"
	@echo "make test      - set up, lint and run the test suite"
	@echo "make train     - retrain on data/labeled/ and save a new model version"
	@echo "make evaluate  - evaluate the current model (test split, devset, CV)"
	@echo "make check-data- validate the labeled corpus (and that nothing in it comes from the devset)"
	@echo "make bench     - run the benchmarks in bench/"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint $(STAMP)
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/replyqa serve

train: $(STAMP)
	$(BIN)/replyqa train --promote

evaluate: $(STAMP)
	$(BIN)/replyqa evaluate --cv

DEVSET ?= ../shared/devset

check-data: $(STAMP)
	@if [ -d "$(DEVSET)" ]; then $(BIN)/replyqa data check --against "$(DEVSET)"; else $(BIN)/replyqa data check; fi

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
