"""Build the demo: people with keys, the example qms.yaml as the signed trust root, a year of
real signed work on the shipped examples, then `qms verify`, `qms check` and the site.

Everything is made in a staging folder beside the target and moved into place at the end, so an
interrupted demo leaves no half-built repository behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from .. import git
from ..actions.init import sign_trust_root, write_layout
from ..actions.template import fill, quoted, template
from ..errors import QmsError
from ..records.config import build_config
from .actors import Actor, Qms, acting, make_actor, run_qms
from .change import change_control_steps
from .documents import document_steps
from .edits import edited
from .steps import Step, at
from .story import START, timeline
from .training import training_steps

ORGANISATION = "St. Aurelia University Hospital"


@dataclass(frozen=True)
class Demo:
    folder: Path
    repo: Path  # the QMS repository
    site: Path  # the built site
    people: Path  # the demo people's keys and git configs (never inside the repository)
    steps: int
    verify: str  # the last line of `qms verify`


def build_demo(
    target: Path,
    examples: Path,
    today: date,
    qms: Qms,
    progress: Callable[[str], None] = lambda _: None,
) -> Demo:
    """The demo in `target`, its people running their `qms` command lines through `qms`."""
    if not (examples / "qms.yaml").is_file() or not (examples / "sops").is_dir():
        raise QmsError(
            f"{examples} holds no example QMS content (qms.yaml, sops/, capa/, deviations/)",
            hint="run `qms demo` from a gitqms checkout, or pass --examples PATH",
        )
    if target.exists() and any(target.iterdir()):
        raise QmsError(
            f"{target} already exists and is not empty",
            hint="remove it first, or choose another folder with --dir",
        )
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.demo-"))
    try:
        demo = _build(staging, examples, today, qms, progress)
        if target.exists():
            target.rmdir()
        staging.rename(target)
        for config in (target / "people").glob("*.gitconfig"):  # keys moved with the folder
            config.write_text(config.read_text().replace(str(staging), str(target.resolve())))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Demo(
        target,
        target / "repo",
        target / "site",
        target / "people",
        demo.steps,
        demo.verify,
    )


def _build(
    folder: Path, examples: Path, today: date, qms: Qms, progress: Callable[[str], None]
) -> Demo:
    repo, people_dir = folder / "repo", folder / "people"
    raw = yaml.safe_load((examples / "qms.yaml").read_text(encoding="utf-8"))
    progress(f"making keys for {sum(bool(p.get('email')) for p in raw['people'])} people")
    actors: dict[str, Actor] = {}
    for entry in raw["people"]:
        if not entry.get("email"):
            continue  # a reader: no key, trained in recorded sessions
        actor = make_actor(people_dir, entry["id"], entry["name"], entry["email"])
        actors[actor.id] = actor
        entry["keys"] = [{"public_key": actor.public_key(), "valid_from": START.isoformat()}]
    config_text = (
        "# The demo organisation: the shipped example qms.yaml with a key for each person.\n"
        + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
    )
    config = build_config(raw)
    repo.mkdir()
    write_layout(repo, config_text, ORGANISATION)
    site_name = quoted(f"{ORGANISATION} — controlled documents")
    (repo / "mkdocs.yml").write_text(fill(template("mkdocs.yml"), site_name=site_name))
    git.init(repo)
    with acting(actors["a.weber"], at(START, 9)):
        sign_trust_root(repo, config_text, "the demo organisation and its people")
    changes = change_control_steps(examples, config, today)
    documents = document_steps(examples)
    sops = [path.stem for path in sorted((examples / "sops").glob("*.md"))]
    training = training_steps(examples, config, sops, revised=bool(changes))
    steps = sorted(
        [*timeline(examples, config, today), *changes, *documents, *training],
        key=lambda step: step.when,
    )
    progress(f"running {len(steps)} steps of signed work, {START} to {today}")
    for step in steps:
        _run(qms, repo, actors[step.actor], step)
    if git.symbolic_head(repo) != "refs/heads/main":
        git.switch_branch(repo, "main")
    with acting(actors["a.weber"], at(today, 12)):
        verified = run_qms(qms, repo, ["verify"]).strip().splitlines()[-1]
        root = git.run(repo, ["rev-list", "--max-parents=0", "HEAD"]).stdout.strip()
        run_qms(qms, repo, ["check", f"{root}..HEAD"])
    progress(f"qms verify: {verified}")
    progress("building the site")
    from ..site.build import build_site  # MkDocs loads only when the site is built

    build_site(repo, folder / "site", today)
    progress("archiving for long retention, then checking the archive as a restore would")
    from ..archive.create import create_archive
    from ..archive.verify import verify_archive

    create_archive(repo, folder / "archive", today)
    checked = verify_archive(folder / "archive")
    if not checked.ok:
        raise QmsError("the demo archive does not verify:\n" + "\n".join(checked.differences))
    return Demo(folder, repo, folder / "site", people_dir, len(steps) + 1, verified)


def _run(qms: Qms, repo: Path, actor: Actor, step: Step) -> None:
    """One step, on its branch: made from main on first use, merged and deleted at its merge."""
    head = git.symbolic_head(repo)
    with acting(actor, step.when):
        if step.kind == "merge":
            if head != "refs/heads/main":
                git.switch_branch(repo, "main")
            git.merge_branch(repo, step.branch, step.message)
            git.delete_merged_branch(repo, step.branch)
            return
        if head != f"refs/heads/{step.branch}":
            exists = git.rev_parse(repo, f"refs/heads/{step.branch}") is not None
            git.switch_branch(repo, step.branch, start=None if exists else "main")
        if step.kind == "write":
            for path, change in step.files.items():
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                text = (
                    change
                    if isinstance(change, str)
                    else edited((repo / path).read_text(encoding="utf-8"), change, path)
                )
                (repo / path).write_text(text, encoding="utf-8")
            if step.args:
                run_qms(qms, repo, step.args)
            else:
                git.commit_paths(repo, list(step.files), step.message)
        elif step.given:
            with tempfile.TemporaryDirectory(prefix="qms-demo-fields-") as folder:
                fields = Path(folder) / "fields.yaml"
                fields.write_text(step.given, encoding="utf-8")
                run_qms(qms, repo, [*step.args, "--from", str(fields)])
        else:
            run_qms(qms, repo, step.args)
