"""The walk's reading part: the blobs it judges by, and the cheap facts it learns from them.

A walk reads record files at signature commits and at merges, and the qms.yaml blobs it trusts.
It names them all before judging any commit and fetches them in one batch (by blob id where the
commits' changes tell it, which spares git looking paths up in trees). A walk read back from
the history index fetched nothing yet: it knows the blob id each name had, and fetches a blob
only when a caller asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice

from .. import git
from ..history.read import History, Step, blob_ids
from ..records.lifecycles import STATE_FIELDS
from ..safeyaml import LoadError, decode_record_bytes, edits_only
from .claims import (
    CONFIG_RECORD,
    Claims,
    front_matter,
    known_mapping,
    loads_as_mapping,
    record_data,
    remember_mapping,
)
from .verdict import git_blob_id
from .versions_ahead import VersionsAhead

_FEW_PATHS = 32  # records a restored walk fetches one by one before it fetches all at once
_FEW_RECORDS = 4  # records whose open asks a restored walk fetches before it fetches all


def blob_names(
    place: History, steps: Sequence[Step], known: set[str], claims: Mapping[str, Claims]
) -> set[str]:
    """Every blob a walk reads for `steps` (`known`: the commits walked or to be)."""
    config_path = place.path_of(CONFIG_RECORD)
    names: set[str] = set()
    for step in steps:
        found = claims.get(step.commit.id)
        if found is not None:
            for claim in found.claims:
                names.add(f"{step.commit.id}:{place.path_of(claim.record)}")
                change = step.records.get(claim.record)
                if change and change.old_blob:
                    names.add(change.old_blob)
        if step.config and step.config.new_blob:
            names.add(step.config.new_blob)
        for parent in step.commit.parents:
            if parent not in known:
                names.add(f"{parent}:{config_path}")
        for record in step.records if len(step.commit.parents) > 1 else ():
            path = place.path_of(record)
            names.update(f"{parent}:{path}" for parent in step.commit.parents[1:])
            names.add(f"{step.commit.id}:{path}")
    return names


def _signed_contents(
    place: History,
    steps: Sequence[Step],
    claims: Mapping[str, Claims],
    ids: Mapping[str, str | None],
) -> list[tuple[bool, str]]:
    """The records' contents the walk's signatures name, as (is Markdown, blob id), in the order
    the walk reads them, each once."""
    seen: set[str] = set()
    items: list[tuple[bool, str]] = []
    for step in steps:
        for claim in getattr(claims.get(step.commit.id), "claims", ()):
            blob = ids.get(f"{step.commit.id}:{place.path_of(claim.record)}")
            if blob and blob not in seen and claim.record != CONFIG_RECORD:
                seen.add(blob)
                items.append((front_matter(claim.record), blob))
    return items


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _id_of(name: str, content: bytes) -> str:
    """The id of a blob fetched by `name`: the name itself when it is one."""
    return name if _OBJECT_ID.fullmatch(name) else git_blob_id(content)


class Contents:
    """The blobs a walk read, by name (`commit:path` or blob id), and what it learnt of them.

    `all_names` tells the names of every blob a full walk reads; `stored`, for a walk read back
    from the history index, the blob id each of them had (none is fetched until asked for)."""

    def __init__(
        self,
        place: History,
        all_names: Callable[[], set[str]],
        stored: Mapping[str, str | None] | None = None,
    ) -> None:
        self.place = place  # where records live, and reading blobs
        self.config_path = place.path_of(CONFIG_RECORD)
        self._all_names = all_names
        self._stored = stored
        self._blobs: dict[str, bytes | None] = {}
        self._complete = stored is None  # every blob a full walk would have fetched is here
        self._fetchable: dict[str, list[str]] | None = None  # their names, by path
        self._ahead: VersionsAhead | None = None  # a worker reading versions ahead, while walking
        self._fetched_paths = 0
        self._authorship: dict[tuple[str, str], bool] = {}  # (commit, record) -> authored
        self._stored_asks: dict[str, list[AskRef]] = {}  # by record: a stored walk's open asks
        self._asked_blobs: dict[str, bytes | None] = {}  # their blobs, by id, once fetched
        self._asked_records = 0
        self._ids: dict[str, str | None] = {}  # name -> the blob id it was fetched by

    # -- fetching ---------------------------------------------------------------------------

    def prefetch(
        self, steps: Sequence[Step], known: set[str], claims: Mapping[str, Claims]
    ) -> None:
        """Fetch in one batch every blob the walk will read for `steps`, by blob id where
        their changes tell it."""
        names = sorted(blob_names(self.place, steps, known, claims))
        ids = blob_ids(steps, (name for name in names if ":" in name), self.place.file_ids)
        self._ids.update(ids)
        self._ahead = VersionsAhead(
            self.place.root, _signed_contents(self.place, steps, claims, ids)
        )
        self._blobs.update(self.place.blobs_by_id(names, ids))

    def stop_reading_ahead(self) -> None:
        """The walk is over: the worker reading versions ahead of it, if any, stops."""
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None

    def keep(self, name: str, content: bytes | None) -> None:
        self._blobs[name] = content

    @property
    def all(self) -> dict[str, bytes | None]:
        """The blobs a full walk reads, by name: what `content_at` and merges look up."""
        if not self._complete:
            names = self._all_names() - self._blobs.keys()
            self._blobs.update(self._fetch(sorted(names)))
            self._complete = True
        return self._blobs

    def _fetch(self, names: Sequence[str]) -> dict[str, bytes | None]:
        """Blobs by name, for a walk restored from the history index: by the blob id each name
        had when the stored walk read it."""
        if self._stored is None:
            return self.place.blobs(names)
        return self.place.blobs_by_id(names, self._stored)

    def blob(self, name: str) -> bytes | None:
        """A blob the walk fetched for the commits it walks itself."""
        return self._blobs.get(name)

    def registry_blob(self, blob: str) -> bytes | None:
        """A qms.yaml blob, fetched now for a restored walk."""
        content = self._blobs.get(blob)
        if content is None and not self._complete:
            content = self.place.blobs([blob]).get(blob)
        return content

    def any_blob(self, blob: str) -> bytes | None:
        """A blob by id, fetched if the walk did not (a schema a registry pins)."""
        content = self._blobs.get(blob)
        return content if content is not None else self.place.blobs([blob]).get(blob)

    def content_at(self, commit: str, record: str) -> bytes | None:
        """A record's bytes at a signature commit or a merge, as fetched for the walk."""
        path = self.place.path_of(record)
        name = f"{commit}:{path}"
        if not self._complete and name not in self._blobs:
            # A restored walk: fetch what a full walk read of this record, the first few times
            # a record is asked for; after that, all of it at once.
            fetchable = self._by_path()
            if name not in fetchable.get(path, ()):
                return None
            self._fetched_paths += 1
            if self._fetched_paths > _FEW_PATHS:
                return self.all.get(name)
            self._blobs.update(self._fetch(fetchable.pop(path)))
        return self._blobs.get(name)

    def read_ahead(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Fetch in one batch the contents `content_at` will be asked for, (commit, record)
        pairs, of those a full walk read (a restored walk fetched none yet)."""
        if self._complete:
            return
        fetchable = self._by_path()
        names = []
        for commit, record in wanted:
            path = self.place.path_of(record)
            name = f"{commit}:{path}"
            if name not in self._blobs and name in fetchable.get(path, ()):
                names.append(name)
        self._blobs.update(self._fetch(sorted(set(names))))

    def _by_path(self) -> dict[str, list[str]]:
        """The names of the record blobs a full walk read and this one did not fetch yet, by
        path."""
        if self._fetchable is None:
            self._fetchable = {}
            for each in self._all_names():
                if ":" in each:
                    self._fetchable.setdefault(each.partition(":")[2], []).append(each)
        return self._fetchable

    def read(self) -> dict[str, str | None]:
        """Every blob the walk read: name -> blob id (None: there is no such file)."""
        return {**(self._stored or {}), **self.read_since(0)}

    def read_count(self) -> int:
        """How many blobs the walk has read so far (`read_since` tells those read after)."""
        return len(self._blobs)

    def read_since(self, count: int) -> dict[str, str | None]:
        """The blobs read after the first `count` (in the order read) that the stored walk
        this one was restored from did not name: name -> blob id."""
        stored, ids = self._stored or {}, self._ids
        return {
            name: None if content is None else ids.get(name) or _id_of(name, content)
            for name, content in islice(self._blobs.items(), count, None)
            if name not in stored
        }

    # -- facts ------------------------------------------------------------------------------

    def brought_in(self, step: Step, record: str, *, fetched_only: bool = False) -> bool:
        """Whether a merge's version of `record` is a merged branch's, not its own edit
        (`fetched_only`: while walking, from the blobs fetched for the walk)."""
        blob = self.blob if fetched_only else self.all.get
        path = self.place.path_of(record)
        mine = blob(f"{step.commit.id}:{path}")
        return any(mine == blob(f"{p}:{path}") for p in step.commit.parents[1:])

    def authored(self, step: Step, record: str, change: git.Change) -> bool:
        """Whether a signature commit changed more of the record than its state."""
        return self.answer(ask_ref(step, record, change))

    def ask(self, step: Step, record: str, change: git.Change) -> Ask:
        """`authored`, asked when a question needs it."""
        return Ask(ask_ref(step, record, change), self.answer)

    def stored_ask(self, ref: AskRef) -> Ask:
        """An ask a stored walk left open: answered, when asked, from its blobs by id."""
        self._stored_asks.setdefault(ref[1], []).append(ref)
        return Ask(ref, self.answer)

    def answer(self, ref: AskRef) -> bool:
        commit, record = ref[0], ref[1]
        if (commit, record) not in self._authorship:
            self._authorship[commit, record] = changed_more(*self._pair(ref), record)
        return self._authorship[commit, record]

    def _pair(self, ref: AskRef) -> tuple[bytes | None, bytes | None]:
        """The record's bytes before and after the change: as the walk fetched them (the old
        by blob id, the new by name, read by the id `blob_ids` gave it), or, for an ask a
        stored walk left open, by blob id."""
        commit, record, old, new = ref
        name = f"{commit}:{self.place.path_of(record)}"
        if name in self._blobs and (old is None or old in self._blobs):
            return self._blobs.get(old or ""), self._blobs[name]
        if any(blob and blob not in self._asked_blobs for blob in (old, new)):
            self._fetch_asked(record, {blob for blob in (old, new) if blob})
        return self._asked_blobs.get(old or ""), self._asked_blobs.get(new or "")

    def _fetch_asked(self, record: str, blobs: set[str]) -> None:
        """Fetch `blobs` in one batch with those of the other open asks of `record`, or of every
        record once a few were asked about (an inbox asks about many)."""
        self._asked_records += 1
        few = self._asked_records <= _FEW_RECORDS
        for asks in [self._stored_asks.get(record, [])] if few else self._stored_asks.values():
            for commit, asked, *ids in asks:
                if (commit, asked) not in self._authorship:
                    blobs.update(blob for blob in ids if blob)
        self._asked_blobs.update(self.place.blobs(sorted(blobs - self._asked_blobs.keys())))


AskRef = tuple[str, str, str | None, str | None]  # commit, record, blob before, blob after


def ask_ref(step: Step, record: str, change: git.Change) -> AskRef:
    """The change's blobs as the walk reads them: nothing but a regular file holds a record
    (the walk reads `commit:path` by the id `blob_ids` gives it, None for any other entry)."""
    regular = change.new_mode == git.REGULAR_FILE
    return (step.commit.id, record, change.old_blob, change.new_blob if regular else None)


class Ask:
    """Whether a signed change to a record was authorship, asked only when a question needs
    it (authors.py). `ref` names the change by its blobs, so the history index can keep the
    question open and a later walk answer it from the same bytes."""

    __slots__ = ("_answer", "ref")

    def __init__(self, ref: AskRef, answer: Callable[[AskRef], bool]) -> None:
        self.ref, self._answer = ref, answer

    def __call__(self) -> bool:
        return self._answer(self.ref)


def changed_more(before: bytes | None, after: bytes | None, record: str) -> bool:
    """Whether the change from `before` to `after` (a record's bytes, None where the file is
    missing) changed more than its state fields, or left a record that does not load."""
    if before is not None and after is not None and not front_matter(record):
        # Most state changes rewrite only one-line state fields of a YAML file: told from
        # the lines, with one parse of the old content (none when it is known to load as a
        # mapping, or when the new one is and the edit proves the old the same shape).
        try:
            old_text, new_text = decode_record_bytes(before), decode_record_bytes(after)
            lines = edits_only(old_text, new_text, STATE_FIELDS)
            mapping = lines and (
                known_mapping(before, record)
                or (known_mapping(after, record) and edits_only(new_text, old_text, STATE_FIELDS))
                or loads_as_mapping(before, record)
            )
        except LoadError:
            mapping = False
        if mapping:
            remember_mapping(after, record)
            return False
    old = record_data(before, record)
    new = record_data(after, record)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return True
    keys = (old.keys() | new.keys()) - STATE_FIELDS
    return any(old.get(k) != new.get(k) for k in keys)
