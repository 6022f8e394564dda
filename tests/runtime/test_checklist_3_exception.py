"""Checklist 3: DemistoException's attributes, args tuple and text."""

from __future__ import annotations

from CommonServerPython import DemistoException


def test_checklist_3_demisto_exception_attributes_and_args() -> None:
    """
    Given: a DemistoException built with a message, a cause and a response object
    When: it is inspected
    Then: attributes are set, args follow (message, exception, error_type) and str() is the message alone
    """
    cause = ValueError("inner")
    error = DemistoException("outer", cause, res="RESPONSE", error_type="AuthError")
    assert (error.message, error.exception, error.res, error.error_type) == ("outer", cause, "RESPONSE", "AuthError")
    assert error.args == ("outer", cause, "AuthError")
    assert str(error) == "outer"


def test_checklist_3_demisto_exception_defaults() -> None:
    """
    Given: a DemistoException with a message only
    When: it is inspected
    Then: the optional attributes are None and args still has three slots
    """
    error = DemistoException("only")
    assert error.args == ("only", None, None)
    assert error.res is None and error.exception is None
