// serde_pickle-compatible writer (the bytes Chroma 1.x writes for index_metadata.pickle; the batching
// rule was checked against chroma-1.5.9-1200's pickle: 1000 pairs give "( ...pairs... u ( u").
#include <cstring>

#include "chromapact/store/pickle.h"

namespace chromapact::store {

PickleValue PickleValue::Bool(bool b) {
  PickleValue v;
  v.kind = Kind::kBool;
  v.bool_value = b;
  return v;
}

PickleValue PickleValue::Int(int64_t i) {
  PickleValue v;
  v.kind = Kind::kInt;
  v.int_value = i;
  return v;
}

PickleValue PickleValue::String(std::string s) {
  PickleValue v;
  v.kind = Kind::kString;
  v.str = std::move(s);
  return v;
}

PickleValue PickleValue::Dict() {
  PickleValue v;
  v.kind = Kind::kDict;
  return v;
}

const PickleValue* PickleValue::Find(const std::string& key) const {
  if (kind != Kind::kDict && kind != Kind::kObject) return nullptr;
  for (size_t i = pairs.size(); i-- > 0;) {
    if (pairs[i].first.kind == Kind::kString && pairs[i].first.str == key) return &pairs[i].second;
  }
  return nullptr;
}

namespace {

constexpr size_t kBatch = 1000;  // serde_pickle BATCHSIZE

void PutLe(std::string* out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void WriteInt(std::string* out, int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    out->push_back('J');
    PutLe(out, static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    return;
  }
  // Minimal two's complement, little-endian: the fewest bytes whose top bit still carries the sign.
  size_t n = 8;
  while (n > 1) {
    const int64_t shifted = v >> (8 * (n - 1) - 1);  // the bits that would be dropped, plus the new sign bit
    if (shifted != 0 && shifted != -1) break;
    --n;
  }
  out->push_back(static_cast<char>(0x8a));
  out->push_back(static_cast<char>(n));
  PutLe(out, static_cast<uint64_t>(v), n);
}

Status Write(std::string* out, const PickleValue& v) {
  using K = PickleValue::Kind;
  switch (v.kind) {
    case K::kNone:
      out->push_back('N');
      return Status::Ok();
    case K::kBool:
      out->push_back(static_cast<char>(v.bool_value ? 0x88 : 0x89));
      return Status::Ok();
    case K::kInt:
      WriteInt(out, v.int_value);
      return Status::Ok();
    case K::kFloat: {
      uint64_t bits;
      std::memcpy(&bits, &v.float_value, 8);
      out->push_back('G');
      for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
      return Status::Ok();
    }
    case K::kString:
      out->push_back('X');
      PutLe(out, v.str.size(), 4);
      out->append(v.str);
      return Status::Ok();
    case K::kList: {
      out->push_back(']');
      if (v.items.empty()) return Status::Ok();
      out->push_back('(');
      size_t n = 0;
      for (const auto& item : v.items) {
        CP_RETURN_IF_ERROR(Write(out, item));
        if (++n == kBatch) {
          out->append("e(");
          n = 0;
        }
      }
      out->push_back('e');
      return Status::Ok();
    }
    case K::kDict: {
      out->push_back('}');
      if (v.pairs.empty()) return Status::Ok();
      out->push_back('(');
      size_t n = 0;
      for (const auto& kv : v.pairs) {
        CP_RETURN_IF_ERROR(Write(out, kv.first));
        CP_RETURN_IF_ERROR(Write(out, kv.second));
        if (++n == kBatch) {
          out->append("u(");
          n = 0;
        }
      }
      out->push_back('u');
      return Status::Ok();
    }
    case K::kTuple:
    case K::kGlobal:
    case K::kObject:
      return InvalidArgument("pickle writer: tuples, globals and objects are not written (1.x dict form only)");
  }
  return InvalidArgument("pickle writer: unknown value kind");
}

}  // namespace

Result<std::string> WritePickle(const PickleValue& value) {
  std::string out = "\x80\x03";
  CP_RETURN_IF_ERROR(Write(&out, value));
  out.push_back('.');
  return out;
}

}  // namespace chromapact::store
