"""The kind arguments of the command line: the names of the declared kinds, read when a command
runs, so a kind declared (records/kinds.py) is a choice without a change here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from ..records.kinds import BY_NAME, Kind


class KindChoice(click.Choice):
    """One of the declared kinds that `offered` accepts, in the order they are declared."""

    def __init__(self, offered: Callable[[Kind], bool]) -> None:
        self.offered = offered
        super().__init__(())

    @property
    def choices(self) -> Sequence[str]:
        return [kind.name for kind in BY_NAME.values() if self.offered(kind)]

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """The declarations give the choices; click's own assignment is ignored."""
