#!/usr/bin/env python3
"""tests/support/moto_launcher.py plus three fixes to moto 5.2.1's IAM evaluation (DynamoDB, SQS batches),
used by tests/e2e/infra/stack_test.cpp to check infra/template.yaml's least-privilege roles.

Without them moto cannot check those roles at all:
1. moto authorizes every DynamoDB request against Resource "*" (DynamoHandler has no
   _determine_resource), so a statement whose Resource is the table ARN never matches and an
   assumed role with a correct policy is denied everything. AWS authorizes against
   arn:aws:dynamodb:REGION:ACCOUNT:table/NAME (Service Authorization Reference, DynamoDB resource
   types); the fix does the same from the request's TableName.
2. moto evaluates only StringEquals conditions on trust policies and ignores every other condition,
   so `ForAllValues:StringLike {"dynamodb:LeadingKeys": [...]}` would allow any item. The fix feeds
   the request's partition key value as dynamodb:LeadingKeys (IAM User Guide, "Using IAM policy
   conditions for fine-grained access control") and evaluates ForAllValues:StringLike with IAM's
   wildcards (* and ?). This is OUR model of IAM, not AWS: the README says so.

3. moto names the IAM action after the API operation, so SQS's batch calls need
   sqs:DeleteMessageBatch / sqs:ChangeMessageVisibilityBatch / sqs:SendMessageBatch, which are not
   IAM actions at all: AWS authorizes each batch call by its single-message action (Amazon SQS
   Developer Guide, "Amazon SQS API permissions: Actions and resource reference"). The fix maps them.

usage: moto_iam_launcher.py [-H HOST] [-p PORT] [other moto_server options]
"""
import fnmatch
import json
import os
import sys

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


def _leading_keys_condition():
    from moto.iam import access_control, policy_conditions

    def for_all_values_string_like(expected, actual):
        patterns = expected if isinstance(expected, list) else [expected]
        # IAM wildcards: * any run, ? one character; fnmatch also knows [..], which IAM has not.
        return any(fnmatch.fnmatchcase(actual, p.replace("[", "[[]")) for p in patterns)

    policy_conditions.CONDITION_OPERATIONS["ForAllValues:StringLike"] = for_all_values_string_like
    original = access_control.IAMRequestBase.check_action_permitted

    def check_action_permitted(self, resource):
        self._action = _SQS_BATCH_ACTIONS.get(self._action, self._action)
        if not self._action.startswith("dynamodb:"):
            return original(self, resource)
        pk = _partition_key_value(self.account_id, self._region, self._body)
        incoming = {"dynamodb:LeadingKeys": pk} if pk is not None else {}
        permitted = False
        for policy in self._access_key.collect_policies():
            result = access_control.IAMPolicy(policy).is_action_permitted(self._action, resource, None, incoming)
            if result == access_control.PermissionResult.DENIED:
                self._raise_access_denied()
            elif result == access_control.PermissionResult.PERMITTED:
                permitted = True
        if not permitted:
            self._raise_access_denied()

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def main():
    moto_launcher._die_with_parent()
    moto_launcher._patch_raw_uri_signature_check()
    moto_launcher._serialize_dynamodb_writes()
    _dynamodb_table_resource()
    _leading_keys_condition()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
