"""The CI pipelines and the branch-protection recipe that `qms init` writes into a new QMS.

A new QMS's pipelines install the gitqms its qms.yaml names under `tooling.gitqms`: the
hospital's validated copy (a pip requirement), which `qms init` records as the one it was run
from unless told otherwise. The product repository ships the same files, rendered to install
gitqms from its own checkout (`pip install .`), since it is also the template a hospital forks.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse, urlsplit, urlunsplit

from .. import __version__, git
from ..errors import QmsError
from .template import fill, template

# Path in the QMS repository -> its template in gitqms/templates.
CI_FILES = {
    ".github/workflows/qms.yml": "github-workflow.yml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
    "BRANCH-PROTECTION.md": "branch-protection.md",
}
PRODUCT_INSTALL = "."  # the product repository installs the gitqms it holds
# What a pipeline can pass to pip in double quotes, in YAML, without the shell or YAML reading
# anything into it.
_SAFE_SPEC = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.,:;/@+=<>!~#%?&\[\]()-]*")


def installed_source() -> str:
    """The pip requirement for the gitqms running now, from how it was installed (PEP 610)."""
    try:
        text = metadata.distribution("gitqms").read_text("direct_url.json")
        direct_url = json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        direct_url = None
    return source_spec(direct_url, __version__)


def source_spec(direct_url: Any, version: str) -> str:
    """`gitqms==VERSION` from a package index; else where it came from: a VCS URL at its
    commit, a checkout's remote (or its own path) at its HEAD commit, a wheel or a folder."""
    url = direct_url.get("url") if isinstance(direct_url, dict) else None
    if not isinstance(url, str) or not url:
        return f"gitqms=={version}"
    url = without_credentials(url)
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return f"gitqms @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    parsed = urlparse(url)
    if "dir_info" in direct_url and parsed.scheme == "file":
        pinned = _checkout_spec(Path(unquote(parsed.path)))
        if pinned:
            return pinned
    return f"gitqms @ {url}"


def _checkout_spec(folder: Path) -> str | None:
    """A git checkout as `gitqms @ git+URL@COMMIT`: its origin remote, else its own path."""
    if not folder.is_dir() or not git.is_repository(folder):
        return None
    commit = git.rev_parse(folder, "HEAD^{commit}")
    if commit is None:
        return None
    remote = git.config_value(folder, "remote.origin.url") or folder.as_uri()
    if "://" not in remote and ":" in remote:  # scp-like user@host:path
        host, _, path = remote.partition(":")
        remote = f"ssh://{host}/{path}"
    remote = without_credentials(remote)
    prefix = git.show_prefix(folder).rstrip("/")
    return f"gitqms @ git+{remote}@{commit}" + (f"#subdirectory={prefix}" if prefix else "")


def without_credentials(url: str) -> str:
    """`url` with no password or token: a clone URL may carry one (https://user:TOKEN@host/…),
    and what `qms init` records is committed for good. An ssh user name alone stays."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    keep = parts.scheme.startswith("ssh") and ":" not in user
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if keep else host))


def checked_source(spec: str) -> str:
    """`spec` if a pipeline can install it as written; refused otherwise."""
    spec = spec.strip()
    if not _SAFE_SPEC.fullmatch(spec) or " #" in spec or ": " in spec:
        raise QmsError(
            f"--gitqms-source {spec!r} is not a pip requirement the pipelines can install as "
            "written",
            hint="give a requirement such as 'gitqms==0.1.0', 'gitqms @ https://host/gitqms-"
            "0.1.0-py3-none-any.whl' or 'gitqms @ git+https://host/gitqms.git@COMMIT' "
            "(no quotes, $ or backticks)",
        )
    return spec


def pip_argument(spec: str) -> str:
    """The requirement as the pipelines pass it to pip."""
    return f'"{spec}"'


def render_ci_file(path: str, install: str) -> str:
    return fill(template(CI_FILES[path]), install=install)


def write_ci_files(root: Path, install: str) -> list[str]:
    for path in CI_FILES:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_ci_file(path, install), encoding="utf-8")
    return list(CI_FILES)
