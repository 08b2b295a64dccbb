# The two commands of the quickstart are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STATE := .stacksim
PORT ?= 8780
CLOUDS := $(CURDIR)/clouds.yaml
COLLECTIONS := $(CURDIR)/build/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_LOCALHOST_WARNING := False
export OS_CLIENT_CONFIG_FILE := $(CLOUDS)
# The playbooks write the sandbox's inventory in the directory they run in (the shell's PWD).
export PWD := $(CURDIR)

# What an instance is: a container (docker) or a record (fake). By default (auto) a container
# where the docker driver can run (as root, with a Docker engine that answers), else a record;
# `make demo DRIVER=fake` keeps records only, `DRIVER=docker` insists on containers.
DRIVER ?= auto

.PHONY: demo destroy start stop test lint format collection tree clean conformance wheelhouse

# The simulator role installs stacksim from a wheel shipped inside the collection. It is
# rebuilt when the simulator's sources change, reproducibly (the same sources give the same
# bytes, so redeploying an unchanged collection changes nothing).
STACKSIM_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' simulator/pyproject.toml)
STACKSIM_SOURCES := simulator/pyproject.toml $(shell find simulator/src -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*')
ROLE_WHEEL := roles/simulator/files/stacksim-$(STACKSIM_VERSION)-py3-none-any.whl
# stacksim's dependencies as wheels, at the versions of constraints.txt: the tests deploy
# the simulator role from here (pip --no-index), without the package index.
WHEELHOUSE := build/wheelhouse

$(BIN)/.installed: simulator/pyproject.toml requirements-dev.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (Debian: apt install python3 python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV) (Debian: apt install python3-venv)"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e simulator -r requirements-dev.txt
	@touch $@

$(ROLE_WHEEL): $(BIN)/.installed $(STACKSIM_SOURCES)
	@rm -f roles/simulator/files/stacksim-*.whl
	SOURCE_DATE_EPOCH=315532800 $(BIN)/pip wheel --quiet --no-deps --no-build-isolation --no-index -w roles/simulator/files ./simulator
	@rm -rf simulator/build

$(WHEELHOUSE)/.complete: $(BIN)/.installed simulator/pyproject.toml constraints.txt
	@rm -rf $(WHEELHOUSE)
	$(BIN)/pip wheel --quiet --no-build-isolation -c constraints.txt -w $(WHEELHOUSE) ./simulator
	@rm -rf simulator/build
	@touch $@

wheelhouse: $(WHEELHOUSE)/.complete

# Build the collection tarball (galaxy.yml's build_ignore applies) and install it.
collection: $(BIN)/.installed $(ROLE_WHEEL)
	@rm -rf build/dist && mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) build/dist/opensandbox-cloud-*.tar.gz >/dev/null
	@echo "Installed opensandbox.cloud into $(COLLECTIONS)"
	@$(BIN)/python tools/fetch_openstack_cloud.py $(COLLECTIONS)

start: $(BIN)/.installed
	@driver="$(DRIVER)"; why=""; \
	if [ "$$driver" = auto ]; then \
	  why=$$($(BIN)/python -c 'from stacksim.drivers.docker import check; print(check() or "")'); \
	  if [ -z "$$why" ]; then driver=docker; else driver=fake; fi; \
	fi; \
	if [ "$$driver" = docker ]; then \
	  echo "Compute driver: docker (instances are containers you can ssh into; DRIVER=fake keeps records only)"; \
	  $(BIN)/stacksim images build || exit 1; \
	else \
	  echo "Compute driver: $$driver (instances are records, nothing to ssh into: $${why:-as asked})"; \
	fi; \
	$(BIN)/stacksim start --state-dir $(STATE) --port $(PORT) --clouds-yaml $(CLOUDS) --compute-driver $$driver

stop:
	@if [ -x $(BIN)/stacksim ]; then $(BIN)/stacksim stop --state-dir $(STATE); else echo "stacksim is not installed"; fi

demo: collection start
	$(BIN)/ansible-playbook playbooks/demo.yml
	@echo
	@echo "Done. stacksim serves http://127.0.0.1:$(PORT) (state in $(STATE)/, log in $(STATE)/stacksim.log)."
	@echo "Clouds 'stacksim' (demo member), 'stacksim-admin' and 'stacksim-alt' are in $(CLOUDS);"
	@echo "from this directory try:  $(BIN)/openstack --os-cloud stacksim token issue"
	@echo "(elsewhere: export OS_CLIENT_CONFIG_FILE=$(CLOUDS)). Remove the sandbox with: make destroy;"
	@echo "stop the simulator with: make stop"

# Delete the demo's sandbox (and its inventory file); the simulator keeps running.
destroy: collection start
	$(BIN)/ansible-playbook playbooks/destroy_sandbox.yml -e topology=playbooks/files/small-sandbox.yaml

# The headless browser the dashboard's tests drive (simulator/tests/test_dashboard.py), as
# root: Debian's chromium and its WebDriver. Elsewhere those tests are skipped, and say why.
.PHONY: browser
browser:
	@missing=""; \
	for tool in chromium:chromium chromedriver:chromium-driver; do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "make browser installs$$missing: run it as root"; exit 1; fi; \
	  echo "Installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	fi

