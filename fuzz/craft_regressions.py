#!/usr/bin/env python3
"""Writes hand-crafted hostile packs into tests/data/fuzz-regressions/.

Each pack follows format-spec.md byte for byte (header CRC, section table CRC, section CRCs,
zstd where it makes the pack smaller), so today's reader opens it without a format error; what
makes it hostile is the work it asks for, or a detail the reader should refuse:

  amp-patch1-16mi-latents.gonpack  version 2, one 4096x4096 image cut into 1x1 patches
                                   (margin 1): 16 Mi latents from a file of a few hundred bytes
  amp-hidden4096.gonpack           version 1, a 4096-wide decoder (16.8 M parameters) in a few KB
  amp-sixteen-8192.gonpack         version 1, sixteen 8192x8192 images (64 Mi pixels each)
  two-zstd-frames.gonpack          DECO is two concatenated zstd frames (the spec allows one)
  control-names.gonpack            image names with ESC, CR and LF in them

Developer tool, not run by CI. Python 3 with `zstandard` (pip install zstandard).
Usage: python3 fuzz/craft_regressions.py [OUTPUT_DIR]   (default tests/data/fuzz-regressions)
"""
import random
import struct
import sys
import zlib
from pathlib import Path

import zstandard

MAGIC = b"\x89GONPACK"
HEADER_LEN = 64
HEADER_CRC_OFFSET = 60
COMPRESSION_NONE, COMPRESSION_ZSTD = 0, 1
WEIGHTS_F32, WEIGHTS_F16 = 0, 1
ZSTD_LEVEL = 19


def crc32(data):
    """CRC-32 (ISO-HDLC, as zlib): spec conventions."""
    return zlib.crc32(data) & 0xFFFFFFFF


def zstd_frame(raw):
    """One zstd frame (with its content size, like the reference writer)."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(raw)


def param_count(channels, layers, modulated, latent_dim, hidden):
    """P of spec §4."""
    sine = sum(hidden * (2 if l == 0 else hidden) + hidden for l in range(layers))
    return sine + modulated * hidden * latent_dim + channels * hidden + channels + latent_dim


class Shape:
    def __init__(self, channels=1, bits=8, layers=1, modulated=1, latent_dim=1, hidden=4,
                 w0_first=30.0, w0_hidden=30.0, weight_format=WEIGHTS_F32):
        self.channels, self.bits, self.layers, self.modulated = channels, bits, layers, modulated
        self.latent_dim, self.hidden = latent_dim, hidden
        self.w0_first, self.w0_hidden = w0_first, w0_hidden
        self.weight_format = weight_format

    @property
    def params(self):
        return param_count(self.channels, self.layers, self.modulated, self.latent_dim,
                           self.hidden)

    @property
    def weight_bytes(self):
        return 2 if self.weight_format == WEIGHTS_F16 else 4


def header(version, shape, image_count, latent_count, section_count=4, patch=0, overlap=0,
           output=0):
    """The 64-byte header of spec §2, CRC included."""
    b = bytearray(HEADER_LEN)
    b[0:8] = MAGIC
    struct.pack_into("<HH", b, 8, version, 0)
    struct.pack_into("<BBBB", b, 12, shape.channels, shape.bits, shape.layers, shape.modulated)
    struct.pack_into("<HH", b, 16, shape.latent_dim, shape.hidden)
    struct.pack_into("<ff", b, 20, shape.w0_first, shape.w0_hidden)
    struct.pack_into("<I", b, 28, image_count)
    struct.pack_into("<BB", b, 32, shape.weight_format, section_count)
    if version >= 2:
        struct.pack_into("<HBBI", b, 34, patch, overlap, output, latent_count)
    else:
        assert patch == overlap == output == 0 and latent_count == image_count
    struct.pack_into("<I", b, HEADER_CRC_OFFSET, crc32(bytes(b[:HEADER_CRC_OFFSET])))
    return bytes(b)


def decoder_bytes(shape, values=None):
    """DECO raw bytes: `values` (default all zero) in the pack's weight format."""
    n = shape.params
    if values is None:
        return bytes(n * shape.weight_bytes)  # +0.0 is all-zero bytes in f16 and f32
    assert len(values) == n
    return struct.pack("<%d%s" % (n, "e" if shape.weight_format == WEIGHTS_F16 else "f"),
                       *values)


def small_weights(shape, seed):
    """Deterministic small weights (so renders are not flat), output bias 0.5."""
    rng = random.Random(seed)
    vals = [rng.uniform(-0.3, 0.3) for _ in range(shape.params)]
    # The last C + D values are b_out then alpha; put b_out at mid-grey.
    c, d = shape.channels, shape.latent_dim
    for k in range(c):
        vals[-(c + d) + k] = 0.5
    return vals


def quant_bytes(shape, lo=-1.0, hi=1.0):
    """QUAN of spec §5: (lo, hi) per dimension."""
    return struct.pack("<ff", lo, hi) * shape.latent_dim


