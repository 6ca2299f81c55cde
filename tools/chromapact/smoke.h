// `chromapact smoke`: one pass over the three AWS services chromapact uses, with our own clients,
// against whatever endpoints the environment names (credentials.h: AWS_ENDPOINT_URL[_S3|_SQS|_DYNAMODB],
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION). scripts/demo runs it
// against a local moto_server with signature checking on.
#pragma once

#include <cstdio>
#include <string>

#include "chromapact/status.h"

namespace chromapact::cli {

struct SmokeOptions {
  // Names of the bucket, queues and table start with this (S3 bucket rules: 3..63 chars of
  // [a-z0-9-]; the longest derived name adds 9 chars). Empty: "chromapact-smoke-<unix seconds>".
  std::string prefix;
  // When non-empty, used for all three services instead of the environment's endpoints.
  std::string endpoint;
  std::FILE* out = stdout;  // one progress line per step: "[ n/N] <step> ... ok (x.y ms)"
};

// Runs every step in order and stops at the first failure. Steps: S3 create bucket, put, get (bytes and
// ETag compared), list (key present), create-only put that must lose (kPreconditionFailed, S3 412),
// delete (then HEAD is kNotFound); SQS create a FIFO DLQ and a FIFO queue whose RedrivePolicy names it
// (maxReceiveCount 3), send, receive (body compared), delete, then a message received 3 times without
// being deleted (visibility set to 0 each time) must be in the DLQ, not delivered again; DynamoDB
// create table, a create-only conditional put that wins and a second one that must lose
// (kPreconditionFailed, ConditionalCheckFailedException).
// Errors: the failing step's Status with the step's name as context (kInternal when a step got an
// unexpected answer, e.g. a conditional write that should have lost but won).
Status RunSmoke(const SmokeOptions& options);

}  // namespace chromapact::cli
