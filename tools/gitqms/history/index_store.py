"""Derived data kept between runs in the repository's git folder (.git/qms/), never trusted.

Each file holds named sections of bytes under a header that says what the data was derived
from (its key: the tip commit, the gitqms code, the Python version, the options). A reader
accepts a file only when its key is the one asked for and its HMAC-SHA256 checks out. The
HMAC key is a random secret kept outside the repository (in the user's cache folder, private to
them; a key inside the repository's folders is never used), so a file copied in with a
repository or an archive, or edited by hand, is never believed: it is ignored and rebuilt.
Writing is atomic (a temporary file renamed over the old one) and best effort: a folder that
cannot be written means no cache, never a failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .. import aside, git

FORMAT = 1
_MAGIC = b"gitqms-index\n"
_MAC_SIZE = 32
KEEP = 3  # files of one kind kept per repository, the most recently written


def key_path() -> Path:
    """Where this user's HMAC key is kept: their cache folder, never a repository's."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitqms" / "index.key"


def forget_key() -> None:
    """Read the key afresh at next use (a new run, in tests)."""
    _secret.cache_clear()


@cache
def _secret() -> bytes | None:
    """This user's HMAC key, made on first use; None when it cannot be kept private.

    The key is 32 random bytes in a file only its owner can read (0600, in a 0700 folder that
    no one else can write to). A key file that others could read or replace, or that is a
    link, is not believed (whoever read it could forge the index): it is replaced.
    """
    path = key_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = path.parent.stat()
        if folder.st_uid != os.getuid() or folder.st_mode & 0o022:
            return None  # someone else could swap the key
        key = _read_key(path)
        if key is not None:
            return key
        path.unlink(missing_ok=True)  # not private, or not a key: never believed again
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    except FileExistsError:
        pass  # another process made it meanwhile
    except OSError:
        return None
    try:
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes | None:
    """The key, if the file is this user's own, private and regular; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.getuid() or info.st_mode & 0o077 or not stat.S_ISREG(info.st_mode):
            return None
        key = handle.read(33)
    return key if len(key) == 32 else None


def _usable_secret(root: Path, folder: Path) -> bytes | None:
    """The key, unless it lies inside the repository (its work tree or git folder), where a
    commit, a build or an archive could take it: then no index is kept."""
    where = Path(os.path.realpath(key_path()))
    tops = {Path(os.path.realpath(p)) for p in (root, folder.parent)}
    if folder.parent.name == ".git":
        tops.add(Path(os.path.realpath(folder.parent.parent)))
    if any(where.is_relative_to(top) for top in tops):
        return None
    return _secret()


@cache
def code_digest() -> str:
    """A digest of the gitqms code: any change to it makes every stored file stale."""
    digest = hashlib.sha256(sys.version.encode())
    package = code_folder()
    files = [*package.rglob("*.py"), *package.glob("kinds/*.yaml"), *package.glob("schemas/*.json")]
    for path in sorted(files):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def code_folder() -> Path:
    """The whole gitqms package folder, wherever in it this module sits."""
    return Path(__file__).resolve().parents[__name__.count(".") - 1]


def _mac(secret: bytes, data: bytes | memoryview) -> bytes:
    return hmac.new(secret, data, hashlib.sha256).digest()


class Store:
    """Files of one kind (`kind`) in <git common dir>/qms/, one per name."""

    def __init__(self, root: Path, kind: str) -> None:
        self.root = root
        self.kind = kind
        self._folder: Path | None = None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = git.common_dir(self.root) / "qms"
        return self._folder

    def path(self, name: str) -> Path:
        return self.folder / f"{self.kind}-{name}"

    def names(self) -> list[str]:
        """Names of the stored files, the most recently written first."""
        aside.settle()  # what this process's children write is there
        prefix = f"{self.kind}-"
        try:
            found = [p for p in self.folder.iterdir() if p.name.startswith(prefix)]
        except OSError:
            return []
        found.sort(key=_mtime, reverse=True)
        return [p.name[len(prefix) :] for p in found]

    def read(self, name: str, key: Mapping[str, Any]) -> dict[str, bytes] | None:
        """The sections of the file `name`, if it was written by us for exactly `key`."""
        aside.settle()
        secret = _usable_secret(self.root, self.folder)
        if secret is None:
            return None
        try:
            data = self.path(name).read_bytes()
        except OSError:
            return None
        view = memoryview(data)
        if len(data) < len(_MAGIC) + 8 + _MAC_SIZE or not data.startswith(_MAGIC):
            return None
        if not hmac.compare_digest(_mac(secret, view[:-_MAC_SIZE]), data[-_MAC_SIZE:]):
            return None
        start = len(_MAGIC) + 8
        size = int.from_bytes(data[len(_MAGIC) : start], "big")
        try:
            header = json.loads(data[start : start + size])
        except ValueError:
            return None
        if header.get("format") != FORMAT or header.get("key") != _normal(key):
            return None
        sections = {}
        offset = start + size
        for section, length in header["sections"]:
            sections[section] = data[offset : offset + length]
            offset += length
        return sections

    def write(self, name: str, key: Mapping[str, Any], sections: Mapping[str, bytes]) -> None:
        """Store `sections` for `key` as the file `name`; on any failure, store nothing."""
        secret = _usable_secret(self.root, self.folder)
        if secret is None:
            return
        header = json.dumps(
            {
                "format": FORMAT,
                "key": _normal(key),
                "sections": [[n, len(v)] for n, v in sections.items()],
            },
            sort_keys=True,
        ).encode()
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".idx")
            try:
                mac = hmac.new(secret, digestmod=hashlib.sha256)
                with os.fdopen(fd, "wb") as handle:
                    for part in (
                        _MAGIC,
                        len(header).to_bytes(8, "big"),
                        header,
                        *sections.values(),
                    ):
                        mac.update(part)
                        handle.write(part)
                    handle.write(mac.digest())
                os.replace(temporary, self.path(name))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            for old in self.names()[KEEP:]:
                self.path(old).unlink(missing_ok=True)


def _normal(key: Mapping[str, Any]) -> Any:
    """The key as it reads back from JSON."""
    return json.loads(json.dumps(key, sort_keys=True))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
