"""`manifest.sha256`: the sha256 of every file of an archive, as `sha256sum -c` reads it.

One line per file, `<64 hex digits>  <path>`, paths relative to the archive with `/`, sorted. A
name holding a backslash is written as GNU coreutils does (a leading backslash, `\\` inside).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath

from ..errors import QmsError
from . import MANIFEST, UNLISTED

_LINE = re.compile(rb"(\\?)([0-9a-f]{64}) [ *](.+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def archive_files(folder: Path) -> tuple[list[str], list[str]]:
    """(the regular files under `folder` that a manifest lists, as relative paths; the entries
    an archive must not hold, such as symbolic links, with why)."""
    files: list[str] = []
    odd: list[str] = []
    for current, directories, names in os.walk(folder):
        base = Path(current)
        for name in sorted(directories):
            if (base / name).is_symlink():
                odd.append(f"{shown(_relative(folder, base / name))}: a symbolic link")
        for name in names:
            path = base / name
            relative = _relative(folder, path)
            if path.is_symlink():
                odd.append(f"{shown(relative)}: a symbolic link")
            elif not path.is_file():
                odd.append(f"{shown(relative)}: not a regular file")
            elif relative not in UNLISTED:
                files.append(relative)
    return sorted(files), sorted(odd)


def _relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def render(digests: dict[str, str]) -> bytes:
    """The manifest of `digests` (relative path -> sha256), sorted by path."""
    lines = []
    for path, digest in sorted(digests.items()):
        if _CONTROL.search(path):
            raise QmsError(
                f"the archive would hold a file whose name has a control character: {path!r}",
                hint="rename it; names in a manifest must read the same on every system",
            )
        if "\\" in path:
            lines.append(f"\\{digest}  {path.replace(chr(92), chr(92) * 2)}\n")
        else:
            lines.append(f"{digest}  {path}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def write(folder: Path) -> bytes:
    """Hash every file of `folder` and write its manifest; returns the manifest's bytes."""
    files, odd = archive_files(folder)
    if odd:
        raise QmsError(f"the archive would hold {', '.join(odd)}", hint="report this as a defect")
    content = render({path: file_sha256(folder / path) for path in files})
    (folder / MANIFEST).write_bytes(content)
    return content


def parse(content: bytes) -> tuple[dict[str, str], list[str]]:
    """(relative path -> sha256 for each well-formed line; each bad line, named by number)."""
    entries: dict[str, str] = {}
    problems: list[str] = []
    if content and not content.endswith(b"\n"):
        problems.append("manifest.sha256: the last line is cut short (no newline at the end)")
    for number, raw in enumerate(content.split(b"\n")[:-1] if content else [], start=1):
        where = f"manifest.sha256 line {number}"
        match = _LINE.fullmatch(raw)
        if match is None:
            problems.append(f"{where}: not `<sha256>  <path>`: {raw[:80]!r}")
            continue
        name = match.group(3).decode("utf-8", "surrogateescape")
        if match.group(1):
            name = _unescape(name)
        problem = _path_problem(name)
        if problem is None and name in entries:
            problem = "listed twice"
        if problem is not None:
            problems.append(f"{where}: {name!r} {problem}")
            continue
        entries[name] = match.group(2).decode()
    return entries, problems


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)


def _path_problem(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return "is not a plain path inside the archive"
    if name in UNLISTED:
        return "cannot be listed in the manifest"
    return None


def shown(name: str) -> str:
    """A file name as a difference names it: quoted and escaped when it holds a control
    character or a byte that is not UTF-8, so a name cannot break or forge a line of output."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(name)
    return repr(name) if _CONTROL.search(name) else name


def compare(folder: Path, entries: dict[str, str]) -> list[str]:
    """Each file missing, added or changed against the manifest's `entries`, by name."""
    found, odd = archive_files(folder)
    differences = [f"{entry} (an archive holds only regular files)" for entry in odd]
    present = set(found)
    for path in sorted(entries.keys() - present):
        differences.append(
            f"{shown(path)}: missing (listed in manifest.sha256, not in the archive)"
        )
    for path in sorted(present - entries.keys()):
        differences.append(f"{shown(path)}: extra file (in the archive, not in manifest.sha256)")
    for path in sorted(present & entries.keys()):
        actual = file_sha256(folder / path)
        if actual != entries[path]:
            differences.append(
                f"{shown(path)}: changed (sha256 {actual}, manifest.sha256 says {entries[path]})"
            )
    return differences
