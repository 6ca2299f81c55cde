// The operator's CLI (tools/chromapact) as a real process against moto_server with signature
// checking on: status, import, export, query, diff, redrive and lease release, each checked against
// what the writes (through the real producer, applied by the real compactor) and Chroma's semantics
// say the collection holds — the Model of support/pipeline_fixture.h, never the CLI's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "chromapact/pipeline/compactor.h"
#include "chromapact/pipeline/lease.h"
#include "chromapact/store/store.h"
#include "chromapact/embed/openai_embeddings.h"
#include "support/embeddings_server.h"
#include "support/pipeline_fixture.h"
#include "support/run_command.h"

namespace chromapact::pipeline::fixture {
namespace {

using testing::CommandRun;

class OpsCliTest : public PipelineMotoTest {
 protected:
  static std::vector<std::string> Env() {
    return {"AWS_ACCESS_KEY_ID=" + admin_->access_key_id, "AWS_SECRET_ACCESS_KEY=" + admin_->secret_access_key,
            "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + moto_->endpoint(),
            std::string("CHROMAPACT_BUCKET=") + kBucket, std::string("CHROMAPACT_TABLE=") + kTable};
  }
  // Runs `chromapact args...` with the admin's keys and the bucket/table in the environment.
  static CommandRun Cli(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {testing::BuildDir() + "/tools/chromapact/chromapact"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> all = Env();
    all.insert(all.end(), env.begin(), env.end());
    return testing::RunCommand(argv, all, {"AWS_", "CHROMAPACT_"});
  }
  // The JSON document of a `--json` run that must succeed.
  static nlohmann::json CliJson(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    std::vector<std::string> with = args;
    with.push_back("--json");
    CommandRun r = Cli(with, std::move(env));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  // One compactor cycle per shard; each must succeed.
  void Compact(Seams* s, const std::string& collection, int shards, const std::string& tag) {
    for (int i = 0; i < shards; ++i) {
      Compactor c(s->kv.get(), s->objects.get(), s->queue.get(), &clock_, Options(tag, 60000));
      CycleResult r = c.RunCycle({collection, i}, {});
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    }
  }
  // The records of `collection` in the persist directory `dir` (opened read-only), by id.
  static std::map<std::string, ModelRecord> ReadDir(const std::string& dir, const std::string& collection) {
    std::map<std::string, ModelRecord> out;
    store::OpenOptions ro;
    ro.read_only = true;
    auto st = store::Store::Open(dir, ro);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return out;
    store::GetRequest req;
    req.include = store::kIncludeEmbeddings | store::kIncludeDocuments | store::kIncludeMetadatas;
    auto got = (*st)->Get(collection, req);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return out;
    for (size_t i = 0; i < got->ids.size(); ++i) {
      out[got->ids[i]] = ModelRecord{(*got->embeddings)[i], (*got->documents)[i], (*got->metadatas)[i]};
    }
    return out;
  }
  // Every record of `want` in `got` with the same document and metadata and an embedding within
  // 1e-6 per component (a cosine collection keeps normalized vectors and their norms, so a vector
  // read back and inserted again moves by an ulp), and nothing else; names what differs.
  static void ExpectSameRecords(const std::map<std::string, ModelRecord>& got,
                                const std::map<std::string, ModelRecord>& want) {
    EXPECT_EQ(got.size(), want.size());
    int reported = 0;
    for (const auto& [id, w] : want) {
      auto it = got.find(id);
      if (it == got.end()) {
        ADD_FAILURE() << "missing " << id;
      } else if (it->second.document != w.document || it->second.metadata != w.metadata) {
        ADD_FAILURE() << id << ": document/metadata " << it->second.document.value_or("<none>") << " "
                      << it->second.metadata.dump() << " want " << w.document.value_or("<none>") << " "
                      << w.metadata.dump();
      } else {
        bool close = it->second.embedding.size() == w.embedding.size();
        for (size_t k = 0; close && k < w.embedding.size(); ++k) {
          close = std::fabs(it->second.embedding[k] - w.embedding[k]) <= 1e-6f;
        }
        if (close) continue;
        ADD_FAILURE() << id << ": embedding differs: " << nlohmann::json(it->second.embedding).dump() << " want "
                      << nlohmann::json(w.embedding).dump();
      }
      if (++reported == 5) return;
    }
  }
  // A Chroma directory written by our store with `n` records "r<i>" of collection `name`: random
  // embeddings, DocumentFor / MetadataFor (seed 0).
  static std::string MakeDir(const std::string& name, int n, std::map<std::string, ModelRecord>* model) {
    const std::string dir = testing::MakeTempDir("chroma-dir");
    auto st = store::Store::Open(dir, {});
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    store::CollectionOptions o;
    o.metadata = {{"source", "cli-test"}};
    EXPECT_TRUE((*st)->CreateCollection(name, o).ok());
    store::RecordBatch b;
    for (int i = 0; i < n; ++i) {
      const std::string id = "r" + std::to_string(i);
      // Distinct random vectors: no two records tie in distance, so both sides' top-k agree exactly.
      std::mt19937 rng(static_cast<uint32_t>(i) + 1);
      std::normal_distribution<float> normal;
      std::vector<float> e(kDim);
      for (auto& x : e) x = normal(rng);
      b.ids.push_back(id);
      b.embeddings.insert(b.embeddings.end(), e.begin(), e.end());
      b.documents.push_back(DocumentFor(id, 0));
      b.metadatas.push_back(MetadataFor(id, 0));
      (*model)[id] = ModelRecord{e, DocumentFor(id, 0), MetadataFor(id, 0)};
    }
    Status add = (*st)->Add(name, b);
    EXPECT_TRUE(add.ok()) << add.ToString();
    EXPECT_TRUE((*st)->Persist().ok());
    return dir;
  }

  ManualClock clock_{1'000'000};
};

TEST_F(OpsCliTest, StatusReportsVersionPendingDeltasAndLease) {
  Seams s = NewSeams(CreateFifoQueue("ops-status-q"));
  const ShardId shard{"ops-status", 0};
  Model model;
  for (int i = 0; i < 3; ++i) Produce(&s, shard, Op(codec::DeltaOp::kUpsert, {"a" + std::to_string(i)}, i), &model);
  Compact(&s, shard.collection, 1, "status");
  Produce(&s, shard, Op(codec::DeltaOp::kUpsert, {"b0"}, 7), &model);
  Produce(&s, shard, Op(codec::DeltaOp::kDelete, {"a0"}), &model);

  nlohmann::json j = CliJson({"status", "ops-status"});
  ASSERT_EQ(j["collections"].size(), 1u) << j.dump();
  const auto& c = j["collections"][0];
  EXPECT_EQ(c["collection"], "ops-status");
  EXPECT_EQ(c["record_count"], 3);  // what version 1 holds: the three upserts
  EXPECT_EQ(c["pending"], 2);
  const auto& sh = c["shards"][0];
  EXPECT_EQ(sh["version"], 1);
  EXPECT_EQ(sh["log_position"], 3);
  EXPECT_EQ(sh["last_sequence"], 5);
  EXPECT_EQ(sh["dimension"], kDim);
  EXPECT_EQ(sh["lease"]["held"], false);
  EXPECT_TRUE(j["dlq_depth"].is_null());

  // A held lease shows its holder; without a collection every collection in the bucket is listed.
  SystemClock wall;
  LeaseTable wall_leases(s.kv.get(), &wall);
  ASSERT_TRUE(wall_leases.Acquire(shard, "stuck-compactor").ok());
  CommandRun text = Cli({"status"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("collection ops-status: 3 records, 2 pending"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("held by stuck-compactor"), std::string::npos) << text.out;

  // After the next cycle nothing is pending and the version holds the model.
  ASSERT_TRUE(wall_leases.ForceRelease(shard).ok());
  Compact(&s, shard.collection, 1, "status2");
  nlohmann::json after = CliJson({"status", "ops-status"});
  EXPECT_EQ(after["collections"][0]["pending"], 0);
  EXPECT_EQ(after["collections"][0]["record_count"], model.Live().size());
  EXPECT_EQ(after["collections"][0]["shards"][0]["log_position"], 5);
}

TEST_F(OpsCliTest, MissingConfigurationIsNamed) {
  CommandRun r = testing::RunCommand({testing::BuildDir() + "/tools/chromapact/chromapact", "status", "x-coll"},
                                     {"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b",
                                      "AWS_ENDPOINT_URL=" + moto_->endpoint()},
                                     {"AWS_", "CHROMAPACT_"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--bucket: not given"), std::string::npos) << r.err;
}

TEST_F(OpsCliTest, LeaseReleaseForceStopsTheHolderBeforeItsCommit) {
  Seams s = NewSeams(CreateFifoQueue("ops-lease-q"));
  const ShardId shard{"ops-lease", 0};
  Model model;
  Produce(&s, shard, Op(codec::DeltaOp::kUpsert, {"x"}, 1), &model);

  // Without --force nothing changes.
  CommandRun refused = Cli({"lease", "release", "ops-lease"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;

  // A compactor whose lease is broken while it uploads does not move the pointer.
  CompactorOptions o = Options("lease", 60000);
  std::string released_out;
  o.step_hook = [&](std::string_view step) -> Status {
    if (step == kCompactStepUploaded) {
      CommandRun r = Cli({"lease", "release", "ops-lease", "--force", "--json"});
      released_out = r.out + r.err;
      if (r.exit_code != 0) return Internal("lease release failed: " + released_out);
    }
    return Status::Ok();
  };
  SystemClock wall;
  Compactor c(s.kv.get(), s.objects.get(), s.queue.get(), &wall, o);
  CycleResult r = c.RunCycle(shard, {});
  EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.ToString();
  EXPECT_NE(r.status.message().find("before commit"), std::string::npos) << r.status.ToString();
  auto j = nlohmann::json::parse(released_out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << released_out;
  EXPECT_EQ(j["shards"][0]["was_held"], true) << released_out;
  EXPECT_EQ(j["shards"][0]["fence"], r.fence + 1) << released_out;
  PointerTable pointers(s.kv.get(), &wall);
  auto ptr = pointers.Read(shard);
  ASSERT_TRUE(ptr.ok());
  EXPECT_FALSE(ptr->has_value()) << "the broken holder committed";

  // The next compactor takes the lease (a larger fence) and commits the write.
  Compactor next(s.kv.get(), s.objects.get(), s.queue.get(), &wall, Options("lease2", 60000));
  CycleResult r2 = next.RunCycle(shard, {});
  ASSERT_TRUE(r2.status.ok()) << r2.status.ToString();
  EXPECT_GT(r2.fence, r.fence + 1);
  ExpectSnapshotEquals(&s, &wall, shard, model.Live());
}

TEST_F(OpsCliTest, ImportThenWritesThenExportAndDiffAcrossShards) {
  std::map<std::string, ModelRecord> original;
  const std::string dir = MakeDir("source-docs", 120, &original);
  const std::string coll = "ops-import";

  nlohmann::json imp = CliJson({"import", dir, "--collection", coll, "--shards", "2"});
  EXPECT_EQ(imp["records"], 120);
  EXPECT_EQ(imp["source_collection"], "source-docs");
  EXPECT_EQ(imp["dimension"], kDim);
  // A second import finds the versions there and uploads nothing.
  CommandRun again = Cli({"import", dir, "--collection", coll, "--shards", "2"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already has version 1"), std::string::npos) << again.err;

  // The imported collection diffs equal to its source.
  nlohmann::json same = CliJson({"diff", coll, dir, "--shards", "2"});
  EXPECT_EQ(same["equal"], true) << same.dump();
  EXPECT_EQ(same["records"]["collection"], 120);
  EXPECT_EQ(same["queries"]["asked"], 20);
  EXPECT_EQ(same["queries"]["identical"], 20) << same.dump();

  // Writes after the import, through the producer, apply on top of it (2 shards). Expected: the
  // source records with the writes applied in acknowledged order, by Chroma's semantics.
  Seams s = NewSeams(CreateFifoQueue("ops-import-q"));
  std::map<std::string, ModelRecord> expected = original;
  auto write = [&](const Op& op) {
    auto ack = Write(s.kv.get(), s.objects.get(), s.queue.get(), coll, op, nullptr, 2);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    for (const auto& id : op.ids) ApplyToModel(&expected, op, id);
  };
  write(Op(codec::DeltaOp::kUpsert, {"r1", "new1"}, 5));
  write(Op(codec::DeltaOp::kDelete, {"r2"}));
  Op partial(codec::DeltaOp::kUpdate, {"r3"}, 9);
  partial.embedding = false;
  write(partial);
  ASSERT_EQ(expected.count("r2"), 0u);
  ASSERT_EQ(expected.size(), 120u);
  // Producers check the imported dimension.
  ProduceRequest wrong{coll, codec::DeltaOp::kAdd, {}};
  wrong.records.ids = {"bad"};
  wrong.records.embeddings = {1.0f, 2.0f};
  ProducerOptions popts;
  popts.shards = 2;
  DimensionRegistry dims(s.kv.get());
  auto refused = pipeline::Produce(s.kv.get(), s.objects.get(), s.queue.get(), &dims, wrong, popts);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  Compact(&s, coll, 2, "import");

  const std::string out = testing::MakeTempDir("export") + "/out";
  nlohmann::json exp = CliJson({"export", coll, out, "--shards", "2"});
  EXPECT_EQ(exp["records"], expected.size());
  ExpectSameRecords(ReadDir(out, coll), expected);
  // Exporting into a non-empty directory is refused.
  CommandRun full = Cli({"export", coll, out, "--shards", "2"});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("not empty"), std::string::npos) << full.err;

  // diff against the original source names exactly the writes.
  CommandRun d = Cli({"diff", coll, dir, "--shards", "2", "--json"});
  EXPECT_EQ(d.exit_code, 1) << "records differ: exit 1";
  auto dj = nlohmann::json::parse(d.out, nullptr, false);
  ASSERT_FALSE(dj.is_discarded()) << d.out << d.err;
  EXPECT_EQ(dj["equal"], false);
  EXPECT_EQ(dj["only_in_collection"]["ids"], nlohmann::json::array({"new1"}));
  EXPECT_EQ(dj["only_in_directory"]["ids"], nlohmann::json::array({"r2"}));
  EXPECT_EQ(dj["differ"]["ids"], nlohmann::json::array({"r1", "r3"}));
  EXPECT_EQ(dj["differ"]["embeddings"], 1);  // r1 (upsert); r3's update kept its embedding
  EXPECT_EQ(dj["differ"]["documents"], 2);

  // The export diffs equal to the collection.
  nlohmann::json round = CliJson({"diff", coll, out, "--shards", "2"});
  EXPECT_EQ(round["equal"], true) << round.dump();

  // query: a record's own embedding finds it first, across both shards; a where filter applies.
  const auto e = EmbeddingFor("new1", 5);
  nlohmann::json q = CliJson({"query", coll, "--shards", "2", "--n-results", "3", "--embedding",
                              nlohmann::json(e).dump()});
  ASSERT_EQ(q["ids"].size(), 1u) << q.dump();
  EXPECT_EQ(q["ids"][0][0], "new1") << q.dump();
  EXPECT_EQ(q["ids"][0].size(), 3u);
  nlohmann::json qw = CliJson({"query", coll, "--shards", "2", "--embedding", nlohmann::json(e).dump(),
                               "--where", R"({"seed": 9})"});
  EXPECT_EQ(qw["ids"][0], nlohmann::json::array({"r3"})) << qw.dump();
  CommandRun text = Cli({"query", coll, "--shards", "2", "--text", "doc new1"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.err.find("no embedding function configured"), std::string::npos) << text.err;
}

TEST_F(OpsCliTest, QueryByTextEmbedsThroughTheConfiguredEndpoint) {
  auto server = testing::EmbeddingsServer::Start({"--dimension", std::to_string(kDim)});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  embed::OpenAIEmbeddingOptions eo;
  eo.base_url = (*server)->base_url();
  eo.model = "test-hashed-words";
  eo.dimension = kDim;
  auto embedder = embed::OpenAIEmbeddings::Create(eo);
  ASSERT_TRUE(embedder.ok()) << embedder.status().ToString();
  // Documents without embeddings, embedded by the producer through the same endpoint.
  Seams s = NewSeams(CreateFifoQueue("ops-text-q"));
  const std::string coll = "ops-text";
  ProduceRequest req{coll, codec::DeltaOp::kUpsert, {}};
  req.records.ids = {"glue", "train", "coffee"};
  req.records.documents = {std::string("wood glue and screws"), std::string("monthly train ticket"),
                           std::string("coffee beans and oat milk")};
  ProducerOptions popts;
  popts.embedding_function = embedder->get();
  auto ack = pipeline::Produce(s.kv.get(), s.objects.get(), s.queue.get(), nullptr, req, popts);
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  Compact(&s, coll, 1, "text");

  const std::vector<std::string> env = {"CHROMAPACT_EMBEDDING_URL=" + (*server)->base_url(),
                                        "CHROMAPACT_EMBEDDING_MODEL=test-hashed-words",
                                        "CHROMAPACT_EMBEDDING_DIMENSION=" + std::to_string(kDim)};
  // A text's own words find its document first; the answer is the query function's (Chroma's shape).
  nlohmann::json q = CliJson({"query", coll, "--text", "monthly train ticket", "--n-results", "2"}, env);
  ASSERT_EQ(q["ids"].size(), 1u) << q.dump();
  EXPECT_EQ(q["ids"][0][0], "train") << q.dump();
  EXPECT_EQ(q["documents"][0][0], "monthly train ticket") << q.dump();
  EXPECT_NEAR(q["distances"][0][0].get<double>(), 0.0, 1e-6) << q.dump();
  // A model of another dimension is refused with Chroma's message.
  CommandRun wrong = Cli({"query", coll, "--text", "train"},
                         {"CHROMAPACT_EMBEDDING_URL=" + (*server)->base_url(), "CHROMAPACT_EMBEDDING_MODEL=m",
                          "CHROMAPACT_EMBEDDING_DIMENSION=" + std::to_string(kDim + 1)});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("dimension"), std::string::npos) << wrong.err;
}

TEST_F(OpsCliTest, ImportAndDiffADirectoryWrittenByRealChroma) {
  CP_REQUIRE_SHARED(shared);
  const std::string dir = shared + "/chroma/fixtures/chroma-1.5.9-1200";
  std::map<std::string, ModelRecord> theirs = ReadDir(dir, "docs");
  ASSERT_EQ(theirs.size(), 1199u);
  nlohmann::json imp = CliJson({"import", dir, "--collection", "ops-real-chroma"});
  EXPECT_EQ(imp["records"], 1199);
  EXPECT_EQ(imp["source_collection"], "docs");
  nlohmann::json d = CliJson({"diff", "ops-real-chroma", dir});
  EXPECT_EQ(d["equal"], true) << d.dump();
  EXPECT_GE(d["queries"]["mean_overlap"].get<double>(), 0.9) << d.dump();
  const std::string out = testing::MakeTempDir("export-real") + "/out";
  CliJson({"export", "ops-real-chroma", out});
  ExpectSameRecords(ReadDir(out, "ops-real-chroma"), theirs);
}

TEST_F(OpsCliTest, RedriveMovesEveryDeadLetterBackOnce) {
  const std::string queue = CreateFifoQueue("ops-redrive-q");
  const std::string dlq = CreateFifoQueue("ops-redrive-dlq");
  Seams s = NewSeams(dlq);
  const ShardId a{"ops-redrive", 0}, b{"ops-redrive", 1};
  ASSERT_TRUE(SendTrigger(s.queue.get(), a, 1).ok());
  ASSERT_TRUE(SendTrigger(s.queue.get(), a, 2).ok());
  ASSERT_TRUE(SendTrigger(s.queue.get(), b, 1).ok());
  nlohmann::json report = {{"collection", "ops-redrive"}, {"shard", 0}, {"log_position", 3},
                           {"delta_key", LogKey(a, 3)}, {"reason", "Corruption: test"}, {"version", 2}};
  ASSERT_TRUE(s.queue->Send({report.dump(), MessageGroupFor(a), "report-3"}).ok());

  CommandRun usage = Cli({"redrive"}, {"CHROMAPACT_DLQ_URL=" + dlq});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_NE(usage.err.find("--queue-url"), std::string::npos) << usage.err;

  nlohmann::json one = CliJson({"redrive", "--max", "1"}, {"CHROMAPACT_DLQ_URL=" + dlq, "CHROMAPACT_QUEUE_URL=" + queue});
  EXPECT_EQ(one["moved"], 1);
  nlohmann::json rest = CliJson({"redrive"}, {"CHROMAPACT_DLQ_URL=" + dlq, "CHROMAPACT_QUEUE_URL=" + queue});
  EXPECT_EQ(rest["moved"], 3);
  EXPECT_EQ(rest["reports"].get<int>() + one["reports"].get<int>(), 1);

  Seams q = NewSeams(queue);
  std::vector<QueueMessage> moved = ReceiveAll(q.queue.get());
  ASSERT_EQ(moved.size(), 4u);
  std::multiset<std::string> groups, bodies;
  for (const auto& m : moved) {
    groups.insert(m.group_id);
    bodies.insert(m.body);
  }
  EXPECT_EQ(groups.count(MessageGroupFor(a)), 3u);
  EXPECT_EQ(groups.count(MessageGroupFor(b)), 1u);
  EXPECT_EQ(bodies.count(report.dump()), 1u);
  EXPECT_TRUE(ReceiveAll(s.queue.get()).empty()) << "the DLQ still holds messages";
  // The order inside a group is kept: shard 0's triggers come back as 1, 2, report.
  std::vector<std::string> group_a;
  for (const auto& m : moved) {
    if (m.group_id == MessageGroupFor(a)) group_a.push_back(m.body);
  }
  EXPECT_EQ(group_a.back(), report.dump());
}

TEST_F(OpsCliTest, VersionsAndGcReportAndNeverDeleteYoungVersions) {
  Seams s = NewSeams(CreateFifoQueue("ops-gc-q"));
  const ShardId shard{"ops-gc", 0};
  Model model;
  for (int i = 0; i < 3; ++i) {
    Produce(&s, shard, Op(codec::DeltaOp::kUpsert, {"g" + std::to_string(i)}, i), &model);
    Compact(&s, shard.collection, 1, "gc" + std::to_string(i));
  }
  Produce(&s, shard, Op(codec::DeltaOp::kDelete, {"g0"}), &model);
  nlohmann::json v = CliJson({"versions", "ops-gc"});
  ASSERT_EQ(v["shards"][0]["versions"].size(), 3u) << v.dump();
  EXPECT_EQ(v["shards"][0]["versions"][2]["current"], true) << v.dump();
  // The CLI's clock is the wall clock and S3 stamped every object just now: all of it is young,
  // so neither a dry run nor a real run deletes anything, whatever --keep says.
  nlohmann::json dry = CliJson({"gc", "ops-gc", "--dry-run", "--keep", "1"});
  ASSERT_EQ(dry["shards"].size(), 1u) << dry.dump();
  const auto& d = dry["shards"][0];
  EXPECT_EQ(d["dry_run"], true);
  EXPECT_EQ(d["retained"].size(), 3u) << d.dump();
  EXPECT_TRUE(d["deleted_versions"].empty()) << d.dump();
  EXPECT_EQ(d["log_entries_deleted"], 0);
  EXPECT_EQ(d["log_cut"], 1);
  CommandRun text = Cli({"gc", "ops-gc", "--keep", "1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("deleted 0 snapshot objects"), std::string::npos) << text.out;
  CommandRun unsafe = Cli({"gc", "ops-gc", "--min-age-ms", "1000"});
  EXPECT_EQ(unsafe.exit_code, 1);
  EXPECT_NE(unsafe.err.find("min_age_ms"), std::string::npos) << unsafe.err;
  nlohmann::json after = CliJson({"versions", "ops-gc"});
  EXPECT_EQ(after["shards"][0]["versions"], v["shards"][0]["versions"]);
  Compact(&s, shard.collection, 1, "gc-last");
  ExpectSnapshotEquals(&s, &clock_, shard, model.Live());
}

}  // namespace
}  // namespace chromapact::pipeline::fixture
