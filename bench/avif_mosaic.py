"""AVIF rows of the `rd` benchmark (bench/src/baselines.rs): codes one mosaic with libavif through Pillow.

Usage: python avif_mosaic.py MOSAIC.png OUT_DIR QUALITY...

For each quality, encodes MOSAIC.png as AVIF (Pillow's default speed 6; grey images as
4:0:0 monochrome, colour as 4:2:0), decodes it again, writes the decoded picture to
OUT_DIR/q<QUALITY>.png and prints one line: `quality bytes encode_seconds decode_seconds`.
Needs Pillow built with AVIF (the PyPI wheels from 11.3 on): `pip install pillow`.
"""
import io
import os
import sys
import time

from PIL import Image, features


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    if not features.check("avif"):
        sys.exit("this Pillow has no AVIF support (pip install 'pillow>=11.3')")
    src = Image.open(sys.argv[1])
    src.load()
    grey = src.mode == "L"
    for q in sys.argv[3:]:
        buf = io.BytesIO()
        t = time.perf_counter()
        src.save(buf, "AVIF", quality=int(q), subsampling="4:0:0" if grey else "4:2:0")
        enc = time.perf_counter() - t
        t = time.perf_counter()
        back = Image.open(io.BytesIO(buf.getvalue()))
        back = back.convert(src.mode)
        dec = time.perf_counter() - t
        back.save(os.path.join(sys.argv[2], f"q{q}.png"))
        print(q, len(buf.getvalue()), f"{enc:.4f}", f"{dec:.4f}", flush=True)


main()
