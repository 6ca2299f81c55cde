#include "chromapact/aws/dynamodb_types.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "chromapact/crypto.h"

namespace chromapact::aws {
namespace {

const std::string& EmptyString() {
  static const std::string kEmpty;
  return kEmpty;
}

const char* TypeKey(AttributeValue::Type t) {
  switch (t) {
    case AttributeValue::Type::kNull: return "NULL";
    case AttributeValue::Type::kS: return "S";
    case AttributeValue::Type::kN: return "N";
    case AttributeValue::Type::kB: return "B";
    case AttributeValue::Type::kBool: return "BOOL";
    case AttributeValue::Type::kSS: return "SS";
    case AttributeValue::Type::kNS: return "NS";
    case AttributeValue::Type::kBS: return "BS";
    case AttributeValue::Type::kM: return "M";
    case AttributeValue::Type::kL: return "L";
  }
  return "?";
}

Result<std::vector<std::string>> StringArray(const nlohmann::json& j, const std::string& where, bool base64) {
  if (!j.is_array()) return InvalidArgument(where + ": expected a JSON array");
  std::vector<std::string> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    if (!e.is_string()) return InvalidArgument(where + "[" + std::to_string(i) + "]: expected a string");
    if (base64) {
      auto raw = Base64Decode(e.get_ref<const std::string&>());
      if (!raw.ok()) return InvalidArgument(where + "[" + std::to_string(i) + "]: bad base64");
      out.push_back(std::move(raw).value());
    } else {
      out.push_back(e.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

AttributeValue::AttributeValue(const AttributeValue& o)
    : type_(o.type_),
      bool_(o.bool_),
      str_(o.str_),
      set_(o.set_),
      list_(o.list_),
      map_(o.map_ ? std::make_unique<Item>(*o.map_) : nullptr) {}

AttributeValue& AttributeValue::operator=(const AttributeValue& o) {
  if (this != &o) {
    AttributeValue copy(o);
    *this = std::move(copy);
  }
  return *this;
}

AttributeValue::~AttributeValue() = default;

AttributeValue AttributeValue::Null() { return AttributeValue(); }

AttributeValue AttributeValue::S(std::string s) {
  AttributeValue v;
  v.type_ = Type::kS;
  v.str_ = std::move(s);
  return v;
}

AttributeValue AttributeValue::N(std::string decimal) {
  AttributeValue v;
  v.type_ = Type::kN;
  v.str_ = std::move(decimal);
  return v;
}

AttributeValue AttributeValue::N(int64_t n) { return N(std::to_string(n)); }

AttributeValue AttributeValue::B(std::string bytes) {
  AttributeValue v;
  v.type_ = Type::kB;
  v.str_ = std::move(bytes);
  return v;
}

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

AttributeValue AttributeValue::SS(std::vector<std::string> strings) {
  AttributeValue v;
  v.type_ = Type::kSS;
  v.set_ = std::move(strings);
  return v;
}

AttributeValue AttributeValue::NS(std::vector<std::string> decimals) {
  AttributeValue v;
  v.type_ = Type::kNS;
  v.set_ = std::move(decimals);
  return v;
}

AttributeValue AttributeValue::BS(std::vector<std::string> byte_strings) {
  AttributeValue v;
  v.type_ = Type::kBS;
  v.set_ = std::move(byte_strings);
  return v;
}

AttributeValue AttributeValue::M(Item map) {
  AttributeValue v;
  v.type_ = Type::kM;
  v.map_ = std::make_unique<Item>(std::move(map));
  return v;
}

AttributeValue AttributeValue::L(std::vector<AttributeValue> list) {
  AttributeValue v;
  v.type_ = Type::kL;
  v.list_ = std::move(list);
  return v;
}

const std::string& AttributeValue::s() const {
  return (type_ == Type::kS || type_ == Type::kN || type_ == Type::kB) ? str_ : EmptyString();
}

const std::vector<std::string>& AttributeValue::set() const {
  static const std::vector<std::string> kEmpty;
  return (type_ == Type::kSS || type_ == Type::kNS || type_ == Type::kBS) ? set_ : kEmpty;
}

const Item& AttributeValue::m() const {
  static const Item kEmpty;
  return (type_ == Type::kM && map_) ? *map_ : kEmpty;
}

const std::vector<AttributeValue>& AttributeValue::l() const {
  static const std::vector<AttributeValue> kEmpty;
  return type_ == Type::kL ? list_ : kEmpty;
}

Result<int64_t> AttributeValue::AsInt64() const {
  if (type_ != Type::kN) return InvalidArgument(std::string("expected N, got ") + TypeKey(type_));
  if (str_.empty()) return InvalidArgument("empty number");
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(str_.c_str(), &end, 10);
  if (errno == ERANGE) return InvalidArgument("number out of int64 range: " + str_);
  if (end == nullptr || *end != '\0') return InvalidArgument("number is not an integer: " + str_);
  return static_cast<int64_t>(n);
}

bool AttributeValue::operator==(const AttributeValue& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::kNull: return true;
    case Type::kS:
    case Type::kN:
    case Type::kB: return str_ == o.str_;
    case Type::kBool: return bool_ == o.bool_;
    // Sets are unordered (DynamoDB returns them in any order).
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: return Sorted(set_) == Sorted(o.set_);
    case Type::kM: return m() == o.m();
    case Type::kL: return list_ == o.list_;
  }
  return false;
}

nlohmann::json AttributeValue::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  switch (type_) {
    case Type::kNull: j["NULL"] = true; break;
    case Type::kS: j["S"] = str_; break;
    case Type::kN: j["N"] = str_; break;
    case Type::kB: j["B"] = Base64Encode(str_); break;
    case Type::kBool: j["BOOL"] = bool_; break;
    case Type::kSS: j["SS"] = set_; break;
    case Type::kNS: j["NS"] = set_; break;
    case Type::kBS: {
      auto arr = nlohmann::json::array();
      for (const auto& b : set_) arr.push_back(Base64Encode(b));
      j["BS"] = std::move(arr);
      break;
    }
    case Type::kM: j["M"] = ItemToJson(m()); break;
    case Type::kL: {
      auto arr = nlohmann::json::array();
      for (const auto& v : list_) arr.push_back(v.ToJson());
      j["L"] = std::move(arr);
      break;
    }
  }
  return j;
}

Result<AttributeValue> AttributeValue::FromJson(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected a JSON object");
  if (j.size() != 1) return InvalidArgument(where + ": expected exactly one type key, got " + std::to_string(j.size()));
  const std::string& key = j.begin().key();
  const nlohmann::json& v = j.begin().value();
  const std::string at = where + "." + key;
  if (key == "S" || key == "N") {
    if (!v.is_string()) return InvalidArgument(at + ": expected a string");
    return key == "S" ? S(v.get<std::string>()) : N(v.get<std::string>());
  }
  if (key == "B") {
    if (!v.is_string()) return InvalidArgument(at + ": expected a base64 string");
    auto raw = Base64Decode(v.get_ref<const std::string&>());
    if (!raw.ok()) return InvalidArgument(at + ": bad base64");
    return B(std::move(raw).value());
  }
  if (key == "BOOL") {
    if (!v.is_boolean()) return InvalidArgument(at + ": expected true or false");
    return Bool(v.get<bool>());
  }
  if (key == "NULL") {
    if (!v.is_boolean()) return InvalidArgument(at + ": expected true");
    return Null();
  }
  if (key == "SS" || key == "NS" || key == "BS") {
    CP_ASSIGN_OR_RETURN(auto strings, StringArray(v, at, key == "BS"));
    if (key == "SS") return SS(std::move(strings));
    if (key == "NS") return NS(std::move(strings));
    return BS(std::move(strings));
  }
  if (key == "M") {
    CP_ASSIGN_OR_RETURN(Item item, ItemFromJson(v, at));
    return M(std::move(item));
  }
  if (key == "L") {
    if (!v.is_array()) return InvalidArgument(at + ": expected a JSON array");
    std::vector<AttributeValue> list;
    list.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      CP_ASSIGN_OR_RETURN(auto e, FromJson(v[i], at + "[" + std::to_string(i) + "]"));
      list.push_back(std::move(e));
    }
    return L(std::move(list));
  }
  return InvalidArgument(where + ": unknown type key '" + key + "'");
}

std::string AttributeValue::DebugString() const {
  std::string out = std::string("{") + TypeKey(type_) + ":";
  switch (type_) {
    case Type::kNull: out += "true"; break;
    case Type::kS:
    case Type::kN: out += str_; break;
    case Type::kB: out += Base64Encode(str_); break;
    case Type::kBool: out += bool_ ? "true" : "false"; break;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: {
      out += "[";
      for (size_t i = 0; i < set_.size(); ++i) {
        if (i) out += ",";
        out += type_ == Type::kBS ? Base64Encode(set_[i]) : set_[i];
      }
      out += "]";
      break;
    }
    case Type::kM: out += ItemDebugString(m()); break;
    case Type::kL: {
      out += "[";
      for (size_t i = 0; i < list_.size(); ++i) {
        if (i) out += ",";
        out += list_[i].DebugString();
      }
      out += "]";
      break;
    }
  }
  return out + "}";
}

nlohmann::json ItemToJson(const Item& item) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : item) j[name] = value.ToJson();
  return j;
}

