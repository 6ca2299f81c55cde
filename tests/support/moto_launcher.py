#!/usr/bin/env python3
"""Starts moto_server (moto 5.2.1) for chromapact's tests, with one fix for its signature check.

In auth mode moto rebuilds the signed request from werkzeug's decoded URL, so a correctly
percent-encoded path or query (e.g. ``prefix=delta%2F``) is rejected with SignatureDoesNotMatch
(../shared/docs/aws-notes.md §1). This launcher remembers the request target exactly as it arrived
(WSGI ``RAW_URI``) and lets the signature check see that instead; everything else is stock moto.

usage: moto_launcher.py [-H HOST] [-p PORT] [other moto_server options]
The process ends when its parent dies (so a crashed test leaves no server behind).
"""
import ctypes
import signal
import sys
from urllib.parse import urlsplit, urlunsplit


def _die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _patch_raw_uri_signature_check():
    from moto.core import authorization
    from moto.core import responses

    original_setup = responses.BaseResponse.setup_class
    original_check = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action

    def setup_class(self, request, full_url, headers, *args, **kwargs):
        original_setup(self, request, full_url, headers, *args, **kwargs)
        environ = getattr(request, "environ", None) or {}
        self._chromapact_raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI")

    def check(self, iam_request_cls, resource="*"):
        raw = getattr(self, "_chromapact_raw_target", None)
        if not raw:
            return original_check(self, iam_request_cls, resource)
        decoded_uri = self.uri
        parts = urlsplit(decoded_uri)
        target = urlsplit(raw)  # RAW_URI is "/path?query" as sent, never decoded
        self.uri = urlunsplit((parts.scheme, parts.netloc, target.path, target.query, ""))
        try:
            return original_check(self, iam_request_cls, resource)
        finally:
            self.uri = decoded_uri

    responses.BaseResponse.setup_class = setup_class
    authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = check


def main():
    _die_with_parent()
    _patch_raw_uri_signature_check()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
