// Text -> vector: what the query function (query_texts) and the producer (documents without
// embeddings) call to embed texts on the server side, as Chroma's client does with its
// EmbeddingFunction (chromadb/api/types.py: EmbeddingFunction.__call__(input: Documents) ->
// Embeddings, one embedding per input, in input order). Implementation: openai_embeddings.h (any
// OpenAI-compatible POST /embeddings endpoint). Configuration and providers: docs/embeddings.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::embed {

class EmbeddingFunction {
 public:
  virtual ~EmbeddingFunction() = default;

  // Embeds `texts` (UTF-8). Returns texts.size() x dimension() float32 values, row-major: row i is
  // the embedding of texts[i]. Every value is finite. An empty `texts` returns an empty vector
  // without any remote call. Implementations are not required to be thread-safe.
  // Errors (implementation-specific details in its header): kInvalidArgument for an input or an
  // answer the configuration rejects (e.g. a vector of another dimension than dimension());
  // kCorruption for an answer of the wrong shape; kUnauthenticated / kPermissionDenied for a
  // refused key; kThrottled / kUnavailable / kTimeout when the provider stayed unreachable or
  // overloaded after the retries.
  virtual Result<std::vector<float>> Embed(const std::vector<std::string>& texts) = 0;

  // Floats per embedding (>= 1): the dimension every row of Embed's result has.
  virtual uint32_t dimension() const = 0;

  // For logs and error messages: which model at which endpoint, e.g.
  // "text-embedding-3-small at https://api.openai.com/v1". Never contains a secret.
  virtual std::string name() const = 0;
};

// The error a caller returns when `field` needs texts embedded and no EmbeddingFunction is
// configured: kPreconditionFailed (the request is well-formed; the deployment lacks the
// configuration) "<field>: no embedding function configured: set CHROMAPACT_EMBEDDING_URL,
// CHROMAPACT_EMBEDDING_MODEL and CHROMAPACT_EMBEDDING_DIMENSION (docs/embeddings.md), or send
// <alternative>". `alternative` names what the client can send instead, e.g. "query_embeddings".
Status NotConfigured(const std::string& field, const std::string& alternative);

}  // namespace chromapact::embed
