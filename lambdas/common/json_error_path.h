// Where in an event's JSON text a parse error happened, as a field path (header-only; env.h
// ParseEvent uses it so that "not JSON" errors name the field like every other event error).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chromapact::lambdas {

// The path of the value being read at byte `offset` (0-based) of `text`, in the form the pipeline's
// errors use: `embeddings[3][7]`, `metadatas[0].year`; "event" at the top level. Keys are shown as
// written (escapes are not decoded). Text after `offset` is not read; malformed text before it
// gives a best-effort path, never an error.
inline std::string JsonPathAt(std::string_view text, size_t offset) {
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    bool has_key = false;  // object: a key was read for the current member
  };
  std::vector<Frame> stack;
  bool reading_key = false;  // object: the next string is a key
  const size_t end = offset < text.size() ? offset : text.size();
  for (size_t i = 0; i < end; ++i) {
    const char c = text[i];
    if (c == '"') {
      std::string s;
      for (++i; i < end && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < end) s.push_back(text[i++]);
        s.push_back(text[i]);
      }
      if (reading_key && !stack.empty()) {
        stack.back().key = s;
        stack.back().has_key = true;
        reading_key = false;
      }
    } else if (c == '{') {
      stack.push_back({});
      reading_key = true;
    } else if (c == '[') {
      Frame f;
      f.array = true;
      stack.push_back(f);
      reading_key = false;
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
      reading_key = false;
    } else if (c == ',' && !stack.empty()) {
      if (stack.back().array) {
        ++stack.back().index;
      } else {
        stack.back().has_key = false;
        reading_key = true;
      }
    }
  }
  std::string path;
  for (const Frame& f : stack) {
    if (f.array) {
      path += "[" + std::to_string(f.index) + "]";
    } else if (f.has_key) {
      path += (path.empty() ? "" : ".") + f.key;
    }
  }
  return path.empty() ? "event" : path;
}

}  // namespace chromapact::lambdas
