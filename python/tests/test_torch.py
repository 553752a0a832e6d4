"""gonpack.torch.PackDataset with a multi-process DataLoader."""
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

import gonpack  # noqa: E402
from gonpack.torch import PackDataset  # noqa: E402


def test_items_are_chw_uint8_tensors(digits, colour):
    data = PackDataset(digits)
    assert len(data) == 16
    with gonpack.open(digits) as pack:
        assert torch.equal(data[3], torch.from_numpy(pack[3]).unsqueeze(0))
    rgb = PackDataset(colour, scale=2, with_names=True)
    image, name = rgb[1]
    with gonpack.open(colour) as pack:
        e = pack.entry(1)
        assert name == e.name
        assert image.shape == (3, 2 * e.height, 2 * e.width)
        assert torch.equal(image, torch.from_numpy(pack.read(1, scale=2)).permute(2, 0, 1))


def test_dataloader_with_two_workers(digits):
    data = PackDataset(digits, scale=2, transform=lambda t: t.float() / 255)
    # a worker that hangs (a render waiting on a thread pool lost in the fork) fails after 60 s
    loader = DataLoader(data, batch_size=5, num_workers=2, shuffle=False, timeout=60)
    batches = list(loader)
    assert [b.shape[0] for b in batches] == [5, 5, 5, 1]
    got = torch.cat(batches)
    assert got.shape == (16, 1, 56, 56)
    with gonpack.open(digits) as pack:
        want = np.stack([pack.read(i, scale=2) for i in range(16)])[:, None] / 255
    assert torch.allclose(got, torch.from_numpy(want).float())


def test_pickles_without_an_open_file(digits):
    data = PackDataset(digits, size=(10, 12))
    data[0]  # opens the reader in this process
    clone = pickle.loads(pickle.dumps(data))
    assert clone._pack is None
    assert torch.equal(clone[7], data[7]) and clone[7].shape == (1, 12, 10)


def test_options(digits):
    with pytest.raises(ValueError, match="not both"):
        PackDataset(digits, scale=2, size=(4, 4))
    with pytest.raises(FileNotFoundError):
        PackDataset(digits.with_name("missing.gonpack"))
    data = PackDataset(digits, max_pixels=100)
    with pytest.raises(gonpack.LimitsError):
        data[0]
