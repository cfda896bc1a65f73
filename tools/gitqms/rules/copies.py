"""The gate's controlled-copy rules (the kind whose `special` is "controlled-copy"):

- `copy.number-taken`: two records of the branch give one document version the same copy
  number (two issues made on two branches and merged: the later one must be issued again);
- `copy.number-skipped`: a copy number is not the next of its document version (copy 3
  recorded where copies 1 and 2 are not);
- `copy.not-approved`: the record names a content that no valid signature approved as that
  version of the document (a copy of a draft, or of bytes that were never released);
- `record.closed`, `state.signature` (special.py): an issue is written once, in the commit
  its issuer signs `issued`, and never edited.

Copy numbers are derived from the records on the branch, never from a counter: each commit
that adds a copy record is judged with every copy record at that commit, so a merge that
brings a second "copy 2" of a version is refused where it lands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..history.read import Step, record_entries
from ..lifecycle.signed import SignedContent, signed_contents
from ..records.config import QmsConfig
from ..records.kinds import BY_NAME, kind_of_id
from ..signatures.claims import record_data
from ..signatures.verify import Verdict, Walk
from .change_control import ConfigAt, Found
from .violations import Breach

COPY_KIND = "controlled-copy"


def copy_rules(
    walk: Walk,
    steps: Sequence[Step],
    verdicts: Mapping[str, Sequence[Verdict]],
    config_at: ConfigAt,
) -> Iterator[Found]:
    """The breaches of the copy records added by the commits `steps`."""
    kind = BY_NAME[COPY_KIND]
    adding = [
        step
        for step in steps
        if any(
            kind_of_id(r) is kind and c.old_blob is None and c.new_blob
            for r, c in step.records.items()
        )
    ]
    if not adding:
        return
    signed = signed_contents(walk)
    for step in adding:
        copies = copies_at(walk, step.commit.id)
        added = {r for r, c in step.records.items() if kind_of_id(r) is kind and c.new_blob}
        config = config_at(step.commit.id)
        for record in sorted(added & copies.keys()):
            for breach in _breaches(record, copies[record], copies, signed, config):
                yield Found(step.commit.id, record, breach)


def copies_at(walk: Walk, commit: str) -> dict[str, Mapping[str, Any]]:
    """Every controlled copy's record at `commit` that parses: record ID -> its fields."""
    kind = BY_NAME[COPY_KIND]
    history = walk.history
    files, _ = record_entries(history.root, commit, history.prefix)
    blobs = {r: b for r, b in files.items() if kind_of_id(r) is kind}
    read = history.blobs(sorted(blobs.values()))
    found: dict[str, Mapping[str, Any]] = {}
    for record, blob in sorted(blobs.items()):
        content = read.get(blob)
        data = record_data(content, record) if content is not None else None
        if isinstance(data, dict):
            found[record] = data
    return found


def _breaches(
    record: str,
    data: Mapping[str, Any],
    copies: Mapping[str, Mapping[str, Any]],
    signed: Mapping[str, Mapping[str, SignedContent]],
    config: QmsConfig | None,
) -> Iterator[Breach]:
    document, version, number = data.get("document"), data.get("version"), data.get("copy")
    if not isinstance(document, str) or not isinstance(version, int) or not isinstance(number, int):
        return  # the schema reports it
    same = sorted(
        (other.get("copy"), other_id)
        for other_id, other in copies.items()
        if other.get("document") == document and other.get("version") == version
    )
    numbers = [n for n, _ in same if isinstance(n, int)]
    if numbers.count(number) > 1:
        others = ", ".join(i for n, i in same if n == number and i != record)
        yield Breach(
            "copy.number-taken",
            f"{record} records copy {number} of {document} v{version}, which {others} "
            "already records",
            f"issue the copy again (`qms pdf {document} --version {version} --copy-for "
            "LOCATION`) and withdraw the sheet that carries the doubled number",
        )
    elif number > 1 and (number - 1) not in numbers:
        yield Breach(
            "copy.number-skipped",
            f"{record} records copy {number} of {document} v{version}, but no copy "
            f"{number - 1} of that version is recorded",
            f"issue copies with `qms pdf {document} --copy-for LOCATION`: it takes the next number",
        )
    content = data.get("content_sha256")
    item = signed.get(document, {}).get(content) if isinstance(content, str) else None
    if item is None or not _released_as(item, version, _release_meaning(config, document)):
        yield Breach(
            "copy.not-approved",
            f"{record} names content {content} as {document} v{version}, which no valid "
            "signature approved",
            "only approved versions are issued as controlled copies: `qms pdf DOC --version N "
            "--copy-for LOCATION` with an approved N",
        )


def _release_meaning(config: QmsConfig | None, document: str) -> str:
    kind = kind_of_id(document)
    if config is None or kind is None or kind.name not in config.lifecycles.documents:
        return "approved"
    return config.lifecycles.documents[kind.name].release


def _released_as(item: SignedContent, version: int, meaning: str) -> bool:
    """Whether a signed content of a document was signed `meaning` (the release) as `version`."""
    return any(s.meaning == meaning and s.version == str(version) for s in item.signatures)
