"""Read gonpack image packs into numpy arrays, at any resolution.

A ``.gonpack`` file holds one shared neural decoder plus a short latent per image; the
decoder is a function of continuous coordinates, so every image renders at any size. This
package is the pure-Rust reader (no libtorch, no torch needed)::

    import gonpack

    with gonpack.open("out/corpus.gonpack") as pack:
        print(len(pack), pack.names[:3])
        digit = pack[0]                      # uint8, (H, W) grey or (H, W, C)
        big = pack.read("mnist/00003_1.png", scale=4)
        for name, image in pack.items():
            ...

``gonpack.torch.PackDataset`` is a PyTorch dataset over a pack.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union, overload

import numpy as np

from ._gonpack import (
    FORMAT_VERSION,
    FormatError,
    GonpackError,
    LimitsError,
    PackReader,
    UnsupportedError,
)

__all__ = [
    "open",
    "Pack",
    "ImageInfo",
    "GonpackError",
    "FormatError",
    "UnsupportedError",
    "LimitsError",
    "FORMAT_VERSION",
]

Key = Union[int, str]
"""An image: its position (negative counts from the end) or its name."""


class ImageInfo(tuple):
    """``(name, width, height, channels)`` of a stored image, with those names as attributes."""

    __slots__ = ()

    def __new__(cls, name: str, width: int, height: int, channels: int) -> "ImageInfo":
        return tuple.__new__(cls, (name, width, height, channels))

    name = property(lambda self: self[0], doc="Name relative to the encoded folder.")
    width = property(lambda self: self[1], doc="Stored width in pixels.")
    height = property(lambda self: self[2], doc="Stored height in pixels.")
    channels = property(lambda self: self[3], doc="1 (grey) or 3 (RGB).")

    def __repr__(self) -> str:
        return "ImageInfo(name={!r}, width={}, height={}, channels={})".format(*self)

    def __getnewargs__(self) -> Tuple[str, int, int, int]:
        return tuple(self)  # type: ignore[return-value]


class Pack:
    """An open pack. Index it by position or name to render an image at its stored size,
    or call :meth:`read` for another size. Rendering releases the GIL.

    Use as a context manager, or call :meth:`close`, to release the file.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        *,
        max_pixels: Optional[int] = None,
        max_work: Optional[int] = None,
        trusted: bool = False,
    ) -> None:
        self._reader = PackReader(os.fspath(path), max_pixels, max_work, trusted)
        self._names: Optional[List[str]] = None

    @property
    def path(self) -> str:
        """The pack file."""
        return os.fspath(self._reader.path)

    @property
    def closed(self) -> bool:
        """Whether the pack was closed."""
        return self._reader.closed

    @property
    def names(self) -> List[str]:
        """Every image name, in pack order."""
        if self._names is None:
            self._names = self._reader.names()
        return list(self._names)

    def __len__(self) -> int:
        return len(self._reader)

    def index_of(self, key: Key) -> int:
        """The position ``key`` means: an ``int`` (negative counts from the end; ``IndexError``
        outside the pack) or a name (the whole name, or the name without its extension when
        that is unambiguous; ``KeyError`` otherwise)."""
        if isinstance(key, str):
            return self._reader.resolve(key)
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise TypeError(f"pack keys are int or str, not {type(key).__name__}")
        n = len(self)
        i = int(key) + n if key < 0 else int(key)
        if not 0 <= i < n:
            raise IndexError(f"image {int(key)} asked for, the pack holds {n}")
        return i

    def entry(self, key: Key) -> ImageInfo:
        """Name, stored size and channels of an image."""
        return ImageInfo(*self._reader.entry(self.index_of(key)))

    def read(
        self,
        key: Key,
        scale: Optional[float] = None,
        size: Optional[Tuple[int, int]] = None,
    ) -> np.ndarray:
        """Renders an image as a ``uint8`` array, ``(H, W)`` for grey and ``(H, W, C)``
        otherwise: at its stored size, ``scale`` times larger (each side rounded), or at
        ``size = (width, height)``."""
        i = self.index_of(key)
        width, height = self._reader.target(i, scale, size)
        return self._reader.render(i, width, height)

    def latent(self, key: Key) -> np.ndarray:
        """The image's dequantised latent (``float32``): a compact feature vector of the image.
        A vector pack gives its latent (one per patch, concatenated, for an image stored in
        patches); a grid pack its latent planes, level after level (each row-major), then the
        global latents."""
        return self._reader.latent(self.index_of(key))

    def info(self) -> Dict[str, Any]:
        """Header, decoder architecture and stored sizes (bytes) as a dict."""
        return self._reader.info()

    @overload
    def __getitem__(self, key: Key) -> np.ndarray: ...

    @overload
    def __getitem__(self, key: slice) -> List[np.ndarray]: ...

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self.read(i) for i in range(*key.indices(len(self)))]
        return self.read(key)

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.read(i)

    def items(self) -> Iterator[Tuple[str, np.ndarray]]:
        """``(name, image)`` for every image, in pack order, at the stored size."""
        for i, name in enumerate(self.names):
            yield name, self.read(i)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self._reader.resolve(name)
        except KeyError:
            return False
        return True

    def close(self) -> None:
        """Releases the file; using the pack afterwards raises ``ValueError``."""
        self._reader.close()

    def __enter__(self) -> "Pack":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return f"<gonpack.Pack {self.path!r} (closed)>"
        return f"<gonpack.Pack {self.path!r}: {len(self)} images>"


def open(
    path: Union[str, "os.PathLike[str]"],
    *,
    max_pixels: Optional[int] = None,
    max_work: Optional[int] = None,
    trusted: bool = False,
) -> Pack:
    """Opens a pack and checks its header and section table (the rest is read when first
    needed). ``max_pixels`` and ``max_work`` bound one render (output pixels; decoder
    multiply-adds); ``trusted=True`` lifts the limits relative to the file size, for packs you
    trust. Raises ``FileNotFoundError`` and other ``OSError``s, ``FormatError`` for a file that
    is not a valid pack, ``UnsupportedError`` for a newer version."""
    return Pack(path, max_pixels=max_pixels, max_work=max_work, trusted=trusted)
