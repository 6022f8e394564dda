"""Stand-in for the part of ``CommonServerPython`` that an XSIAM event collector uses.

Written from the behavioural spec in ``xsoar_runtime/SPEC.md`` (the section numbers below refer to
it). It is deliberately *not* more forgiving than the real module: URL joining, error texts,
argument-helper messages, ``return_error``'s exit and the whole ``send_events_to_xsiam`` path,
down to the gzipped POST, are reproduced as documented. The one addition (SPEC.md §10.2): the
private client of :func:`send_data_to_xsiam` carries an adapter that plays the tenant's intake,
so a chunk that nothing intercepts is answered in-process and recorded in :data:`_XSIAM_SENT`.

Like the real module it defines no ``__all__``: ``from CommonServerPython import *`` exports
every public name here, including the modules and typing names it imports (SPEC.md §1.1).
"""

import demistomock as demisto

import base64
import binascii
import gc
import gzip
import json
import logging
import os
import re
import socket
import ssl
import sys
import time
import traceback
import types
import urllib
import urllib.parse
import warnings
import xml.etree.ElementTree as ET
from abc import abstractmethod
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from functools import wraps
from inspect import currentframe
from random import randint
from threading import Lock
from typing import Any, Dict, List, Optional, Set, Union, cast

import dateparser
import requests
import urllib3 as _urllib3
from requests.adapters import HTTPAdapter
from urllib3 import disable_warnings
from urllib3.util.retry import Retry

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        from distutils.version import LooseVersion
    except ImportError:  # pragma: no cover - Python 3.12+ has no distutils
        LooseVersion = str  # type: ignore[misc,assignment]

# Names the real module hands to `from CommonServerPython import *` without using them itself
# (xsoar_runtime/SPEC.md §1.1); kept referenced so that no linter fix drops them from the namespace.
_STAR_IMPORT_ONLY = (base64, binascii, gc, socket, types, randint, ET, OrderedDict, abstractmethod, currentframe)
_STAR_IMPORT_ONLY_TOO = (Lock, wraps, Set, Union, cast, timedelta, disable_warnings, LooseVersion)

# ---------------------------------------------------------------- constants (xsoar_runtime/SPEC.md §1.2)
IS_PY3 = True
PY_VER_MINOR = sys.version_info[1]
STRING_TYPES = (str, bytes)
STRING_OBJ_TYPES = (str,)
CONTENT_RELEASE_VERSION = "0.0.0"
CONTENT_BRANCH_NAME = "master"
XSIAM_EVENT_CHUNK_SIZE = 2**20
XSIAM_EVENT_CHUNK_SIZE_LIMIT = 4 * 10**6
ASSETS = "assets"
EVENTS = "events"
DATA_TYPES = [EVENTS, ASSETS]
MASK = "<XX_REPLACED>"
SEND_PREFIX = "send: b'"
MAX_ERROR_MESSAGE_LENGTH = 50000
SAFE_SLEEP_START_TIME = datetime.now()

entryTypes = {
    "note": 1,
    "downloadAgent": 2,
    "file": 3,
    "error": 4,
    "pinned": 5,
    "userManagement": 6,
    "image": 7,
    "playgroundError": 8,
    "entryInfoFile": 9,
    "warning": 11,
    "map": 15,
    "debug": 16,
    "widget": 17,
}
formats = {
    "html": "html",
    "table": "table",
    "json": "json",
    "text": "text",
    "dbotResponse": "dbotCommandResponse",
    "markdown": "markdown",
}


class EntryType:
    NOTE = 1
    DOWNLOAD_AGENT = 2
    FILE = 3
    ERROR = 4
    PINNED = 5
    USER_MANAGEMENT = 6
    IMAGE = 7
    PLAYGROUND_ERROR = 8
    ENTRY_INFO_FILE = 9
    VIDEO_FILE = 10
    WARNING = 11
    STATIC_VIDEO_FILE = 12
    MAP_ENTRY_TYPE = 15
    WIDGET = 17
    EXECUTION_METRICS = 19


class EntryFormat:
    HTML = "html"
    TABLE = "table"
    JSON = "json"
    TEXT = "text"
    DBOT_RESPONSE = "dbotCommandResponse"
    MARKDOWN = "markdown"

    @classmethod
    def is_valid_type(cls, _type: Any) -> bool:
        return _type in (cls.HTML, cls.TABLE, cls.JSON, cls.TEXT, cls.DBOT_RESPONSE, cls.MARKDOWN)


class ErrorTypes:
    SUCCESS = "Successful"
    QUOTA_ERROR = "QuotaError"
    GENERAL_ERROR = "GeneralError"
    AUTH_ERROR = "AuthError"
    SERVICE_ERROR = "ServiceError"
    CONNECTION_ERROR = "ConnectionError"
    PROXY_ERROR = "ProxyError"
    SSL_ERROR = "SSLError"
    TIMEOUT_ERROR = "TimeoutError"
    RETRY_ERROR = "RetryError"


class IncidentSeverity:
    UNKNOWN = 0
    INFO = 0.5
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


# ---------------------------------------------------------------- logging and masking (xsoar_runtime/SPEC.md §7)
_SECRET_KEY_HINTS = ("key", "private", "password", "secret", "token", "credentials", "service_account")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "ignore")).decode("utf-8") if text else ""


