# kvcompute.libvirt: one entry point for developers and CI (.ci/run runs `make test`).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VENV        := .venv
PYTEST      := $(VENV)/bin/pytest
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections

# pytest on a directory that has no tests yet is a no-op, not exit 5.
define run_pytest
	@if find $(1) -name 'test_*.py' 2>/dev/null | grep -q .; then \
	  $(PYTEST) $(1) --junitxml=tests/output/junit-$(notdir $(1)).xml $(PYTEST_ARGS); \
	else \
	  echo "$(1): no tests yet, skipped"; \
	fi
endef

.PHONY: help venv testbed test unit integration sanity lint demo bench clean molecule docs release

help:
	@echo "make testbed      install packages, .venv, collection link; start libvirtd (scripts/testbed.sh)"
	@echo "make test         testbed, then unit, integration, sanity, lint; fails if any fails"
	@echo "make unit | integration | sanity | lint    one suite (PYTEST_ARGS='-k x -x' for pytest)"
	@echo "make demo         testbed, then playbooks/demo.yml on localhost"
	@echo "make bench        testbed, then every bench/*.py (ratios against a baseline, no thresholds)"
	@echo "make molecule | docs | release   Molecule scenarios (incl. a booted Debian 12 guest), docs site, release checks"
	@echo "make clean        remove .venv, .cache, tests/output"

venv testbed:
	bash scripts/testbed.sh

# Runs every suite even after a failure, then lists the failed ones and exits non-zero.
test: testbed
	@mkdir -p tests/output; rm -f tests/output/junit-*.xml tests/output/summary.txt; failed=""; passed=""; \
	for suite in unit integration sanity lint molecule docs release; do \
	  echo "=== $$suite"; start=$$SECONDS; \
	  if $(MAKE) --no-print-directory $$suite; then res=ok; passed="$$passed $$suite"; else res=FAILED; failed="$$failed $$suite"; fi; \
	  echo "=== $$suite: $$res ($$(( SECONDS - start ))s)"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed"; else echo "make test: all passed"; fi; \
	$(VENV)/bin/python scripts/test_summary.py --passed "$$passed" --failed "$$failed" tests/output/junit-*.xml \
	  | tee tests/output/summary.txt; \
	[ -z "$$failed" ]

unit:
	$(call run_pytest,tests/unit)

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
