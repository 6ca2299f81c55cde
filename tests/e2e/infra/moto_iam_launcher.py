#!/usr/bin/env python3
"""tests/support/moto_launcher.py plus fixes to moto 5.2.1's IAM evaluation (DynamoDB, S3 conditions,
SQS batches), used by tests/e2e/infra/stack_test.cpp to check infra/template.yaml's least-privilege roles.

Without them moto cannot check those roles at all:
1. moto authorizes every DynamoDB request against Resource "*" (DynamoHandler has no
   _determine_resource), so a statement whose Resource is the table ARN never matches and an
   assumed role with a correct policy is denied everything. AWS authorizes against
   arn:aws:dynamodb:REGION:ACCOUNT:table/NAME (Service Authorization Reference, DynamoDB resource
   types); the fix does the same from the request's TableName.
2. moto evaluates only StringEquals, never fills in a request's condition keys for these services
   (so every condition holds), checks a statement's Condition before its Resource, and answers a
   failed condition with an explicit Deny (so an Allow with a condition on one prefix would refuse
   the same action on another prefix that a second statement allows). The fix evaluates
   statements as IAM does (Action, Resource and every Condition must hold; else the statement does
   not apply) with the operators the template uses: StringEquals, StringLike (IAM wildcards * and
   ?), Null, the ForAllValues:/ForAnyValue: qualifiers and ...IfExists, a missing key failing a
   single-valued operator and passing ForAllValues (IAM User Guide, "Condition operators" and
   "Single-valued vs. multivalued context keys"); an operator it does not know never grants. It
   fills in these request keys:
   - dynamodb:LeadingKeys: the request's partition key value (IAM User Guide, "Using IAM policy
     conditions for fine-grained access control");
   - s3:prefix: the prefix query parameter of a ListObjects(V2) request (absent when not sent);
   - s3:if-none-match / s3:if-match: the PutObject request's If-None-Match / If-Match header (S3
     User Guide, "Enforce conditional writes").
   This is OUR model of IAM, not AWS: docs/deploy.md says so.
3. S3 answers a GET/HEAD of a missing key with 404 only when the caller may also s3:ListBucket it,
   else with 403 (S3 API Reference, GetObject/HeadObject "Permissions"); with a ListBucket grant
   limited by s3:prefix, the key itself is the prefix evaluated (Ceph RGW does the same "to match
   aws behavior", ceph/ceph#68577). moto always answers 404. The fix refuses such a request when
   ListBucket on the bucket with s3:prefix = key is not allowed.
4. moto names the IAM action after the API operation, so SQS's batch calls need
   sqs:DeleteMessageBatch / sqs:ChangeMessageVisibilityBatch / sqs:SendMessageBatch, which are not
   IAM actions at all: AWS authorizes each batch call by its single-message action (Amazon SQS
   Developer Guide, "Amazon SQS API permissions: Actions and resource reference"). The fix maps them.

usage: moto_iam_launcher.py [-H HOST] [-p PORT] [other moto_server options]
"""
import fnmatch
import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import moto_launcher  # noqa: E402


def _dynamodb_table_resource():
    from moto.dynamodb.responses import DynamoHandler

    def _determine_resource(self):
        body = getattr(self, "body", None) or {}
        name = body.get("TableName") if isinstance(body, dict) else None
        if not name:
            return "*"
        return "arn:aws:dynamodb:%s:%s:table/%s" % (self.region, self.current_account, name)

    DynamoHandler._determine_resource = _determine_resource


def _partition_key_value(account, region, body):
    """The request's partition key value (S or N), or None (e.g. DescribeTable, CreateTable)."""
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        return None
    attrs = req.get("Key") or req.get("Item")
    if not isinstance(attrs, dict) or not attrs:
        return None
    name = None
    try:
        from moto.dynamodb.models import dynamodb_backends

        name = dynamodb_backends[account][region].get_table(req.get("TableName")).hash_key_attr
    except Exception:  # unknown table: let moto answer ResourceNotFound as usual
        name = next(iter(attrs)) if len(attrs) == 1 else None
    value = attrs.get(name) if name else None
    if not isinstance(value, dict):
        return None
    return value.get("S", value.get("N"))


_SQS_BATCH_ACTIONS = {
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sqs:SendMessageBatch": "sqs:SendMessage",
}


def _string_like(pattern, value):
    # IAM wildcards: * any run, ? one character; fnmatch also knows [..], which IAM has not.
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


_MATCHERS = {
    "StringEquals": lambda expected, value: expected == value,
    "StringLike": _string_like,
}


