// Pickle reader/writer: Chroma 1.5.9's real index_metadata.pickle (read + byte-exact rewrite), a 0.x
// class-instance pickle made by python3's pickle module at test time, python3 reading our writer's
// output, and malformed input.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "chromapact/store/hnsw_id_map.h"
#include "chromapact/store/pickle.h"
#include "support/paths.h"

namespace chromapact::store {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

bool HavePython() { return std::system("python3 -c 'import pickle' >/dev/null 2>&1") == 0; }

const char* kFixturePickle = "/chroma/fixtures/chroma-1.5.9-1200/8940f579-2fa4-4c85-9928-b7afb9f526f7/index_metadata.pickle";

TEST(PickleTest, ReadsChroma159PickleAndRewritesItByteForByte) {
  CP_REQUIRE_SHARED(shared);
  const std::string bytes = ReadAll(shared + kFixturePickle);
  ASSERT_FALSE(bytes.empty());
  auto map = ParseHnswIdMap(bytes);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_FALSE(map->dimensionality.has_value());
  EXPECT_FALSE(map->max_seq_id.has_value());
  EXPECT_EQ(map->total_elements_added, 1000);
  ASSERT_EQ(map->id_to_label.size(), 1000u);
  ASSERT_EQ(map->label_to_id.size(), 1000u);
  EXPECT_TRUE(map->id_to_seq_id.empty());
  // The fixture adds id0..id1199 in order, so 1.x labels are index + 1.
  for (const auto& kv : map->id_to_label) EXPECT_EQ(kv.second, std::stol(kv.first.substr(2)) + 1) << kv.first;
  for (const auto& kv : map->label_to_id) EXPECT_EQ(kv.first, std::stol(kv.second.substr(2)) + 1) << kv.second;
  // The file starts with serde_pickle's PROTO 3 + EMPTY_DICT + MARK + BINUNICODE, i.e. it was written by
  // 1.x, so our writer must reproduce it exactly.
  ASSERT_EQ(bytes.substr(0, 5), std::string("\x80\x03}(X", 5));
  EXPECT_EQ(WriteHnswIdMap(*map), bytes);
}

TEST(PickleTest, WriterMatchesSerdeBatching) {
  PickleValue d = PickleValue::Dict();
  EXPECT_EQ(*WritePickle(d), std::string("\x80\x03}.", 4));
  d.pairs.emplace_back(PickleValue::String("a"), PickleValue::Int(1));
  EXPECT_EQ(*WritePickle(d), std::string("\x80\x03}(X\x01\x00\x00\x00" "aJ\x01\x00\x00\x00u.", 17));
  // LONG1 for values outside int32, minimal two's complement.
  EXPECT_EQ(*WritePickle(PickleValue::Int(int64_t{1} << 31)), std::string("\x80\x03\x8a\x05\x00\x00\x00\x80\x00.", 10));
  EXPECT_EQ(*WritePickle(PickleValue::Int(-(int64_t{1} << 31) - 1)),
            std::string("\x80\x03\x8a\x05\xff\xff\xff\x7f\xff.", 10));
  EXPECT_EQ(*WritePickle(PickleValue::Int(-5)), std::string("\x80\x03J\xfb\xff\xff\xff.", 8));
  PickleValue t;
  t.kind = PickleValue::Kind::kTuple;
  EXPECT_EQ(WritePickle(t).status().code(), StatusCode::kInvalidArgument);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{INT32_MAX}, int64_t{INT32_MIN}, INT64_MAX, INT64_MIN,
                    int64_t{1} << 40, -(int64_t{1} << 40) + 3}) {
    auto back = ParsePickle(*WritePickle(PickleValue::Int(v)));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->int_value, v);
  }
}

