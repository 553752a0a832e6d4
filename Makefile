# gonpack: `make demo` and `make test` work on a fresh machine (they install libtorch first).
# The workspace: `gonpack` (format, renderer, reader) and `gonpack-cli` in cli/ (the `gonpack`
# program) never link libtorch; `gonpack-train` in train/ (training and encoding with tch, the
# `gonpack-train` program) and `gonpack-bench` in bench/ (the rate-distortion benchmark) do.
CARGO ?= cargo
BIN := target/release/gonpack

.PHONY: setup python build demo test bench clean-demo

# libtorch (torch==2.13.0 from PyPI) into .venv; skipped when LIBTORCH is set.
setup:
	@bash scripts/setup-torch.sh

# The Python package (python/: pyo3 + maturin, the pure-Rust reader) with its test tools, into
# .venv, which `setup` filled with torch (for gonpack.torch) unless LIBTORCH was set.
python: setup
	@test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check numpy pytest pillow ./python

# Both programs: gonpack runs gonpack-train (next to it) for encode and add.
build: setup
	$(CARGO) build --release -p gonpack-cli -p gonpack-train

# Encode the committed corpus into one pack, then decode it at 4x.
demo: build
	$(BIN) encode corpus -o out/corpus.gonpack
	$(BIN) info out/corpus.gonpack
	$(BIN) decode out/corpus.gonpack --scale 4 -o out/corpus-x4
	@echo "pack: out/corpus.gonpack   4x images: out/corpus-x4/"

# Whole test suite (release build, shared with `make build`), formatting and lints; the reader
# packages (gonpack, gonpack-cli, gonpack-python) must not depend on libtorch.
test: setup python
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps --workspace
	$(CARGO) test --release --workspace
	.venv/bin/pytest --quiet -p no:cacheprovider python/tests
	@for p in gonpack gonpack-cli gonpack-python; do \
		! $(CARGO) tree -p $$p --prefix none | grep -E '^(tch|torch-sys) ' \
		|| { echo "$$p must not depend on libtorch"; exit 1; }; done

bench: setup
	$(CARGO) bench --workspace
