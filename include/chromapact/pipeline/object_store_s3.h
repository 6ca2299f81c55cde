// The real ObjectStore: one S3 bucket through aws::S3Client (aws/s3.h). Put maps to PutObject
// (If-None-Match / If-Match as asked), PutFile to S3Client::PutFile (multipart at and above its
// threshold, parts in parallel), Get/GetToFile to GetObject, Head to HeadObject, List to every page
// of ListObjectsV2, Delete to DeleteObjects (1000 keys per request, Content-MD5). Status codes as
// object_store.h; S3's 409 ConditionalRequestConflict is reported as kPreconditionFailed.
#pragma once

#include <memory>
#include <string>

#include "chromapact/aws/s3.h"
#include "chromapact/pipeline/object_store.h"

namespace chromapact::pipeline {

// The first form borrows `client` (it must outlive the store), the second owns it. Thread-safe as
// S3Client is.
std::unique_ptr<ObjectStore> NewS3ObjectStore(aws::S3Client* client, std::string bucket);
std::unique_ptr<ObjectStore> NewS3ObjectStore(std::unique_ptr<aws::S3Client> client, std::string bucket);

}  // namespace chromapact::pipeline
