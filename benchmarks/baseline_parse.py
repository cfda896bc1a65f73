"""The raw baseline for `qms validate`: parse the same files with libyaml and nothing else.

    python benchmarks/baseline_parse.py REPO

Reads qms.yaml and every record file that `qms validate` reads, and loads each with
yaml.load(…, CSafeLoader); an SOP's front matter only, as its Markdown body is not YAML.
Prints the number of files parsed.
"""

import sys
from pathlib import Path

import yaml


def main() -> None:
    root = Path(sys.argv[1])
    paths = [root / "qms.yaml"]
    for pattern in ("sops/SOP-*.md", "capa/CAPA-*.yaml", "deviations/DEV-*.yaml"):
        paths += sorted(root.glob(pattern))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            text = text.split("---\n", 2)[1]
        yaml.load(text, Loader=yaml.CSafeLoader)
    print(len(paths))


if __name__ == "__main__":
    main()
