# backup-blueprint-policy. `make test` is what CI runs.
SOURCE_FILES := $(shell find src -type f -name '*.rs') Cargo.toml Cargo.lock
WASM_TARGET := wasm32-wasip1
WASM := target/$(WASM_TARGET)/release/backup_blueprint_policy.wasm
KWCTL ?= kwctl

policy.wasm: $(SOURCE_FILES)
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo build --target $(WASM_TARGET) --release
	cp $(WASM) policy.wasm

# Embeds metadata.yml and this README as the policy's usage (needs kwctl).
annotated-policy.wasm: policy.wasm metadata.yml README.md
	@command -v $(KWCTL) >/dev/null || { echo "kwctl is not installed: it is needed to annotate the policy"; exit 1; }
	$(KWCTL) annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

.PHONY: fmt
fmt:
	cargo fmt --all

.PHONY: fmt-check
fmt-check:
	cargo fmt --all -- --check

.PHONY: lint
lint:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) --lib -- -D warnings

.PHONY: unit-tests
unit-tests:
	cargo test

# Native timings of one evaluation (benches/evaluate.rs).
.PHONY: bench
bench:
	cargo bench --bench evaluate

.PHONY: test
test: fmt-check lint unit-tests

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
