"""Reading throughput from Python (numpy arrays out) against the Rust reader on the same pack.

    python python/bench/read_throughput.py [PACK] [--scale S ...] [--repeats N]

Both loops render every image in turn at the same size (the first pass, which reads and
caches the pack's sections, is not timed) and report output megapixels per second. The Rust
figure comes from `cargo run --release --example read_throughput`.
"""
import argparse
import pathlib
import subprocess
import time

import gonpack

ROOT = pathlib.Path(__file__).resolve().parents[2]


def python_mps(path, scale, repeats):
    with gonpack.open(path) as pack:
        n = len(pack)
        for i in range(n):  # untimed pass: sections read and cached
            pack.read(i, scale=scale)
        pixels, start = 0, time.perf_counter()
        for _ in range(repeats):
            for i in range(n):
                image = pack.read(i, scale=scale)
                pixels += image.shape[0] * image.shape[1]
        seconds = time.perf_counter() - start
    return pixels / 1e6 / seconds, pixels / 1e6, seconds


def rust_mps(path, scale, repeats):
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "read_throughput", "--",
         str(path), str(scale), str(repeats)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    assert out[0] == "rust", out
    return tuple(float(v) for v in out[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pack", nargs="?", default=str(ROOT / "out" / "corpus.gonpack"))
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0, 4.0])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    with gonpack.open(a.pack) as pack:
        print(f"{a.pack}: {len(pack)} images")
    print(f"{'scale':>6} {'Rust MP/s':>10} {'Python MP/s':>12} {'Python/Rust':>12}")
    for scale in a.scale:
        # Rust first, then Python, then Rust again: the mean of the two Rust runs brackets
        # any drift in machine load during the Python run.
        r1 = rust_mps(a.pack, scale, a.repeats)[0]
        p = python_mps(a.pack, scale, a.repeats)[0]
        r2 = rust_mps(a.pack, scale, a.repeats)[0]
        r = (r1 + r2) / 2
        print(f"{scale:>6g} {r:>10.2f} {p:>12.2f} {p / r:>11.1%}")


if __name__ == "__main__":
    main()
