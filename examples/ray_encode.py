"""Encode a folder against a frozen decoder as Ray tasks, one per shard, then merge the parts.

    python examples/ray_encode.py DIR --decoder BASE.gonpack --shards N -o ALL.gonpack

Each task runs `gonpack encode DIR --decoder BASE --shard I/N` (a deterministic part of the
sorted image files) and the driver joins the parts with `gonpack merge`; the result is the
pack one `gonpack encode DIR --decoder BASE` would write, byte for byte. Locally this needs only
`pip install ray`; on a cluster, pass `--address auto` (or the head's address) and put DIR,
BASE, the parts folder and the gonpack programs on storage every node sees.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import ray

ROOT = pathlib.Path(__file__).resolve().parents[1]


@ray.remote
def encode_part(gonpack, folder, base, index, count, out, threads):
    """One shard: `gonpack encode --shard index/count`, limited to the task's CPUs."""
    subprocess.run(
        [gonpack, "encode", folder, "--decoder", base, "--shard", f"{index}/{count}",
         "-o", out, "--threads", str(threads), "--quiet"],
        check=True,
    )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="folder of images")
    ap.add_argument("--decoder", required=True, help="pack whose decoder is reused (frozen)")
    ap.add_argument("-o", "--output", required=True, help="the merged pack")
    ap.add_argument("--shards", type=int, default=None,
                    help="number of parts (default: the cluster's CPUs / --cpus-per-task)")
    ap.add_argument("--cpus-per-task", type=int, default=1)
    ap.add_argument("--address", default=None, help="Ray cluster address (default: a local Ray)")
    ap.add_argument("--parts-dir", default=None,
                    help="where the parts go (shared storage on a cluster; default: a temporary folder)")
    ap.add_argument("--gonpack", default=str(ROOT / "target" / "release" / "gonpack"),
                    help="the gonpack program (gonpack-train must be next to it)")
    a = ap.parse_args()

    start = time.perf_counter()
    ray.init(address=a.address, include_dashboard=False, log_to_driver=False)
    shards = a.shards or max(1, int(ray.cluster_resources().get("CPU", 1)) // a.cpus_per_task)
    parts_dir = a.parts_dir or tempfile.mkdtemp(prefix="gonpack-parts-")
    os.makedirs(parts_dir, exist_ok=True)
    paths = [os.path.join(parts_dir, f"part-{i}-of-{shards}.gonpack") for i in range(shards)]
    task = encode_part.options(num_cpus=a.cpus_per_task)
    futures = [
        task.remote(a.gonpack, os.path.abspath(a.folder), os.path.abspath(a.decoder), i, shards,
                    paths[i], a.cpus_per_task)
        for i in range(shards)
    ]
    ray.get(futures)
    subprocess.run([a.gonpack, "merge", *paths, "-o", a.output], check=True)
    if a.parts_dir is None:
        shutil.rmtree(parts_dir)
    print(f"ray_encode: {shards} shards on Ray, merged into {a.output} "
          f"in {time.perf_counter() - start:.1f} s (Ray start-up included)")


if __name__ == "__main__":
    main()
