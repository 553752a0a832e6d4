"""A PyTorch dataset over a pack (imports torch; the rest of ``gonpack`` does not).

Each item is rendered when asked for, at the stored size or at any other: training at 2x
from a 1x pack is ``PackDataset(path, scale=2)``. The dataset opens the pack lazily in each
process, so it works with ``DataLoader(num_workers > 0)``::

    from torch.utils.data import DataLoader
    from gonpack.torch import PackDataset

    data = PackDataset("out/corpus.gonpack", scale=2)
    for batch in DataLoader(data, batch_size=64, num_workers=2):
        ...
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from torch.utils.data import Dataset

import gonpack

__all__ = ["PackDataset"]


class PackDataset(Dataset):
    """Map-style dataset of a pack's images.

    An item is a ``uint8`` tensor ``(C, H, W)`` (as ``torchvision.io.decode_image`` gives),
    passed through ``transform`` when one is given; with ``with_names=True`` it is
    ``(image, name)``. ``scale`` (a factor) or ``size`` (``(width, height)``) sets the
    rendered size; neither keeps the stored size. The other keywords are those of
    :func:`gonpack.open`.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        scale: Optional[float] = None,
        size: Optional[Tuple[int, int]] = None,
        transform: Optional[Callable[[torch.Tensor], Any]] = None,
        with_names: bool = False,
        **open_options: Any,
    ) -> None:
        if scale is not None and size is not None:
            raise ValueError("give scale or size, not both")
        self.path = os.fspath(path)
        self.scale = scale
        self.size = size
        self.transform = transform
        self.with_names = with_names
        self.open_options = open_options
        # Read once here (checks the file now); each worker opens its own reader on first use.
        with gonpack.open(self.path, **open_options) as pack:
            self.names: List[str] = pack.names
        self._pack: Optional[gonpack.Pack] = None
        self._pid: Optional[int] = None

    def __len__(self) -> int:
        return len(self.names)

    def _reader(self) -> gonpack.Pack:
        # A reader is never shared across processes (fork would share the file offset).
        if self._pack is None or self._pid != os.getpid():
            self._pack = gonpack.open(self.path, **self.open_options)
            self._pid = os.getpid()
        return self._pack

    def __getitem__(self, index: int) -> Any:
        array = self._reader().read(index, scale=self.scale, size=self.size)
        image = torch.from_numpy(array)
        image = image.unsqueeze(0) if image.ndim == 2 else image.permute(2, 0, 1)
        if self.transform is not None:
            image = self.transform(image)
        return (image, self.names[index]) if self.with_names else image

    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        state["_pack"] = None
        state["_pid"] = None
        return state

    def __repr__(self) -> str:
        how = (
            f"scale={self.scale}"
            if self.scale is not None
            else f"size={self.size}" if self.size is not None else "stored size"
        )
        return f"PackDataset({self.path!r}, {len(self)} images, {how})"
