"""Progress bars (tqdm on stderr) that ``-q`` silences and that stay quiet when not on a terminal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T] | None, desc: str, quiet: bool = False, **kwargs: Any) -> Any:
    """A tqdm bar over ``iterable`` (or a manual one, with ``total=``, when it is None)."""
    from tqdm.auto import tqdm

    # disable=None: tqdm shows the bar only on a terminal, so logs of CI runs stay clean.
    return tqdm(iterable, desc=desc, disable=True if quiet else None, leave=False, dynamic_ncols=True, **kwargs)