# The docker driver's engine, as root: install Docker and what the driver uses (debootstrap
# for the base image, iptables, an SSH client for the tests), start dockerd if it is not
# running, and build the base image (once per machine; cached after). It installs the
# dashboard tests' browser too (`browser`), so CI's one root step sets up every test.
.PHONY: docker-engine
docker-engine: $(BIN)/.installed browser
	@if [ "$$(id -u)" -ne 0 ]; then echo "make docker-engine installs packages and starts dockerd: run it as root"; exit 1; fi
	@missing=""; \
	for tool in dockerd:docker.io debootstrap:debootstrap iptables:iptables ssh:openssh-client losetup:mount nsenter:util-linux; do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	fi
	@if ! docker info >/dev/null 2>&1; then \
	  if [ -d /run/systemd/system ]; then systemctl start docker; \
	  else echo "Starting dockerd (log in /var/log/dockerd.log)"; nohup dockerd >/var/log/dockerd.log 2>&1 & fi; \
	  for i in $$(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done; \
	  docker info >/dev/null 2>&1 || { echo "dockerd did not start: see /var/log/dockerd.log"; exit 1; }; \
	fi
	$(BIN)/stacksim images build

# stacksim beside mimic (the old Rackspace OpenStack mock), alternating the two in one run
# (bench/bench_vs_mimic.py, about ten minutes): appends to bench/results/vs_mimic.json and
# rewrites bench/README.md's table. mimic gets a venv of its own, at the pinned versions.
MIMIC_VENV := build/bench/mimic-venv
$(MIMIC_VENV)/.installed: bench/requirements-mimic.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (Debian: apt install python3 python3-venv)"; exit 1; }
	@rm -rf $(MIMIC_VENV)
	$(PYTHON) -m venv $(MIMIC_VENV)
	$(MIMIC_VENV)/bin/pip install --quiet -r bench/requirements-mimic.txt
	@touch $@

.PHONY: bench
bench: $(BIN)/.installed $(MIMIC_VENV)/.installed
	$(BIN)/python bench/bench_vs_mimic.py $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every suite: lint, then pytest (collection unit, integration and ansible-test sanity,
# and the simulator's), whose summary line ends the output. The tests run on
# TEST_WORKERS pytest-xdist workers, each with its own simulator; each test starts
# from the simulator's bootstrap state, so any order works: `make test
# PYTEST_ARGS="--random-order"` or `PYTEST_ARGS=--reverse` shows it.
# pytest's temporary folders go under a root of this run's own: pytest deletes all but the
# newest three sessions' folders under its root, so another pytest run on the host (a second
# checkout's tests) would otherwise delete the state dirs of this run's live simulators.
# --dist worksteal: xdist's default (load) hands each worker a fixed first chunk of a
# quarter of its share, in collection order, so one worker got every delivery, integration
# and sanity test (three quarters of the suite's time) and ran them alone; worksteal lets
# an idle worker take half of a busy one's queue. tests/conftest.py then orders the tests so
# that each worker's first share starts with an equal part of the long ones (as timed in
# tests/durations.json; see tests/utils/xdist_order.py), and the docker tests run on one worker
# one after another. Refresh the timings after a big change: `make test
# PYTEST_ARGS=--durations=0 | tee test.log; .venv/bin/python tests/utils/xdist_order.py test.log`.
TEST_WORKERS ?= 3
PYTEST_ARGS ?=
test: lint collection wheelhouse
	@root=$$(mktemp -d "$${TMPDIR:-/tmp}/opensandbox-test.XXXXXX"); \
	PYTEST_DEBUG_TEMPROOT=$$root $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS); rc=$$?; \
	rm -rf "$$root"; exit $$rc

# openstacksdk's own functional tests against a private stacksim, in a venv of their own
# (about ten minutes; not part of `make test`). Writes docs/conformance.md and
# docs/conformance-worklist.md; `make conformance TEST=<test id>` runs just that test.
CONFORMANCE_VENV := build/conformance/venv
$(CONFORMANCE_VENV)/.installed: tools/conformance/requirements.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (Debian: apt install python3 python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(CONFORMANCE_VENV)
	$(CONFORMANCE_VENV)/bin/pip install --quiet --upgrade pip
	$(CONFORMANCE_VENV)/bin/pip install --quiet -c constraints.txt -r tools/conformance/requirements.txt
	@touch $@

conformance: $(BIN)/.installed $(CONFORMANCE_VENV)/.installed
	$(BIN)/python tools/conformance/run.py --suite-python $(CONFORMANCE_VENV)/bin/python $(TEST)

clean: stop
	@if [ -x $(BIN)/stacksim ]; then $(BIN)/stacksim stop --state-dir $(STATE) --purge >/dev/null; fi
	rm -rf build $(VENV) $(STATE) $(CLOUDS) roles/simulator/files/stacksim-*.whl
