#!/usr/bin/env python3
"""Starts moto_server (moto 5.2.1) for chromapact's tests, with one fix for its signature check.

In auth mode moto rebuilds the signed request from werkzeug's decoded URL, so a correctly
percent-encoded path or query (e.g. ``prefix=delta%2F``) is rejected with SignatureDoesNotMatch
(docs/aws-notes.md §1). This launcher remembers the request target exactly as it arrived
(WSGI ``RAW_URI``) and lets the signature check see that instead. It also makes DynamoDB conditional
writes atomic (see _serialize_dynamodb_writes); everything else is stock moto.

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


def _serialize_dynamodb_writes():
    """Makes moto's DynamoDB conditional writes atomic, as DynamoDB's are.

    DynamoDB evaluates a ConditionExpression and applies the write as one atomic step per item
    (Developer Guide, "Condition expressions" / optimistic locking), so of two concurrent
    conditional writes with the same expected state exactly one succeeds. moto 5.2.1's backend
    reads the item, evaluates the condition and writes in separate steps without a lock, and its
    server is threaded: two racing lease acquisitions could both succeed (seen in
    tests/integration/pipeline/lease_test.cpp). One lock around the item-writing backend calls
    restores DynamoDB's semantics; reads stay concurrent.
    """
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self, *args, _original=original, **kwargs):
            with lock:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)


def main():
    _die_with_parent()
    _patch_raw_uri_signature_check()
    _serialize_dynamodb_writes()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
