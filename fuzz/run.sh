#!/usr/bin/env bash
# Fuzz the pack reader: `bash fuzz/run.sh [RUNS]` (default 1,000,000 executions).
# Seeds the corpus with the real packs under tests/data/; needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in fuzz/artifacts/read_pack/: copy
# each into tests/data/fuzz-regressions/ so that `cargo test --test fuzz_regressions` replays it.
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-1000000}"
mkdir -p corpus/read_pack
cp ../tests/data/*.gonpack corpus/read_pack/
cp ../tests/data/fuzz-regressions/* corpus/read_pack/ 2>/dev/null || true
cargo +nightly fuzz run read_pack corpus/read_pack -- \
    -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1
