"""What a record's text may be: its size, nesting, number of values and digits, and the one
error for text that cannot be read as a record (see load.py, which enforces the rest)."""

from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 50_000  # after alias expansion; a large CAPA has a few hundred
MAX_DEPTH = 64
MAX_DIGITS = 18


class LoadError(Exception):
    """The text could not be read as a record. `line` is 1-based, or 0 for the whole file."""

    def __init__(self, line: int, message: str, fix: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


def oversize(size: int, limit: int = MAX_FILE_BYTES) -> LoadError:
    return LoadError(
        0,
        f"the file is {size / 1_048_576:.1f} MiB, over the {limit // 1024} KiB limit for a record",
        "records are text; keep evidence such as PDFs and images outside the record "
        "and reference them by name",
    )


def decode_record_bytes(raw: bytes, *, limit: int = MAX_FILE_BYTES) -> str:
    """Bytes of a record file to text, refusing what is too large, binary or not UTF-8."""
    if len(raw) > limit:
        raise oversize(len(raw), limit)
    if b"\0" in raw:
        raise LoadError(
            raw.count(b"\n", 0, raw.index(b"\0")) + 1,
            "the file is binary (it contains a NUL byte), not a text record",
            "replace it with a YAML or Markdown record; keep binaries outside sops/, capa/, deviations/",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LoadError(
            raw.count(b"\n", 0, error.start) + 1,
            f"the text is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})",
            "save the file as UTF-8 (most editors: 'Save with encoding' → UTF-8)",
        ) from None
    return text.removeprefix("\ufeff")
