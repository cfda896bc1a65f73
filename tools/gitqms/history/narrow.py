"""A narrow read of history: the commits a walk must read in full to judge some records.

The gate of a range (rules/depends.py) depends on the range's commits, on the registry's
history (qms.yaml) and on the histories of the records it judges. A commit that neither
changes nor names any of them can change no verdict about them: a narrow walk passes it with
its parents and dates (the graph, and the dates a later signature may not go behind), and
reads everything of the rest, exactly as the full walk does.

Both tests are supersets, made before anything is parsed: a commit is read in full when a path
it changes starts with the path of a record held (or its kind's folder, or qms.yaml), or when
its message names one, in any case: every commit whose trailers claim one does.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from ..records.config import CONFIG_FILE
from ..records.kinds import active_kinds, kind_of_id

_CLAIMS = b"qms-"  # every trailer that claims a signature starts so (signatures/claims.py)


class Depends:
    """The records (by ID, and whole kinds) and the commits a narrow walk reads in full."""

    def __init__(
        self,
        prefix: str,
        commits: Collection[str],
        records: Collection[str],
        kinds: Collection[str],
    ) -> None:
        """`prefix`: the QMS folder in the work tree ('' or 'some/folder/')."""
        self.commits = frozenset(commits)
        self.records = frozenset(records)
        self.kinds = frozenset(kinds)
        wide = [kind for kind in active_kinds().kinds if kind.name in self.kinds]
        paths = [f"{prefix}{CONFIG_FILE}", *(f"{prefix}{kind.folder}/" for kind in wide)]
        for record in self.records:
            if (kind := kind_of_id(record)) is not None:
                paths.append(f"{prefix}{kind.folder}/{record}{kind.suffix}")
        self._paths = tuple(sorted(paths))
        names = sorted({CONFIG_FILE, *self.records, *(kind.prefix + "-" for kind in wide)})
        self._named = re.compile(b"|".join(re.escape(n.encode().lower()) for n in names))

    def keeps(self, commit: str, paths: Iterable[str], raw: bytes) -> bool:
        """Whether `commit` (the paths it changes, its object) is read in full: it is in the
        range, changes qms.yaml or a record held (a path at or under one), or names one."""
        if commit in self.commits or any(path.startswith(self._paths) for path in paths):
            return True
        message = raw.partition(b"\n\n")[2].lower()  # where parse_commit reads trailers from
        return _CLAIMS in message and self._named.search(message) is not None
