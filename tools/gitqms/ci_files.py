"""The CI pipelines and the branch-protection recipe that `qms init` writes into a new QMS.

The product repository ships the same files, rendered to install gitqms from its own checkout
(`pip install .`), since it is also the template a hospital forks.
"""

from __future__ import annotations

from pathlib import Path

from . import __version__
from .template import fill, template

# Path in the QMS repository -> its template in gitqms/templates.
CI_FILES = {
    ".github/workflows/qms.yml": "github-workflow.yml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
    "BRANCH-PROTECTION.md": "branch-protection.md",
}
PRODUCT_INSTALL = "."  # the product repository installs the gitqms it holds


def release_install() -> str:
    """What a new QMS's pipelines install: this very version of gitqms."""
    return f'"gitqms=={__version__}"'


def render_ci_file(path: str, install: str) -> str:
    return fill(template(CI_FILES[path]), install=install)


def write_ci_files(root: Path, install: str) -> list[str]:
    for path in CI_FILES:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_ci_file(path, install), encoding="utf-8")
    return list(CI_FILES)
