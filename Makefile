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

.PHONY: demo start stop test lint format collection tree clean conformance

$(BIN)/.installed: simulator/pyproject.toml requirements-dev.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (Debian: apt install python3 python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV) (Debian: apt install python3-venv)"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e simulator -r requirements-dev.txt
	@touch $@

# Build the collection tarball (galaxy.yml's build_ignore applies) and install it.
collection: $(BIN)/.installed
	@rm -rf build/dist && mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) build/dist/opensandbox-cloud-*.tar.gz >/dev/null
	@echo "Installed opensandbox.cloud into $(COLLECTIONS)"
	@$(BIN)/python tools/fetch_openstack_cloud.py $(COLLECTIONS)

start: $(BIN)/.installed
	$(BIN)/stacksim start --state-dir $(STATE) --port $(PORT) --clouds-yaml $(CLOUDS)

stop:
	@if [ -x $(BIN)/stacksim ]; then $(BIN)/stacksim stop --state-dir $(STATE); else echo "stacksim is not installed"; fi

demo: collection start
	$(BIN)/ansible-playbook playbooks/demo.yml
	@echo
	@echo "Done. stacksim serves http://127.0.0.1:$(PORT) (state in $(STATE)/, log in $(STATE)/stacksim.log)."
	@echo "Clouds 'stacksim' (demo member), 'stacksim-admin' and 'stacksim-alt' are in $(CLOUDS);"
	@echo "from this directory try:  $(BIN)/openstack --os-cloud stacksim token issue"
	@echo "(elsewhere: export OS_CLIENT_CONFIG_FILE=$(CLOUDS)). Stop the simulator with: make stop"

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
TEST_WORKERS ?= 3
PYTEST_ARGS ?=
test: lint collection
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

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
	rm -rf build $(VENV) $(STATE) $(CLOUDS)
