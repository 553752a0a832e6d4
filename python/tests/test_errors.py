"""Broken and hostile files raise the exception that says who is at fault, never crash."""
import struct
import zlib

import pytest

import gonpack

HEADER_LEN = 64
HEADER_CRC_OFFSET = 60


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.gonpack"):
        gonpack.open(tmp_path / "nope.gonpack")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        gonpack.open(tmp_path)


def test_not_a_pack(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(gonpack.FormatError, match="not a gonpack file"):
        gonpack.open(path)


def test_truncated(digits, copy_of):
    path = copy_of(digits)
    data = path.read_bytes()
    for keep in (10, HEADER_LEN + 5, len(data) - 7):
        path.write_bytes(data[:keep])
        with pytest.raises(gonpack.FormatError):
            with gonpack.open(path) as pack:
                pack[len(pack) - 1]


def test_every_flipped_byte_is_an_error_or_the_same_pack(digits, copy_of):
    """A flip in any section is caught by a checksum (rendering never crashes)."""
    path = copy_of(digits)
    data = path.read_bytes()
    caught = 0
    for at in range(0, len(data), 97):
        broken = bytearray(data)
        broken[at] ^= 0x40
        path.write_bytes(bytes(broken))
        with pytest.raises(gonpack.GonpackError):
            with gonpack.open(path) as pack:
                for i in range(len(pack)):
                    pack[i]
        caught += 1
    assert caught > 50


def test_checksum_names_the_part(digits, copy_of):
    path = copy_of(digits)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the last section
    path.write_bytes(bytes(data))
    with pytest.raises(gonpack.FormatError, match="checksum mismatch"):
        with gonpack.open(path) as pack:
            pack.names
            pack[0]


def test_newer_version_is_unsupported(digits, copy_of):
    path = copy_of(digits)
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, 8, gonpack.FORMAT_VERSION + 1)
    struct.pack_into("<I", data, HEADER_CRC_OFFSET, zlib.crc32(data[:HEADER_CRC_OFFSET]))
    path.write_bytes(bytes(data))
    with pytest.raises(gonpack.UnsupportedError, match="unsupported gonpack version"):
        gonpack.open(path)


def test_hierarchy():
    assert issubclass(gonpack.UnsupportedError, gonpack.FormatError)
    assert issubclass(gonpack.FormatError, gonpack.GonpackError)
    assert issubclass(gonpack.LimitsError, gonpack.GonpackError)
    assert gonpack.FormatError.__module__ == "gonpack"
