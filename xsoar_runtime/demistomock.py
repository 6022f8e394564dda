"""Stand-in for the ``demistomock`` module that the XSOAR/XSIAM platform injects.

Behaviour follows ``xsoar_runtime/SPEC.md`` §9 (and §10.1 for :data:`STATE`). Every call a collector
makes is a plain module-level function, so tests can ``mocker.patch.object(demisto, ...)`` it
exactly as they would on the real module.

Where the real test mock stores nothing (``setLastRun``, ``results``, ``updateModuleHealth``),
this stand-in keeps the value in :data:`STATE` so tests and the local runner can read it back.
Reads stay faithful: ``getLastRun`` returns the real mock's fixed dict until something was set,
and ``params`` is a fresh dict on every call.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

ARGS_COMMAND_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".args_command.json")

# What the real mock answers for getLastRun() before anything was stored.
UNSET_LAST_RUN: dict[str, Any] = {"lastRun": "2018-10-24T14:13:20+00:00"}

integrationContext: dict[str, Any] = {}
is_debug = False
callingContext: dict[str, Any] = {}
contentSecrets = {
    "WildFire-Reports": {"token": "<ReplaceWithToken>"},
    "AutoFocusTagsFeed": {"api_key": "<ReplaceWithApiKey>"},
    "Http_Connector": {"token": "<ReplaceWithToken>", "url": "<ReplaceWithURL>"},
}


@dataclass
class StandInState:
    """In-memory state that the real platform keeps server-side; tests set and read it."""

    params: dict[str, Any] | None = None
    args: dict[str, Any] | None = None
    command: str | None = None
    last_run: dict[str, Any] | None = None
    last_run_writes: list[dict[str, Any]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    module_health: list[Any] = field(default_factory=list)


STATE = StandInState()


def reset(
    params: dict[str, Any] | None = None,
    args: dict[str, Any] | None = None,
    command: str | None = None,
    last_run: dict[str, Any] | None = None,
    integration_context: dict[str, Any] | None = None,
) -> StandInState:
    """Start a fresh platform state (stand-in only: the real mock has no such call)."""
    global integrationContext
    STATE.params = copy.deepcopy(params) if params is not None else None
    STATE.args = copy.deepcopy(args) if args is not None else None
    STATE.command = command
    STATE.last_run = copy.deepcopy(last_run) if last_run is not None else None
    STATE.last_run_writes = []
    STATE.results = []
    STATE.module_health = []
    integrationContext = integration_context if integration_context is not None else {}
    return STATE


def _read_args_file() -> dict[str, Any]:
    if not os.path.exists(ARGS_COMMAND_PATH):
        return {}
    try:
        with open(ARGS_COMMAND_PATH, encoding="utf-8") as handle:
            loaded = json.load(handle)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def params() -> dict[str, Any]:
    if STATE.params is not None:
        return copy.deepcopy(STATE.params)
    raw = os.environ.get("DEMISTO_PARAMS")
    if not raw:
        return {}
    try:
        loaded = json.loads(raw)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def args() -> dict[str, Any]:
    if STATE.args is not None:
        return copy.deepcopy(STATE.args)
    loaded = _read_args_file()
    loaded.pop("cmd", None)
    return loaded


def command() -> str:
    if STATE.command is not None:
        return STATE.command
    return str(_read_args_file().get("cmd", ""))


def getParam(p: str) -> Any:
    return params().get(p)


def getArg(a: str) -> Any:
    return args().get(a)


def getLastRun() -> dict[str, Any]:
    if STATE.last_run is None:
        return dict(UNSET_LAST_RUN)
    return copy.deepcopy(STATE.last_run)


def setLastRun(obj: dict[str, Any]) -> None:
    STATE.last_run = copy.deepcopy(obj)
    STATE.last_run_writes.append(copy.deepcopy(obj))
    return None


def getAssetsLastRun() -> dict[str, Any]:
    return dict(UNSET_LAST_RUN)


def setAssetsLastRun(obj: dict[str, Any]) -> None:
    return None


def getIntegrationContext() -> dict[str, Any]:
    return integrationContext


def setIntegrationContext(context: dict[str, Any]) -> None:
    global integrationContext
    integrationContext = context


def getIntegrationContextVersioned(refresh: bool = False) -> dict[str, Any]:
    return integrationContext


def setIntegrationContextVersioned(context: dict[str, Any], version: int = -1, sync: bool = False) -> None:
    global integrationContext
    integrationContext = context


def getLastMirrorRun() -> dict[str, Any]:
    return {}


def setLastMirrorRun(obj: Any) -> None:
    return None


def debug(msg: Any, *args: Any) -> None:
    logging.getLogger().info(msg, *args)


def info(msg: Any, *args: Any) -> None:
    logging.getLogger().info(msg, *args)


def error(msg: Any, *args: Any) -> None:
    print(msg, *args)


def log(msg: Any) -> None:
    logging.getLogger().info(msg)


def results(results: Any) -> None:
    shown = results
    if isinstance(results, dict) and results.get("contents"):
        shown = results.get("contents")
    logging.getLogger().info("demisto results: " + json.dumps(shown, indent=4, sort_keys=True))
    STATE.results.append(results)
    return None


def updateModuleHealth(data: Any, is_error: bool = False) -> str:
    STATE.module_health.append(data)
    return ""


def getLicenseCustomField(key: str) -> Any:
    node: Any = contentSecrets
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def demistoVersion() -> dict[str, str]:
    return {"version": "5.5.0", "buildNumber": "12345"}


def integrationInstance() -> str:
    return ""


def getLicenseID() -> str:
    return ""


def getIndexHash() -> str:
    return ""


def investigation() -> dict[str, str]:
    return {"id": "1"}


def uniqueFile() -> str:
    return str(uuid.uuid4())


def getFilePath(id: str) -> dict[str, str]:
    return {"id": id, "path": "test/test.txt", "name": "test.txt"}


def get(obj: Any, field: str, defaultParam: Any = None) -> Any:
    node = obj
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            return defaultParam
        node = node[part]
    return node


def gets(obj: Any, field: str) -> str:
    return str(get(obj, field))


def context() -> dict[str, Any]:
    return {}


def credentials(c: Any) -> None:
    logging.getLogger().info(f"credentials: {c}")


def isTimeSensitive() -> bool:
    return False


def executeCommand(command: str, args: Any) -> Any:
    return ""


def createIncidents(incidents: Any, lastRun: Any = None, userID: Any = None) -> list[Any]:
    return []
