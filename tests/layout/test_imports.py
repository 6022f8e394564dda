"""The development tooling imports one way: tools/ on devtools/, never back, and no cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.check_imports import import_graph, import_problems, main


def test_the_repository_imports_one_way(capsys: pytest.CaptureFixture[str]) -> None:
    """
    Given: every module under devtools/ and tools/ as committed
    When: the import check reads them
    Then: no rule is broken, and the graph holds the arrows the layering is about, function-local ones included
    """
    assert import_problems() == []
    graph = import_graph()
    assert "devtools.xql" in graph["tools.xql_eval"]
    assert "devtools.xql" in graph["tools.check_modeling_rules"]
    assert "devtools.runtime" in graph["devtools.probe"]
    assert "devtools.probe" in graph["devtools.runner"]  # imported inside main()
    assert main([]) == 0
    assert "devtools.probe -> devtools.runtime" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    "files, expected",
    [
        pytest.param(
            {"devtools/alerts.py": "def preview() -> None:\n    from tools.check import main\n", "tools/check.py": ""},
            ["devtools/alerts.py:2 imports tools.check: devtools/ must never import tools/"],
            id="function-local-import-of-a-tool",
        ),
        pytest.param(
            {
                "devtools/probe.py": "from . import runner\n",
                "devtools/runner.py": "def run() -> None:\n    import devtools.probe\n",
            },
            ["import cycle: devtools.probe -> devtools.runner -> devtools.probe"],
            id="cycle-through-a-relative-and-a-local-import",
        ),
        pytest.param(
            {
                "devtools/xql/__init__.py": "from devtools.xql.lexer import tokenize\n",
                "devtools/xql/lexer.py": "from devtools.xql import parse\n",
            },
            ["import cycle: devtools.xql -> devtools.xql.lexer -> devtools.xql"],
            id="module-importing-its-own-package",
        ),
        pytest.param(
            {
                "devtools/xql/__init__.py": "",
                "devtools/xql/rules.py": "from ..runner import runner_for\n",
                "devtools/runner.py": "",
            },
            [
                "devtools/xql/rules.py:1 imports devtools.runner: devtools.xql is a foundation, it imports nothing "
                "of this repository outside itself"
            ],
            id="foundation-importing-a-tool",
        ),
        pytest.param(
            {
                "tools/check.py": "import json\nfrom devtools.xql import parse\nfrom devtools import runner\n",
                "devtools/xql/__init__.py": "from devtools.xql.parser import parse\nfrom . import lexer\n",
                "devtools/xql/parser.py": "import re\nfrom .lexer import tokenize\n",
                "devtools/xql/lexer.py": "",
                "devtools/runner.py": "import devtools.xql.parser\nfrom devtools.runtime import load_integration\n",
                "devtools/runtime.py": "import importlib\n",
            },
            [],
            id="layered-tree",
        ),
    ],
)
def test_each_wrong_arrow_is_reported(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    """
    Given: a scratch devtools/ and tools/ with one kind of wrong arrow, or a tree layered as it should be
    When: the import check reads it
    Then: exactly that arrow or cycle is reported, with where it is written, and nothing in the layered tree
    """
    for name, text in {"devtools/__init__.py": "", "tools/__init__.py": "", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert import_problems(tmp_path) == expected
    assert main(["--root", str(tmp_path)]) == (1 if expected else 0)
