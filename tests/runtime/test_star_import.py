"""The star import: the names ``from CommonServerPython import *`` hands an integration (xsoar_runtime/SPEC.md §1.1)."""

from __future__ import annotations

import demistomock

import types

import pytest


def star_namespace() -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec("from CommonServerPython import *", namespace)
    return namespace


COLLECTOR_NAMES = [
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
]


class TestExportedNames:
    """xsoar_runtime/SPEC.md §1.1: no ``__all__``, so imported modules and typing names come along."""

    @pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in COLLECTOR_NAMES])
    def test_names_collectors_rely_on_are_exported(self, name: str) -> None:
        """
        Given: an integration doing ``from CommonServerPython import *``
        When: it looks up a name collectors use without importing it themselves
        Then: the name is present
        """
        assert name in star_namespace()

    @pytest.mark.parametrize(
        "name",
        [
            pytest.param("Tuple", id="Tuple"),
            pytest.param("Callable", id="Callable"),
            pytest.param("Iterable", id="Iterable"),
            pytest.param("urllib3", id="urllib3"),
        ],
    )
    def test_names_the_real_module_withholds_are_withheld(self, name: str) -> None:
        """
        Given: the real module exports neither ``urllib3`` nor ``Tuple``/``Callable``/``Iterable``
        When: the star import runs
        Then: none of them is handed out, so code that relies on them fails on every runtime
        """
        assert name not in star_namespace()


class TestDemistoName:
    """xsoar_runtime/SPEC.md §1.1: ``demisto`` is the mock module itself."""

    def test_demisto_is_the_mock_module(self) -> None:
        """
        Given: the star import
        When: the integration uses ``demisto``
        Then: it is the same ``demistomock`` module tests patch
        """
        exported = star_namespace()["demisto"]

        assert isinstance(exported, types.ModuleType)
        assert exported is demistomock
