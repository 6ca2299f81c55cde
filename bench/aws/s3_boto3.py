#!/usr/bin/env python3
"""boto3 twin of bench_aws_s3_bench: the same PUT (put_object from bytes) + GET (get_object().read())
per repetition, against AWS_ENDPOINT_URL with the AWS_* credentials. Same arguments, same CSV rows
(impl = "boto3"; CPU time from time.process_time(), all threads). usage: s3_boto3.py BUCKET SIZE_MIB[,SIZE_MIB...] REPETITIONS"""
import os
import random
import sys
import time

import boto3
from botocore.config import Config


def main():
    bucket, sizes, reps = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], int(sys.argv[3])
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                      region_name=os.environ.get("AWS_REGION", "us-east-1"),
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    print("impl,size_mib,rep,put_ms,get_ms,put_cpu_ms,get_cpu_ms", flush=True)
    for mib in sizes:
        body = random.Random(42 + mib).randbytes(mib * 1024 * 1024)
        key = f"bench/boto3-{mib}MiB"
        for rep in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/octet-stream")
            c1, t1 = time.process_time(), time.perf_counter()
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            c2, t2 = time.process_time(), time.perf_counter()
            if got != body:
                sys.exit(f"s3_boto3: GET {key}: bytes differ from what was put")
            print(f"boto3,{mib},{rep + 1},{(t1 - t0) * 1e3:.3f},{(t2 - t1) * 1e3:.3f},"
                  f"{(c1 - c0) * 1e3:.3f},{(c2 - c1) * 1e3:.3f}", flush=True)


if __name__ == "__main__":
    main()
