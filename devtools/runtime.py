"""Which XSOAR runtime the integration is imported with: our stand-in, or the platform's own modules.

`XSOAR_RUNTIME_PATH` (folders joined with os.pathsep) names folders holding the platform's own
`CommonServerPython.py`, `demistomock.py` and `DemistoClassApiModule.py` (see xsoar_runtime/README.md);
when it is unset, our stand-in in `xsoar_runtime/` is used. The tests (conftest.py), the local
runner, the demo, the probe and the benchmarks all put the runtime on the import path through here,
and import the integration with `load_integration`.

Layer: the bottom of devtools/, beside devtools/xql/. It imports nothing of this repository, so every
tool can use it without pulling in another.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
STAND_IN_DIR = ROOT / "xsoar_runtime"
INTEGRATION_DIR = ROOT / "Packs" / "LivePerson" / "Integrations" / "LivePerson"
# The process environment BaseClient reads or deletes (proxy and CA variables; xsoar_runtime/SPEC.md §2.1).
BASECLIENT_ENVIRONMENT = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def real_runtime_dirs() -> list[str]:
    return [entry for entry in os.environ.get("XSOAR_RUNTIME_PATH", "").split(os.pathsep) if entry]


def using_stand_in() -> bool:
    return not real_runtime_dirs()


def use_runtime() -> None:
    """Puts the runtime first on sys.path and the integration's folder last (idempotent).

    With the real modules, the stand-in folder goes behind them, so that only what a content
    checkout lacks (CommonServerUserPython) is taken from it.
    """
    real = real_runtime_dirs()
    for folder in reversed(real or [str(STAND_IN_DIR)]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    for folder in ([str(STAND_IN_DIR)] if real else []) + [str(INTEGRATION_DIR)]:
        if folder not in sys.path:
            sys.path.append(folder)


def load_integration() -> tuple[ModuleType, ModuleType]:
    """Imports the integration on the runtime in use: (LivePerson, demistomock).

    It lives here, beside use_runtime, so that whoever needs the integration (the runner, the probe,
    the benchmarks) gets it from the bottom layer and none has to import another tool for it.
    """
    use_runtime()
    demisto = importlib.import_module("demistomock")
    return importlib.import_module("LivePerson"), demisto
