"""Checklist 1: the two modules import, and the star import exports what collectors rely on."""

from __future__ import annotations

import demistomock

import types

import pytest


def star_namespace() -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec("from CommonServerPython import *", namespace)
    return namespace


@pytest.mark.parametrize(
    "name",
    [
        "demisto",
        "json",
        "re",
        "os",
        "sys",
        "time",
        "traceback",
        "requests",
        "datetime",
        "timedelta",
        "timezone",
        "dateparser",
        "Optional",
        "Dict",
        "List",
        "Any",
        "Union",
        "Set",
        "cast",
        "Retry",
        "HTTPAdapter",
        "disable_warnings",
        "BaseClient",
        "DemistoException",
        "CommandResults",
        "tableToMarkdown",
        "return_results",
        "return_error",
        "send_events_to_xsiam",
        "arg_to_number",
        "arg_to_datetime",
        "argToBoolean",
        "argToList",
        "get_integration_context",
        "set_integration_context",
        "urljoin",
        "EntryType",
    ],
)
def test_checklist_1_star_import_exports_collector_names(name: str) -> None:
    """
    Given: an integration doing ``from CommonServerPython import *``
    When: it looks up a name collectors use without importing it themselves
    Then: the name is present
    """
    assert name in star_namespace()


@pytest.mark.parametrize("name", ["Tuple", "Callable", "Iterable", "urllib3"])
def test_checklist_1_star_import_withholds_what_the_real_module_does_not_export(name: str) -> None:
    """
    Given: the real module exports neither ``urllib3`` nor ``Tuple``/``Callable``/``Iterable``
    When: the star import runs
    Then: the stand-in does not hand them out either, so code that relies on them fails here too
    """
    assert name not in star_namespace()


def test_checklist_1_demisto_is_the_mock_module() -> None:
    """
    Given: the star import
    When: the integration uses ``demisto``
    Then: it is the same ``demistomock`` module tests patch
    """
    exported = star_namespace()["demisto"]
    assert isinstance(exported, types.ModuleType)
    assert exported is demistomock
