#!/usr/bin/env python3
"""Picks a representative subset of a (minimised) libFuzzer corpus for
tests/data/fuzz-regressions/ and copies it there as corpus-<sha1 prefix>.bin.

Greedy set cover: libFuzzer's merge step records which coverage features each input hits;
starting from what the committed hand-crafted packs (*.gonpack in the folder) already cover,
repeatedly take the input adding the most new features (the smaller one on ties) until MAX
inputs are taken or nothing new is left. Replaces every corpus-*.bin in the folder.

Developer tool, not run by CI. Python 3, stdlib only.
Usage: python3 fuzz/select_corpus.py FUZZ_BINARY CORPUS_DIR [MAX]   (default MAX 145)
  FUZZ_BINARY  e.g. fuzz/target/x86_64-unknown-linux-gnu/release/read_pack
  CORPUS_DIR   e.g. fuzz/corpus/read_pack after `cargo fuzz cmin read_pack`
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def sha1(path):
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def features(binary, corpus):
    """{input path: set of features} from a libFuzzer merge control file."""
    with tempfile.TemporaryDirectory() as tmp:
        control, into = os.path.join(tmp, "control"), os.path.join(tmp, "into")
        os.mkdir(into)
        subprocess.run([binary, "-merge=1", "-merge_control_file=" + control,
                        "-rss_limit_mb=1024", "-timeout=10", into, corpus],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = Path(control).read_text().split("\n")
    n = int(lines[0])
    files = lines[2:2 + n]
    found = {}
    for line in lines[2 + n:]:
        parts = line.split()
        if parts and parts[0] == "FT":
            found.setdefault(files[int(parts[1])], set()).update(int(x) for x in parts[2:])
        elif parts and parts[0] == "COV":  # coverage edges, kept apart from features
            found.setdefault(files[int(parts[1])], set()).update(-1 - int(x) for x in parts[2:])
    return found


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, corpus = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) == 4 else 145
    out = Path(__file__).resolve().parent.parent / "tests/data/fuzz-regressions"
    found = features(binary, corpus)
    everything = set().union(*found.values()) if found else set()
    crafted = {sha1(p) for p in out.glob("*.gonpack")}
    covered = set()
    for path, feats in found.items():
        if os.path.basename(path) in crafted or sha1(path) in crafted:
            covered |= feats
    candidates = {p: f for p, f in found.items() if sha1(p) not in crafted}
    chosen = []
    while len(chosen) < limit and candidates:
        best = max(candidates,
                   key=lambda p: (len(candidates[p] - covered), -os.path.getsize(p), p))
        if not candidates[best] - covered:
            break
        covered |= candidates.pop(best)
        chosen.append(best)
    for old in out.glob("corpus-*.bin"):
        old.unlink()
    for path in chosen:
        shutil.copyfile(path, out / ("corpus-%s.bin" % sha1(path)[:12]))
    print("%d of %d inputs, %d bytes; with the crafted packs they cover %d of %d features"
          % (len(chosen), len(found), sum(os.path.getsize(p) for p in chosen), len(covered),
             len(everything)))


if __name__ == "__main__":
    main()