class IntegrationLogger:
    """Buffers log lines and masks every registered secret before anything is emitted."""

    def __init__(self, debug_logging: bool = False) -> None:
        self.messages: List[str] = []
        self.replace_strs: List[str] = []
        self.buffering = True
        self.debug_logging = debug_logging
        if not os.environ.get("COMMON_SERVER_NO_AUTO_REPLACE_STRS") and hasattr(demisto, "getParam"):
            self._register_param_secrets(demisto.params() or {})

    def _register_param_secrets(self, params: Dict[str, Any]) -> None:
        """Walks nested dicts only (lists are not entered), as the platform does."""
        for key, value in params.items():
            if isinstance(value, dict):
                self._register_param_secrets(value)
                if value.get("identifier") and value.get("password"):
                    pair = "{}:{}".format(value.get("identifier"), value.get("password"))
                    self.add_replace_strs(_b64(pair))
            elif isinstance(value, str) and any(hint in key.lower() for hint in _SECRET_KEY_HINTS):
                self.add_replace_strs(value, _b64(value))

    def add_replace_strs(self, *args: Any) -> None:
        for value in args:
            if not value:
                continue
            # Already-known secrets inside the new one are masked first, as on the platform.
            text = self.encode(value)
            variants = [
                text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"),
                text.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t"),
                text.replace("\\", "\\\\"),
                json.dumps(text)[1:-1],
                urllib.parse.quote_plus(text),
            ]
            for variant in variants:
                if variant not in self.replace_strs:
                    self.replace_strs.append(variant)

    def encode(self, message: Any) -> str:
        text = str(message)
        for secret in self.replace_strs:
            text = text.replace(secret, MASK)
        return text

    def __call__(self, message: Any) -> str:
        text = self.encode(message)
        if self.buffering:
            self.messages.append(text)
            if self.debug_logging:
                demisto.debug(text)
        else:
            demisto.info(text)
        return text

    def print_log(self, verbose: bool = False) -> None:
        if self.messages:
            text = "Full Integration Log:\n" + "\n".join(self.messages)
            if verbose:
                demisto.log(text)
            if not self.debug_logging:
                demisto.info(text)
            self.messages = []


def is_debug_mode() -> bool:
    return bool(getattr(demisto, "is_debug", False))


def add_sensitive_log_strs(sensitive_str: str) -> None:
    LOG.add_replace_strs(sensitive_str)


