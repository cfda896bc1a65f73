"""Validate a repository: qms.yaml, then every record, into one list of findings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from .. import clock, git
from ..errors import QmsError
from ..records.config import CONFIG_FILE, QmsConfig, build_config
from ..records.document import Document, parse_document, read_text
from ..records.kinds import active_kinds
from ..records.model import Record, build_record
from ..records.pinned import BlobReader, kept_schema
from ..records.repository import RecordFile, Repository
from ..safeyaml import LoadError
from .config_checks import config_findings
from .findings import Finding
from .privacy import forbidden_patterns
from .privacy_aside import scanning
from .record_checks import Context, link_findings, privacy_findings, record_findings
from .schemas import readers_copies, schema_problems


@dataclass
class Validation:
    findings: list[Finding] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)  # by record ID
    config: QmsConfig | None = None
    files: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


def _load_error(path: str, error: LoadError, record_id: str | None) -> Finding:
    return Finding(
        path=path,
        line=error.line,
        severity="error",
        code="file.unreadable",
        message=error.message,
        fix=error.fix,
        record=record_id,
    )


def _schema_findings(doc: Document, schema: str, record_id: str | None) -> list[Finding]:
    if not isinstance(doc.data, dict):
        return [
            Finding(
                path=doc.path,
                line=1,
                severity="error",
                code="schema.type",
                message="the file does not hold a map of fields",
                fix="write the record as 'field: value' lines (see the templates made by 'qms new')",
                record=record_id,
            )
        ]
    return [
        Finding(
            path=doc.path,
            line=doc.line_of(p.location),
            severity="error",
            code=p.code,
            message=p.message,
            fix=p.fix,
            record=record_id,
        )
        for p in schema_problems(schema, doc.data)
    ]


def work_tree_blobs(root: Path) -> BlobReader:
    """Reads a pinned schema by blob id from the repository, else from schemas/ in the work
    tree when a file there is that blob (a kind declared and not yet committed)."""

    def read(blob: str) -> bytes | None:
        try:
            content = git.read_blob(root, blob)
        except QmsError:
            content = None  # not a git repository: the files alone
        if content is not None:
            return content
        folder = root / "schemas"
        for path in sorted(folder.glob("*.schema.json")) if folder.is_dir() else ():
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob:
                    return data
        return None

    return read


def load_config(root: Path, result: Validation) -> None:
    try:
        text = read_text(root, CONFIG_FILE)
    except LoadError as error:
        result.findings.append(_load_error(CONFIG_FILE, error, None))
        return
    result.config, found = parse_config(text, work_tree_blobs(root))
    result.findings.extend(found)


def parse_config(
    text: str, read_blob: BlobReader | None = None
) -> tuple[QmsConfig | None, list[Finding]]:
    """qms.yaml from its text (the work tree's, or a blob from history), with its findings;
    `read_blob` reads the schemas its declared kinds pin (by git blob id). Without it, a
    qms.yaml that declares kinds is refused: nothing could judge their records."""
    try:
        doc = parse_document(CONFIG_FILE, text, markdown=False)
    except LoadError as error:
        return None, [_load_error(CONFIG_FILE, error, None)]
    found = _schema_findings(doc, "qms", None)
    if found:
        return None, found
    if doc.data.get("kinds") and read_blob is None:
        read_blob = _no_blobs
    found = config_findings(doc, read_blob)
    if any(f.severity == "error" for f in found):
        return None, found
    return build_config(doc.data), found


def _no_blobs(blob: str) -> None:
    return None


def _read_records(
    files: list[RecordFile], root: Path, result: Validation
) -> list[tuple[RecordFile, str]]:
    texts = []
    for file in files:
        try:
            texts.append((file, read_text(root, file.path)))
        except LoadError as error:
            result.findings.append(_load_error(file.path, error, file.id))
    return texts


def _check_records(
    texts: list[tuple[RecordFile, str]], ctx: Context, result: Validation, *, parallel: bool
) -> None:
    def check(file: RecordFile, text: str, privacy: bool) -> None:
        record, doc, found = check_record_text(file, text, ctx, privacy=privacy)
        if record is not None and doc is not None:
            result.records[record.id] = record
            result.documents[record.id] = doc
        result.findings.extend(found)

    if not parallel:
        for file, text in texts:
            check(file, text, privacy=True)
        return
    aside = [(file.path, file.id, text) for file, text in texts]
    with scanning(aside, forbidden_patterns(ctx.config)) as privacy_findings_aside:
        for file, text in texts:
            check(file, text, privacy=False)
        result.findings.extend(privacy_findings_aside())


def check_record_text(
    file: RecordFile, text: str, ctx: Context, *, privacy: bool = True
) -> tuple[Record | None, Document | None, list[Finding]]:
    """One record's findings from its text (the work tree's, or a blob from history).

    The record is returned only when it passed its schema and holds its file's own ID.
    `privacy=False` leaves out the privacy scan, for a caller that scans the text itself.
    """
    # Every line is scanned, comments and broken files included: identifiers never enter Git.
    found = privacy_findings(file.path, text, ctx, file.id) if privacy else []
    try:
        doc = parse_document(file.path, text, markdown=file.kind.suffix == ".md")
    except LoadError as error:
        return None, None, [*found, _load_error(file.path, error, file.id)]
    if file.kind.repository and kept_schema(file.kind.schema) is None:
        return None, doc, [*found, _no_schema(file)]
    schema = _schema_findings(doc, file.kind.schema, file.id)
    if schema:
        return None, doc, found + schema
    record = build_record(file.kind, file.path, doc.data, doc.body)
    found += record_findings(record, doc, ctx)
    # A record claiming another file's ID is reported, not kept.
    return (record if record.id == file.id else None), doc, found


def _no_schema(file: RecordFile) -> Finding:
    return Finding(
        path=file.path,
        line=0,
        severity="error",
        code="kind.schema",
        message=f"the schema of the kind {file.kind.name!r} could not be read, so this "
        "record cannot be checked",
        fix="run 'qms validate qms.yaml' and correct the kind's declaration (its schema pin)",
        record=file.id,
    )


def _pin_drift(root: Path, config: QmsConfig | None) -> list[Finding]:
    """A declared kind's schema file that is no longer the schema its pin names."""
    found = []
    for kind in config.kinds.declared if config is not None else ():
        path = root / (kind.schema_file or "")
        held = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        if kind.schema != "sha256:" + hashlib.sha256(held).hexdigest():
            found.append(
                Finding(
                    path=kind.schema_file or "schemas/",
                    line=0,
                    severity="warning",
                    code="kind.schema-drift",
                    message=f"this file is not the schema pinned in qms.yaml for the kind "
                    f"{kind.name!r}; its records are checked against the pinned one",
                    fix="restore the pinned file from history, or pin this one with "
                    "'qms kinds add … --reason …' (an admin-signed change)",
                )
            )
    return found


