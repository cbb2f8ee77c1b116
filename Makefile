# Intake's entry points. `make help` lists them.
CARGO ?= cargo

.PHONY: help run test lint fmt backends

help:
	@echo "make run   - run Intake's pipeline locally (today: the in-memory pipeline, end to end)"
	@echo "make test  - run every test of the workspace"
	@echo "make lint  - rustfmt check and clippy with warnings denied (what CI enforces)"

## Runs the pipeline locally. Until the local server lands (filesystem + SQLite + Tesseract), this runs
## the whole flow over the in-memory adapters: upload URL, upload, processing, listing, download URL.
run:
	$(CARGO) run -p intake-memory --features testkit --example embed

## Every test of the workspace: unit tests, conformance suites, scenario suites, end-to-end tests, and
## the AWS adapters against moto and s3s-fs (installed on first use by scripts/backends.sh).
test:
	eval "$$(scripts/backends.sh)" && $(CARGO) test --workspace --all-features

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

fmt:
	$(CARGO) fmt --all

## Installs the emulators the AWS adapter tests use (moto, s3s-fs); `make test` does this itself.
backends:
	scripts/backends.sh
