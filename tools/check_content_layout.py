"""Checks the file layout demisto/content expects, which `demisto-sdk validate` misses offline.

For every pack: pack_metadata.json, README.md, .pack-ignore and .secrets-ignore. For every
integration folder ``Packs/<Pack>/Integrations/<Name>/``: the files named after the folder
(``<Name>.yml``, ``.py``, ``_test.py``, ``_description.md``, ``_image.png``, ``README.md``)
and a pinned ``demisto/`` docker image (DO104, the SDK's own check, needs Docker Hub).
Exit status 1 and one line per problem when anything is off.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

PACK_FILES = ("pack_metadata.json", "README.md", ".pack-ignore", ".secrets-ignore")
INTEGRATION_SUFFIXES = (".yml", ".py", "_test.py", "_description.md", "_image.png")
DOCKER_IMAGE = re.compile(r"^demisto/[a-z0-9_.-]+:[A-Za-z0-9_.-]+$")


def integration_problems(folder: Path) -> list[str]:
    name = folder.name
    expected = [f"{name}{suffix}" for suffix in INTEGRATION_SUFFIXES] + ["README.md"]
    problems = [f"{folder}: missing {file_name}" for file_name in expected if not (folder / file_name).is_file()]
    yml = folder / f"{name}.yml"
    if yml.is_file():
        document = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        image = str((document.get("script") or {}).get("dockerimage") or "")
        if not DOCKER_IMAGE.match(image) or image.endswith(":latest"):
            problems.append(f"{yml}: dockerimage {image!r} is not a pinned demisto/<image>:<tag>")
    return problems


def layout_problems(root: Path) -> list[str]:
    problems: list[str] = []
    for pack in sorted(path for path in (root / "Packs").iterdir() if path.is_dir()):
        problems += [f"{pack}: missing {name}" for name in PACK_FILES if not (pack / name).is_file()]
        integrations = pack / "Integrations"
        if integrations.is_dir():
            for folder in sorted(path for path in integrations.iterdir() if path.is_dir()):
                problems += integration_problems(folder)
    return problems


def main() -> int:
    problems = layout_problems(Path("."))
    for problem in problems:
        print(problem)
    print(f"content layout: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
