SOURCE_FILES := $(shell find src -type f -name '*.rs') Cargo.toml Cargo.lock
WASM_TARGET := wasm32-wasip1
WASM := target/$(WASM_TARGET)/release/backup_blueprint_policy.wasm

policy.wasm: $(SOURCE_FILES)
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	cargo build --target $(WASM_TARGET) --release
	cp $(WASM) policy.wasm

.PHONY: clean
clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
