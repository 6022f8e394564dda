"""Checklist 7: secrets registered from params are masked in logs and in return_error."""

from __future__ import annotations

import CommonServerPython
import demistomock as demisto
from CommonServerPython import IntegrationLogger, return_error

import base64
import urllib.parse

import pytest
from pytest_mock import MockerFixture

SECRET = "s3cr3t+value/with spaces"


def test_checklist_7_credentials_param_is_registered_for_masking(mocker: MockerFixture) -> None:
    """
    Given: params holding a type-9 credentials dict and a password-like key
    When: a logger is built (as CommonServerPython does at import)
    Then: the secret, its base64, its URL-encoded form and the identifier:password base64 are masked
    """
    mocker.patch.object(
        demisto,
        "params",
        return_value={"credentials": {"identifier": "client", "password": SECRET}, "api_token": "tok"},
    )
    logger = IntegrationLogger()
    pair = base64.b64encode(f"client:{SECRET}".encode()).decode()
    text = logger.encode(f"{SECRET} {urllib.parse.quote_plus(SECRET)} {pair} tok client")
    assert text == "<XX_REPLACED> <XX_REPLACED> <XX_REPLACED> <XX_REPLACED> client"


def test_checklist_7_return_error_masks_registered_secrets(mocker: MockerFixture) -> None:
    """
    Given: a logger that knows the secret, during fetch-events
    When: an error message quoting the secret is returned
    Then: the error entry shows the mask instead
    """
    logger = IntegrationLogger()
    logger.add_replace_strs(SECRET)
    mocker.patch.object(CommonServerPython, "LOG", logger)
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit):
        return_error(f"token request failed for {SECRET}")
    assert results.call_args.args[0]["Contents"] == "token request failed for <XX_REPLACED>"


def test_checklist_7_demisto_debug_does_not_mask(mocker: MockerFixture) -> None:
    """
    Given: the platform's log calls
    When: demisto.debug receives a secret
    Then: it is passed through unmasked (only LOG masks), which is why the integration must never log one
    """
    info = mocker.patch("logging.Logger.info")
    demisto.debug(f"value {SECRET}")
    assert SECRET in info.call_args.args[0]


def test_checklist_7_buffered_log_is_printed_once(mocker: MockerFixture) -> None:
    """
    Given: a buffering logger with two lines
    When: print_log runs twice
    Then: demisto.info gets the full log once and the buffer is emptied
    """
    info = mocker.patch.object(demisto, "info")
    logger = IntegrationLogger()
    logger("one")
    logger("two")
    logger.print_log()
    logger.print_log()
    info.assert_called_once_with("Full Integration Log:\none\ntwo")
