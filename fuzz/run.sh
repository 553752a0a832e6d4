#!/usr/bin/env bash
# Fuzz the pack reader: `bash fuzz/run.sh [RUNS] [LIBFUZZER_FLAGS...]` (default 1,000,000
# executions; e.g. `bash fuzz/run.sh -1 -max_total_time=600` for ten minutes).
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz uses nightly-only flags
# (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 makes the stable toolchain accept them, so no
# nightly toolchain is needed. Set CARGO_TARGET_DIR to reuse an existing fuzz build.
# Seeds the corpus (fuzz/corpus/read_pack, git-ignored) with the real packs under tests/data/
# and every committed input of tests/data/fuzz-regressions/. Crashes land in
# fuzz/artifacts/read_pack/: copy each into tests/data/fuzz-regressions/ so that
# `cargo test --release -p gonpack --test hostile_input` replays it. To refresh the committed
# corpus, see tests/data/fuzz-regressions/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000000}"
shift || true
mkdir -p fuzz/corpus/read_pack
cp tests/data/*.gonpack fuzz/corpus/read_pack/
find tests/data/fuzz-regressions -maxdepth 1 -type f ! -name README.md \
    -exec cp {} fuzz/corpus/read_pack/ \;
RUSTC_BOOTSTRAP=1 cargo fuzz run ${CARGO_TARGET_DIR:+--target-dir "$CARGO_TARGET_DIR"} \
    read_pack fuzz/corpus/read_pack -- \
    -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 "$@"
