"""Fixtures for the runtime tests: a scripted HTTPS server and a mocked XSIAM intake.

Both observe the runtime only from the outside (HTTP on the wire, calls into ``demistomock``),
so the same tests run on the stand-in and on the platform's own modules.
"""

from __future__ import annotations

import demistomock

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests_mock as requests_mock_module

from tests.runtime.scripted_https import https_server, tls_authority

__all__ = ["XsiamIntake", "https_server", "tls_authority", "xsiam_intake"]

XSIAM_TOKEN = "intake-token"
XSIAM_DOMAIN = "xsiam.test"
XSIAM_ENDPOINT = f"https://api-{XSIAM_DOMAIN}/logs/v1/xsiam"


@dataclass
class XsiamIntake:
    """What the tenant's intake received, and what the instance reported as module health."""

    mock: requests_mock_module.Mocker
    health: list[Any] = field(default_factory=list)

    @property
    def posts(self) -> list[Any]:
        return [request for request in self.mock.request_history if request.url == XSIAM_ENDPOINT]

    def lines(self, index: int) -> list[str]:
        """The event lines of the index-th POST (its body is gzipped, newline-separated)."""
        return gzip.decompress(self.posts[index].body).decode("utf-8").split("\n")

    def answer(self, *responses: dict[str, Any]) -> None:
        """Scripts the intake's replies (requests_mock response dicts), the last one repeating."""
        self.mock.post(XSIAM_ENDPOINT, list(responses))


@pytest.fixture
def xsiam_intake(requests_mock: requests_mock_module.Mocker, monkeypatch: pytest.MonkeyPatch) -> Iterator[XsiamIntake]:
    """A tenant whose license points at ``xsiam.test`` and whose intake accepts every chunk."""
    license_fields = {"Http_Connector.token": XSIAM_TOKEN, "Http_Connector.url": XSIAM_DOMAIN}
    monkeypatch.setattr(demistomock, "getLicenseCustomField", license_fields.get)
    intake = XsiamIntake(mock=requests_mock)
    monkeypatch.setattr(demistomock, "updateModuleHealth", lambda data, is_error=False: intake.health.append(data))
    intake.answer({"status_code": 200, "json": {"error": "false"}})
    yield intake