def _warning_to_log(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    demisto.info("python warning: " + warnings.formatwarning(message, category, filename, lineno, line))


warnings.showwarning = _warning_to_log
logging.raiseExceptions = False
_urllib3.disable_warnings()

LOG = IntegrationLogger(debug_logging=is_debug_mode())


# ---------------------------------------------------------------- exceptions (xsoar_runtime/SPEC.md §3)
class DemistoException(Exception):
    def __init__(
        self, message: Any, exception: Any = None, res: Any = None, error_type: Any = None, *args: Any
    ) -> None:
        self.res = res
        self.message = message
        self.exception = exception
        self.error_type = error_type
        super().__init__(message, exception, error_type, *args)

    def __str__(self) -> str:
        return str(self.message)


# ---------------------------------------------------------------- proxy and URL helpers (SPEC.md §2.1, §2.2, §2.7)
_PROXY_ENV_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
_PROXY_SCHEMES = ("http://", "https://", "socks5://", "socks5h://", "socks4://", "socks4a://")


def ensure_proxy_has_http_prefix() -> None:
    for name in _PROXY_ENV_VARS:
        value = os.environ.get(name)
        if value:
            os.environ[name] = add_http_prefix_if_missing(value)


def skip_proxy() -> None:
    for name in _PROXY_ENV_VARS:
        os.environ.pop(name, None)


def skip_cert_verification() -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(name, None)


def handle_proxy(
    proxy_param_name: str = "proxy",
    checkbox_default_value: bool = False,
    handle_insecure: bool = True,
    insecure_param_name: Optional[str] = None,
) -> Dict[str, str]:
    params = demisto.params()
    proxies: Dict[str, str] = {}
    if params.get(proxy_param_name, checkbox_default_value):
        ensure_proxy_has_http_prefix()
        proxies = {
            "http": os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy") or "",
            "https": os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or "",
        }
    else:
        skip_proxy()
    if handle_insecure:
        names = ["insecure", "unsecure"] if insecure_param_name is None else [insecure_param_name]
        if any(params.get(name) for name in names):
            skip_cert_verification()
    return proxies


def urljoin(url: str, suffix: str = "") -> str:
    """Joins the way the platform does: exactly one slash added, exactly one leading slash dropped."""
    if not url.endswith("/"):
        url += "/"
    if suffix.startswith("/"):
        suffix = suffix[1:]
    return url + suffix


def add_http_prefix_if_missing(address: str = "") -> str:
    if not address:
        return ""
    if address.startswith(_PROXY_SCHEMES):
        return address
    return "http://" + address


# ---------------------------------------------------------------- BaseClient (xsoar_runtime/SPEC.md §2)
class SSLAdapter(HTTPAdapter):
    """HTTPS adapter used when certificate verification is off (a permissive SSL context)."""

    def __init__(self, verify: bool = True, **kwargs: Any) -> None:
        self.verify = verify
        self._context = ssl.create_default_context()
        if not verify:
            self._context.check_hostname = False
            self._context.verify_mode = ssl.CERT_NONE
        try:
            self._context.set_ciphers("DEFAULT@SECLEVEL=1")
        except ssl.SSLError:  # pragma: no cover - depends on the OpenSSL build
            pass
        if hasattr(ssl, "OP_LEGACY_SERVER_CONNECT"):
            self._context.options |= ssl.OP_LEGACY_SERVER_CONNECT
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(*args, **kwargs)


def _metric_counter(attribute: str, metric_type: str) -> Any:
    """A counter attribute whose every assignment is mirrored into the metrics list."""

    def read(self: "ExecutionMetrics") -> int:
        return self._counters.get(attribute, 0)

    def write(self: "ExecutionMetrics", value: int) -> None:
        self._counters[attribute] = value
        self.update_metrics(metric_type, value)

    return property(read, write)


class ExecutionMetrics:
    """Counts API calls per outcome (xsoar_runtime/SPEC.md §2.6); unused unless a call passes ``with_metrics``."""

    success = _metric_counter("success", ErrorTypes.SUCCESS)
    quota_error = _metric_counter("quota_error", ErrorTypes.QUOTA_ERROR)
    general_error = _metric_counter("general_error", ErrorTypes.GENERAL_ERROR)
    auth_error = _metric_counter("auth_error", ErrorTypes.AUTH_ERROR)
    service_error = _metric_counter("service_error", ErrorTypes.SERVICE_ERROR)
    connection_error = _metric_counter("connection_error", ErrorTypes.CONNECTION_ERROR)
    proxy_error = _metric_counter("proxy_error", ErrorTypes.PROXY_ERROR)
    ssl_error = _metric_counter("ssl_error", ErrorTypes.SSL_ERROR)
    timeout_error = _metric_counter("timeout_error", ErrorTypes.TIMEOUT_ERROR)
    retry_error = _metric_counter("retry_error", ErrorTypes.RETRY_ERROR)

    def __init__(
        self,
        success: int = 0,
        quota_error: int = 0,
        general_error: int = 0,
        auth_error: int = 0,
        service_error: int = 0,
        connection_error: int = 0,
        proxy_error: int = 0,
        ssl_error: int = 0,
        timeout_error: int = 0,
        retry_error: int = 0,
    ) -> None:
        self._counters: Dict[str, int] = {}
        self._metrics: List[Dict[str, Any]] = []
        self.metrics: Optional[CommandResults] = None
        self.success = success
        self.quota_error = quota_error
        self.general_error = general_error
        self.auth_error = auth_error
        self.service_error = service_error
        self.connection_error = connection_error
        self.proxy_error = proxy_error
        self.ssl_error = ssl_error
        self.timeout_error = timeout_error
        self.retry_error = retry_error

    @staticmethod
    def is_supported() -> bool:
        return is_demisto_version_ge("6.8.0")

    def get_metric_list(self) -> List[Dict[str, Any]]:
        return self._metrics

    def update_metrics(self, metric_type: str, metric_value: int) -> None:
        """Keeps one row per type, in order of first use; a CommandResults wraps the rows once any is positive."""
        if metric_value <= 0:
            return
        for row in self._metrics:
            if row["Type"] == metric_type:
                row["APICallsCount"] = metric_value
                break
        else:
            self._metrics.append({"Type": metric_type, "APICallsCount": metric_value})
        self.metrics = CommandResults(execution_metrics=self._metrics)


def append_metrics(execution_metrics: ExecutionMetrics, results: List[Any]) -> List[Any]:
    if execution_metrics.metrics is not None and execution_metrics.is_supported():
        results.append(execution_metrics.metrics)
    return results


class BaseClient:
    REQUESTS_TIMEOUT = 60

    def __init__(
        self,
        base_url: str,
        verify: bool = True,
        proxy: bool = False,
        ok_codes: tuple = tuple(),
        headers: Optional[Dict[str, str]] = None,
        auth: Any = None,
        timeout: float = REQUESTS_TIMEOUT,
    ) -> None:
        self._base_url = base_url
        self._verify = verify
        self._ok_codes = ok_codes
        self._headers = headers
        self._auth = auth
        self._session = requests.Session()
        if sys.version_info >= (3, 10) and not verify:
            self._session.mount("https://", SSLAdapter(verify=verify))
        if proxy:
            ensure_proxy_has_http_prefix()
        else:
            skip_proxy()
        if not verify:
            skip_cert_verification()
        name = get_integration_name() or demisto.callingContext.get("context", {}).get("ScriptName", "")
        self.timeout = float(
            os.environ.get("REQUESTS_TIMEOUT.{}".format(name)) or os.environ.get("REQUESTS_TIMEOUT") or timeout
        )
        self.execution_metrics = ExecutionMetrics()

    def __del__(self) -> None:
        try:
            self._return_execution_metrics_results()
            self._session.close()
        except AttributeError:
            pass
        except Exception as err:  # pragma: no cover - best effort on interpreter exit
            demisto.debug("failed to close BaseClient session with the following error:\n{}".format(err))

    def _return_execution_metrics_results(self) -> None:
        try:
            if self.execution_metrics.metrics:
                return_results(self.execution_metrics.metrics)
        except AttributeError:
            pass

    def _implement_retry(
        self,
        retries: int = 0,
        status_list_to_retry: Any = None,
        backoff_factor: float = 5,
        raise_on_redirect: bool = False,
        raise_on_status: bool = False,
    ) -> None:
        try:
            retry = Retry(
                total=retries,
                read=retries,
                connect=retries,
                status=retries,
                backoff_factor=backoff_factor,
                status_forcelist=status_list_to_retry,
                raise_on_status=raise_on_status,
                raise_on_redirect=raise_on_redirect,
                allowed_methods=frozenset(["GET", "POST", "PUT", "PATCH", "DELETE"]),
            )
            if sys.version_info >= (3, 10) and not self._verify:
                adapter: HTTPAdapter = SSLAdapter(max_retries=retry, verify=self._verify)
            else:
                adapter = HTTPAdapter(max_retries=retry)
            self._session.mount("https://", adapter)
        except NameError:  # pragma: no cover - mirrors the real module's guard
            pass

    def _http_request(
        self,
        method: str,
        url_suffix: str = "",
        full_url: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
        auth: Any = None,
        json_data: Any = None,
        params: Any = None,
        data: Any = None,
        files: Any = None,
        timeout: Optional[float] = None,
        resp_type: str = "json",
        ok_codes: Any = None,
        return_empty_response: bool = False,
        retries: int = 0,
        status_list_to_retry: Any = None,
        backoff_factor: float = 5,
        raise_on_redirect: bool = False,
        raise_on_status: bool = False,
        error_handler: Any = None,
        empty_valid_codes: Any = None,
        params_parser: Any = None,
        with_metrics: bool = False,
        **kwargs: Any,
    ) -> Any:
        try:
            address = full_url if full_url else urljoin(self._base_url, url_suffix)
            headers = headers if headers else self._headers
            auth = auth if auth else self._auth
            if retries:
                self._implement_retry(retries, status_list_to_retry, backoff_factor, raise_on_redirect, raise_on_status)
            if not timeout:
                timeout = self.timeout
            if params_parser:
                params = urllib.parse.urlencode(params, quote_via=params_parser)
            res = self._session.request(
                method,
                address,
                verify=self._verify,
                params=params,
                data=data,
                json=json_data,
                files=files,
                headers=headers,
                auth=auth,
                timeout=timeout,
                **kwargs,
            )
            if not self._is_status_code_valid(res, ok_codes):
                self._handle_error(error_handler, res, with_metrics)
            return self._handle_success(res, resp_type, empty_valid_codes, return_empty_response, with_metrics)
        except requests.exceptions.ConnectTimeout as exception:
            self._count(with_metrics, "timeout_error")
            raise DemistoException(
                "Connection Timeout Error - potential reasons might be that the Server URL parameter"
                " is incorrect or that the Server is not accessible from your host.",
                exception,
            )
        except requests.exceptions.SSLError as exception:
            self._count(with_metrics, "ssl_error")
            if not self._verify:
                raise
            raise DemistoException(
                "SSL Certificate Verification Failed - try selecting 'Trust any certificate' checkbox in"
                " the integration configuration.",
                exception,
            )
        except requests.exceptions.ProxyError as exception:
            self._count(with_metrics, "proxy_error")
            raise DemistoException(
                "Proxy Error - if the 'Use system proxy' checkbox in the integration configuration is"
                " selected, try clearing the checkbox.",
                exception,
            )
        except requests.exceptions.ConnectionError as exception:
            self._count(with_metrics, "connection_error")
            class_text = str(exception.__class__)
            quoted = re.search(r"'(.*)'", class_text)
            class_name = quoted.group(1) if quoted else class_text
            message = (
                "Verify that the server URL parameter is correct and that you have access to the server from your host."
                "\nError Type: <{}>".format(class_name)
            )
            if exception.errno and exception.strerror:
                message += "\nError Number: [{}]\nMessage: {}\n".format(exception.errno, exception.strerror)
            else:
                message += "\n{}".format(exception)
            raise DemistoException(message, exception)
        except requests.exceptions.RetryError as exception:
            self._count(with_metrics, "retry_error")
            try:
                reason = "Reason: {}".format(exception.args[0].reason.args[0])
            except Exception:
                reason = ""
            raise DemistoException(
                "Max Retries Error- Request attempts with {} retries failed. \n{}".format(retries, reason), exception
            )

    def _count(self, with_metrics: bool, counter: str) -> None:
        if with_metrics:
            setattr(self.execution_metrics, counter, getattr(self.execution_metrics, counter) + 1)

    def _is_status_code_valid(self, response: requests.Response, ok_codes: Any = None) -> bool:
        codes = ok_codes if ok_codes else self._ok_codes
        if codes:
            return response.status_code in codes
        return bool(response.ok)

    def _handle_error(self, error_handler: Any, res: requests.Response, should_update_metrics: bool) -> None:
        try:
            if error_handler:
                error_handler(res)
            else:
                self.client_error_handler(res)
        except Exception:
            if should_update_metrics:
                self._update_metrics(res, success=False)
            raise

    def _handle_success(
        self,
        res: requests.Response,
        resp_type: str,
        empty_valid_codes: Any,
        return_empty_response: bool,
        should_update_metrics: bool,
    ) -> Any:
        if should_update_metrics:
            self._update_metrics(res, success=True)
        if not empty_valid_codes:
            empty_valid_codes = [204]
        if res.status_code in empty_valid_codes and return_empty_response:
            return res
        return self.cast_response(res, resp_type)

    def _update_metrics(self, res: requests.Response, success: bool) -> None:
        """Success counts unless polling is in progress; failures count only for the four typed outcomes."""
        if success:
            if not self.is_polling_in_progress(res):
                self._count(True, "success")
            return
        counter = {
            ErrorTypes.QUOTA_ERROR: "quota_error",
            ErrorTypes.AUTH_ERROR: "auth_error",
            ErrorTypes.SERVICE_ERROR: "service_error",
            ErrorTypes.GENERAL_ERROR: "general_error",
        }.get(self.determine_error_type(res))
        if counter:
            self._count(True, counter)

    def determine_error_type(self, response: requests.Response) -> str:
        return {401: ErrorTypes.AUTH_ERROR, 429: ErrorTypes.QUOTA_ERROR, 500: ErrorTypes.SERVICE_ERROR}.get(
            response.status_code, ErrorTypes.GENERAL_ERROR
        )

    def is_polling_in_progress(self, response: requests.Response) -> bool:
        return False

    def cast_response(self, res: requests.Response, resp_type: str, raise_on_error: bool = True) -> Any:
        resp_type = resp_type.lower()
        try:
            if resp_type == "json":
                return res.json()
            if resp_type == "text":
                return res.text
            if resp_type == "content":
                return res.content
            if resp_type == "xml":
                ET.fromstring(res.text)
            return res
        except ValueError as exception:
            if raise_on_error:
                raise DemistoException(
                    # The platform shows the bytes repr (b'...'), so does the stand-in.
                    "Failed to parse {} object from response: {!r}".format(resp_type, res.content),
                    exception,
                    res,
                )
            return None

    def client_error_handler(self, res: requests.Response) -> None:
        message = "Error in API call [{}] - {}".format(res.status_code, res.reason)
        try:
            message += "\n{}".format(json.dumps(res.json()))
        except ValueError:
            message += "\n{}".format(res.text)
        raise DemistoException(message, res=res)


# ---------------------------------------------------------------- argument helpers (xsoar_runtime/SPEC.md §4)
def argToList(arg: Any, separator: str = ",", transform: Any = None) -> list:
    if not arg:
        return []
    result: list
    if isinstance(arg, list):
        result = arg
    elif isinstance(arg, (str, bytes)):
        text = arg.decode("utf-8") if isinstance(arg, bytes) else arg
        result = []
        loaded = False
        if text.startswith("[") and text.endswith("]"):
            try:
                result = json.loads(text)
                loaded = True
            except ValueError:
                demisto.debug("Failed to load {} as JSON, trying to split".format(text))
        if not loaded:
            result = [piece.strip() for piece in text.split(separator)]
    else:
        result = [arg]
    if transform:
        return [transform(item) for item in result]
    return result


def argToBoolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "yes"):
            return True
        if lowered in ("false", "no"):
            return False
        raise ValueError("Argument does not contain a valid boolean-like value")
    raise ValueError("Argument is neither a string nor a boolean")