// A 0.x PersistentData instance pickled by CPython (protocol 5) through a stand-in module with the real
// module path, and our writer's output read back by CPython.
TEST(PickleTest, InteroperatesWithCPython) {
  if (!HavePython()) GTEST_SKIP() << "python3 not found: cannot produce a 0.x-form pickle";
  const std::string dir = chromapact::testing::MakeTempDir("pickle-py");
  const std::string pkg = dir + "/chromadb/segment/impl/vector";
  ASSERT_EQ(std::system(("mkdir -p " + pkg).c_str()), 0);
  for (const std::string& p : {dir + "/chromadb", dir + "/chromadb/segment", dir + "/chromadb/segment/impl", pkg}) {
    WriteAll(p + "/__init__.py", "");
  }
  WriteAll(pkg + "/local_persistent_hnsw.py",
           "class PersistentData:\n"
           "    def __init__(self, dimensionality, total_elements_added, max_seq_id, id_to_label, label_to_id,"
           " id_to_seq_id):\n"
           "        self.dimensionality = dimensionality\n"
           "        self.total_elements_added = total_elements_added\n"
           "        self.max_seq_id = max_seq_id\n"
           "        self.id_to_label = id_to_label\n"
           "        self.label_to_id = label_to_id\n"
           "        self.id_to_seq_id = id_to_seq_id\n");
  // Labels of every opcode width: BININT1 (<256), BININT2 (<65536), BININT, LONG1 (seq ids > 2^31).
  WriteAll(dir + "/make.py",
           "import pickle, sys\n"
           "from chromadb.segment.impl.vector.local_persistent_hnsw import PersistentData\n"
           "ids = ['doc-%d' % i for i in range(1500)]\n"
           "labels = [i + 1 if i < 200 else i * 50 if i < 1000 else i * 100000 for i in range(1500)]\n"
           "d = PersistentData(384, 1500, 2**40 + 5, dict(zip(ids, labels)), dict(zip(labels, ids)),\n"
           "                   {k: 2**33 + i for i, k in enumerate(ids)})\n"
           "open(sys.argv[1], 'wb').write(pickle.dumps(d, protocol=5))\n");
  ASSERT_EQ(std::system(("cd " + dir + " && python3 make.py " + dir + "/old.pickle").c_str()), 0);
  const std::string old_bytes = ReadAll(dir + "/old.pickle");
  ASSERT_EQ(static_cast<unsigned char>(old_bytes[1]), 5u);  // protocol 5

  auto raw = ParsePickle(old_bytes);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->kind, PickleValue::Kind::kObject);
  EXPECT_EQ(raw->str, "chromadb.segment.impl.vector.local_persistent_hnsw.PersistentData");

  auto map = ParseHnswIdMap(old_bytes);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->dimensionality, 384);
  EXPECT_EQ(map->total_elements_added, 1500);
  EXPECT_EQ(map->max_seq_id, (int64_t{1} << 40) + 5);
  ASSERT_EQ(map->id_to_label.size(), 1500u);
  ASSERT_EQ(map->label_to_id.size(), 1500u);
  ASSERT_EQ(map->id_to_seq_id.size(), 1500u);
  for (size_t i = 0; i < 1500; ++i) {
    const int64_t label = i < 200 ? i + 1 : i < 1000 ? i * 50 : i * 100000;
    EXPECT_EQ(map->id_to_label[i].first, "doc-" + std::to_string(i));
    EXPECT_EQ(map->id_to_label[i].second, label);
    EXPECT_EQ(map->label_to_id[i].first, label);
    EXPECT_EQ(map->label_to_id[i].second, "doc-" + std::to_string(i));  // a memo BINGET of the key string
    EXPECT_EQ(map->id_to_seq_id[i].second, (int64_t{1} << 33) + static_cast<int64_t>(i));
  }

  // Our 1.x-form output of the same map, read by CPython: the dicts must be equal (2 SETITEMS batches).
  WriteAll(dir + "/new.pickle", WriteHnswIdMap(*map));
  WriteAll(dir + "/check.py",
           "import pickle, sys\n"
           "from chromadb.segment.impl.vector.local_persistent_hnsw import PersistentData\n"
           "old = pickle.load(open(sys.argv[1], 'rb')).__dict__\n"
           "new = pickle.load(open(sys.argv[2], 'rb'))\n"
           "sys.exit(0 if old == new else 1)\n");
  EXPECT_EQ(std::system(("cd " + dir + " && python3 check.py old.pickle new.pickle").c_str()), 0);
}

