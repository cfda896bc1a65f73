"""A walk's state: everything it derived besides the history itself.

It is what the history index saves of a finished walk and what a walk read back from the index
starts from (walk_index.py), so that the index never reaches into the walk's parts. The parts
keep their own state objects (the trust chain's, the authorship ledger's); this one names them
together with the claims, the signatures counted, the verdicts and the blobs read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .claims import Claims
from .later import Later
from .ledger import LedgerState
from .trust import TrustState
from .verdict import SeenKey, Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkState:
    trust: TrustState  # the qms.yaml in force at each commit, and the trust root
    ledger: LedgerState  # who authored each record since its approval, at the tips
    claims: Later[dict[str, Claims]]  # commit -> the signatures its trailers claim
    seen: Later[dict[SeenKey, str]]  # the signatures counted, and the commit of each
    raw_verdicts: Later[list[Verdict]]  # in history order, as judged while walking
    verdicts: list[Verdict]  # the same, with the marks made after the walk
    read: Mapping[str, str | None]  # every blob the walk read: name -> blob id
    receipts: tuple[bool, str | None]  # whether the server's receipts were read; their tip
