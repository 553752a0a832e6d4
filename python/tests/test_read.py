"""The Python reader against `gonpack decode`, byte for byte, and its Python idioms."""
import concurrent.futures
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

import gonpack
from conftest import DATA, decode_with_cli


def png_array(path):
    """A PNG as the uint8 array gonpack returns: (H, W) grey, (H, W, C) otherwise."""
    with Image.open(path) as im:
        assert im.mode in ("L", "LA", "RGB", "RGBA")
        return np.asarray(im)


@pytest.mark.parametrize("which", ["digits", "colour", "alpha", "grid", "kernel"])
@pytest.mark.parametrize(
    "how, cli_args",
    [
        ({}, []),
        ({"scale": 3}, ["--scale", "3"]),
        ({"scale": 0.5}, ["--scale", "0.5"]),
        ({"size": (50, 31)}, ["--size", "50x31"]),
    ],
)
def test_arrays_equal_the_cli_pngs(request, tmp_path, gonpack_bin, which, how, cli_args):
    pack_path = request.getfixturevalue(which)
    out = decode_with_cli(gonpack_bin, pack_path, tmp_path / "png", *cli_args)
    with gonpack.open(pack_path) as pack:
        assert len(pack) > 0
        for name in pack.names:
            ours = pack.read(name, **how)
            theirs = png_array(out / name)
            assert ours.dtype == np.uint8
            assert ours.shape == theirs.shape, name
            assert np.array_equal(ours, theirs), name
            # a flat picture would also have this shape: check the content is an image
            assert ours.std() > 10


def test_grey_is_2d_and_colour_is_3d(digits, colour):
    with gonpack.open(digits) as pack:
        assert pack[0].shape == (28, 28)
        assert pack.read(0, scale=4).shape == (112, 112)
    with gonpack.open(colour) as pack:
        e = pack.entry(0)
        assert e.channels == 3
        assert pack[0].shape == (e.height, e.width, 3)
        assert pack.read(0, size=(7, 5)).shape == (5, 7, 3)


def test_alpha_channels_come_last(alpha):
    with gonpack.open(alpha) as pack:
        assert pack.info()["channels"] == 4 and pack.info()["version"] == 4
        kinds = {pack.entry(i).channels for i in range(len(pack))}
        assert kinds == {1, 2, 4}
        for i in range(len(pack)):
            e = pack.entry(i)
            image = pack.read(i, scale=2)
            want = (2 * e.height, 2 * e.width) + (() if e.channels == 1 else (e.channels,))
            assert image.shape == want
            if e.channels in (2, 4):
                # The decoded alpha follows the source's: far closer than a flat alpha.
                ours = pack[i][..., -1].astype(float)
                source = png_array(DATA / "alpha" / e.name)[..., -1].astype(float)
                flat = np.full_like(source, source.mean())
                err, flat_err = ((ours - source) ** 2).mean(), ((flat - source) ** 2).mean()
                assert err < flat_err / 4, (e.name, err, flat_err)
                assert ((image[..., -1] > 0) & (image[..., -1] < 255)).any(), "soft edges"


def test_keys_iteration_and_slices(digits):
    with gonpack.open(digits) as pack:
        names = pack.names
        assert len(names) == len(pack) == 16
        assert np.array_equal(pack[-1], pack[15])
        assert np.array_equal(pack[names[3]], pack[3])
        stem = names[3].rsplit(".", 1)[0]
        assert np.array_equal(pack[stem], pack[3])
        assert pack.index_of(np.int64(2)) == 2
        listed = list(pack)
        assert len(listed) == 16 and all(np.array_equal(a, pack[i]) for i, a in enumerate(listed))
        assert [n for n, _ in pack.items()] == names
        sliced = pack[2:8:3]
        assert len(sliced) == 2 and np.array_equal(sliced[1], pack[5])
        assert names[0] in pack and "no such image" not in pack and 3 not in pack
        entry = pack.entry(names[4])
        assert (entry.name, entry.width, entry.height, entry.channels) == (names[4], 28, 28, 1)
        with pytest.raises(IndexError):
            pack[16]
        with pytest.raises(IndexError):
            pack[-17]
        with pytest.raises(KeyError, match="no image named"):
            pack["no such image"]
        with pytest.raises(TypeError):
            pack[1.5]
        with pytest.raises(ValueError, match="not both"):
            pack.read(0, scale=2, size=(4, 4))
        with pytest.raises(ValueError, match="positive"):
            pack.read(0, scale=0)
        with pytest.raises(ValueError, match="zero size"):
            pack.read(0, size=(0, 4))


