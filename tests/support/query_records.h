// The records a QueryService `get` answers, as the pipeline fixture's model holds them, for tests
// that compare the query function's reads with fixture::Model.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chromapact/pipeline/query_service.h"
#include "support/pipeline_fixture.h"

namespace chromapact::pipeline::fixture {

// Runs `req` as a `get` with embeddings, documents and metadatas included and returns the records
// by id. Errors: whatever QueryService::Handle returns.
inline Result<std::map<std::string, ModelRecord>> GetRecords(QueryService* qs, nlohmann::json req) {
  req["action"] = "get";
  req["include"] = {"embeddings", "documents", "metadatas"};
  CP_ASSIGN_OR_RETURN(nlohmann::json j, qs->Handle(req));
  std::map<std::string, ModelRecord> out;
  for (size_t i = 0; i < j["ids"].size(); ++i) {
    ModelRecord r;
    r.embedding = j["embeddings"][i].get<std::vector<float>>();
    if (j["documents"][i].is_string()) r.document = j["documents"][i].get<std::string>();
    r.metadata = j["metadatas"][i];
    out[j["ids"][i].get<std::string>()] = r;
  }
  return out;
}

}  // namespace chromapact::pipeline::fixture
