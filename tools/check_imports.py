"""Keeps the development tooling layered one way, as the README's layout table says.

The rules, over every module under devtools/ and tools/:
- devtools/ never imports tools/: tools/ holds the command-line checks, which may import devtools/;
- devtools/runtime.py (how the integration is imported) and devtools/xql/ (the XQL library) are the
  foundations: they import nothing of this repository outside themselves;
- no import cycle.

An arrow is any import statement, at module level or inside a function (a function-local import still
runs, only later), relative ones resolved. ``import a.b.c`` and ``from a.b import c`` are arrows to the
module ``a.b.c``, not to its parent packages, so a package whose ``__init__`` re-exports its own modules
is no cycle; a module importing its own package's ``__init__`` is. Imports of anything else (the standard
library, third-party packages, the integration) are not arrows here, nor are ``importlib`` calls (the
runtime loader's, for the integration).

``python tools/check_imports.py`` prints the graph, one line per module with what it imports, then one
line per broken rule; the exit status is 1 when a rule is broken.

Layer: a check in tools/; imports only the standard library.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("devtools", "tools")
FOUNDATIONS = ("devtools.runtime", "devtools.xql")

# module -> {imported module: the line of its first import}
Graph = dict[str, dict[str, int]]


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def module_files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def written_imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every name an import statement of the file names (``from a import b`` gives ``a.b``), with its line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return names


def import_graph(root: Path = ROOT) -> Graph:
    files = module_files(root)
    graph: Graph = {}
    for module, path in files.items():
        arrows = graph.setdefault(module, {})
        for name, line in written_imports(path, module):
            parts = name.split(".")
            prefixes = (".".join(parts[:length]) for length in range(len(parts), 0, -1))
            target = next((prefix for prefix in prefixes if prefix in files), None)
            if target is not None and target != module:
                arrows.setdefault(target, line)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle per arrow that closes one, found by depth-first search in name order."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph.get(module, {})):
            if state.get(target) == "open":
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def import_problems(root: Path = ROOT) -> list[str]:
    graph = import_graph(root)
    files = module_files(root)
    problems: list[str] = []
    for module, arrows in sorted(graph.items()):
        where = files[module].relative_to(root)
        for target, line in sorted(arrows.items()):
            if within(module, "devtools") and within(target, "tools"):
                problems.append(f"{where}:{line} imports {target}: devtools/ must never import tools/")
            for foundation in FOUNDATIONS:
                if within(module, foundation) and not within(target, foundation):
                    problems.append(
                        f"{where}:{line} imports {target}: {foundation} is a foundation, "
                        "it imports nothing of this repository outside itself"
                    )
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/check_imports.py", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository to read (default: this one)")
    options = parser.parse_args(argv)
    graph = import_graph(options.root)
    for module, arrows in sorted(graph.items()):
        print(f"{module} -> {', '.join(sorted(arrows)) or '(nothing of ours)'}")
    problems = import_problems(options.root)
    for problem in problems:
        print(problem)
    arrow_count = sum(len(arrows) for arrows in graph.values())
    print(f"imports: {len(graph)} modules, {arrow_count} arrows, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