def _condition_holds(operator, key, expected, context):
    """One operator/key pair of a Condition block against `context` (key -> list of values)."""
    values = context.get(key)
    expected = [str(e) for e in (expected if isinstance(expected, list) else [expected])]
    if operator == "Null":
        return (values is None) == (expected[0].lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    qualifier, _, base = base.rpartition(":")
    match = _MATCHERS.get(base)
    if match is None or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        return False
    if values is None:
        return if_exists or qualifier == "ForAllValues"
    hits = [any(match(e, v) for e in expected) for v in values]
    return all(hits) if qualifier == "ForAllValues" else any(hits)


def _conditions_hold(conditions, context):
    for operator, pairs in (conditions or {}).items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def _as_context(incoming):
    return {k: (v if isinstance(v, list) else [v]) for k, v in (incoming or {}).items()}


def _statement_evaluation():
    from moto.iam import access_control

    PermissionResult = access_control.PermissionResult

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        st = self._statement
        if "NotAction" in st:
            concerned = not self._check_element_matches("NotAction", action)
        else:
            concerned = self._check_element_matches("Action", action)
        if not concerned or self.is_unknown_principal(st.get("Principal")):
            return PermissionResult.NEUTRAL
        if principal and not self._check_principal(principal):
            return PermissionResult.DENIED  # as moto: trust policies naming another principal
        if st.get("Resource") and not self._check_element_matches("Resource", resource):
            return PermissionResult.NEUTRAL
        if not _conditions_hold(st.get("Condition"), _as_context(incoming_condition_values)):
            return PermissionResult.NEUTRAL
        return PermissionResult.PERMITTED if st.get("Effect") == "Allow" else PermissionResult.DENIED

    access_control.IAMPolicyStatement.is_action_permitted = is_action_permitted


def _s3_context(path, headers, action):
    if action == "s3:ListBucket":
        query = parse_qs(urlsplit(path).query, keep_blank_values=True)
        return {"s3:prefix": query["prefix"][:1]} if "prefix" in query else {}
    if action == "s3:PutObject":
        context = {}
        for header, key in (("If-None-Match", "s3:if-none-match"), ("If-Match", "s3:if-match")):
            if headers.get(header) is not None:
                context[key] = [headers.get(header)]
        return context
    return {}


def _missing_object(account, region, resource, path):
    """(bucket, key) when `resource` names an object that does not exist in a bucket that does."""
    from moto.s3.models import FakeKey, s3_backends
    from moto.utilities.utils import get_partition

    if "versionId" in parse_qs(urlsplit(path).query):
        return None
    name = resource.split(":::", 1)[-1]
    if "/" not in name:
        return None
    bucket_name, key = name.split("/", 1)
    try:
        bucket = s3_backends[account][get_partition(region)].get_bucket(bucket_name)
    except Exception:  # no such bucket: moto answers NoSuchBucket
        return None
    if isinstance(bucket.keys.get(key), FakeKey):
        return None
    return resource[: -len(key) - 1], key


def _request_authorization():
    from moto.iam import access_control

    original = access_control.IAMRequestBase.check_action_permitted

    def decide(self, action, resource, context):
        permitted = False
        for policy in self._access_key.collect_policies():
            result = access_control.IAMPolicy(policy).is_action_permitted(action, resource, None, context)
            if result == access_control.PermissionResult.DENIED:
                return False
            permitted = permitted or result == access_control.PermissionResult.PERMITTED
        return permitted

    def check_action_permitted(self, resource):
        self._action = _SQS_BATCH_ACTIONS.get(self._action, self._action)
        if self._action.startswith("dynamodb:"):
            pk = _partition_key_value(self.account_id, self._region, self._body)
            context = {"dynamodb:LeadingKeys": [pk]} if pk is not None else {}
        elif self._action.startswith("s3:"):
            context = _s3_context(self._path, self._headers, self._action)
        else:
            return original(self, resource)
        if not decide(self, self._action, resource, context):
            self._raise_access_denied()
        if self._action == "s3:GetObject":
            missing = _missing_object(self.account_id, self._region, resource, self._path)
            if missing and not decide(self, "s3:ListBucket", missing[0], {"s3:prefix": [missing[1]]}):
                self._raise_access_denied()

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def main():
    moto_launcher._die_with_parent()
    moto_launcher._patch_raw_uri_signature_check()
    moto_launcher._serialize_dynamodb_writes()
    _dynamodb_table_resource()
    _statement_evaluation()
    _request_authorization()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
