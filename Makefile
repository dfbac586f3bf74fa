# Release and packaging targets of ems.enable (docs/release.md, docs/execution-environment.md).
# Tests: ./scripts/test (not make). Everything here runs in .venv (scripts/bootstrap first).
SHELL := /bin/bash
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
DIST ?= dist

.PHONY: help release-check build changelog-lint role-docs docs ee-context ee-build clean

help:
	@echo "make release-check   changelog lint, role docs check, build into $(DIST)/, tarball contents, galaxy-importer"
	@echo "make build           ansible-galaxy collection build into $(DIST)/"
	@echo "make role-docs       regenerate the role README variable tables from argument specs"
	@echo "make docs            antsibull-docs lint + docs site build into a temp dir (scripts/docs-build)"
	@echo "make ee-context      build, then ansible-builder create into context/ (no container engine needed)"
	@echo "make ee-build        build the execution environment image (needs podman or docker)"

release-check:
	./scripts/release-check $(DIST)

build:
	source scripts/env && ansible-galaxy collection build --force --output-path $(DIST) .

changelog-lint:
	source scripts/env && antsibull-changelog lint

role-docs:
	source scripts/env && python scripts/role-docs

docs:
	./scripts/docs-build

ee-context: build
	source scripts/env && ansible-builder create --context context --output-filename Containerfile

ee-build: build
	source scripts/env && ansible-builder build --tag ems-enable-ee:$(VERSION) --tag ems-enable-ee:latest

clean:
	rm -rf $(DIST) context
