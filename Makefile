# backup-blueprint-policy. `make test` is what CI runs.
SOURCE_FILES := $(shell find src -type f -name '*.rs') Cargo.toml Cargo.lock
WASM_TARGET := wasm32-wasip1
WASM := target/$(WASM_TARGET)/release/backup_blueprint_policy.wasm
KWCTL ?= kwctl
WASM_OPT ?= wasm-opt
# The features rustc enables for wasm32-wasip1; wasmtime (policy-server) supports them all.
WASM_FEATURES := --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
	--enable-mutable-globals --enable-reference-types --enable-multivalue

# --low-memory-unused lets wasm-opt fold constant offsets into loads and stores: it only
# changes accesses whose address wraps around 4 GiB, which safe Rust never makes.
WASM_OPT_FLAGS := -Oz --low-memory-unused

# Size-optimised with binaryen's wasm-opt when it is installed (.ci/run installs it); prints
# the size, e.g. `policy.wasm: 287,512 bytes`.
policy.wasm: $(SOURCE_FILES)
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo build --locked --target $(WASM_TARGET) --release
	@if command -v $(WASM_OPT) >/dev/null; then \
	  echo "$(WASM_OPT) $(WASM_OPT_FLAGS) $(WASM) -o policy.wasm"; \
	  $(WASM_OPT) $(WASM_OPT_FLAGS) $(WASM_FEATURES) $(WASM) -o policy.wasm; \
	else \
	  echo "wasm-opt not found (Debian: binaryen): policy.wasm is not size-optimised"; cp $(WASM) policy.wasm; \
	fi
	@wc -c < policy.wasm | awk '{ n = $$1; s = ""; while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) } print "policy.wasm: " n s " bytes" }'

# Embeds metadata.yml and this README as the policy's usage (needs kwctl).
annotated-policy.wasm: policy.wasm metadata.yml README.md
	@command -v $(KWCTL) >/dev/null || { echo "kwctl is not installed: it is needed to annotate the policy"; exit 1; }
	$(KWCTL) annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

# Publishes the annotated policy: make push REGISTRY=ghcr.io/you/policies
# (PUSH_FLAGS: more `kwctl push` options, e.g. --sources-path for a plain-HTTP registry).
POLICY_VERSION := $(shell sed -n 's/^  io.kubewarden.policy.version: \([^ ]*\).*/\1/p' metadata.yml)
PUSH_FLAGS ?=
.PHONY: push
push: annotated-policy.wasm
	@[ -n "$(REGISTRY)" ] || { echo "usage: make push REGISTRY=<host>[:port]/<path> (e.g. ghcr.io/you/policies)"; exit 1; }
	$(KWCTL) push $(PUSH_FLAGS) annotated-policy.wasm registry://$(REGISTRY)/backup-blueprint:v$(POLICY_VERSION)

.PHONY: fmt
fmt:
	cargo fmt --all

.PHONY: fmt-check
fmt-check:
	cargo fmt --all -- --check

.PHONY: lint
lint:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo clippy --locked --all-targets -- -D warnings
	cargo clippy --locked --target $(WASM_TARGET) --lib -- -D warnings

.PHONY: unit-tests
unit-tests:
	cargo test --locked

# Timings of one evaluation: the native core (benches/evaluate.rs), policy.wasm under
# wasmtime as policy-server runs it, with the wasm instructions of one validate beside the
# floor policies' (e2e-tests/benches/wasm.rs), the hostile catalogue's time,
# guest memory and lookups per case (e2e-tests/benches/hostile.rs: fails over 50 ms or 64 MiB),
# then the real `kwctl bench` on policy.wasm and on the three floor policies, side by side
# (e2e-tests/benches/kwctl.rs; in a loopback-only namespace, lookups answered by the fake API
# server).
.PHONY: bench
bench: policy.wasm floors
	cargo bench --locked --bench evaluate
	cd e2e-tests && $(FLOORS_ENV) cargo bench --locked --bench wasm
	cd e2e-tests && cargo bench --locked --bench hostile
	cd e2e-tests && cargo bench --locked --bench kwctl --no-run --quiet
	cd e2e-tests && $(FLOORS_ENV) ./in-netns cargo bench --offline --locked --bench kwctl

