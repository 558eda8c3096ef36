# company_service: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The service alone (make run), then the dev extra: test, lint, benchmark tools.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
CONFIG ?= development.ini
PORT ?= 6543
# Every install takes its versions from here; `make lock` re-pins it.
LOCK := requirements/constraints.txt
# `make lock LOCK_ARGS=` keeps today's pins and only adds or drops what
# setup.cfg changed; `LOCK_ARGS="--upgrade-package sqlalchemy"` bumps one.
LOCK_ARGS ?= --upgrade

.DEFAULT_GOAL := help
.PHONY: help install lock run initdb test test-cluster fuzz lint format bench bench-peers bench-scaling clean

# The first column as wide as the longest target's name.
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' \
	  '{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
	  END { for (i = 1; i <= NR; i++) printf "  make %-" width "s  %s\n", name[i], text[i] }'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): setup.cfg pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade -c $(LOCK) pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	@touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv: the package and its dev tools, pinned by the lock

lock: | $(BIN)/python ## Re-pin requirements/constraints.txt to the newest versions setup.cfg allows
	$(BIN)/python -m pip install --quiet -c $(LOCK) pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet $(LOCK_ARGS) \
	  --extra dev --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  --output-file $(LOCK) setup.cfg

initdb: $(RUN_STAMP) ## Migrate the development database to head and add sample data
	$(BIN)/company-service initdb $(CONFIG) --sample-data

# host:port that $(CONFIG)'s [server:main] serves on, given http_port=$(PORT)
# (an ini that names its port itself keeps it).
define listen_address
import sys, plaster
server = plaster.get_settings(sys.argv[1], "server:main", defaults={"http_port": sys.argv[2]})
default = f"{server.get('host', 'localhost')}:{server.get('port', 8080)}"
print(server.get("listen", default).split()[0])
endef
export listen_address

run: initdb ## Serve the API on http://localhost:6543 (PORT=... another port, CONFIG=... another ini)
	@address=$$($(BIN)/python -c "$$listen_address" $(CONFIG) $(PORT)) && \
	echo && \
	echo "Get a token:   TOKEN=\$$($(BIN)/company-service create-token $(CONFIG) --role editor)" && \
	echo "First request: curl -H \"Authorization: Bearer \$$TOKEN\" http://$$address/api/v1/employees" && \
	echo "API docs:      http://$$address/api/v1/docs" && \
	echo
	$(BIN)/pserve $(CONFIG) http_port=$(PORT)

# $(call covered,ARGS): `coverage run ARGS` (its subprocesses measured too, see
# [tool.coverage] in pyproject.toml), then one data file ($$COVERAGE_FILE, else
# .coverage) and the branch-coverage report; the status is the command's.
define covered
	@$(BIN)/coverage erase
	@echo 'coverage run $(subst ','\'',$(1))'
	@status=0; $(BIN)/coverage run $(1) || status=$$?; \
	$(BIN)/coverage combine --quiet && $(BIN)/coverage report; \
	exit $$status
endef

test: $(STAMP) ## Run the tests under coverage (SQLite; set TEST_DATABASE_URL for another database)
	$(call covered,-m pytest $(PYTEST_ARGS))

# The clusters (dev/clusters/, outside the package: coverage measures the
# service only) are started by the tests' fixtures on ports and in
# directories of their own, and stopped afterwards.
test-cluster: $(STAMP) ## Run tests/cluster: Galera, a PostgreSQL hot standby, haproxy (started and stopped here)
	$(call covered,-m pytest tests/cluster $(PYTEST_ARGS))

fuzz: $(STAMP) ## Fuzz the live server with schemathesis (FUZZ_DATABASE_URL, else SQLite)
	$(call covered,fuzz/run.py $(FUZZ_ARGS))

lint: $(STAMP) ## Check style and common mistakes with ruff, and types with mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Reformat and fix what ruff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## This tree vs BASE=<commit>'s service (else a bare-Core baseline), side by side (needs wrk)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py $(if $(BASE),--base $(BASE)) $(BENCH_ARGS)

# The side-by-side harness of ../shared/peers (its README), run on this tree.
PEERS ?= ../shared/peers
PEERS_HOME ?= $(CURDIR)/.peers
PEERS_ARGS ?= --db postgresql -n 100000 --duration 10 --rounds 2
bench-peers: $(STAMP) ## This service beside Flask-SQLAlchemy, FastAPI, the cookiecutter app and bare Core (../shared/peers)
	PEERS=$(PEERS) PEERS_HOME=$(PEERS_HOME) PROJECT=$(CURDIR) PYTHON=$(PYTHON) bench/peers.sh $(PEERS_ARGS)

bench-scaling: $(STAMP) ## docs/scaling.md's figures: 1 vs 2 processes, standby reads, Galera 1 vs 2 nodes (root, wrk, haproxy)
	@command -v wrk >/dev/null || { echo "make bench-scaling needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/scaling.py $(BENCH_ARGS)

clean: ## Remove .venv, caches and coverage data (not the database)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info .coverage .coverage.*
