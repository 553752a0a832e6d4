# gonpack: `make demo` and `make test` work on a fresh machine (they install libtorch first).
CARGO ?= cargo
BIN := target/release/gonpack

.PHONY: setup build demo test bench clean-demo

# libtorch (torch==2.13.0 from PyPI) into .venv; skipped when LIBTORCH is set.
setup:
	@bash scripts/setup-torch.sh

build: setup
	$(CARGO) build --release

# Encode the committed corpus into one pack, then decode it at 4x.
demo: build
	$(BIN) encode corpus -o out/corpus.gonpack
	$(BIN) info out/corpus.gonpack
	$(BIN) decode out/corpus.gonpack --scale 4 -o out/corpus-x4
	@echo "pack: out/corpus.gonpack   4x images: out/corpus-x4/"

# Whole test suite (release build, shared with `make build`), formatting and lints.
test: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	$(CARGO) clippy --release --no-default-features --features cli --lib --bins --tests -- -D warnings
	$(CARGO) test --release
	env -u LIBTORCH $(CARGO) test --release --no-default-features

bench: setup
	$(CARGO) bench
