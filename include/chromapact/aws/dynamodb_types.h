// DynamoDB's typed values (AttributeValue) and items, with their JSON wire form.
//
// Source: DynamoDB API Reference "AttributeValue" and "Data types": each value is a one-key JSON
// object naming its type — {"S": "text"}, {"N": "12.5"} (numbers travel as strings), {"B": base64},
// {"BOOL": true}, {"NULL": true}, {"M": {name: value}}, {"L": [value]}, {"SS": [...]},
// {"NS": ["1","2"]}, {"BS": [base64...]}.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "chromapact/status.h"

namespace chromapact::aws {

class AttributeValue;
// An item (or a key): attribute name -> value, ordered by name.
using Item = std::map<std::string, AttributeValue>;

// One DynamoDB value. A default-constructed value is NULL.
class AttributeValue {
 public:
  enum class Type { kNull, kS, kN, kB, kBool, kSS, kNS, kBS, kM, kL };

  AttributeValue() = default;
  AttributeValue(const AttributeValue& other);
  AttributeValue(AttributeValue&& other) noexcept = default;
  AttributeValue& operator=(const AttributeValue& other);
  AttributeValue& operator=(AttributeValue&& other) noexcept = default;
  ~AttributeValue();

  static AttributeValue Null();
  static AttributeValue S(std::string s);
  // A number given as its decimal text, sent as is (DynamoDB keeps up to 38 significant digits; the
  // text is validated by the server, not here).
  static AttributeValue N(std::string decimal);
  static AttributeValue N(int64_t n);
  // Raw bytes (base64 on the wire).
  static AttributeValue B(std::string bytes);
  static AttributeValue Bool(bool b);
  static AttributeValue SS(std::vector<std::string> strings);
  static AttributeValue NS(std::vector<std::string> decimals);
  static AttributeValue BS(std::vector<std::string> byte_strings);
  static AttributeValue M(Item map);
  static AttributeValue L(std::vector<AttributeValue> list);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  // Accessors return the held value; for a different type they return an empty value
  // ("" / false / empty container). Check type() first when the difference matters.
  const std::string& s() const;  // S; also the decimal text of N and the raw bytes of B
  bool boolean() const { return type_ == Type::kBool && bool_; }
  const std::vector<std::string>& set() const;  // SS, NS, BS (BS holds raw bytes)
  const Item& m() const;
  const std::vector<AttributeValue>& l() const;

  // The N value as a 64-bit integer. Errors: kInvalidArgument when the value is not N or its text
  // is not an integer in range.
  Result<int64_t> AsInt64() const;

  bool operator==(const AttributeValue& o) const;
  bool operator!=(const AttributeValue& o) const { return !(*this == o); }

  // DynamoDB JSON, e.g. {"N":"5"}.
  nlohmann::json ToJson() const;
  // Parses DynamoDB JSON. Errors: kInvalidArgument naming `where` (e.g. "Item.owner") and what is
  // wrong (not an object, not exactly one type key, wrong JSON type, bad base64).
  static Result<AttributeValue> FromJson(const nlohmann::json& j, const std::string& where = "value");

  // Short readable form for logs and test failure messages, e.g. {N:5} or {M:{a:{S:x}}}.
  std::string DebugString() const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string str_;                     // S, N (text), B (raw)
  std::vector<std::string> set_;        // SS, NS, BS
  std::vector<AttributeValue> list_;    // L
  std::unique_ptr<Item> map_;           // M (never null when type_ == kM)
};

// {"name": {"S": ...}, ...}
nlohmann::json ItemToJson(const Item& item);
// Errors: kInvalidArgument naming `where` + the attribute when the JSON is not an object of values.
Result<Item> ItemFromJson(const nlohmann::json& j, const std::string& where = "Item");

// Helpers for reading typed attributes out of an item. Each returns kNotFound naming the attribute
// when it is absent, kInvalidArgument when it has another type.
Result<std::string> GetString(const Item& item, const std::string& name);
Result<int64_t> GetInt64(const Item& item, const std::string& name);
Result<bool> GetBool(const Item& item, const std::string& name);
// nullptr when absent.
const AttributeValue* FindAttribute(const Item& item, const std::string& name);

std::string ItemDebugString(const Item& item);

// Expression parameters shared by the calls that take expressions. Placeholders are "#name" for
// attribute names (required for reserved words such as `owner`, `ttl`, `status`: DynamoDB
// "Reserved words" page) and ":value" for values.
struct ExpressionParams {
  std::map<std::string, std::string> names;  // ExpressionAttributeNames, e.g. {"#o", "owner"}
  Item values;                               // ExpressionAttributeValues, e.g. {":now", N(...)}
};

}  // namespace chromapact::aws
