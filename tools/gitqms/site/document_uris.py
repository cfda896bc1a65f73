"""Where the pages of the controlled documents live in the site: one function per kind of page,
so every link to a version, an upcoming version, an archived one or a comparison is made alike."""

from __future__ import annotations

from ..records.kinds import kind_of_id
from ..reports.entries import PublishedVersion
from .sanitise import text

INDEX = "sops/index.md"
ARCHIVE = "archive/index.md"
WHATS_NEW = (
    "whats-new.md"  # what came into force, was revised or retired lately, and what comes soon
)
NOT_IN_FORCE = "not yet in force"
NOT_IN_FORCE_STATUS = "approved, not yet in force"


def record_uri(record_id: str) -> str:
    """The page of any record or document: in the folder of its kind, as in the repository."""
    kind = kind_of_id(record_id)
    return f"{kind.folder if kind is not None else 'records'}/{record_id}.md"


def sop_uri(record_id: str) -> str:
    """The page of a document of any document kind (its version in force)."""
    return record_uri(record_id)


def archive_uri(record_id: str, version: int) -> str:
    return f"archive/{record_id}-v{version}.md"


def upcoming_uri(record_id: str, version: int) -> str:
    return f"upcoming/{record_id}-v{version}.md"


def changes_uri(record_id: str, version: int) -> str:
    """What changed in `version` from the version it takes over from (not under `changes/`:
    that is the change-control records' folder)."""
    return f"redline/{record_id}-v{version}.md"


def pdf_uri(record_id: str, version: int) -> str:
    """A version's PDF download (`qms build --pdfs`)."""
    return f"pdf/{record_id}-v{version}.pdf"


def download_link(record_id: str, version: PublishedVersion) -> str:
    """The link from a document's page (one folder deep: `sops/…`, `upcoming/…`) to its PDF."""
    href = "../" + pdf_uri(record_id, version.version)
    return (
        f'<p class="qms-download"><a href="{text(href)}" download>Download PDF '
        f"(uncontrolled copy) of {text(record_id)} v{version.version}</a></p>"
    )
