"""Registers the scripted HTTPS server fixtures for the stand-in's tests."""

from tests.runtime.scripted_https import https_server, tls_authority

__all__ = ["https_server", "tls_authority"]
