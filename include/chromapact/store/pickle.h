// A small, bounds-checked Python pickle reader and a serde_pickle-compatible writer, enough for Chroma's
// index_metadata.pickle (docs/chroma-format.md §4 "Label <-> id map"):
// - reads the 1.x dict form (serde_pickle, protocol 3) and the 0.x class-instance form (Python pickle,
//   protocol 5: FRAME, MEMOIZE/BINGET, STACK_GLOBAL, NEWOBJ, BUILD);
// - writes the 1.x form byte for byte as serde_pickle 1.x `SerOptions::new()` does.
// Opcode meanings: CPython Lib/pickletools.py.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chromapact/status.h"

namespace chromapact::store {

// One unpickled value. Containers hold their children by value (a memo GET copies), so the tree has no
// sharing and no cycles.
struct PickleValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,     // int_value; Python ints that fit in int64 only
    kFloat,   // float_value
    kString,  // str (UTF-8 bytes as stored)
    kTuple,   // items
    kList,    // items
    kDict,    // pairs, in stream order; a repeated key is kept as a second pair
    kGlobal,  // str = "module.qualname" (GLOBAL / STACK_GLOBAL)
    kObject,  // str = "module.qualname" of the class (NEWOBJ); pairs = state dict set by BUILD
  };
  Kind kind = Kind::kNone;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string str;
  std::vector<PickleValue> items;
  std::vector<std::pair<PickleValue, PickleValue>> pairs;

  static PickleValue None() { return PickleValue(); }
  static PickleValue Bool(bool b);
  static PickleValue Int(int64_t v);
  static PickleValue String(std::string s);
  static PickleValue Dict();

  bool is_none() const { return kind == Kind::kNone; }
  // For kDict / kObject: the value of the last pair whose key is the string `key`; nullptr if absent or
  // not a dict/object.
  const PickleValue* Find(const std::string& key) const;
};

// Limits that keep a hostile pickle from exhausting memory or the stack.
struct PickleLimits {
  size_t max_depth = 64;  // container nesting
  // Total values created (incl. memo copies) may not exceed max_values_per_byte * input size + slack.
  size_t max_values_per_byte = 8;
  size_t max_values_slack = 1 << 16;
};

// Runs the pickle VM over `data` and returns the value at STOP.
// Errors: kCorruption naming the opcode and byte offset for anything malformed (truncated argument,
// unknown opcode, stack underflow, wrong operand type, missing STOP, bytes after STOP, limits exceeded);
// kNotSupported for a protocol > 5.
Result<PickleValue> ParsePickle(const std::string& data, const PickleLimits& limits = PickleLimits());

// Serialises `value` as serde_pickle does with default options: PROTO 3; dict = EMPTY_DICT then, if
// non-empty, MARK + pairs with SETITEMS after every 1000 pairs (followed by a new MARK) and a final
// SETITEMS; strings as BINUNICODE; ints as BININT when they fit in int32, else LONG1 (minimal two's
// complement); None, NEWTRUE/NEWFALSE, BINFLOAT (big-endian); lists as EMPTY_LIST + MARK/APPENDS in the
// same batches; STOP; no memo. Errors: kInvalidArgument for tuples, globals and objects.
Result<std::string> WritePickle(const PickleValue& value);

}  // namespace chromapact::store
