"""What the audit trail says of kinds that are special (the kind's `special` name in its
declaration).

An audit-trail review is closed when it is written (in the commit that signs it): any later
change to it is an anomaly, whatever it changed.
"""

from __future__ import annotations

from collections.abc import Mapping

# special name -> the anomaly's sentence for an edit of a record closed when written;
# {record}, {commit} (short) and {author} (printed name and email) are filled in
CLOSED_WHEN_WRITTEN: Mapping[str, str] = {
    "audit-review": (
        "{record} is an audit-trail review, closed when it was signed; commit {commit} by "
        "{author} edited it. A review is never edited: a new review is recorded instead."
    ),
    "controlled-copy": (
        "{record} records the issue of a controlled copy, closed when it was signed; commit "
        "{commit} by {author} edited it. An issue is never edited: a new copy is issued instead."
    ),
}
