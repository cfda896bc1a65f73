"""Writing a git repository's objects straight into one packfile, trees as small deltas.

Record folders are flat, so at 10,000 records every edit writes a new folder tree of a few
hundred kilobytes; as loose objects that is gigabytes. Here each new version of a folder tree is
stored as an OFS_DELTA against its previous version (copy the bytes before the changed entry,
insert the entry, copy the rest), with a full tree every `MAX_DEPTH` versions so no delta chain
is longer than git's own default (pack.depth 50). `git index-pack` then checks every object and
writes the index. Blobs and commits are stored whole (zlib level 1).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import struct
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MAX_DEPTH = 50
_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}
_OFS_DELTA = 6
FILE_MODE = b"100644"
TREE_MODE = b"40000"


def object_id(kind: bytes, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).hexdigest()


def _entry_header(kind: int, size: int) -> bytes:
    """The pack entry header: type and size, 4 bits then 7 bits per byte, low bits first."""
    out = bytearray()
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def _offset_encoding(distance: int) -> bytes:
    """OFS_DELTA's negative offset: big-endian 7-bit groups, each but the last one less one."""
    out = [distance & 0x7F]
    distance >>= 7
    while distance:
        distance -= 1
        out.append(0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(reversed(out))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _copy(offset: int, size: int) -> bytes:
    """A delta copy instruction; only the non-zero bytes of offset and size are written."""
    assert 0 < size <= 0xFFFFFF
    op = 0x80
    args = bytearray()
    for i in range(4):
        byte = (offset >> (8 * i)) & 0xFF
        if byte:
            op |= 1 << i
            args.append(byte)
    for i in range(3):
        byte = (size >> (8 * i)) & 0xFF
        if byte:
            op |= 1 << (4 + i)
            args.append(byte)
    return bytes([op]) + bytes(args)


def _insert(data: bytes) -> bytes:
    return b"".join(
        bytes([len(data[i : i + 127])]) + data[i : i + 127] for i in range(0, len(data), 127)
    )


def splice_delta(base_size: int, at: int, removed: int, inserted: bytes) -> bytes:
    """A delta turning the base into: base[:at] + inserted + base[at + removed:]."""
    target = base_size - removed + len(inserted)
    ops = [_varint(base_size), _varint(target)]
    if at:
        ops.append(_copy(0, at))
    ops.append(_insert(inserted))
    if base_size - at - removed:
        ops.append(_copy(at + removed, base_size - at - removed))
    return b"".join(ops)


class PackWriter:
    """Appends objects to a packfile; `finish` fixes the count, adds the checksum, indexes it."""

    def __init__(self, git_dir: Path) -> None:
        self.folder = git_dir / "objects" / "pack"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "tmp-synthetic.pack"
        self.file = self.path.open("wb")
        self.file.write(b"PACK" + struct.pack(">II", 2, 0))
        self.offsets: dict[str, int] = {}

    def _append(self, oid: str, header: bytes, payload: bytes) -> str:
        self.offsets[oid] = self.file.tell()
        self.file.write(header + zlib.compress(payload, 1))
        return oid

    def add(self, kind: bytes, body: bytes) -> str:
        oid = object_id(kind, body)
        if oid in self.offsets:
            return oid
        return self._append(oid, _entry_header(_TYPES[kind], len(body)), body)

    def add_delta(self, kind: bytes, body: bytes, base: str, delta: bytes) -> str:
        """`body` stored as `delta` against the object `base`, already in this pack."""
        oid = object_id(kind, body)
        if oid in self.offsets:
            return oid
        distance = self.file.tell() - self.offsets[base]
        header = _entry_header(_OFS_DELTA, len(delta)) + _offset_encoding(distance)
        return self._append(oid, header, delta)

    def finish(self) -> Path:
        """Write the object count and the trailing checksum, then let git index the pack."""
        self.file.seek(8)
        self.file.write(struct.pack(">I", len(self.offsets)))
        self.file.close()
        digest = hashlib.sha1()
        with self.path.open("rb") as stream:
            while chunk := stream.read(1 << 22):
                digest.update(chunk)
        with self.path.open("ab") as stream:
            stream.write(digest.digest())
        final = self.folder / f"pack-{digest.hexdigest()}.pack"
        os.replace(self.path, final)
        subprocess.run(
            ["git", "index-pack", final.name],
            cwd=self.folder,
            check=True,
            capture_output=True,
        )
        return final


@dataclass
class FlatTree:
    """One folder's tree, kept sorted; each change is written as a delta on the last version."""

    entries: list[bytes] = field(default_factory=list)  # "mode name\0" + raw id, in git order
    names: list[bytes] = field(default_factory=list)  # sort keys, parallel to entries
    last: str | None = None  # id of the last version written
    last_size: int = 0
    depth: int = 0

    def set(self, pack: PackWriter, name: str, oid: str, mode: bytes = FILE_MODE) -> str:
        """Set `name` to the object `oid`; returns the new tree's id."""
        key = name.encode() + (b"/" if mode == TREE_MODE else b"")
        entry = mode + b" " + name.encode() + b"\0" + bytes.fromhex(oid)
        index = bisect.bisect_left(self.names, key)
        replaced = index < len(self.names) and self.names[index] == key
        at = sum(map(len, self.entries[:index]))
        removed = len(self.entries[index]) if replaced else 0
        if replaced:
            self.entries[index] = entry
        else:
            self.entries.insert(index, entry)
            self.names.insert(index, key)
        body = b"".join(self.entries)
        if self.last is None or self.depth >= MAX_DEPTH:
            tree = pack.add(b"tree", body)
            self.depth = 0
        else:
            delta = splice_delta(self.last_size, at, removed, entry)
            tree = pack.add_delta(b"tree", body, self.last, delta)
            self.depth += 1
        self.last, self.last_size = tree, len(body)
        return tree


def tree_body(entries: dict[str, tuple[bytes, str]]) -> bytes:
    """A small tree from name -> (mode, object id), in git's order (a folder sorts as 'name/')."""

    def order(name: str) -> bytes:
        return name.encode() + (b"/" if entries[name][0] == TREE_MODE else b"")

    return b"".join(
        entries[name][0] + b" " + name.encode() + b"\0" + bytes.fromhex(entries[name][1])
        for name in sorted(entries, key=order)
    )