def _schema_drift(root: Path) -> list[Finding]:
    """The repository's schemas/ and kinds/ are for readers; say when a copy no longer
    matches the installed gitqms's."""
    found = []
    for name, text in readers_copies().items():
        path = root / name
        if path.is_file() and path.read_bytes() != text.encode():
            found.append(
                Finding(
                    path=name,
                    line=0,
                    severity="warning",
                    code="schemas.drift",
                    message="this copy differs from what the installed gitqms checks with",
                    fix="records are always checked against the schemas and kinds of the "
                    "installed gitqms; restore this copy with 'qms init --update-schemas'",
                )
            )
    return found


# The pipelines `qms init` writes, which install the gitqms that qms.yaml names.
PIPELINES = (".github/workflows/qms.yml", ".gitlab-ci.yml")


def _pipeline_drift(root: Path, config: QmsConfig | None) -> list[Finding]:
    """Say when a pipeline no longer installs the gitqms that qms.yaml names (tooling.gitqms):
    the pipelines are not controlled content, the qms.yaml setting is."""
    spec = config.gitqms_source if config else None
    if not isinstance(spec, str) or not spec:
        return []
    found = []
    for name in PIPELINES:
        path = root / name
        if path.is_file() and not path.is_symlink() and f'"{spec}"' not in path.read_text():
            found.append(
                Finding(
                    path=name,
                    line=0,
                    severity="warning",
                    code="config.tooling-drift",
                    message=f"this pipeline does not install the gitqms that qms.yaml names "
                    f"(tooling.gitqms: {spec})",
                    fix=f'install exactly "{spec}" here, or change tooling.gitqms in qms.yaml '
                    "(an admin-signed change) if the validated copy moved",
                )
            )
    return found


def validate(
    repo: Repository,
    paths: list[Path] | None = None,
    *,
    now: datetime | None = None,
    parallel: bool = False,
) -> Validation:
    """Validate the whole repository, or only the files named by `paths`.

    `parallel` scans for patient identifiers in a second process (see privacy_aside.py); only
    for a caller that owns the process, such as the `qms validate` command.
    """
    result = Validation()
    layout = repo.layout()
    chosen, with_config = repo.select(layout, paths) if paths else (None, True)
    load_config(repo.root, result)
    if with_config:
        result.files += 1
    else:
        # qms.yaml was not asked for: name it only when its errors stop the records' checks.
        result.findings = []
        if result.config is None:
            result.findings.append(
                Finding(
                    path=CONFIG_FILE,
                    line=0,
                    severity="error",
                    code="config.invalid",
                    message="qms.yaml has errors, so people, areas and COI references were not checked",
                    fix="run 'qms validate qms.yaml' and correct it first",
                )
            )
    ctx = Context(
        result.config,
        {record.id: record.path for record in layout.records},
        now or clock.now(),
    )
    files = [file for file in layout.records if chosen is None or file.path in chosen]
    result.files += len(files)
    _check_records(_read_records(files, repo.root, result), ctx, result, parallel=parallel)
    for stray in layout.strays:
        if chosen is None or stray in chosen:
            kinds = active_kinds()
            folder = kinds.by_folder.get(PurePosixPath(stray).parent.as_posix())
            expected = " or ".join(
                f"{k.folder}/{k.example_id()}{k.suffix}"
                for k in ([folder] if folder else kinds.kinds)
            )
            result.findings.append(
                Finding(
                    path=stray,
                    line=0,
                    severity="error",
                    code="layout.unexpected-file",
                    message="this file is not named as a record, so it is not under control",
                    fix=f"name records as {expected}; keep other files outside the record folders",
                )
            )
    if chosen is None:
        result.findings.extend(_schema_drift(repo.root))
        result.findings.extend(_pin_drift(repo.root, result.config))
        result.findings.extend(_pipeline_drift(repo.root, result.config))
        result.findings.extend(link_findings(result.records, result.documents))
    result.findings.sort()
    return result


def require_config(repo: Repository) -> QmsConfig:
    """The repository's configuration, or an error naming the first problem in qms.yaml."""
    result = Validation()
    load_config(repo.root, result)
    if result.config is None:
        first = next(f for f in result.findings if f.severity == "error")
        raise QmsError(f"{first.location}: {first.message}", hint=first.fix)
    return result.config
