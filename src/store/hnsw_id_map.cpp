// index_metadata.pickle <-> HnswIdMap.
#include "chromapact/store/hnsw_id_map.h"

#include <type_traits>

#include "chromapact/store/pickle.h"

namespace chromapact::store {

namespace {

using K = PickleValue::Kind;

Status OptionalInt(const PickleValue* v, const char* key, std::optional<int64_t>* out) {
  if (v == nullptr || v->kind == K::kNone) return Status::Ok();
  if (v->kind != K::kInt) return Corruption(std::string("index_metadata.pickle: ") + key + " is not an int or None");
  *out = v->int_value;
  return Status::Ok();
}

// dict {str: int} or {int: str} depending on the template arguments.
template <typename Key, typename Value>
Status MapOf(const PickleValue* v, const char* key, std::vector<std::pair<Key, Value>>* out) {
  if (v == nullptr || v->kind == K::kNone) return Status::Ok();
  if (v->kind != K::kDict) return Corruption(std::string("index_metadata.pickle: ") + key + " is not a dict");
  out->reserve(v->pairs.size());
  for (const auto& kv : v->pairs) {
    const PickleValue& k = kv.first;
    const PickleValue& val = kv.second;
    if constexpr (std::is_same_v<Key, std::string>) {
      if (k.kind != K::kString || val.kind != K::kInt) {
        return Corruption(std::string("index_metadata.pickle: ") + key + " entry is not str -> int");
      }
      out->emplace_back(k.str, val.int_value);
    } else {
      if (k.kind != K::kInt || val.kind != K::kString) {
        return Corruption(std::string("index_metadata.pickle: ") + key + " entry is not int -> str");
      }
      out->emplace_back(k.int_value, val.str);
    }
  }
  return Status::Ok();
}

PickleValue StrIntDict(const std::vector<std::pair<std::string, int64_t>>& m) {
  PickleValue d = PickleValue::Dict();
  d.pairs.reserve(m.size());
  for (const auto& kv : m) d.pairs.emplace_back(PickleValue::String(kv.first), PickleValue::Int(kv.second));
  return d;
}

PickleValue OptInt(const std::optional<int64_t>& v) { return v ? PickleValue::Int(*v) : PickleValue::None(); }

}  // namespace

Result<HnswIdMap> ParseHnswIdMap(const std::string& pickle_bytes) {
  CP_ASSIGN_OR_RETURN(PickleValue root, ParsePickle(pickle_bytes));
  if (root.kind != K::kDict && root.kind != K::kObject) {
    return Corruption("index_metadata.pickle: top-level value is not a dict or an object");
  }
  HnswIdMap map;
  CP_RETURN_IF_ERROR(OptionalInt(root.Find("dimensionality"), "dimensionality", &map.dimensionality));
  std::optional<int64_t> total;
  CP_RETURN_IF_ERROR(OptionalInt(root.Find("total_elements_added"), "total_elements_added", &total));
  map.total_elements_added = total.value_or(0);
  CP_RETURN_IF_ERROR(OptionalInt(root.Find("max_seq_id"), "max_seq_id", &map.max_seq_id));
  CP_RETURN_IF_ERROR(MapOf(root.Find("id_to_label"), "id_to_label", &map.id_to_label));
  CP_RETURN_IF_ERROR(MapOf(root.Find("label_to_id"), "label_to_id", &map.label_to_id));
  CP_RETURN_IF_ERROR(MapOf(root.Find("id_to_seq_id"), "id_to_seq_id", &map.id_to_seq_id));
  return map;
}

std::string WriteHnswIdMap(const HnswIdMap& map) {
  PickleValue root = PickleValue::Dict();
  root.pairs.emplace_back(PickleValue::String("dimensionality"), OptInt(map.dimensionality));
  root.pairs.emplace_back(PickleValue::String("total_elements_added"), PickleValue::Int(map.total_elements_added));
  root.pairs.emplace_back(PickleValue::String("max_seq_id"), OptInt(map.max_seq_id));
  root.pairs.emplace_back(PickleValue::String("id_to_label"), StrIntDict(map.id_to_label));
  PickleValue label_to_id = PickleValue::Dict();
  label_to_id.pairs.reserve(map.label_to_id.size());
  for (const auto& kv : map.label_to_id) {
    label_to_id.pairs.emplace_back(PickleValue::Int(kv.first), PickleValue::String(kv.second));
  }
  root.pairs.emplace_back(PickleValue::String("label_to_id"), std::move(label_to_id));
  root.pairs.emplace_back(PickleValue::String("id_to_seq_id"), StrIntDict(map.id_to_seq_id));
  // Only None/int/str/dict values: WritePickle cannot fail here.
  return WritePickle(root).value();
}

}  // namespace chromapact::store
