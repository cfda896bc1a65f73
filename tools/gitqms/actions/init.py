"""`qms init`: a new QMS repository, created whole or not at all."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .. import git
from ..crypto.keys import parse_public_key
from ..crypto.openpgp import is_openpgp
from ..errors import QmsError
from ..files import replace_atomic
from ..history.commits import format_trailers
from ..records.config import CONFIG_FILE
from ..records.kinds import PACKAGE
from ..records.repository import Repository
from ..signatures.claims import trailer_lines
from ..signatures.verify import verify_history
from ..validation.schemas import readers_copies
from .ci_files import checked_source, installed_source, pip_argument, write_ci_files
from .commit_msg import install_commit_msg
from .registry import read_public_key
from .sign import config_claim, signing_key
from .template import check_before_writing, fill, quoted, template


@dataclass(frozen=True)
class Admin:
    id: str
    name: str
    email: str
    key: str | None = None  # "ssh-ed25519 AAAA…" or an armored OpenPGP block: registered, and
    # the first commit is signed with it
    key_file: Path | None = None


def ensure_new_folder(path: Path) -> None:
    """Refuse a target that exists and is not an empty folder."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        what = "a QMS repository" if (path / CONFIG_FILE).exists() else "not empty"
        raise QmsError(
            f"{path} already exists and is {what}; qms init never overwrites",
            hint="choose a new folder, or an empty one",
        )


def first_admin(cwd: Path, person_id: str | None, name: str | None, email: str | None) -> Admin:
    """The first admin from the options given, else from the git identity."""
    name = name or git.config_value(cwd, "user.name")
    email = email or git.config_value(cwd, "user.email")
    if not name or not email:
        raise QmsError(
            "the first admin needs a name and an email",
            hint="pass --name 'Dr. Anna Weber' --email anna.weber@hospital.example "
            "(or set git config user.name and user.email)",
        )
    if person_id is None:
        local = email.split("@")[0].lower()
        person_id = "".join(c for c in local if c.isalnum() or c in "._-").lstrip("._-0123456789")
    return Admin(person_id[:32] or "admin", name, email)


def create_repository(
    path: Path,
    *,
    cwd: Path,
    admin_id: str | None,
    admin_name: str | None,
    admin_email: str | None,
    key_file: Path | None,
    organisation: str,
    gitqms_source: str | None,
    commit_msg_hook: bool = True,
) -> tuple[Admin, str, Path | None]:
    """`qms init PATH`: the first admin from the options given (else the git identity at `cwd`),
    with the key in `key_file` when given, and the pip requirement CI installs (the one given,
    else this gitqms as installed), both checked before anything is written; then the
    repository, with the commit-msg hook that asks for a Reason unless `commit_msg_hook` is
    false. Returns the admin, that requirement and the hook written."""
    ensure_new_folder(path)
    source = checked_source(gitqms_source if gitqms_source is not None else installed_source())
    admin = first_admin(cwd, admin_id, admin_name, admin_email)
    if key_file is not None:
        admin = replace(admin, key=read_public_key(key_file), key_file=key_file.absolute())
    init_repository(path, admin, organisation, source)
    hook = install_commit_msg(path).path if commit_msg_hook else None
    return admin, source, hook