# The floor policies of `make bench` (benches/floors): (1) decode and accept; (2) decode, two
# lookups, one annotation; (3) decode, the four lookups of an annotated Deployment's CREATE
# (two of them the collision check's, which find nothing), one annotation; (4) decode, the six
# lookups of an annotated KubeStash StatefulSet's CREATE (two find nothing), one annotation.
FLOORS_DIR := benches/floors
FLOORS_WASM := $(FLOORS_DIR)/target/$(WASM_TARGET)/release/backup_blueprint_policy_floors.wasm
FLOOR_ACCEPT := target/floors/floor-accept.wasm
FLOOR_LOOKUPS := target/floors/floor-lookups.wasm
FLOOR_COLLISIONS := target/floors/floor-collisions.wasm
FLOOR_KUBESTASH := target/floors/floor-kubestash.wasm
FLOORS_ENV := FLOOR_ACCEPT=$(abspath $(FLOOR_ACCEPT)) FLOOR_LOOKUPS=$(abspath $(FLOOR_LOOKUPS)) \
	FLOOR_COLLISIONS=$(abspath $(FLOOR_COLLISIONS)) FLOOR_KUBESTASH=$(abspath $(FLOOR_KUBESTASH))
.PHONY: floors
floors:
	@mkdir -p target/floors
	cd $(FLOORS_DIR) && cargo build --locked --release --target $(WASM_TARGET)
	cp $(FLOORS_WASM) $(FLOOR_ACCEPT)
	cd $(FLOORS_DIR) && cargo build --locked --release --target $(WASM_TARGET) --features lookups
	cp $(FLOORS_WASM) $(FLOOR_LOOKUPS)
	cd $(FLOORS_DIR) && cargo build --locked --release --target $(WASM_TARGET) --features collision-lookups
	cp $(FLOORS_WASM) $(FLOOR_COLLISIONS)
	cd $(FLOORS_DIR) && cargo build --locked --release --target $(WASM_TARGET) --features kubestash-lookups
	cp $(FLOORS_WASM) $(FLOOR_KUBESTASH)

.PHONY: test
test: fmt-check lint workflow-lint unit-tests e2e-lint real-engine-reset e2e-tests e2e-bats real-engine-summary

