"""How the child pickles a snapshot for the parent: each dataclass as its class and a tuple of its fields.

The model's dataclasses are frozen with slots; their default pickling (dataclasses' own
__getstate__/__setstate__) calls dataclasses.fields() once per object, which made the hand-off of a
1,000-group snapshot (10,000 partition rows) cost about 200 ms of pickling and unpickling. As
`(cls, fields)` an object is rebuilt by its own __init__ (no __post_init__ in the model), several
times faster (bench/RESULTS.md). Registered in the child only (multiprocessing's ForkingPickler is
what Connection.send uses); the parent unpickles without knowing any of this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from types import ModuleType
from typing import Any


def _reducer(cls: type) -> Callable[[Any], tuple[type, tuple]]:
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init)

    def reduce(obj: Any) -> tuple[type, tuple]:
        return cls, tuple([getattr(obj, n) for n in names])

    return reduce


def register_dataclasses(*modules: ModuleType) -> None:
    """Pickle every init-only dataclass of `modules` as (class, field values) in this process's sends."""
    for module in modules:
        for value in vars(module).values():
            ours = isinstance(value, type) and value.__module__ == module.__name__
            if ours and dataclasses.is_dataclass(value) and all(f.init for f in dataclasses.fields(value)):
                ForkingPickler.register(value, _reducer(value))
