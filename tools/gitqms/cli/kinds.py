"""The kind arguments of the command line: the names of the declared kinds, read when a command
runs, so a kind declared (records/kinds.py) is a choice without a change here."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from ..errors import QmsError
from ..records.kinds import Kind, active_kinds
from ..records.repository import Repository
from . import completers


class KindChoice(click.Choice):
    """One of the declared kinds that `offered` accepts, in the order they are declared."""

    def __init__(self, offered: Callable[[Kind], bool]) -> None:
        self.offered = offered
        super().__init__(())

    @property
    def choices(self) -> Sequence[str]:
        return [kind.name for kind in active_kinds().kinds if self.offered(kind)]

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """The declarations give the choices; click's own assignment is ignored."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """A kind of the repository the command acts in: its qms.yaml may declare more."""
        if ctx is not None:
            start: Path | None = ctx.find_root().obj
            with contextlib.suppress(QmsError):
                Repository.discover(start if start is not None else Path.cwd(), needs_git=False)
        return super().convert(value, param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """The kinds of the repository being completed in, read from its files only."""
        return [CompletionItem(name) for name in completers.kinds(ctx, self.offered, incomplete)]