def _missing(arg_name: Optional[str]) -> ValueError:
    if arg_name:
        return ValueError('Missing "{}"'.format(arg_name))
    return ValueError("Missing required argument")


def arg_to_number(arg: Any, arg_name: Optional[str] = None, required: bool = False) -> Optional[int]:
    if arg is None or arg == "":
        if required is True:
            raise _missing(arg_name)
        return None

    def invalid() -> ValueError:
        if arg_name:
            return ValueError('Invalid number: "{}"="{}"'.format(arg_name, arg))
        return ValueError('"{}" is not a valid number'.format(arg))

    if isinstance(arg, str):
        if arg.isdigit():
            return int(arg)
        try:
            return int(float(arg))
        except Exception:
            raise invalid()
    if isinstance(arg, int):
        return arg
    raise invalid()


def arg_to_datetime(
    arg: Any, arg_name: Optional[str] = None, is_utc: bool = True, required: bool = False, settings: Any = None
) -> Optional[datetime]:
    if arg is None:
        if required is True:
            raise _missing(arg_name)
        return None

    def invalid() -> ValueError:
        if arg_name:
            return ValueError('Invalid date: "{}"="{}"'.format(arg_name, arg))
        return ValueError('"{}" is not a valid date'.format(arg))

    if (isinstance(arg, str) and arg.isdigit()) or isinstance(arg, (int, float)):
        seconds = float(arg)
        if seconds > 2000000000.0:
            seconds = seconds / 1000
        if is_utc:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        return datetime.fromtimestamp(seconds)
    if isinstance(arg, str):
        parsed = dateparser.parse(arg, settings=settings if settings else {"TIMEZONE": "UTC"})
        if parsed is None:
            raise invalid()
        return parsed
    raise invalid()


