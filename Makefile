# Intake's entry points. `make help` lists them.
CARGO ?= cargo

.PHONY: help run test lint fmt example

help:
	@echo "make run   - run Intake's pipeline locally (today: the in-memory pipeline, end to end)"
	@echo "make test  - run every test of the workspace"
	@echo "make lint  - rustfmt check and clippy with warnings denied (what CI enforces)"

## Runs the pipeline locally. Until the local server lands (filesystem + SQLite + Tesseract), this runs
## the whole flow over the in-memory adapters: upload URL, upload, processing, listing, download URL.
run:
	$(CARGO) run -p intake-memory --features testkit --example embed

## Every test of the workspace: unit tests, conformance suites, scenario suites, end-to-end tests.
test:
	$(CARGO) test --workspace --all-features

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

fmt:
	$(CARGO) fmt --all
