// A tiny XML reader and escaper for the S3 REST protocol's answers (internal). It reads elements,
// text (entities and CDATA resolved) and skips the prolog, comments, DOCTYPE and attributes; no
// namespaces (S3 uses one default xmlns), no DTD entities. Enough for well-formed S3 XML.
#pragma once

#include <string>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::aws::xml {

struct Element {
  std::string name;  // as written, prefix included
  std::string text;  // concatenated character data directly inside this element, unescaped
  std::vector<Element> children;

  // The first child named `name`, or nullptr.
  const Element* Child(const std::string& name) const;
  // Every child named `name`, in document order.
  std::vector<const Element*> Children(const std::string& name) const;
  // Text of the first child named `name`, "" when absent.
  std::string ChildText(const std::string& name) const;
};

// Parses a document into its root element. Errors: kInternal naming the byte offset for malformed
// XML (unclosed or mismatched tags, bad entities, nesting deeper than 64).
Result<Element> Parse(const std::string& document);

// Replaces & < > " ' by their entities (for element text and attribute values).
std::string Escape(const std::string& text);

// Resolves the five predefined entities and &#N; / &#xH; (as UTF-8). Errors: kInternal for an
// unknown or unterminated entity.
Result<std::string> Unescape(const std::string& text);

}  // namespace chromapact::aws::xml