# ---------------------------------------------------------------- markdown tables (xsoar_runtime/SPEC.md §5.3)
def _escape_markdown_cell(text: Any) -> Any:
    """Minimal escaping; like the platform it needs a str (bytes or other types raise)."""
    text = text.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")
    return text.replace("|", "\\|").replace("`", "\\`")


def _flatten_inner(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, list):
        return ",\n".join(item.decode("utf-8") if isinstance(item, bytes) else str(item) for item in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _flatten_cell(value: Any) -> Any:
    if isinstance(value, dict):
        return "\n".join("{}: {}".format(key, _flatten_inner(inner)) for key, inner in value.items())
    return _flatten_inner(value)


def _clickable_url(value: Any) -> Any:
    if not value:
        return None
    if isinstance(value, list):
        return ["[{0}]({0})".format(item) for item in value]
    return "[{0}]({0})".format(value)


def _clickable_urls(node: Any, url_keys: List[str]) -> Any:
    if isinstance(node, list):
        return [_clickable_urls(item, url_keys) for item in node]
    if isinstance(node, dict):
        return {
            key: _clickable_url(value) if key in url_keys else _clickable_urls(value, url_keys)
            for key, value in node.items()
        }
    return node


def _is_empty_value(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def tableToMarkdown(
    name: Optional[str],
    t: Any,
    headers: Any = None,
    headerTransform: Any = None,
    removeNull: bool = False,
    metadata: Optional[str] = None,
    url_keys: Optional[List[str]] = None,
    date_fields: Optional[List[str]] = None,
    json_transform_mapping: Any = None,
    is_auto_json_transform: bool = False,
    sort_headers: bool = True,
) -> str:
    if url_keys:
        t = _clickable_urls(t, url_keys)
    lines: List[str] = []
    if name:
        lines.append("### {}".format(name))
    if metadata:
        lines.append(metadata)
    if not t:
        lines.append("**No entries.**")
        return "\n".join(lines) + "\n"
    if not headers and isinstance(t, dict) and len(t) == 1:
        only_key = list(t.keys())[0]
        headers = [only_key]
        t = t[only_key]
    rows = t if isinstance(t, list) else [t]
    if isinstance(headers, str):
        headers = [headers]
    if rows and not isinstance(rows[0], dict):
        if not headers:
            raise Exception("Missing headers param for tableToMarkdown. Example: headers=['Some Header']")
        rows = [{headers[0]: item} for item in rows]
    if not headers:
        headers = list(rows[0].keys()) if rows else []
        if sort_headers:
            headers = sorted(headers)
    if removeNull:
        headers = [header for header in headers if not all(_is_empty_value(row.get(header)) for row in rows)]
    if not rows or not headers:
        lines.append("**No entries.**")
        return "\n".join(lines) + "\n"
    transform = headerTransform if headerTransform else _escape_markdown_cell
    lines.append("|" + "|".join(transform(header) for header in headers) + "|")
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        cells = []
        for header in headers:
            value = row.get(header)
            if date_fields and header in date_fields and value is not None:
                try:
                    value = datetime.fromtimestamp(int(value) / 1000.0).strftime("%Y-%m-%d %H:%M:%S")
                except (TypeError, ValueError, OverflowError):
                    pass
            cells.append("" if value is None else _escape_markdown_cell(_flatten_cell(value)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


tblToMd = tableToMarkdown


def string_to_table_header(string: str) -> str:
    if isinstance(string, str):
        return " ".join(word.capitalize() for word in string.replace("_", " ").split())
    raise Exception("The key is not a string: {}".format(string))


_PASCAL_WORD = re.compile("([A-Z]?[a-z]+)")


def pascalToSpace(s: Any) -> Any:
    """Each capitalised word is padded with spaces, then runs of spaces collapse ('IPAddress' -> 'IP Address')."""
    if not isinstance(s, str):
        return s
    padded = _PASCAL_WORD.sub(lambda match: " {} ".format(match.group(1).title()), s)
    return " ".join(padded.split())


# ---------------------------------------------------------------- results (xsoar_runtime/SPEC.md §5.1, §5.2, §5.4)
class CommandResults:
    def __init__(
        self,
        outputs_prefix: Optional[str] = None,
        outputs_key_field: Any = None,
        outputs: Any = None,
        indicators: Any = None,
        readable_output: Optional[str] = None,
        raw_response: Any = None,
        indicators_timeline: Any = None,
        indicator: Any = None,
        ignore_auto_extract: bool = False,
        mark_as_note: bool = False,
        tags: Optional[List[str]] = None,
        scheduled_command: Any = None,
        relationships: Any = None,
        entry_type: Optional[int] = None,
        content_format: Optional[str] = None,
        execution_metrics: Any = None,
        replace_existing: bool = False,
    ) -> None:
        if raw_response is None:
            raw_response = outputs
        if outputs is not None:
            if not isinstance(outputs, dict) and not outputs_prefix:
                raise ValueError("outputs_prefix is missing")
            if outputs_prefix == ".":
                raise ValueError("outputs_prefix cannot be a period.")
        if indicators and indicator:
            raise ValueError("indicators is DEPRECATED, use only indicator")
        if outputs_key_field is None or outputs_key_field == "" or outputs_key_field == []:
            self._outputs_key_field: Optional[List[str]] = None
        elif isinstance(outputs_key_field, str):
            self._outputs_key_field = [outputs_key_field]
        elif isinstance(outputs_key_field, list):
            self._outputs_key_field = outputs_key_field
        else:
            raise TypeError("outputs_key_field must be of type str or list")
        if content_format is not None and not EntryFormat.is_valid_type(content_format):
            raise TypeError("content_format {} is invalid, see CommonServerPython.EntryFormat".format(content_format))
        self.outputs_prefix = outputs_prefix
        self.outputs_key_field = outputs_key_field
        self.outputs = outputs
        self.indicators = indicators
        self.indicator = indicator
        self.readable_output = readable_output
        self.raw_response = raw_response
        self.indicators_timeline = indicators_timeline
        self.ignore_auto_extract = ignore_auto_extract
        self.mark_as_note = mark_as_note
        self.tags = tags
        self.scheduled_command = scheduled_command
        self.relationships = relationships
        self.entry_type = EntryType.NOTE if entry_type is None else entry_type
        self.content_format = content_format
        self.execution_metrics = execution_metrics
        self.replace_existing = replace_existing

    def _has_outputs(self) -> bool:
        return self.outputs is not None and self.outputs != []

    def _entry_context(self) -> Dict[str, Any]:
        context: Dict[str, Any] = {}
        for item in ([self.indicator] if self.indicator else []) + list(self.indicators or []):
            for key, value in item.to_context().items():
                context.setdefault(key, []).append(value)
        if not self._has_outputs():
            return context
        prefix = self.outputs_prefix
        if self.replace_existing and prefix:
            path, _dot, last = prefix.rpartition(".")
            if not path:
                raise DemistoException("outputs_prefix must be a nested path to replace an existing key.")
            context["{}(true)".format(path)] = {last: self.outputs}
        elif prefix and self._outputs_key_field:
            condition = " && ".join(
                "val.{0} && val.{0} == obj.{0}".format(key_field) for key_field in self._outputs_key_field
            )
            context["{}({})".format(prefix, condition)] = self.outputs
        elif prefix:
            context[str(prefix)] = self.outputs
        else:
            context.update(self.outputs)
        return context

    def to_context(self) -> Dict[str, Any]:
        if self.readable_output:
            human_readable: Any = self.readable_output
        elif self._has_outputs():
            if isinstance(self.outputs, (dict, list)):
                human_readable = tableToMarkdown("Results", self.outputs)
            else:
                human_readable = self.outputs
        else:
            human_readable = None
        if self.content_format:
            content_format = self.content_format
        elif isinstance(self.raw_response, (str, bytes, int)):
            content_format = EntryFormat.TEXT
        else:
            content_format = EntryFormat.JSON
        entry: Dict[str, Any] = {
            "Type": self.entry_type,
            "ContentsFormat": content_format,
            "Contents": self.raw_response,
            "HumanReadable": human_readable,
            "EntryContext": self._entry_context(),
            "IndicatorTimeline": self.indicators_timeline.indicators_timeline if self.indicators_timeline else [],
            "IgnoreAutoExtract": bool(self.ignore_auto_extract),
            "Note": bool(self.mark_as_note),
            "Relationships": [rel.to_entry() for rel in self.relationships or [] if rel.to_entry()],
        }
        if self.execution_metrics:
            # Like the platform, this also changes the object's own entry_type.
            self.entry_type = EntryType.EXECUTION_METRICS
            entry["Type"] = self.entry_type
            entry["Contents"] = "Metrics reported successfully."
            entry["ContentsFormat"] = EntryFormat.TEXT
        if self.tags:
            entry["Tags"] = self.tags
        if self.scheduled_command:
            entry.update(self.scheduled_command.to_results())
        if self.execution_metrics:
            entry["APIExecutionMetrics"] = self.execution_metrics
        return entry


def return_results(results: Any) -> None:
    if results is None:
        demisto.results(None)
        return
    if isinstance(results, list) and results:
        collected = []
        for item in results:
            if isinstance(item, (dict, str)):
                collected.append(item)
            else:
                return_results(item)
        if collected:
            demisto.results(collected)
        return
    if isinstance(results, CommandResults):
        demisto.results(results.to_context())
        return
    if hasattr(results, "to_entry"):
        demisto.results(results.to_entry())
        return
    demisto.results(results)


_SERVER_HANDLED_COMMANDS = ("fetch-incidents", "fetch-credentials", "long-running-execution", "fetch-indicators")


def return_error(message: Any, error: Any = "", outputs: Any = None) -> None:
    """Writes an error entry and exits, except for commands whose errors the server handles itself."""
    has_command = hasattr(demisto, "command")
    try:
        is_server_handled = has_command and demisto.command() in _SERVER_HANDLED_COMMANDS
    except Exception:
        is_server_handled = False
    message = LOG(message)
    if error:
        LOG(str(error))
    if any(sys.exc_info()):
        trace = traceback.format_exc()
        LOG("\n{}".format(trace))
        if is_debug_mode():
            # As on the platform, the appended traceback has not been through the mask.
            message = "{}\n\n{}".format(message, trace)
    LOG.print_log()
    if (has_command and demisto.command() == "get-modified-remote-data") and (
        (error and not isinstance(error, NotImplementedError)) or sys.exc_info()[0] is not NotImplementedError
    ):
        message = "skip update. error: " + message
    if is_server_handled:
        raise Exception(message)
    if len(message) > MAX_ERROR_MESSAGE_LENGTH:
        half = MAX_ERROR_MESSAGE_LENGTH // 2
        message = message[:half] + "...This error body was truncated..." + message[-half:]
    demisto.results(
        {"Type": entryTypes["error"], "ContentsFormat": formats["text"], "Contents": message, "EntryContext": outputs}
    )
    sys.exit(0)


def return_warning(
    message: Any, exit: bool = False, warning: Any = "", outputs: Any = None, ignore_auto_extract: bool = False
) -> None:
    LOG(message)
    if warning:
        LOG(warning)
    LOG.print_log()
    demisto.results(
        {
            "Type": entryTypes["warning"],
            "ContentsFormat": formats["text"],
            "IgnoreAutoExtract": ignore_auto_extract,
            "Contents": str(message),
            "EntryContext": outputs,
        }
    )
    if exit:
        sys.exit(0)


# ---------------------------------------------------------------- platform helpers (xsoar_runtime/SPEC.md §8)
def get_integration_name() -> str:
    return demisto.callingContext.get("context", {}).get("IntegrationBrand", "")


def get_integration_instance_name() -> str:
    return demisto.callingContext.get("context", {}).get("IntegrationInstance", "")


def is_demisto_version_ge(version: str, build_number: str = "") -> bool:
    server = demisto.demistoVersion()

    def padded(dotted: str) -> List[int]:
        parts = [int(piece) for piece in re.findall(r"\d+", dotted)]
        return (parts + [0, 0, 0])[:3]

    if padded(server.get("version", "0")) != padded(version):
        return padded(server.get("version", "0")) > padded(version)
    if build_number:
        try:
            return int(server.get("buildNumber", "0")) >= int(build_number)
        except ValueError:
            return True
    return True


def is_xsiam() -> bool:
    return demisto.demistoVersion().get("platform") == "x2"


def _has_versioned_context() -> bool:
    return is_demisto_version_ge("6.0.0")


def get_integration_context(sync: bool = True, with_version: bool = False) -> Dict[str, Any]:
    if _has_versioned_context():
        versioned = demisto.getIntegrationContextVersioned(sync)
        return versioned if with_version else versioned.get("context", {})
    return demisto.getIntegrationContext()


def set_integration_context(context: Dict[str, Any], sync: bool = True, version: int = -1) -> Any:
    demisto.debug("Setting integration context")
    if _has_versioned_context():
        demisto.debug("Updating integration context with version {}. Sync: {}".format(version, sync))
        return demisto.setIntegrationContextVersioned(context, version, sync)
    return demisto.setIntegrationContext(context)


# ---------------------------------------------------------------- XSIAM sending (xsoar_runtime/SPEC.md §6)
# Stand-in only (underscored, so the star import does not export it): every chunk that reaches
# the in-process XSIAM intake below is appended here.
_XSIAM_SENT: List[Dict[str, Any]] = []


class _XsiamIntake(HTTPAdapter):
    """Stand-in only: plays the tenant's intake for the private client of :func:`send_data_to_xsiam`.

    The chunk really is POSTed through ``requests`` (so ``requests_mock`` or a patched
    ``Session.send`` sees exactly what the platform sends); when nothing intercepts it, this
    adapter answers it in-process with the tenant's ``{"error": "false"}`` and records the chunk.
    """

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode("utf-8")
        _XSIAM_SENT.append(
            {
                "url": request.url,
                "headers": dict(request.headers),
                "lines": gzip.decompress(body).decode("utf-8").split("\n"),
                "gzipped_size": len(body),
            }
        )
        response = requests.Response()
        response.status_code = 200
        response.reason = "OK"
        response.url = request.url or ""
        response.request = request
        response.headers["Content-Type"] = "application/json"
        response.encoding = "utf-8"
        response._content = b'{"error":"false"}'
        return response


def split_data_to_chunks(data: Any, target_chunk_size: int) -> Any:
    """Yields lists of lines whose summed ``sys.getsizeof`` stays near the target, as the platform does."""
    target = min(target_chunk_size, XSIAM_EVENT_CHUNK_SIZE_LIMIT)
    lines = data.split("\n") if isinstance(data, str) else data
    chunk: List[str] = []
    size = 0
    for line in lines:
        if size >= target:
            demisto.debug("reached max chunk size, sending chunk with size: {}".format(size))
            yield chunk
            chunk = []
            size = 0
        chunk.append(line)
        size += sys.getsizeof(line)
    if chunk:
        demisto.debug("sending the remaining chunk with size: {}".format(size))
        yield chunk


def xsiam_api_call_with_retries(
    client: BaseClient,
    xsiam_url: str,
    zipped_data: bytes,
    headers: Dict[str, Any],
    num_of_attempts: int,
    events_error_handler: Any = None,
    error_msg: str = "",
    is_json_response: bool = False,
    data_type: str = EVENTS,
) -> Any:
    """POSTs one gzipped chunk, trying again after a second on 429, up to ``num_of_attempts`` times."""
    status_code = None
    attempt = 1
    response: Any = None
    while status_code != 200 and attempt <= num_of_attempts:
        demisto.debug("Sending {} into xsiam, attempt number {}".format(data_type, attempt))
        # The last attempt accepts nothing but a normal success, so a final 429 raises.
        response = client._http_request(
            method="POST",
            full_url=urljoin(xsiam_url, "/logs/v1/xsiam"),
            data=zipped_data,
            headers=headers,
            error_handler=events_error_handler,
            ok_codes=(200, 429) if attempt < num_of_attempts else None,
            resp_type="response",
        )
        status_code = response.status_code
        demisto.debug("received status code: {}".format(status_code))
        if status_code == 429:
            time.sleep(1)
        attempt += 1
    if is_json_response and response:
        response = response.json()
        if response.get("error", "").lower() != "false":
            raise DemistoException(error_msg + response.get("error"))
    return response


def send_data_to_xsiam(
    data: Any,
    vendor: str,
    product: str,
    data_format: Optional[str] = None,
    url_key: str = "url",
    num_of_attempts: int = 3,
    chunk_size: int = XSIAM_EVENT_CHUNK_SIZE,
    data_type: str = EVENTS,
    should_update_health_module: bool = True,
    add_proxy_to_request: bool = False,
    snapshot_id: str = "",
    items_count: Any = None,
) -> None:
    reporting_device = demisto.params().get(url_key)
    calling = demisto.callingContext.get("context", {})
    instance_name = calling.get("IntegrationInstance", "")
    collector_name = calling.get("IntegrationBrand", "")
    if not items_count:
        items_count = len(data) if isinstance(data, list) else 1
    if data_type not in DATA_TYPES:
        demisto.debug("data type must be one of these values: {}".format(DATA_TYPES))
        return None
    health_key = "{}Pulled".format(data_type)
    if not data:
        demisto.debug(
            "send_data_to_xsiam function received no {0}, skipping the API call to send {0} to XSIAM".format(data_type)
        )
        demisto.updateModuleHealth({health_key: 0})
        return None
    if isinstance(data, list):
        demisto.debug("Sending {} {} to XSIAM".format(len(data), data_type))
        if isinstance(data[0], dict):
            data = [json.dumps(item) for item in data]
            data_format = "json"
        data = "\n".join(data)
    elif not isinstance(data, str):
        raise DemistoException(
            "Unsupported type: {} for the {} parameter. Should be a string or list.".format(type(data), data_type)
        )
    if not data_format:
        data_format = "text"
    token = demisto.getLicenseCustomField("Http_Connector.token")
    xsiam_url = "https://api-{}".format(demisto.getLicenseCustomField("Http_Connector.url"))
    headers = {
        "authorization": token,
        "format": data_format,
        "product": product,
        "vendor": vendor,
        "content-encoding": "gzip",
        "collector-name": collector_name,
        "instance-name": instance_name,
        "final-reporting-device": reporting_device,
        "collector-type": ASSETS if data_type == ASSETS else EVENTS,
    }
    if data_type == ASSETS:
        headers["snapshot-id"] = (snapshot_id or str(round(time.time() * 1000))) + instance_name
        headers["total-items-count"] = str(items_count)
    header_msg = "Error sending new {} into XSIAM.\n".format(data_type)

    def data_error_handler(res: requests.Response) -> None:
        """Logs the request (token included, as the platform does) and raises the intake's complaint."""
        try:
            body = res.json()
            error = res.reason
            if body.get("error").lower() == "false":
                error += ": " + body.get("error")
        except ValueError:
            error = "\n{}".format(res.text) if res.text else "Received empty response from the server"
        demisto.error(
            header_msg
            + "Parameters used:\n\tURL: {}\n\tHeaders: {}\n\nResponse status code: {}\nError received:\n\t{}".format(
                xsiam_url, json.dumps(headers, indent=8), res.status_code, error
            )
        )
        raise DemistoException(header_msg + error, DemistoException)

    client = BaseClient(base_url=xsiam_url, proxy=add_proxy_to_request)
    client._session.mount("https://", _XsiamIntake())  # stand-in only: the tenant's side of the POST
    lines_sent = 0
    for chunk in split_data_to_chunks(data, chunk_size):
        lines_sent += len(chunk)
        zipped = gzip.compress("\n".join(chunk).encode("utf-8"))
        xsiam_api_call_with_retries(
            client=client,
            events_error_handler=data_error_handler,
            error_msg=header_msg,
            headers=headers,
            num_of_attempts=num_of_attempts,
            xsiam_url=xsiam_url,
            zipped_data=zipped,
            is_json_response=True,
            data_type=data_type,
        )
    if should_update_health_module:
        demisto.updateModuleHealth({health_key: lines_sent})
    return None


def send_events_to_xsiam(
    events: Any,
    vendor: str,
    product: str,
    data_format: Optional[str] = None,
    url_key: str = "url",
    num_of_attempts: int = 3,
    chunk_size: int = XSIAM_EVENT_CHUNK_SIZE,
    should_update_health_module: bool = True,
    add_proxy_to_request: bool = False,
) -> None:
    send_data_to_xsiam(
        events,
        vendor,
        product,
        data_format,
        url_key,
        num_of_attempts,
        chunk_size,
        data_type=EVENTS,
        should_update_health_module=should_update_health_module,
        add_proxy_to_request=add_proxy_to_request,
    )


def _sent_events() -> List[Dict[str, Any]]:
    """Stand-in only: every event recorded by :func:`send_data_to_xsiam`, decoded, in order."""
    events: List[Dict[str, Any]] = []
    for chunk in _XSIAM_SENT:
        if chunk["headers"]["format"] == "json":
            events.extend(json.loads(line) for line in chunk["lines"])
    return events
