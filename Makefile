# kvcompute.libvirt: one entry point for developers and CI (.ci/run runs `make test`).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VENV        := .venv
PYTEST      := $(VENV)/bin/pytest
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections

# pytest on a directory that has no tests yet is a no-op, not exit 5. $(2): extra arguments (unit: -n 2, pure and parallel-safe).
define run_pytest
	@if find $(1) -name 'test_*.py' 2>/dev/null | grep -q .; then \
	  $(PYTEST) $(1) --junitxml=tests/output/junit-$(notdir $(1)).xml $(2) $(PYTEST_ARGS); \
	else \
	  echo "$(1): no tests yet, skipped"; \
	fi
endef

.PHONY: help venv testbed test unit integration sanity lint demo bench clean molecule docs release

help:
	@echo "make testbed      install packages, .venv, collection link; start libvirtd (scripts/testbed.sh)"
	@echo "make test         testbed, then unit, integration, sanity, molecule, release, lint, docs; fails if any fails"
	@echo "make unit | integration | sanity | lint    one suite (PYTEST_ARGS='-k x -x' for pytest)"
	@echo "make demo         testbed, then playbooks/demo.yml on localhost"
	@echo "make bench        testbed, then every bench/*.py (ratios against a baseline, no thresholds)"
	@echo "make molecule | docs | release   Molecule scenarios (incl. a booted Debian 12 guest), docs site, release checks"
	@echo "make clean        remove .venv, .cache, tests/output"

venv testbed:
	bash scripts/testbed.sh

# Every suite even after a failure; then the failed ones and a non-zero exit (scripts/test_suites.sh).
# "a+b": suites that share nothing run side by side; integration runs alone.
test: testbed
	bash scripts/test_suites.sh unit integration sanity+molecule release+lint+docs

unit:
	$(call run_pytest,tests/unit,-n 2)

integration:
	$(call run_pytest,tests/integration)

sanity:
	bash scripts/sanity.sh

lint:
	bash scripts/lint.sh

# docs/ecosystem.md: molecule scenarios (MOLECULE_SCENARIOS='booted' for one),
# docs site (lint + build), release checks (changelog, tarball, sanity on it, EE).
molecule:
	bash scripts/molecule.sh $(MOLECULE_SCENARIOS)

docs:
	bash scripts/docs.sh

release:
	bash scripts/release.sh

# The host's own python3 runs the role (as on any managed host); the role's module venv runs kv_*.
demo: testbed
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 $(VENV)/bin/ansible-playbook -i localhost, -c local playbooks/demo.yml

bench: testbed
	@for b in bench/*.py; do echo "=== $$b"; $(VENV)/bin/python $$b; done

clean:
	rm -rf $(VENV) .cache tests/output .hypothesis .ansible docs/_build
