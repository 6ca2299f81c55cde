# Shell helper (sourced, bash): the AWS resources the three bootstraps need, created with the aws CLI
# against one endpoint (a local moto_server, or AWS when AWS_ENDPOINT_URL is empty). Until
# infra/template.yaml + infra/deploy land, this is the one place scripts/demo creates them; swap the
# function body for a stack deploy and keep the variables it sets.
#
#   demo_create_resources PREFIX
#     creates  S3 bucket            PREFIX-data
#              SQS FIFO queue       PREFIX-dlq.fifo    (dead-letter queue, 14 days retention)
#              SQS FIFO queue       PREFIX-deltas.fifo (4 days retention, RedrivePolicy -> the DLQ with
#                                   maxReceiveCount 3, VisibilityTimeout $DEMO_VISIBILITY_S (default 180 s,
#                                   >= the compactor's invocation timeout, as Lambda requires of an
#                                   event source queue: docs/aws-notes.md §7))
#              DynamoDB table       PREFIX-lease, partition key `pk` (S), on demand: lease and pointer
#                                   items (pipeline/kv_store.h)
#     sets     DEMO_BUCKET, DEMO_QUEUE_URL, DEMO_DLQ_URL, DEMO_TABLE
#     returns  non-zero (the aws CLI's message on stderr) at the first call that fails.
# Credentials and region come from the usual AWS_* variables; the endpoint from $AWS_ENDPOINT_URL.
# Uses `aws` (aws CLI v1 >= 1.29 or v2).

_demo_aws() {
  if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
    aws --endpoint-url "$AWS_ENDPOINT_URL" --output json "$@"
  else
    aws --output json "$@"
  fi
}

demo_create_resources() {
  local prefix=$1 visibility=${DEMO_VISIBILITY_S:-180} bucket_pid table_pid rc=0
  DEMO_BUCKET=$prefix-data
  DEMO_TABLE=$prefix-lease
  # The bucket and the table are independent of the queues: created alongside (each aws CLI call costs
  # about a second of python start-up, several on a loaded machine).
  _demo_aws s3api create-bucket --bucket "$DEMO_BUCKET" >/dev/null &
  bucket_pid=$!
  _demo_create_table &
  table_pid=$!
  _demo_create_queues "$prefix" "$visibility" || rc=1
  wait "$bucket_pid" || { echo "demo_create_resources: create-bucket $DEMO_BUCKET failed" >&2; rc=1; }
  wait "$table_pid" || { echo "demo_create_resources: create-table $DEMO_TABLE failed" >&2; rc=1; }
  return "$rc"
}

# The DLQ, then the delta queue whose RedrivePolicy names it; sets DEMO_DLQ_URL, DEMO_QUEUE_URL.
# A queue URL is https://<host>/<account>/<name>, so the DLQ's ARN needs no GetQueueAttributes call.
_demo_create_queues() {
  local prefix=$1 visibility=$2 account redrive
  DEMO_DLQ_URL=$(_demo_aws sqs create-queue --queue-name "$prefix-dlq.fifo" \
    --attributes FifoQueue=true,MessageRetentionPeriod=1209600 --query QueueUrl --output text) || return 1
  account=${DEMO_DLQ_URL%/*}
  account=${account##*/}
  [[ $account =~ ^[0-9]+$ ]] || { echo "demo_create_resources: no account id in $DEMO_DLQ_URL" >&2; return 1; }
  # RedrivePolicy is itself a JSON string inside the attributes' JSON document.
  redrive="{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:${AWS_REGION:-us-east-1}:$account:$prefix-dlq.fifo\\\",\\\"maxReceiveCount\\\":3}"
  DEMO_QUEUE_URL=$(_demo_aws sqs create-queue --queue-name "$prefix-deltas.fifo" --query QueueUrl --output text \
    --attributes "{\"FifoQueue\":\"true\",\"MessageRetentionPeriod\":\"345600\",\"VisibilityTimeout\":\"$visibility\",\"RedrivePolicy\":\"$redrive\"}") ||
    return 1
}

# The table; waits for ACTIVE only when CreateTable did not answer ACTIVE already (moto does).
_demo_create_table() {
  local status
  status=$(_demo_aws dynamodb create-table --table-name "$DEMO_TABLE" \
    --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST --query TableDescription.TableStatus --output text) || return 1
  [[ $status == ACTIVE ]] || _demo_aws dynamodb wait table-exists --table-name "$DEMO_TABLE"
}
