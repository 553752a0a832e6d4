"""Type stubs of the native module (see python/src/lib.rs)."""
import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

FORMAT_VERSION: int

class GonpackError(Exception):
    """Base class of the errors gonpack raises about a pack."""

class FormatError(GonpackError):
    """The file is not a valid pack."""

class UnsupportedError(FormatError):
    """A version or feature this reader does not implement."""

class LimitsError(GonpackError):
    """A size or amount of work beyond the reader's limits."""

class PackReader:
    def __init__(
        self,
        path: Union[str, os.PathLike[str]],
        max_pixels: Optional[int] = None,
        max_work: Optional[int] = None,
        trusted: bool = False,
    ) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...
    def names(self) -> List[str]: ...
    def entry(self, i: int) -> Tuple[str, int, int, int]: ...
    def resolve(self, name: str) -> int: ...
    def target(
        self, i: int, scale: Optional[float] = None, size: Optional[Tuple[int, int]] = None
    ) -> Tuple[int, int]: ...
    def render(self, i: int, width: int, height: int) -> npt.NDArray[np.uint8]: ...
    def latent(self, i: int) -> npt.NDArray[np.float32]: ...
    def info(self) -> Dict[str, Any]: ...
