"""The package's shape: named layers that import only downwards, no import cycles, small pieces.

The layer order is written here and nowhere else in code; the README's Layout section says the
same in one paragraph. A module may import from its own layer (its folder) and from any layer
below it, never from above, and never in a cycle. Imports inside functions count: a deferred
import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from toolkit.cli import ROOT

PACKAGE = ROOT / "tools" / "gitqms"

# Bottom to top. "" is the ground floor: the modules at the package root.
LAYERS = (
    "",  # errors, clock, text, csv_cells, files, git, safeyaml, landing (git and safeyaml are packages)
    "crypto",  # key and signature formats: SSHSIG, OpenPGP, the batch verifier
    "records",  # kinds, lifecycles, qms.yaml, record files, the repository on disk
    "validation",  # schemas and semantic checks of records and qms.yaml
    "history",  # reading commits and their order, the index store, server receipts
    "signatures",  # claims, registries in force, the verified walk of history
    "lifecycle",  # derived status of documents and records, due items
    "rules",  # what a change must satisfy (`qms check`, the server gate)
    "audit",  # record logs, audit trails, the periodic review, the verification report
    "reports",  # what the site shows, as data; dashboard figures
    "actions",  # everything that writes a commit: init, new, advance, sign, people, keys, …
    "server",  # the git server's hooks
    "importing",  # legacy CAPA, deviation and SOP imports
    "site",  # the MkDocs plugin and its pages
    "archive",  # long-term archives, which contain a built site
    "demo",  # the demo repository, which runs the command line as its people would
    "cli",  # the `qms` command line
)
# Packages of the ground floor: their modules count as ground-floor modules.
GROUND_PACKAGES = {"git", "safeyaml"}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_POSITIONAL_FIELDS = 6  # a dataclass with more fields takes keywords only
# Modules that are mostly data (tables of fields, the demo's story) may be longer.
DATA_TABLES = {"gitqms.importing.fields", "gitqms.demo.story"}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def layer(self) -> str:
        parts = self.name.split(".")
        is_package = self.path.name == "__init__.py"
        named = len(parts) > 2 or (len(parts) == 2 and is_package)
        return parts[1] if named and parts[1] not in GROUND_PACKAGES else ""


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    return found


def imports(module: Module) -> Iterator[tuple[int, str]]:
    """(line, module name) of every gitqms module `module` imports, deferred imports included."""
    known = modules()
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("gitqms"):
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}"
                yield node.lineno, child if child in known else target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gitqms"):
                    yield node.lineno, alias.name


def test_every_folder_is_a_named_layer() -> None:
    layers = {module.layer for module in modules().values()}
    assert layers <= set(LAYERS), f"folders without a place in LAYERS: {layers - set(LAYERS)}"


def test_imports_point_down_the_layers() -> None:
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    known = modules()
    upward = []
    for module in known.values():
        for line, target in imports(module):
            if target not in known:
                continue
            if rank[known[target].layer] > rank[module.layer]:
                upward.append(
                    f"{module.path.relative_to(ROOT)}:{line}: {module.name} ({module.layer or 'ground'})"
                    f" imports {target} ({known[target].layer})"
                )
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    known = modules()
    graph = {
        name: sorted({t for _, t in imports(m) if t in known and t != name})
        for name, m in known.items()
    }
    # A package's __init__ that only names itself is not an edge back from its children.
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in graph[name]:
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_modules_are_small() -> None:
    long = [
        f"{m.path.relative_to(ROOT)}: {lines} lines"
        for m in modules().values()
        if m.name not in DATA_TABLES
        and (lines := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_functions_are_small() -> None:
    long = [
        f"{m.path.relative_to(ROOT)}:{node.lineno}: {node.name} is {size} lines"
        for m in modules().values()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def _is_dataclass(node: ast.ClassDef) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name) and target.id == "dataclass":
            return decorator
    return None


def test_wide_records_are_built_with_keywords() -> None:
    """A dataclass of seven or more fields is keyword-only, so no call can swap two of them."""
    wide = []
    for m in modules().values():
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.ClassDef) or (decorator := _is_dataclass(node)) is None:
                continue
            fields = [s for s in node.body if isinstance(s, ast.AnnAssign)]
            keywords = {
                k.arg: k.value for k in getattr(decorator, "keywords", []) if k.arg == "kw_only"
            }
            kw_only = isinstance(keywords.get("kw_only"), ast.Constant) and bool(
                keywords["kw_only"].value  # type: ignore[attr-defined]
            )
            if len(fields) > MAX_POSITIONAL_FIELDS and not kw_only:
                wide.append(f"{m.path.relative_to(ROOT)}:{node.lineno}: {node.name}")
    assert not wide, "dataclasses of 7+ fields without kw_only=True:\n" + "\n".join(wide)


def test_the_readme_gives_the_same_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("The package (`tools/gitqms/`) is built in layers")
    paragraph = readme[start : readme.index("\n\n", start)]
    named = [m for m in re.findall(r"`(\w+)/`", paragraph) if m in LAYERS]
    assert named == list(LAYERS[1:]), "README's Layout paragraph lists the layers in another order"


def test_the_index_key_covers_the_whole_package() -> None:
    """A stored walk is keyed by a digest of the code; a verifier change must make it stale."""
    from gitqms.history.index_store import code_folder

    assert code_folder() == PACKAGE.resolve()
