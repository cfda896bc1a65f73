"""A value made on first use: a walk read back from the history index often needs only its
verdicts, so the rest of what it saved is unpacked when a caller (or a walk on) asks for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Later(Generic[T]):
    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None

    @classmethod
    def now(cls, value: T) -> Later[T]:
        made = cls(lambda: value)
        made()
        return made

    @property
    def made(self) -> bool:
        return self._make is None

    def __call__(self) -> T:
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value  # type: ignore[return-value]  # made above

    def set(self, value: T) -> None:
        self._value, self._make = value, None
