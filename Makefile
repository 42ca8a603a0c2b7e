# The platform's entry points. `make help` lists them.
SHELL := bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN := $(PY) -m platform_lib

project ?=
env ?= staging

.DEFAULT_GOAL := help
.PHONY: help install test lint validate schema plan

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 24

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed ## create .venv with the platform and its test tools

test: install lint ## lint, type-check, then run the whole test suite
	$(PY) -m pytest

lint: install ## ruff, mypy (strict), generated files up to date, example configs valid
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(RUN) schema --check
	$(RUN) validate

validate: install ## validate every config (make validate format=github for annotations)
	$(RUN) validate --format $(or $(format),text)

schema: install ## regenerate schemas/*.json and the README's config reference from the models
	$(RUN) schema --write

plan: install ## show the deploy plan: make plan project=X env=Y [images="svc=ref ..."]
	@test -n "$(project)" || { echo "usage: make plan project=NAME env=ENV"; exit 2; }
	$(RUN) plan --project $(project) --env $(env) $(foreach i,$(images),--image $(i))
