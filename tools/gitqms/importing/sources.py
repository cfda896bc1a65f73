"""Legacy files read as untrusted input: bounded in size, refused when encrypted or with macros."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import QmsError

MAX_FILE_BYTES = 20 * 1024 * 1024  # a legacy log or SOP is far smaller
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an Office file is a zip: no zip bombs
MAX_ZIP_ENTRIES = 10_000
# A part that unpacks to more than 1 MB at over 100:1 is made to be unpacked, not written by
# Office: 50 MB of shared strings in a 150 kB workbook take minutes and a GB to parse.
MAX_RATIO, RATIO_FROM = 100, 1024 * 1024
MAX_ROWS = 10_000  # data rows per import
MAX_COLUMNS = 200

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML, or a legacy .doc/.xls
_MACRO_SUFFIXES = frozenset({".docm", ".dotm", ".xlsm", ".xltm", ".xlsb"})


@dataclass(frozen=True)
class Source:
    path: Path
    data: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_source(path: Path, suffixes: tuple[str, ...]) -> Source:
    """The file's bytes, after the checks every legacy file gets; one clear error naming it."""
    suffix = path.suffix.lower()
    if suffix in _MACRO_SUFFIXES:
        raise QmsError(
            f"{path}: macro-enabled files are not imported",
            hint="open it in Office and save a copy without macros (.docx or .xlsx)",
        )
    if suffix not in suffixes:
        raise QmsError(
            f"{path}: a {suffix or 'file without extension'} cannot be imported here",
            hint=f"give a {' or '.join(suffixes)} file",
        )
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise QmsError(f"{path} is not a file")
        if size > MAX_FILE_BYTES:
            raise QmsError(
                f"{path} is {size // (1024 * 1024)} MB; at most "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB are imported at once",
                hint="split the log into smaller files, or remove embedded images",
            )
        data = path.read_bytes()
    except OSError as error:
        raise QmsError(f"{path} cannot be read: {error.strerror or error}") from None
    source = Source(path, data)
    if suffix in (".docx", ".xlsx"):
        check_office_file(source)
    return source


def check_office_file(source: Source) -> None:
    """An Office Open XML file is a zip: refuse encrypted, macro-carrying or oversized ones."""
    if source.data.startswith(_OLE_MAGIC):
        raise QmsError(
            f"{source.path}: the file is password-protected (encrypted) or in the old binary "
            "Office format",
            hint="open it in Office, remove the password and save it as .docx or .xlsx",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise QmsError(
            f"{source.path}: not a readable Office file (damaged, or not really "
            f"{source.path.suffix})",
            hint="open it in Office and save it again",
        ) from None
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise QmsError(
            f"{source.path}: the file unpacks to more than "
            f"{MAX_UNPACKED_BYTES // (1024 * 1024)} MB; it is not imported",
            hint="save a copy without embedded objects and images",
        )
    packed = next(
        (
            e
            for e in entries
            if e.file_size > RATIO_FROM and e.file_size > MAX_RATIO * max(e.compress_size, 1)
        ),
        None,
    )
    if packed is not None:
        raise QmsError(
            f"{source.path}: its part {packed.filename} unpacks to "
            f"{packed.file_size // (1024 * 1024)} MB from {packed.compress_size // 1024} kB, "
            "as a zip bomb does; it is not imported",
            hint="open it in Office and save it again; if it stays so, import the log as CSV",
        )
    if any(e.filename.lower().endswith("vbaproject.bin") for e in entries):
        raise QmsError(
            f"{source.path}: the file contains macros (VBA), which are not imported",
            hint="open it in Office and save a copy without macros (.docx or .xlsx)",
        )
