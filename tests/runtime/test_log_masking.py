"""Secrets registered from params are masked in LOG and in return_error (xsoar_runtime/SPEC.md §7)."""

from __future__ import annotations

import CommonServerPython
import demistomock as demisto
from CommonServerPython import IntegrationLogger, return_error

import base64
import urllib.parse

import pytest
from pytest_mock import MockerFixture

SECRET = "s3cr3t+value/with spaces"
MASK = "<XX_REPLACED>"


class TestSecretsFromParams:
    """xsoar_runtime/SPEC.md §7: what a new IntegrationLogger registers from demisto.params()."""

    def test_credentials_and_password_like_keys_are_registered(self, mocker: MockerFixture) -> None:
        """
        Given: params holding a type-9 credentials dict and a password-like key
        When: a logger is built (as CommonServerPython does at import)
        Then: the secret, its URL-encoded form, the identifier:password base64 and the token are masked;
              the identifier itself is not
        """
        mocker.patch.object(
            demisto,
            "params",
            return_value={"credentials": {"identifier": "client", "password": SECRET}, "api_token": "tok"},
        )
        logger = IntegrationLogger()
        pair = base64.b64encode(f"client:{SECRET}".encode()).decode()

        text = logger.encode(f"{SECRET} {urllib.parse.quote_plus(SECRET)} {pair} tok client")

        assert text == f"{MASK} {MASK} {MASK} {MASK} client"

    def test_lists_are_not_searched(self, mocker: MockerFixture) -> None:
        """
        Given: a credentials dict inside a list
        When: a logger is built
        Then: its password is not registered (only nested dicts are walked)
        """
        mocker.patch.object(demisto, "params", return_value={"accounts": [{"identifier": "u", "password": "p1"}]})

        assert IntegrationLogger().encode("p1") == "p1"

    def test_pair_needs_both_parts(self, mocker: MockerFixture) -> None:
        """
        Given: a credentials dict with an empty identifier
        When: a logger is built
        Then: the password is masked (its key says so) but no identifier:password pair is registered
        """
        mocker.patch.object(demisto, "params", return_value={"credentials": {"identifier": "", "password": "p2"}})
        logger = IntegrationLogger()
        pair = base64.b64encode(b":p2").decode()

        assert logger.encode(f"p2 {pair}") == f"{MASK} {pair}"


class TestMaskedOutput:
    """xsoar_runtime/SPEC.md §7: where masking applies, and where it does not."""

    def test_return_error_masks_registered_secrets(self, mocker: MockerFixture) -> None:
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

        assert results.call_args.args[0]["Contents"] == f"token request failed for {MASK}"

    def test_demisto_debug_does_not_mask(self, mocker: MockerFixture) -> None:
        """
        Given: the platform's log calls
        When: demisto.debug receives a secret
        Then: it is passed through unmasked (only LOG masks), which is why the integration must never log one
        """
        info = mocker.patch("logging.Logger.info")

        demisto.debug(f"value {SECRET}")

        assert SECRET in info.call_args.args[0]


class TestBufferedLog:
    """xsoar_runtime/SPEC.md §7: LOG buffers until print_log."""

    def test_buffered_log_is_printed_once(self, mocker: MockerFixture) -> None:
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
