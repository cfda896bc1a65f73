"""Records migrated from legacy paper or spreadsheet systems (`qms import`).

A migrated record carries a `migration` block naming its source. It is written once, when the
record is created, and never changed. A migrated CAPA or deviation may be created past its
lifecycle's initial state (a legacy CAPA may be closed already) only in a commit that carries a
valid signature with the meaning below for that very record, by a person holding the role the
policy gives it.
"""

from __future__ import annotations

MIGRATION_FIELD = "migration"
MIGRATED_MEANING = "migrated"
