"""DemistoException: attributes, args tuple and text (xsoar_runtime/SPEC.md §3)."""

from __future__ import annotations

from CommonServerPython import DemistoException


class TestDemistoException:
    """xsoar_runtime/SPEC.md §3: the exception every platform helper raises."""

    def test_attributes_args_and_text(self) -> None:
        """
        Given: a DemistoException built with a message, a cause, a response object and an error type
        When: it is inspected
        Then: attributes are set, args follow (message, exception, error_type) and str() is the message alone
        """
        cause = ValueError("inner")

        error = DemistoException("outer", cause, res="RESPONSE", error_type="AuthError")

        assert error.message == "outer"
        assert error.exception is cause
        assert error.res == "RESPONSE"
        assert error.error_type == "AuthError"
        assert error.args == ("outer", cause, "AuthError")
        assert str(error) == "outer"

    def test_defaults(self) -> None:
        """
        Given: a DemistoException with a message only
        When: it is inspected
        Then: the optional attributes are None and args still has three slots
        """
        error = DemistoException("only")

        assert error.args == ("only", None, None)
        assert error.res is None
        assert error.exception is None

    def test_extra_positional_arguments_extend_args(self) -> None:
        """
        Given: positional arguments after error_type
        When: the exception is built
        Then: they are appended to args
        """
        error = DemistoException("m", None, None, None, "extra")

        assert error.args == ("m", None, None, "extra")