Result<Item> ItemFromJson(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": expected a JSON object of attributes");
  Item item;
  for (auto it = j.begin(); it != j.end(); ++it) {
    CP_ASSIGN_OR_RETURN(auto v, AttributeValue::FromJson(it.value(), where + "." + it.key()));
    item.emplace(it.key(), std::move(v));
  }
  return item;
}

const AttributeValue* FindAttribute(const Item& item, const std::string& name) {
  auto it = item.find(name);
  return it == item.end() ? nullptr : &it->second;
}

Result<std::string> GetString(const Item& item, const std::string& name) {
  const AttributeValue* v = FindAttribute(item, name);
  if (v == nullptr) return NotFound("attribute '" + name + "' is absent");
  if (v->type() != AttributeValue::Type::kS) {
    return InvalidArgument("attribute '" + name + "': expected S, got " + TypeKey(v->type()));
  }
  return v->s();
}

Result<int64_t> GetInt64(const Item& item, const std::string& name) {
  const AttributeValue* v = FindAttribute(item, name);
  if (v == nullptr) return NotFound("attribute '" + name + "' is absent");
  auto n = v->AsInt64();
  if (!n.ok()) return n.status().WithContext("attribute '" + name + "'");
  return n;
}

Result<bool> GetBool(const Item& item, const std::string& name) {
  const AttributeValue* v = FindAttribute(item, name);
  if (v == nullptr) return NotFound("attribute '" + name + "' is absent");
  if (v->type() != AttributeValue::Type::kBool) {
    return InvalidArgument("attribute '" + name + "': expected BOOL, got " + TypeKey(v->type()));
  }
  return v->boolean();
}

std::string ItemDebugString(const Item& item) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : item) {
    if (!first) out += ",";
    first = false;
    out += name + ":" + value.DebugString();
  }
  return out + "}";
}

}  // namespace chromapact::aws
