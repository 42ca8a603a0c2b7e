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

test: install lint ## lint, type-check, then run the whole test suite (two lanes at once)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-servers test-rest

# Two lanes of about the same length, side by side. The tests marked e2e use the machine's
# one server stack (tests/e2e/infra); tests/conftest.py refuses a test that uses the servers
# without the marker. Lane one: the e2e tests, one at a time, but those marked second_lane.
# Lane two: the tests not marked e2e on two workers, niced (pure CPU: they take what lane
# one leaves idle and slow its timed rollouts and switches less), then the second_lane ones
# (the workflow tests and a few others, whose tenants are not lane one's;
# tests/e2e/tenant_claims.py).
.PHONY: test-servers test-rest test-second-lane
test-servers: install
	$(PY) -m pytest -m 'e2e and not second_lane'

test-rest: install
	@status=0; \
	nice -n 10 $(PY) -m pytest -m 'not e2e' -n 2 || status=$$?; \
	$(MAKE) --no-print-directory test-second-lane || status=$$?; \
	exit $$status

test-second-lane: install
	$(PY) -m pytest -m 'e2e and second_lane'

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

need-project = @test -n "$(project)" || { echo "usage: make $@ project=NAME [env=ENV]"; exit 2; }
images-args = $(foreach i,$(images),--image $(i))

plan: install ## show the deploy plan: make plan project=X env=Y [images="svc=ref ..."]
	$(need-project)
	$(RUN) plan --project $(project) --env $(env) $(images-args)

.PHONY: deploy rollback deployment-status status health history backups restore lock-release promote ssh proxy-refresh proxy-prune
deploy: install ## deploy now: make deploy project=X env=Y [images=...] [outside_window=REASON]
	$(need-project)
	$(RUN) deploy --project $(project) --env $(env) $(images-args) \
	  $(if $(outside_window),--outside-window "$(outside_window)")

rollback: install ## back to the previous release (or to=RELEASE): make rollback project=X env=Y
	$(need-project)
	$(RUN) rollback --project $(project) --env $(env) $(if $(to),--to $(to))

deployment-status: install ## one tenant+environment: make deployment-status project=X env=Y
	$(need-project)
	$(RUN) status --project $(project) --env $(env)

status: install ## every tenant's current release, digests, container health
	$(RUN) status

health: install ## every route's health path: through the proxy by its domain (else in its container)
	$(RUN) health

history: install ## what happened: make history project=X env=Y
	$(need-project)
	$(RUN) history --project $(project) --env $(env)

backups: install ## backups on the host: make backups project=X env=Y
	$(need-project)
	$(RUN) backups --project $(project) --env $(env)

restore: install ## bring a backup back: make restore project=X env=Y backup=RELEASE/FILE
	$(need-project)
	$(RUN) restore --project $(project) --env $(env) --backup $(backup)

lock-release: install ## release a lock left by a killed deploy: make lock-release project=X env=Y
	$(need-project)
	$(RUN) lock release --project $(project) --env $(env)

promote: install ## show staging -> production differences, then deploy: make promote project=X
	$(need-project)
	$(RUN) promote --project $(project) $(if $(yes),--yes)

ssh: install ## a shell on the host of a tenant: make ssh project=X env=Y
	$(need-project)
	$(RUN) ssh --project $(project) --env $(env)

proxy-refresh: install ## routes again, after certbot or a host restart: make proxy-refresh [project=X env=Y]
	$(RUN) proxy refresh $(if $(project),--project $(project)) $(if $(env),--env $(env))

proxy-prune: install ## take removed tenants' routes out of nginx (dry=1 lists them only)
	$(RUN) proxy prune $(if $(dry),--dry-run)

.PHONY: demo
demo: install ## deploy every example tenant to a local Docker host, print where each answers
	PYTHON=$(PY) bash demo/run.sh

.PHONY: trigger-deploy rollback-via-github approve-production reject-production pending setup-environments github-doctor
trigger-deploy: install ## run the deploy workflow on GitHub: make trigger-deploy project=X env=Y [images="svc=ref ..."]
	@test -n "$(project)" || { echo "usage: make trigger-deploy project=NAME env=ENV [images=\"svc=ref ...\"]"; exit 2; }
	$(RUN) github trigger --project $(project) --env $(env) $(foreach i,$(images),--image $(i))

rollback-via-github: install ## roll back through GitHub, gated like a deploy: make rollback-via-github project=X env=Y [to=RELEASE]
	@test -n "$(project)" -a -n "$(env)" || { echo "usage: make rollback-via-github project=NAME env=ENV [to=RELEASE]"; exit 2; }
	$(RUN) github trigger --rollback --project $(project) --env $(env) $(if $(to),--to $(to))

pending: install ## deploys waiting for approval on GitHub, with what each would deploy [project=X]
	$(RUN) github pending $(if $(project),--project $(project))

approve-production: install ## approve a production deploy waiting on GitHub: make approve-production project=X [run=ID]
	@test -n "$(project)" || { echo "usage: make approve-production project=NAME [run=ID] [comment=TEXT] [yes=1]"; exit 2; }
	$(RUN) github approve --project $(project) $(if $(run),--run $(run)) $(if $(comment),--comment '$(comment)') $(if $(yes),--yes)

reject-production: install ## reject a production deploy waiting on GitHub: make reject-production project=X [run=ID]
	@test -n "$(project)" || { echo "usage: make reject-production project=NAME [run=ID] [comment=TEXT] [yes=1]"; exit 2; }
	$(RUN) github reject --project $(project) $(if $(run),--run $(run)) $(if $(comment),--comment '$(comment)') $(if $(yes),--yes)

setup-environments: install ## create/update every tenant's GitHub environments (<project>-<env>: reviewers, branch policy); names the secrets each lacks
	$(RUN) github setup-environments

LOCK_TOOLS := .state/lock-tools
LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: lock
lock: ## re-pin the actions' dependencies with hashes (actions/*/requirements.lock), newest allowed
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && \
		$(LOCK_TOOLS)/bin/pip install --quiet pip-tools==7.6.2; }
	$(LOCK) --upgrade -o actions/setup/requirements.lock pyproject.toml
	$(LOCK) --upgrade -o actions/deploy/requirements.lock actions/deploy/requirements.in

github-doctor: install ## fail unless every tenant's GitHub environments exist, are protected and hold their secrets
	$(RUN) github doctor
