"""Puts the XSOAR runtime and the integration on the import path for every test run from the root.

By default the runtime is our stand-in in ``xsoar_runtime/``. Set ``XSOAR_RUNTIME_PATH`` to folders
(joined with ``os.pathsep``) holding the platform's own ``CommonServerPython.py``,
``demistomock.py`` and ``DemistoClassApiModule.py`` (``make test-real`` does), and those are
imported instead: the same tests then run against the platform's own modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devtools.runtime import BASECLIENT_ENVIRONMENT, use_runtime, using_stand_in

use_runtime()
USING_STAND_IN = using_stand_in()

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
def restore_process_environment() -> Iterator[None]:
    """BaseClient edits os.environ (proxy and CA variables), as on the platform; each test gets it back."""
    saved = {name: os.environ.get(name) for name in BASECLIENT_ENVIRONMENT}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
