// The pickle VM (opcode semantics: CPython Lib/pickletools.py). Every read is bounds-checked and every
// value counts against a budget, so malformed or hostile input ends in kCorruption.
#include <cstring>
#include <unordered_map>

#include "chromapact/store/pickle.h"

namespace chromapact::store {

namespace {

enum Op : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kInt = 'I',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kGet = 'g',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kPut = 'p',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinFloat = 'G',
  kProto = 0x80,
  kNewObj = 0x81,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
};

struct Node {
  PickleValue value;
  size_t depth = 0;   // nesting depth of value
  size_t weight = 1;  // values inside value, itself included
};

class Vm {
 public:
  Vm(const std::string& data, const PickleLimits& limits)
      : p_(reinterpret_cast<const uint8_t*>(data.data())),
        n_(data.size()),
        limits_(limits),
        budget_(limits.max_values_per_byte * data.size() + limits.max_values_slack) {}

  Result<PickleValue> Run();

 private:
  Status Fail(const std::string& what) const {
    return Corruption("pickle: " + what + " (opcode 0x" + Hex(op_) + " at byte " + std::to_string(op_pos_) + ")");
  }
  static std::string Hex(uint8_t b) {
    const char* d = "0123456789abcdef";
    return std::string{d[b >> 4], d[b & 15]};
  }
  Status Need(size_t k) const { return n_ - pos_ < k ? Fail("truncated argument") : Status::Ok(); }
  uint64_t ReadLe(size_t k) {
    uint64_t v = 0;
    for (size_t i = 0; i < k; ++i) v |= static_cast<uint64_t>(p_[pos_ + i]) << (8 * i);
    pos_ += k;
    return v;
  }
  Result<std::string> ReadLine() {
    const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
    if (nl == nullptr) return Fail("unterminated line argument");
    const size_t end = static_cast<const uint8_t*>(nl) - p_;
    std::string s(reinterpret_cast<const char*>(p_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  Status Charge(size_t weight) {
    if (weight > budget_) return Fail("value budget exceeded");
    budget_ -= weight;
    return Status::Ok();
  }
  Status Push(Node node) {
    CP_RETURN_IF_ERROR(Charge(1));
    stack_.push_back(std::move(node));
    return Status::Ok();
  }
  Status PushValue(PickleValue v) {
    Node n;
    n.value = std::move(v);
    return Push(std::move(n));
  }
  Result<Node> Pop() {
    if (stack_.size() <= Floor()) return Fail("stack underflow");
    Node n = std::move(stack_.back());
    stack_.pop_back();
    return n;
  }
  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the topmost MARK (and the MARK).
  Result<std::vector<Node>> PopMark() {
    if (marks_.empty()) return Fail("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Node> items(std::make_move_iterator(stack_.begin() + m), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }
  Status Adopt(Node& parent, const Node& child) {
    parent.depth = std::max(parent.depth, child.depth + 1);
    parent.weight += child.weight;
    if (parent.depth > limits_.max_depth) return Fail("nesting deeper than " + std::to_string(limits_.max_depth));
    return Status::Ok();
  }
  Status MakeTuple(std::vector<Node> items);
  Status SetItems(std::vector<Node> kv);
  Status Appends(std::vector<Node> items);
  Status Memo(uint64_t key) {
    if (stack_.size() <= Floor()) return Fail("memoize with an empty stack");
    if (memo_.size() >= budget_) return Fail("value budget exceeded");
    CP_RETURN_IF_ERROR(Charge(stack_.back().weight));
    memo_[key] = stack_.back();
    return Status::Ok();
  }
  Status Recall(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) return Fail("memo key " + std::to_string(key) + " not defined");
    CP_RETURN_IF_ERROR(Charge(it->second.weight));
    stack_.push_back(it->second);
    return Status::Ok();
  }
  Status Step(uint8_t op, bool* stop);

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  uint8_t op_ = 0;
  size_t op_pos_ = 0;
  PickleLimits limits_;
  size_t budget_;
  std::vector<Node> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Node> memo_;
};

Status Vm::MakeTuple(std::vector<Node> items) {
  Node t;
  t.value.kind = PickleValue::Kind::kTuple;
  for (auto& it : items) {
    CP_RETURN_IF_ERROR(Adopt(t, it));
    t.value.items.push_back(std::move(it.value));
  }
  return Push(std::move(t));
}

Status Vm::SetItems(std::vector<Node> kv) {
  if (kv.size() % 2 != 0) return Fail("odd number of items for SETITEMS");
  if (stack_.size() <= Floor()) return Fail("SETITEMS without a dict");
  Node& target = stack_.back();
  if (target.value.kind != PickleValue::Kind::kDict && target.value.kind != PickleValue::Kind::kObject) {
    return Fail("SETITEM(S) target is not a dict");
  }
  for (size_t i = 0; i < kv.size(); i += 2) {
    CP_RETURN_IF_ERROR(Adopt(target, kv[i]));
    CP_RETURN_IF_ERROR(Adopt(target, kv[i + 1]));
    target.value.pairs.emplace_back(std::move(kv[i].value), std::move(kv[i + 1].value));
  }
  return Status::Ok();
}

Status Vm::Appends(std::vector<Node> items) {
  if (stack_.size() <= Floor()) return Fail("APPEND(S) without a list");
  Node& target = stack_.back();
  if (target.value.kind != PickleValue::Kind::kList) return Fail("APPEND(S) target is not a list");
  for (auto& it : items) {
    CP_RETURN_IF_ERROR(Adopt(target, it));
    target.value.items.push_back(std::move(it.value));
  }
  return Status::Ok();
}

Status Vm::Step(uint8_t op, bool* stop) {
  using K = PickleValue::Kind;
  switch (op) {
    case kProto: {
      CP_RETURN_IF_ERROR(Need(1));
      const uint8_t v = p_[pos_++];
      if (v > 5) return NotSupported("pickle: protocol " + std::to_string(v) + " (at most 5 is read)");
      return Status::Ok();
    }
    case kFrame:
      CP_RETURN_IF_ERROR(Need(8));
      pos_ += 8;  // frame length: a buffering hint only
      return Status::Ok();
    case kMark:
      CP_RETURN_IF_ERROR(Charge(1));
      marks_.push_back(stack_.size());
      return Status::Ok();
    case kStop:
      *stop = true;
      return Status::Ok();
    case kPop: {
      CP_ASSIGN_OR_RETURN(Node ignored, Pop());
      (void)ignored;
      return Status::Ok();
    }
    case kPopMark: {
      CP_ASSIGN_OR_RETURN(auto ignored, PopMark());
      (void)ignored;
      return Status::Ok();
    }
    case kNone:
      return PushValue(PickleValue::None());
    case kNewTrue:
      return PushValue(PickleValue::Bool(true));
    case kNewFalse:
      return PushValue(PickleValue::Bool(false));
    case kInt: {
      CP_ASSIGN_OR_RETURN(std::string line, ReadLine());
      if (line == "00") return PushValue(PickleValue::Bool(false));
      if (line == "01") return PushValue(PickleValue::Bool(true));
      if (line.empty() || line.size() > 20) return Fail("bad INT literal");
      size_t i = (line[0] == '-' || line[0] == '+') ? 1 : 0;
      if (i == line.size()) return Fail("bad INT literal");
      unsigned __int128 acc = 0;
      for (; i < line.size(); ++i) {
        if (line[i] < '0' || line[i] > '9') return Fail("bad INT literal");
        acc = acc * 10 + static_cast<unsigned>(line[i] - '0');
      }
      const bool neg = line[0] == '-';
      if (acc > (neg ? static_cast<unsigned __int128>(INT64_MAX) + 1 : static_cast<unsigned __int128>(INT64_MAX))) {
        return Fail("INT out of int64 range");
      }
      const int64_t v = neg ? static_cast<int64_t>(-static_cast<__int128>(acc)) : static_cast<int64_t>(acc);
      return PushValue(PickleValue::Int(v));
    }
    case kBinInt:
      CP_RETURN_IF_ERROR(Need(4));
      return PushValue(PickleValue::Int(static_cast<int32_t>(static_cast<uint32_t>(ReadLe(4)))));
    case kBinInt1:
      CP_RETURN_IF_ERROR(Need(1));
      return PushValue(PickleValue::Int(static_cast<int64_t>(ReadLe(1))));
    case kBinInt2:
      CP_RETURN_IF_ERROR(Need(2));
      return PushValue(PickleValue::Int(static_cast<int64_t>(ReadLe(2))));
    case kLong1: {
      CP_RETURN_IF_ERROR(Need(1));
      const size_t len = p_[pos_++];
      CP_RETURN_IF_ERROR(Need(len));
      if (len > 8) {
        // Accept only a sign extension of an int64.
        const uint8_t ext = (p_[pos_ + 7] & 0x80) ? 0xff : 0x00;
        for (size_t i = 8; i < len; ++i) {
          if (p_[pos_ + i] != ext) return Fail("LONG1 value out of int64 range");
        }
      }
      const size_t used = len > 8 ? 8 : len;
      uint64_t v = len == 0 ? 0 : ReadLe(used);
      pos_ += len - used;
      if (used > 0 && used < 8 && (v >> (8 * used - 1)) & 1) v |= ~uint64_t{0} << (8 * used);  // sign-extend
      return PushValue(PickleValue::Int(static_cast<int64_t>(v)));
    }
    case kBinFloat: {
      CP_RETURN_IF_ERROR(Need(8));
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p_[pos_ + i];
      pos_ += 8;
      PickleValue v;
      v.kind = K::kFloat;
      std::memcpy(&v.float_value, &bits, 8);
      return PushValue(std::move(v));
    }
    case kShortBinUnicode:
    case kBinUnicode:
    case kBinUnicode8: {
      const size_t width = op == kShortBinUnicode ? 1 : op == kBinUnicode ? 4 : 8;
      CP_RETURN_IF_ERROR(Need(width));
      const uint64_t len = ReadLe(width);
      if (len > n_ - pos_) return Fail("string length " + std::to_string(len) + " past the end");
      PickleValue v = PickleValue::String(std::string(reinterpret_cast<const char*>(p_ + pos_), len));
      pos_ += len;
      return PushValue(std::move(v));
    }
    case kEmptyDict:
      return PushValue(PickleValue::Dict());
    case kEmptyList: {
      PickleValue v;
      v.kind = K::kList;
      return PushValue(std::move(v));
    }
    case kEmptyTuple:
      return MakeTuple({});
    case kTuple1:
    case kTuple2:
    case kTuple3: {
      const size_t count = op - kTuple1 + 1;
      if (stack_.size() < Floor() + count) return Fail("stack underflow");
      std::vector<Node> items(std::make_move_iterator(stack_.end() - count), std::make_move_iterator(stack_.end()));
      stack_.resize(stack_.size() - count);
      return MakeTuple(std::move(items));
    }
    case kTuple: {
      CP_ASSIGN_OR_RETURN(auto items, PopMark());
      return MakeTuple(std::move(items));
    }
    case kDict: {
      CP_ASSIGN_OR_RETURN(auto kv, PopMark());
      CP_RETURN_IF_ERROR(PushValue(PickleValue::Dict()));
      return SetItems(std::move(kv));
    }
    case kList: {
      CP_ASSIGN_OR_RETURN(auto items, PopMark());
      PickleValue v;
      v.kind = K::kList;
      CP_RETURN_IF_ERROR(PushValue(std::move(v)));
      return Appends(std::move(items));
    }
    case kSetItem: {
      CP_ASSIGN_OR_RETURN(Node value, Pop());
      CP_ASSIGN_OR_RETURN(Node key, Pop());
      std::vector<Node> kv;
      kv.push_back(std::move(key));
      kv.push_back(std::move(value));
      return SetItems(std::move(kv));
    }
    case kSetItems: {
      CP_ASSIGN_OR_RETURN(auto kv, PopMark());
      return SetItems(std::move(kv));
    }
    case kAppend: {
      CP_ASSIGN_OR_RETURN(Node item, Pop());
      std::vector<Node> items;
      items.push_back(std::move(item));
      return Appends(std::move(items));
    }
    case kAppends: {
      CP_ASSIGN_OR_RETURN(auto items, PopMark());
      return Appends(std::move(items));
    }
    case kMemoize:
      return Memo(memo_.size());
    case kBinPut:
      CP_RETURN_IF_ERROR(Need(1));
      return Memo(ReadLe(1));
    case kLongBinPut:
      CP_RETURN_IF_ERROR(Need(4));
      return Memo(ReadLe(4));
    case kBinGet:
      CP_RETURN_IF_ERROR(Need(1));
      return Recall(ReadLe(1));
    case kLongBinGet:
      CP_RETURN_IF_ERROR(Need(4));
      return Recall(ReadLe(4));
    case kPut:
    case kGet: {
      CP_ASSIGN_OR_RETURN(std::string line, ReadLine());
      if (line.empty() || line.size() > 18) return Fail("bad memo index");
      uint64_t key = 0;
      for (char c : line) {
        if (c < '0' || c > '9') return Fail("bad memo index");
        key = key * 10 + static_cast<uint64_t>(c - '0');
      }
      return op == kPut ? Memo(key) : Recall(key);
    }
    case kGlobal: {
      CP_ASSIGN_OR_RETURN(std::string module, ReadLine());
      CP_ASSIGN_OR_RETURN(std::string name, ReadLine());
      PickleValue v;
      v.kind = K::kGlobal;
      v.str = module + "." + name;
      return PushValue(std::move(v));
    }
    case kStackGlobal: {
      CP_ASSIGN_OR_RETURN(Node name, Pop());
      CP_ASSIGN_OR_RETURN(Node module, Pop());
      if (name.value.kind != K::kString || module.value.kind != K::kString) {
        return Fail("STACK_GLOBAL operands are not strings");
      }
      PickleValue v;
      v.kind = K::kGlobal;
      v.str = module.value.str + "." + name.value.str;
      return PushValue(std::move(v));
    }
    case kNewObj: {
      CP_ASSIGN_OR_RETURN(Node args, Pop());
      CP_ASSIGN_OR_RETURN(Node cls, Pop());
      if (cls.value.kind != K::kGlobal) return Fail("NEWOBJ class is not a global");
      if (args.value.kind != K::kTuple) return Fail("NEWOBJ arguments are not a tuple");
      PickleValue v;
      v.kind = K::kObject;
      v.str = cls.value.str;
      return PushValue(std::move(v));
    }
    case kBuild: {
      CP_ASSIGN_OR_RETURN(Node state, Pop());
      if (stack_.size() <= Floor()) return Fail("BUILD without an object");
      Node& target = stack_.back();
      if (target.value.kind != K::kObject && target.value.kind != K::kDict) {
        return Fail("BUILD target is not an object");
      }
      if (state.value.kind == K::kNone) return Status::Ok();
      if (state.value.kind != K::kDict) return Fail("BUILD state is not a dict");
      CP_RETURN_IF_ERROR(Adopt(target, state));
      for (auto& kv : state.value.pairs) target.value.pairs.push_back(std::move(kv));
      return Status::Ok();
    }
    default:
      return Fail("unsupported opcode");
  }
}

Result<PickleValue> Vm::Run() {
  bool stop = false;
  while (!stop) {
    if (pos_ >= n_) return Corruption("pickle: no STOP before the end of " + std::to_string(n_) + " bytes");
    op_pos_ = pos_;
    op_ = p_[pos_++];
    CP_RETURN_IF_ERROR(Step(op_, &stop));
  }
  if (pos_ != n_) return Corruption("pickle: " + std::to_string(n_ - pos_) + " bytes after STOP");
  if (stack_.size() != 1 || !marks_.empty()) {
    return Corruption("pickle: STOP with " + std::to_string(stack_.size()) + " values and " +
                      std::to_string(marks_.size()) + " marks on the stack (expected 1 and 0)");
  }
  return std::move(stack_.back().value);
}

}  // namespace

Result<PickleValue> ParsePickle(const std::string& data, const PickleLimits& limits) {
  Vm vm(data, limits);
  return vm.Run();
}

}  // namespace chromapact::store
