// NotConfigured: the one message for "texts to embed, no embedding function" (embedding_function.h).
#include "chromapact/embed/embedding_function.h"

namespace chromapact::embed {

Status NotConfigured(const std::string& field, const std::string& alternative) {
  return PreconditionFailed(field +
                            ": no embedding function configured: set CHROMAPACT_EMBEDDING_URL, "
                            "CHROMAPACT_EMBEDDING_MODEL and CHROMAPACT_EMBEDDING_DIMENSION (docs/embeddings.md), "
                            "or send " +
                            alternative);
}

}  // namespace chromapact::embed
