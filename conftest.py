"""Puts the XSOAR runtime on the import path for every test run from the repository root.

By default that is our stand-in in ``xsoar_runtime/``. Set ``XSOAR_RUNTIME_PATH`` to one or more
folders (joined with ``os.pathsep``) holding the real ``CommonServerPython.py`` and
``demistomock.py`` from a demisto/content checkout, and those are imported instead: the same
tests then run against the platform's own modules.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
STAND_IN_DIR = ROOT / "xsoar_runtime"
REAL_RUNTIME_DIRS = [entry for entry in os.environ.get("XSOAR_RUNTIME_PATH", "").split(os.pathsep) if entry]
USING_STAND_IN = not REAL_RUNTIME_DIRS

for folder in reversed(REAL_RUNTIME_DIRS or [str(STAND_IN_DIR)]):
    sys.path.insert(0, folder)
# The integration is imported as the platform loads it: a top-level module named LivePerson.
INTEGRATION_DIR = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePerson"
sys.path.append(str(INTEGRATION_DIR))
if not USING_STAND_IN:
    # Behind the real folders, so only what they lack (CommonServerUserPython, which a content
    # checkout does not hold) is taken from the stand-in.
    sys.path.append(str(STAND_IN_DIR))

import demistomock  # noqa: E402  (must come after the path is set)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stand_in_only: checks a stand-in-only facility (skipped on the real modules)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if USING_STAND_IN:
        return
    skip = pytest.mark.skip(reason="stand-in only: XSOAR_RUNTIME_PATH points at the real modules")
    for item in items:
        if item.get_closest_marker("stand_in_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_platform_state() -> Iterator[None]:
    """Each test starts with the platform state a new command run would see."""
    if USING_STAND_IN:
        demistomock.reset()
        import CommonServerPython

        CommonServerPython._XSIAM_SENT.clear()
    else:
        demistomock.integrationContext = {}
    yield