def init_repository(path: Path, admin: Admin, organisation: str, gitqms_source: str) -> None:
    """Scaffold a QMS repository at `path`: built beside it, then moved into place.
    `gitqms_source` is the pip requirement its pipelines install (qms.yaml tooling.gitqms)."""
    ensure_new_folder(path)
    config = fill(
        template("qms.yaml"),
        organisation=quoted(organisation),
        admin_id=quoted(admin.id),
        admin_name=quoted(admin.name),
        admin_email=quoted(admin.email),
        gitqms_source=quoted(gitqms_source),
    )
    if admin.key:
        config = _with_key(config, admin.key)
    check_before_writing(config, "qms", markdown=False, what=CONFIG_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.init-"))
    except OSError as error:
        raise QmsError(f"cannot create {path}: {error.strerror}") from None
    try:
        write_layout(staging, config, organisation, gitqms_source)
        git.init(staging)
        if admin.key and admin.key_file:
            _first_signed_commit(staging, admin, admin.key_file, config)
        if path.exists():
            path.rmdir()
        staging.rename(path)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise QmsError(f"cannot create {path}: {error.strerror}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _with_key(config: str, key: str) -> str:
    """The first admin's entry in the filled qms.yaml template, with their signing key."""
    roles = "    roles: [admin, qa-manager]\n"
    assert config.count(roles) == 1
    today = git.commit_time(Path.cwd()).date().isoformat()
    if is_openpgp(key):  # a literal block scalar, as `qms keys add` writes it
        block = "".join(f"          {line}\n" if line else "\n" for line in key.splitlines())
        value = f"|\n{block}"
    else:
        value = f'"{key}"\n'
    entry = f'    keys:\n      - public_key: {value}        valid_from: "{today}"\n'
    return config.replace(roles, roles + entry)


def _first_signed_commit(root: Path, admin: Admin, key_file: Path, config: str) -> None:
    """The trust root: the commit that introduces qms.yaml, signed by the first admin.

    The new repository is set to sign as the admin with the key given, unless git's own
    settings already sign with that key.
    """
    assert admin.key is not None
    gpg = is_openpgp(admin.key)
    wanted = parse_public_key(admin.key).fingerprint
    configured = None
    if (git.config_value(root, "gpg.format") or "openpgp") == ("openpgp" if gpg else "ssh"):
        try:
            configured = signing_key(root).fingerprint
        except QmsError:
            configured = None
    if configured != wanted and gpg:
        git.set_config(root, "gpg.format", "openpgp")
        git.set_config(root, "user.signingkey", wanted)
    elif configured != wanted:
        private = key_file.with_suffix("") if key_file.suffix == ".pub" else key_file
        git.set_config(root, "gpg.format", "ssh")
        git.set_config(root, "user.signingkey", str(private if private.is_file() else key_file))
    if git.config_value(root, "user.email") != admin.email:
        git.set_config(root, "user.email", admin.email)
        git.set_config(root, "user.name", admin.name)
    sign_trust_root(
        root,
        config,
        "Initialise the quality management system; the first admin and key are the trust root",
    )


def sign_trust_root(root: Path, config: str, reason: str) -> None:
    """Commit everything staged in `root` as its first commit, signed as git is set to sign,
    with qms.yaml (`config`) as the trust root; refused unless it verifies."""
    tree = git.stage_all_and_write_tree(root)
    claims = [config_claim(config.encode("utf-8"))]
    message = f"Initialise the QMS\n\n{format_trailers(trailer_lines(claims, reason))}\n"
    commit = git.commit_tree_signed(root, tree, [], message)
    problems = [p for v in verify_history(root, [commit]).verdicts for p in v.problems]
    if problems:
        raise QmsError("the first commit would not verify: " + "; ".join(problems))
    git.run(root, ["update-ref", "refs/heads/main", commit])


def write_layout(
    root: Path, config: str, organisation: str, gitqms_source: str | None = None
) -> None:
    """qms.yaml, mkdocs.yml, .gitignore, docs/, the record folders, the schemas, and the CI
    pipelines with their branch-protection recipe, installing `gitqms_source` (default: the
    gitqms running now)."""
    (root / CONFIG_FILE).write_text(config)
    site_name = quoted(f"{organisation} — controlled documents")
    (root / "mkdocs.yml").write_text(fill(template("mkdocs.yml"), site_name=site_name))
    (root / ".gitignore").write_text(template("gitignore"))
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(fill(template("index.md"), organisation=organisation))
    for kind in PACKAGE.kinds:  # a folder for every kind the package declares
        (root / kind.folder).mkdir()
        (root / kind.folder / ".gitkeep").write_text("")
    for name, text in readers_copies().items():  # schemas/ and kinds/, for readers
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(text)
    write_ci_files(root, pip_argument(gitqms_source or installed_source()))


def update_schemas(repo: Repository) -> list[str]:
    """Bring the repository's copies of the schemas and kind declarations in line with the
    installed gitqms."""
    changed = []
    for name, text in readers_copies().items():
        target = repo.root / name
        target.parent.mkdir(exist_ok=True)
        if not target.is_file() or target.read_bytes() != text.encode():
            replace_atomic(target, text)
            changed.append(name)
    return changed