def index_bytes(entries):
    """INDX of spec §7 from (name, width, height, channels) tuples."""
    out = bytearray()
    for name, w, h, c in entries:
        raw = name.encode("utf-8")
        assert 1 <= len(raw) <= 4096 and b"\0" not in raw and b"\\" not in raw
        assert all(part not in ("", ".", "..") for part in name.split("/"))
        out += struct.pack("<H", len(raw)) + raw + struct.pack("<IIB", w, h, c)
    return bytes(out)


def section(tag, raw, stored=None):
    """A section: zstd-compressed when that is smaller (as the writer does), or `stored`
    given as (compression, bytes) to force a body."""
    if stored is None:
        zipped = zstd_frame(raw)
        stored = (COMPRESSION_ZSTD, zipped) if len(zipped) < len(raw) else (COMPRESSION_NONE, raw)
    return tag, len(raw), stored[0], stored[1]


def assemble(head, sections):
    """Header + table + table CRC + bodies right after the table (spec §1, §3)."""
    table_end = HEADER_LEN + 32 * len(sections) + 4
    table, bodies, offset = bytearray(), bytearray(), table_end
    for tag, raw_len, compression, body in sections:
        table += struct.pack("<4sB3xQQII", tag, compression, offset, len(body), raw_len,
                             crc32(body))
        bodies += body
        offset += len(body)
    return head + bytes(table) + struct.pack("<I", crc32(bytes(table))) + bytes(bodies)


def pack(version, shape, entries, latent_count=None, patch=0, overlap=0, deco=None,
         deco_stored=None, codes=None):
    """A whole pack; `codes` defaults to all-zero 8-bit codes."""
    n = len(entries)
    m = n if latent_count is None else latent_count
    code_bytes = 1 if shape.bits <= 8 else 2
    sections = [
        section(b"DECO", decoder_bytes(shape, deco), deco_stored),
        section(b"QUAN", quant_bytes(shape)),
        section(b"LATN", bytes(m * shape.latent_dim * code_bytes) if codes is None else codes),
        section(b"INDX", index_bytes(entries)),
    ]
    head = header(version, shape, n, m, len(sections), patch, overlap)
    return assemble(head, sections)


def amp_patch1():
    """(a) One 4096x4096 grey image, T=1, O=1: 4096*4096 = 16 Mi one-pixel patches."""
    shape = Shape(latent_dim=1, hidden=4, layers=1, modulated=1)
    side = 4096
    return pack(2, shape, [("big.png", side, side, 1)], latent_count=side * side,
                patch=1, overlap=1)


def amp_hidden4096():
    """(b) A 4096-wide two-layer f16 decoder, all zero, for sixteen 28x28 images."""
    shape = Shape(latent_dim=4, hidden=4096, layers=2, modulated=1, weight_format=WEIGHTS_F16)
    return pack(1, shape, [("img%02d.png" % i, 28, 28, 1) for i in range(16)])


def amp_sixteen_8192():
    """(c) A small decoder and sixteen 8192x8192 images, each stored whole (version 1)."""
    shape = Shape(latent_dim=8, hidden=16, layers=2, modulated=1)
    return pack(1, shape, [("huge%02d.png" % i, 8192, 8192, 1) for i in range(16)])


def two_zstd_frames():
    """(d) A valid small pack whose DECO body is two zstd frames decompressing to raw_len."""
    shape = Shape(latent_dim=2, hidden=4, layers=1, modulated=1)
    weights = small_weights(shape, seed=4)
    raw = decoder_bytes(shape, weights)
    half = len(raw) // 2
    body = zstd_frame(raw[:half]) + zstd_frame(raw[half:])
    entries = [("one.png", 28, 28, 1), ("two.png", 28, 28, 1)]
    return pack(1, shape, entries, deco=weights, deco_stored=(COMPRESSION_ZSTD, body),
                codes=bytes([0, 255, 128, 64]))


def control_names():
    """(e) Names with terminal escapes, CR and LF: valid per spec §7."""
    shape = Shape(latent_dim=2, hidden=4, layers=1, modulated=1)
    names = ["a\x1b[31mred.png", "b\rforged.png", "c\n  28x28 grey fake.png"]
    return pack(1, shape, [(n, 8, 8, 1) for n in names], deco=small_weights(shape, seed=5),
                codes=bytes([0, 128, 255, 255, 128, 0]))


PACKS = {
    "amp-patch1-16mi-latents.gonpack": amp_patch1,
    "amp-hidden4096.gonpack": amp_hidden4096,
    "amp-sixteen-8192.gonpack": amp_sixteen_8192,
    "two-zstd-frames.gonpack": two_zstd_frames,
    "control-names.gonpack": control_names,
}


def main():
    root = Path(__file__).resolve().parent.parent
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "tests/data/fuzz-regressions"
    out.mkdir(parents=True, exist_ok=True)
    for name, make in PACKS.items():
        data = make()
        (out / name).write_bytes(data)
        print("%-34s %8d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
