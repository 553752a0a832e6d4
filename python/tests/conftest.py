"""Shared fixtures: the committed test packs and the `gonpack` program to compare against."""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def gonpack_bin() -> pathlib.Path:
    """The `gonpack` program of this checkout (GONPACK_BIN, else target/release/gonpack)."""
    path = pathlib.Path(os.environ.get("GONPACK_BIN", ROOT / "target" / "release" / "gonpack"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build it first (cargo build --release -p gonpack-cli)")
    return path


@pytest.fixture(scope="session")
def digits() -> pathlib.Path:
    """16 grey 28x28 digits, every image whole."""
    return DATA / "digits16.gonpack"


@pytest.fixture(scope="session")
def colour() -> pathlib.Path:
    """6 colour images stored in 16x16 patches (so the patch blending is covered too)."""
    return DATA / "rgb6-patch16.gonpack"


@pytest.fixture(scope="session")
def alpha() -> pathlib.Path:
    """8 images with and without alpha (RGBA emoji, a grey + alpha emoji, a grey digit) from an
    RGBA decoder."""
    return DATA / "alpha8.gonpack"


@pytest.fixture(scope="session")
def grid() -> pathlib.Path:
    """12 images (digits, CIFAR pictures, an RGBA emoji) as latent grids (format version 5)."""
    return DATA / "grid12.gonpack"


@pytest.fixture(scope="session")
def kernel() -> pathlib.Path:
    """The images of `grid12.gonpack` sampled under learned kernels (format version 6)."""
    return DATA / "kernel12.gonpack"


@pytest.fixture(scope="session")
def phased() -> pathlib.Path:
    """The pack of `grid12.gonpack` under the phased context coding (format version 7)."""
    return DATA / "phased12.gonpack"


@pytest.fixture
def copy_of(tmp_path):
    """A writable copy of a pack, to corrupt."""

    def copy(path: pathlib.Path) -> pathlib.Path:
        out = tmp_path / path.name
        shutil.copyfile(path, out)
        return out

    return copy


def decode_with_cli(gonpack_bin, pack, out_dir, *args):
    """Runs `gonpack decode PACK -o OUT_DIR ARGS...` and returns OUT_DIR."""
    subprocess.run(
        [str(gonpack_bin), "decode", str(pack), "-o", str(out_dir), "--quiet", *args],
        check=True,
    )
    return out_dir