def test_info_agrees_with_the_cli(digits, gonpack_bin):
    cli = json.loads(
        subprocess.run(
            [str(gonpack_bin), "info", "--json", str(digits)], check=True, capture_output=True
        ).stdout
    )
    with gonpack.open(digits) as pack:
        info = pack.info()
    for key in ("version", "channels", "latent_dim", "hidden", "layers", "bits", "patch"):
        assert info[key] == cli[key], key
    assert info["images"] == len(cli["images"]) == 16
    assert info["file_bytes"] == digits.stat().st_size
    parts = ("header_bytes", "decoder_bytes", "latent_bytes", "index_bytes")
    assert sum(info[k] for k in parts) == info["file_bytes"]


def test_latents(digits):
    with gonpack.open(digits) as pack:
        z = pack.latent(0)
        assert z.dtype == np.float32 and z.shape == (pack.info()["latent_dim"],)
        assert not np.array_equal(z, pack.latent(1))


def test_grid_latents_are_the_planes(grid):
    with gonpack.open(grid) as pack:
        info = pack.info()
        assert (info["model"], info["version"], info["sampling"]) == ("grid", 5, "bilinear")
        # A 28x28 digit: levels of 28, 14, 7, 4, 2 and 1 values a side, then the global ones.
        sides = [28, 14, 7, 4, 2, 1][: info["levels"]]
        want = sum(s * s for s in sides) + info["global_latents"]
        digit = next(n for n in pack.names if n.endswith("_5.png"))
        z = pack.latent(digit)
        assert z.dtype == np.float32 and z.shape == (want,)
        assert np.abs(z).max() > 0


def test_kernel_packs_say_so(kernel):
    with gonpack.open(kernel) as pack:
        info = pack.info()
        assert (info["model"], info["version"], info["sampling"]) == ("grid", 6, "kernel")


def test_phased_packs_read_as_their_version_5_twin(grid, phased):
    with gonpack.open(grid) as old, gonpack.open(phased) as new:
        assert (new.info()["version"], old.info()["version"]) == (7, 5)
        assert new.names == old.names
        for name in old.names:
            assert np.array_equal(new[name], old[name])
            assert np.array_equal(new.latent(name), old.latent(name))


def test_context_manager_and_close(digits):
    with gonpack.open(digits) as pack:
        assert not pack.closed
    assert pack.closed
    assert "closed" in repr(pack)
    with pytest.raises(ValueError, match="closed"):
        pack[0]
    with pytest.raises(ValueError, match="closed"):
        len(pack)


def test_threads_read_the_same_pixels(colour):
    with gonpack.open(colour) as pack:
        alone = [pack.read(i, scale=2) for i in range(len(pack))]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda i: pack.read(i, scale=2), range(len(pack))))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


def test_limits(digits):
    with gonpack.open(digits, max_pixels=1000) as pack:
        assert pack[0].shape == (28, 28)  # 784 pixels
        with pytest.raises(gonpack.LimitsError, match="over the limit of 1000"):
            pack.read(0, scale=2)
    with gonpack.open(digits, max_work=1000) as pack:
        with pytest.raises(gonpack.LimitsError):
            pack[0]