# The GitHub workflows (.github/workflows): checked against GitHub's workflow schema
# (check-jsonschema's vendored copy) and audited by zizmor (.github/zizmor.yml), both from PyPI,
# pinned, in a virtual environment under target/.
LINT_VENV := target/workflow-lint
WORKFLOW_LINTERS := zizmor==1.32.0 check-jsonschema==0.39.0
.PHONY: workflow-lint
workflow-lint:
	@[ -x $(LINT_VENV)/bin/zizmor ] && [ -x $(LINT_VENV)/bin/check-jsonschema ] || { \
	  python3 -m venv $(LINT_VENV) && $(LINT_VENV)/bin/pip install --quiet $(WORKFLOW_LINTERS); }
	$(LINT_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(LINT_VENV)/bin/zizmor --offline --config .github/zizmor.yml .github/workflows

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm

# --- Fuzzing (fuzz/, its own Cargo package; not part of `make test`) ---
# libFuzzer through cargo-fuzz on stable Rust (`--sanitizer none`: the sanitizers need nightly).
# `make fuzz` builds every target and runs each for FUZZ_TIME seconds, failing on any crash,
# timeout or out-of-memory; FUZZ_TIME=600 (or FUZZ_FLAGS=-runs=N) makes a long campaign.
FUZZ_TARGETS := annotations substitution cron settings evaluate
FUZZ_TIME ?= 20
FUZZ_FLAGS ?= -max_total_time=$(FUZZ_TIME)
FUZZ_LIMITS := -rss_limit_mb=2048 -timeout=5 -max_len=16384
CARGO_FUZZ := cargo fuzz

.PHONY: fuzz
fuzz: fuzz-seeds
	@cargo fuzz --version >/dev/null 2>&1 || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz"; exit 1; }
	cd fuzz && $(CARGO_FUZZ) build --sanitizer none
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target; \
	  dict=""; [ -f fuzz/dicts/$$target.dict ] && dict="-dict=dicts/$$target.dict"; \
	  echo "== fuzz $$target"; \
	  (cd fuzz && $(CARGO_FUZZ) run --sanitizer none $$target corpus/$$target seeds/$$target -- \
	    $(FUZZ_FLAGS) $(FUZZ_LIMITS) $$dict) || exit 1; \
	done

# Seeds from the e2e scenarios and the conformance cases (needs PyYAML; without it the
# targets start from an empty corpus).
.PHONY: fuzz-seeds
fuzz-seeds:
	@for target in $(FUZZ_TARGETS); do mkdir -p fuzz/seeds/$$target; done
	@if python3 -c 'import yaml' 2>/dev/null; then python3 fuzz/build_corpus.py; \
	else echo "PyYAML not found (Debian: python3-yaml): fuzzing without seeds"; fi

# --- The compiled policy end to end (e2e-tests/, its own Cargo package) ---
E2E_DIR := e2e-tests
POLICY_RUN := $(E2E_DIR)/target/debug/policy-run
# examples/NAME.yaml, or NAME:SETTINGS for examples/NAME.yaml with examples/SETTINGS.yaml
# (the tenancy pair: one allowed, one forbidden under blueprintAccess).
EXAMPLES := deployment-good deployment-broken postgres deployment-collision \
	team-a-web:tenancy-settings team-c-web:tenancy-settings \
	statefulset-defaulted:protection-settings statefulset-unprotected:protection-settings \
	kubestash-statefulset:kubestash-settings kubestash-other-tenant:kubestash-settings kubestash-postgres
# policy-run keeps the compiled policy here (compiling it takes seconds).
POLICY_RUN_CACHE := $(E2E_DIR)/target/policy-cache

# The wasm scenarios and conformance cases through the freshly built policy.wasm, and the
# policy-server harness (tests/policy_server.rs runs itself in a loopback-only namespace).
.PHONY: e2e-tests
e2e-tests: policy.wasm
	cd $(E2E_DIR) && cargo test --locked

.PHONY: e2e-lint
e2e-lint:
	cd $(E2E_DIR) && cargo fmt -- --check && cargo clippy --locked --all-targets -- -D warnings

# The scenarios through the real `kwctl run`, the packaging files against kwctl, and OCI
# distribution through docker-registry: in a loopback-only network namespace (each test skips
# with one line when its tool is missing). policy-run is built the way `cargo test` builds it,
# so that it is not rebuilt after e2e-tests.
.PHONY: e2e-bats
e2e-bats: policy.wasm
	cd $(E2E_DIR) && cargo test --no-run --quiet --locked
	@if command -v bats >/dev/null; then $(E2E_DIR)/in-netns bats $(E2E_DIR)/bats; \
	else echo "skipped: bats is not installed: not running $(E2E_DIR)/bats/*.bats"; \
	  [ "$${REQUIRE_REAL_ENGINE:-0}" != 1 ]; fi

# Every real-engine test (kwctl, docker-registry, policy-server) counts itself here.
export REAL_ENGINE_TALLY := $(CURDIR)/$(E2E_DIR)/target/real-engine.tally

.PHONY: real-engine-reset
real-engine-reset:
	@mkdir -p $(dir $(REAL_ENGINE_TALLY)) && rm -f $(REAL_ENGINE_TALLY)

# How many tests ran against each real tool (with REQUIRE_REAL_ENGINE=1, none may skip).
.PHONY: real-engine-summary
real-engine-summary:
	@$(E2E_DIR)/real-engine-summary $(REAL_ENGINE_TALLY)

.PHONY: policy-run
policy-run:
	cd $(E2E_DIR) && cargo build --locked --bin policy-run

# Installs a release build of policy-run on PATH: ~/.cargo/bin, or $CARGO_INSTALL_ROOT/bin.
.PHONY: install
install:
	cargo install --locked --path $(E2E_DIR) --bin policy-run

# Shows what the policy does to each example: the README's first command. --pretty shows the
# annotations given, those the policy added (a defaulted target), and the emitted objects.
.PHONY: run
run: policy.wasm policy-run
	@for entry in $(EXAMPLES); do \
	  example=$${entry%%:*}; settings=""; \
	  case $$entry in *:*) settings="--settings examples/$${entry#*:}.yaml ";; esac; \
	  echo "== policy-run --cluster examples/cluster.yaml $$settings--object examples/$$example.yaml --pretty"; \
	  POLICY_RUN_CACHE_DIR=$(POLICY_RUN_CACHE) $(POLICY_RUN) --cluster examples/cluster.yaml \
	    $$settings--object examples/$$example.yaml --pretty || exit 1; \
	  echo; \
	done