TEST(PickleTest, EveryTruncationIsCorruption) {
  HnswIdMap map;
  map.total_elements_added = 3;
  map.id_to_label = {{"a", 1}, {"b", 2}, {"c", 1 << 20}};
  map.label_to_id = {{1, "a"}, {2, "b"}, {1 << 20, "c"}};
  const std::string bytes = WriteHnswIdMap(map);
  ASSERT_TRUE(ParseHnswIdMap(bytes).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = ParsePickle(bytes.substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  }
}

TEST(PickleTest, MalformedInputs) {
  auto code = [](const std::string& s) { return ParsePickle(s).status().code(); };
  EXPECT_EQ(code(std::string("\x80\x06N.", 4)), StatusCode::kNotSupported);
  EXPECT_EQ(code("N.x"), StatusCode::kCorruption);          // bytes after STOP
  EXPECT_EQ(code("NN."), StatusCode::kCorruption);          // two values at STOP
  EXPECT_EQ(code("s."), StatusCode::kCorruption);           // underflow
  EXPECT_EQ(code("(N."), StatusCode::kCorruption);          // mark left
  EXPECT_EQ(code("Nu."), StatusCode::kCorruption);          // SETITEMS without MARK
  EXPECT_EQ(code("N(Nu."), StatusCode::kCorruption);        // SETITEMS target not a dict
  EXPECT_EQ(code("h\x07."), StatusCode::kCorruption);       // undefined memo
  EXPECT_EQ(code("X\xff\xff\xff\x7f" "abc."), StatusCode::kCorruption);  // length past the end
  EXPECT_EQ(code("\xff."), StatusCode::kCorruption);        // unknown opcode
  EXPECT_EQ(code("I12a\n."), StatusCode::kCorruption);
  EXPECT_EQ(code("I99999999999999999999\n."), StatusCode::kCorruption);
  EXPECT_EQ(code(std::string("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", 12)), StatusCode::kCorruption);
  EXPECT_EQ(code(")N\x81."), StatusCode::kCorruption);      // NEWOBJ of a non-global

  // Deep nesting stops at the depth limit instead of recursing.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "]";
  for (int i = 0; i < 9999; ++i) deep += "a";
  deep += ".";
  EXPECT_EQ(code(deep), StatusCode::kCorruption);

  // A memo bomb (each GET doubles the value) hits the value budget.
  std::string bomb("]q\x00", 3);
  for (int i = 0; i < 40; ++i) bomb += std::string("(h\x00h\x00lq\x00", 8);  // x = [x, x]
  bomb += ".";
  auto r = ParsePickle(bomb);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("budget"), std::string::npos) << r.status().ToString();

  // Top-level shape errors of the id map.
  EXPECT_EQ(ParseHnswIdMap(std::string("\x80\x03N.", 4)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseHnswIdMap(std::string("\x80\x03}(X\x0b\x00\x00\x00id_to_labelNXxu.", 25)).status().code(),
            StatusCode::kCorruption);
}

TEST(PickleTest, ReadsProtocol0TextOpcodes) {
  // dict(a=1, b=True) as CPython protocol 0 would write it.
  auto r = ParsePickle("(dp0\nVa\np1\nI1\nsVb\np2\nI01\ns.");
  // 'V' (UNICODE) is not in the opcode list Chroma needs: it must fail cleanly, not crash.
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  auto ok = ParsePickle("(dp0\nI7\ng0\ns.");  // {7: <the dict itself copied>}
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->pairs.size(), 1u);
  EXPECT_EQ(ok->pairs[0].first.int_value, 7);
}

}  // namespace
}  // namespace chromapact::store
