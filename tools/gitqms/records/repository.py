"""A QMS repository on disk: its root and the files in its record folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import git
from ..errors import QmsError, RepositoryNotFound
from ..landing import finish_interrupted
from .config import CONFIG_FILE
from .kinds import (
    IGNORED_NAMES,
    PACKAGE,
    Kind,
    active_kinds,
    declared_in,
    record_id_from_path,
    use_kinds,
)


def _text(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # `qms validate` says why


@dataclass(frozen=True)
class RecordFile:
    kind: Kind
    path: str  # relative, forward slashes: "sops/SOP-0003.md"
    id: str  # from the file name


@dataclass(frozen=True)
class Layout:
    records: tuple[RecordFile, ...]
    strays: tuple[str, ...]  # files in record folders that are not named as records


@dataclass(frozen=True)
class Repository:
    root: Path

    @classmethod
    def discover(cls, start: Path, *, needs_git: bool = True) -> Repository:
        """The nearest directory at or above `start` that holds qms.yaml; unless `needs_git`
        is false (commands that read only files), it must be in a git repository."""
        here = start.resolve()
        for candidate in (here, *here.parents):
            if (candidate / CONFIG_FILE).is_file():
                git_dir = git.find_git_dir(candidate) if needs_git else None
                if needs_git and git_dir is None:
                    raise RepositoryNotFound(
                        f"{candidate} holds {CONFIG_FILE} but is not a git repository; records "
                        "are kept and signed in git",
                        hint=f"run 'git init' in {candidate} and commit the files (then sign "
                        "as usual), or create a new QMS with 'qms init PATH'",
                    )
                if git_dir is not None:  # a command killed while moving the branch: finish it
                    finish_interrupted(git_dir)
                kinds = PACKAGE.reading(declared_in(_text(candidate / CONFIG_FILE)))
                use_kinds(kinds, work_tree=True)
                return cls(candidate)
        raise RepositoryNotFound(
            f"no {CONFIG_FILE} in {here} or any folder above it",
            hint="run the command inside a QMS repository, pass --repo PATH, "
            "or create one with 'qms init PATH'",
        )

    def layout(self) -> Layout:
        records: list[RecordFile] = []
        strays: list[str] = []
        for kind in active_kinds().kinds:
            folder = self.root / kind.folder
            if folder.is_symlink():  # records must live in the repository, not behind a link
                strays.append(kind.folder)
                continue
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                relative = PurePosixPath(kind.folder, entry.name)
                if entry.name in IGNORED_NAMES:
                    continue
                record_id = record_id_from_path(relative) if entry.is_file() else None
                if record_id is None:
                    strays.append(relative.as_posix())
                else:
                    records.append(RecordFile(kind, relative.as_posix(), record_id))
        return Layout(tuple(records), tuple(strays))

    def relative(self, path: Path) -> str:
        """A user-given path as a repository-relative POSIX path; refuses paths outside.

        The last component is not resolved, so a link inside the repository is named as itself.
        """
        for candidate in (Path(os.path.normpath(path.absolute())), path.resolve()):
            try:
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        raise QmsError(
            f"{path} is outside the QMS repository {self.root}",
            hint="name files inside the repository, or pass --repo",
        )

    def select(self, layout: Layout, paths: list[Path]) -> tuple[set[str], bool]:
        """Files of `layout` chosen by the user's paths, and whether qms.yaml was named."""
        names = [record.path for record in layout.records] + list(layout.strays)
        chosen: set[str] = set()
        config = False
        for path in paths:
            relative = self.relative(path)
            whole = relative == "."
            config = config or whole or relative == CONFIG_FILE
            if relative == CONFIG_FILE:
                continue
            folder = "" if whole else relative.rstrip("/") + "/"
            matches = [name for name in names if name == relative or name.startswith(folder)]
            if not matches and not path.exists() and not path.is_symlink():
                raise QmsError(
                    f"{relative} does not exist",
                    hint="check the name (qms list shows the records), or run qms validate "
                    "without PATH to check the whole repository",
                )
            if not matches:
                top = PurePosixPath(relative).parts[0]
                raise QmsError(
                    f"{relative} is not a record of this repository",
                    hint=f"name {CONFIG_FILE} or files in "
                    + ", ".join(f"{k.folder}/" for k in active_kinds().kinds)
                    + (
                        "" if top in active_kinds().by_folder else "; other files are not validated"
                    ),
                )
            chosen.update(matches)
        return chosen, config
