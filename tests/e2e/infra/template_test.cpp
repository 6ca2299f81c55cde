// infra/template.yaml read as text, for what a moto deployment cannot show: cfn-lint (offline) passes;
// the API's Function URL (moto 5.2.1's CloudFormation does not implement AWS::Lambda::Url) is IAM-
// authenticated unless asked otherwise, and public only then;
// the alarms exist on the right metrics (moto 5.2.1 does not create AWS::CloudWatch::Alarm,
// docs/aws-notes.md §5); each role's policy holds only the actions its binary calls, on its prefixes, with
// the dynamodb:LeadingKeys condition covering exactly the key shapes each binary uses
// (pipeline/shard_id.h, log.h, dimension_registry.h), log writes create-only and listing confined to
// the log; every variable a bootstrap requires is wired from a resource, and none it does not read.
// The YAML is turned into JSON by python3 + PyYAML (the template uses long-form intrinsics only).
#include <fnmatch.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "chromapact/pipeline/collection_registry.h"
#include "chromapact/pipeline/dimension_registry.h"
#include "chromapact/pipeline/log.h"
#include "chromapact/pipeline/shard_id.h"
#include "stack_fixture.h"
#include "support/paths.h"

namespace chromapact::testing {
namespace {

using nlohmann::json;

std::string TemplatePath() {
  return SourceDir() + "/infra/template.yaml";
}

class TemplateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = MakeTempDir("template");
    auto r = RunProcess(
        {"python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
         TemplatePath()},
        {}, {}, dir + "/template.json", std::chrono::seconds(60));
    if (r.exit_code != 0) {
      // Without PyYAML the test cannot run (skip); a template PyYAML rejects is a failure.
      if (r.output.find("No module named 'yaml'") != std::string::npos) {
        skip_ = "python3 has no PyYAML (Debian python3-yaml): " + r.output;
      } else {
        error_ = "PyYAML cannot read infra/template.yaml: " + r.output;
      }
      return;
    }
    tpl_ = json::parse(r.output, nullptr, false);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(error_.empty()) << error_;
    ASSERT_TRUE(tpl_.is_object() && tpl_.contains("Resources")) << tpl_.dump().substr(0, 400);
  }

  static const json& Resource(const std::string& name) {
    static const json kNull;
    return tpl_["Resources"].contains(name) ? tpl_["Resources"][name] : kNull;
  }
  static const json& Props(const std::string& name) {
    static const json kEmpty = json::object();
    const json& r = Resource(name);
    return r.is_object() && r.contains("Properties") ? r["Properties"] : kEmpty;
  }
  static std::vector<json> OfType(const std::string& type) {
    std::vector<json> out;
    for (const auto& [name, r] : tpl_["Resources"].items()) {
      if (r.value("Type", "") == type) out.push_back(r);
    }
    return out;
  }
  // The statements of the AWS::IAM::Policy attached to `role`.
  static std::vector<json> Statements(const std::string& role) {
    std::vector<json> out;
    for (const auto& p : OfType("AWS::IAM::Policy")) {
      if (p["Properties"]["Roles"] != json::array({json{{"Ref", role}}})) continue;
      for (const auto& s : p["Properties"]["PolicyDocument"]["Statement"]) out.push_back(s);
    }
    return out;
  }
  static std::vector<std::string> AsList(const json& j) {
    std::vector<std::string> out;
    if (j.is_string()) out.push_back(j.get<std::string>());
    if (j.is_array()) {
      for (const auto& e : j) out.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    }
    return out;
  }
  static std::set<std::string> Actions(const std::string& role) {
    std::set<std::string> out;
    for (const auto& s : Statements(role)) {
      EXPECT_EQ(s.value("Effect", ""), "Allow") << s.dump();
      for (const auto& a : AsList(s["Action"])) out.insert(a);
    }
    return out;
  }
  // Resources (as JSON text) of the statements of `role` that grant `action`.
  static std::vector<json> ResourcesOf(const std::string& role, const std::string& action) {
    std::vector<json> out;
    for (const auto& s : Statements(role)) {
      const auto acts = AsList(s["Action"]);
      if (std::find(acts.begin(), acts.end(), action) == acts.end()) continue;
      if (s["Resource"].is_array()) {
        for (const auto& r : s["Resource"]) out.push_back(r);
      } else {
        out.push_back(s["Resource"]);
      }
    }
    return out;
  }
  // The statement of `role` granting `action` (the first), or null.
  static json StatementFor(const std::string& role, const std::string& action) {
    for (const auto& s : Statements(role)) {
      const auto acts = AsList(s["Action"]);
      if (std::find(acts.begin(), acts.end(), action) != acts.end()) return s;
    }
    return nullptr;
  }
  // The statements of `role` granting `action`.
  static std::vector<json> StatementsFor(const std::string& role, const std::string& action) {
    std::vector<json> out;
    for (const auto& s : Statements(role)) {
      const auto acts = AsList(s["Action"]);
      if (std::find(acts.begin(), acts.end(), action) != acts.end()) out.push_back(s);
    }
    return out;
  }
  // The dynamodb:LeadingKeys patterns of the statement of `role` granting `action`.
  static std::vector<std::string> LeadingKeys(const std::string& role, const std::string& action) {
    const json s = StatementFor(role, action);
    EXPECT_FALSE(s.is_null()) << role << " " << action;
    if (s.is_null()) return {};
    EXPECT_EQ(s["Resource"], json({{"Fn::GetAtt", {"StateTable", "Arn"}}})) << role << " " << action;
    EXPECT_EQ(s["Condition"].size(), 1u) << s.dump();
    return AsList(s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]);
  }
  // The dynamodb:LeadingKeys patterns of every statement of `role` granting `action` (a union: IAM
  // allows a call any one statement allows); each such statement is on the table, with that one
  // condition.
  static std::vector<std::string> AllLeadingKeys(const std::string& role, const std::string& action) {
    std::vector<std::string> out;
    const auto statements = StatementsFor(role, action);
    EXPECT_FALSE(statements.empty()) << role << " " << action;
    for (const auto& s : statements) {
      EXPECT_EQ(s["Resource"], json({{"Fn::GetAtt", {"StateTable", "Arn"}}})) << role << " " << action;
      EXPECT_EQ(s["Condition"].size(), 1u) << s.dump();
      const auto keys = AsList(s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]);
      EXPECT_FALSE(keys.empty()) << s.dump();
      out.insert(out.end(), keys.begin(), keys.end());
    }
    return out;
  }
  // IAM's StringLike (* and ?; fnmatch without flags lets * cross '/', as IAM's does).
  static bool MatchesAny(const std::vector<std::string>& patterns, const std::string& value) {
    for (const auto& p : patterns) {
      if (fnmatch(p.c_str(), value.c_str(), 0) == 0) return true;
    }
    return false;
  }
  // S3's create-only write (If-None-Match: *) in the form the S3 User Guide documents for
  // enforcing conditional writes; PutObject accepts no other If-None-Match value.
  static json CreateOnlyCondition() { return json({{"Null", {{"s3:if-none-match", "false"}}}}); }
  // Listing confined to the log (s3:prefix); ListBucket also turns a 403 for a missing key of
  // that prefix into the 404 the compactor's hole check expects.
  static void ExpectListsOnlyTheLog(const std::string& role) {
    const auto list = StatementsFor(role, "s3:ListBucket");
    ASSERT_EQ(list.size(), 1u) << role;
    EXPECT_EQ(list[0]["Resource"], json({{"Fn::GetAtt", {"DataBucket", "Arn"}}})) << role;
    ASSERT_EQ(list[0]["Condition"].size(), 1u) << list[0].dump();
    const auto prefixes = AsList(list[0]["Condition"]["StringLike"]["s3:prefix"]);
    EXPECT_EQ(prefixes, std::vector<std::string>{"deltas/*"}) << role;
    const pipeline::ShardId shard{"my.coll-1", 12};
    EXPECT_TRUE(MatchesAny(prefixes, pipeline::LogPrefix(shard))) << role;
    EXPECT_TRUE(MatchesAny(prefixes, pipeline::LogKey(shard, 7))) << role;  // the 404 of a missing entry
    EXPECT_FALSE(MatchesAny(prefixes, "snapshots/my.coll-1/12/")) << role;
    EXPECT_FALSE(MatchesAny(prefixes, "")) << role;
  }

  static json Alarm(const std::string& metric, const std::string& ns, const std::string& dim_value_json) {
    for (const auto& a : OfType("AWS::CloudWatch::Alarm")) {
      const json& p = a["Properties"];
      if (p.value("MetricName", "") != metric || p.value("Namespace", "") != ns) continue;
      for (const auto& d : p["Dimensions"]) {
        if (d["Value"].dump().find(dim_value_json) != std::string::npos) return p;
      }
    }
    return nullptr;
  }

  static std::string skip_;
  static std::string error_;
  static json tpl_;
};

std::string TemplateTest::skip_;
std::string TemplateTest::error_;
json TemplateTest::tpl_;

TEST_F(TemplateTest, CfnLintPassesOffline) {
  if (!OnPath("cfn-lint")) GTEST_SKIP() << "cfn-lint is not on PATH";
  auto r = RunProcess({"cfn-lint", TemplatePath()}, {}, {}, MakeTempDir("cfn-lint") + "/out.txt",
                      std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "");  // no warnings either
}

TEST_F(TemplateTest, AlarmsWatchTheRightMetrics) {
  // Lock contention: the compactor's EMF metric (lambdas/compactor/main.cpp EmitMetrics: namespace
  // "chromapact", dimensions Function=compactor, Collection=<collection>).
  json lock = Alarm("LockAcquisitionFailed", "chromapact", R"("compactor")");
  ASSERT_FALSE(lock.is_null());
  EXPECT_EQ(lock["Statistic"], "Sum");
  EXPECT_EQ(lock["Dimensions"][1], json({{"Name", "Collection"}, {"Value", {{"Ref", "CollectionName"}}}}));
  json backlog = Alarm("ApproximateNumberOfMessagesVisible", "AWS/SQS", R"(["DeltaQueue","QueueName"])");
  ASSERT_FALSE(backlog.is_null());
  EXPECT_EQ(backlog["Threshold"], json({{"Ref", "DeltaBacklogThreshold"}}));
  json age = Alarm("ApproximateAgeOfOldestMessage", "AWS/SQS", R"(["DeltaQueue","QueueName"])");
  ASSERT_FALSE(age.is_null());
  json dlq = Alarm("ApproximateNumberOfMessagesVisible", "AWS/SQS", R"(["DeadLetterQueue","QueueName"])");
  ASSERT_FALSE(dlq.is_null());
  EXPECT_EQ(dlq["Threshold"], 0);
  EXPECT_EQ(dlq["ComparisonOperator"], "GreaterThanThreshold");  // DLQ > 0
  json duration = Alarm("Duration", "AWS/Lambda", R"({"Ref":"CompactorFunction"})");
  ASSERT_FALSE(duration.is_null());
  EXPECT_EQ(duration["Statistic"], "Maximum");
  EXPECT_EQ(OfType("AWS::CloudWatch::Alarm").size(), 5u);
  ASSERT_EQ(OfType("AWS::CloudWatch::Dashboard").size(), 1u);
  const std::string body = OfType("AWS::CloudWatch::Dashboard")[0]["Properties"]["DashboardBody"].dump();
  for (const char* m :
       {"LockAcquisitionFailed", "DeltasProcessed", "CompactionDuration", "ApproximateAgeOfOldestMessage"}) {
    EXPECT_NE(body.find(m), std::string::npos) << m;
  }
}

TEST_F(TemplateTest, ProducerMayOnlyAppendToTheLogSendTriggersAndRegisterItsCollections) {
  EXPECT_EQ(Actions("ProducerRole"),
            (std::set<std::string>{"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                   "dynamodb:DeleteItem", "s3:PutObject", "sqs:SendMessage", "logs:CreateLogStream",
                                   "logs:PutLogEvents"}));
  const auto puts = StatementsFor("ProducerRole", "s3:PutObject");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0]["Resource"], json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}}));
  EXPECT_EQ(puts[0]["Condition"], CreateOnlyCondition());
  EXPECT_EQ(ResourcesOf("ProducerRole", "sqs:SendMessage"),
            std::vector<json>{json({{"Fn::GetAtt", {"DeltaQueue", "Arn"}}})});
  // Updates: the sequence counter, the collection's dimension and the registry's listing (DB#).
  const auto updates = AllLeadingKeys("ProducerRole", "dynamodb:UpdateItem");
  // Reads: names and UUIDs resolved (NAME#, ID#), the configuration a registration reads (COLL#).
  const auto gets = AllLeadingKeys("ProducerRole", "dynamodb:GetItem");
  // Writes of a registration (collection_resolver.h): NAME#, ID#; DeleteItem only its unused ID#.
  const auto puts_kv = AllLeadingKeys("ProducerRole", "dynamodb:PutItem");
  const auto deletes = AllLeadingKeys("ProducerRole", "dynamodb:DeleteItem");
  for (const pipeline::ShardId& shard : {pipeline::ShardId{"docs", 0}, pipeline::ShardId{"my.coll-1", 12}}) {
    EXPECT_TRUE(MatchesAny(updates, pipeline::SequenceKey(shard))) << pipeline::SequenceKey(shard);
    EXPECT_TRUE(MatchesAny(updates, pipeline::CollectionKey(shard.collection))) << shard.collection;
    EXPECT_TRUE(MatchesAny(updates, "DB#default_tenant/default_database"));
    EXPECT_TRUE(MatchesAny(gets, "NAME#default_tenant/default_database/" + shard.collection));
    EXPECT_TRUE(MatchesAny(gets, "ID#0f7d2b1e-4c1a-4f7e-9a51-1f2e3d4c5b6a"));
    EXPECT_TRUE(MatchesAny(gets, pipeline::CollectionKey(shard.collection)));
    EXPECT_TRUE(MatchesAny(puts_kv, "NAME#default_tenant/default_database/" + shard.collection));
    EXPECT_TRUE(MatchesAny(deletes, "ID#0f7d2b1e-4c1a-4f7e-9a51-1f2e3d4c5b6a"));
    for (const auto* patterns : {&updates, &gets, &puts_kv, &deletes}) {
      EXPECT_FALSE(MatchesAny(*patterns, pipeline::LeaseKey(shard)));
      EXPECT_FALSE(MatchesAny(*patterns, pipeline::PointerKey(shard)));
      EXPECT_FALSE(MatchesAny(*patterns, "CONFIG#docs"));
    }
    EXPECT_FALSE(MatchesAny(gets, pipeline::SequenceKey(shard)));
    EXPECT_FALSE(MatchesAny(puts_kv, pipeline::SequenceKey(shard)));
    EXPECT_FALSE(MatchesAny(puts_kv, pipeline::CollectionKey(shard.collection)));
    EXPECT_FALSE(MatchesAny(deletes, pipeline::SequenceKey(shard)));
    EXPECT_FALSE(MatchesAny(deletes, pipeline::CollectionKey(shard.collection)));
  }
}

TEST_F(TemplateTest, QueryMayOnlyReadSnapshotsTheLogPointersAndTheRegistry) {
  EXPECT_EQ(Actions("QueryRole"), (std::set<std::string>{"s3:ListBucket", "s3:GetObject", "dynamodb:GetItem",
                                                         "logs:CreateLogStream", "logs:PutLogEvents"}));
  EXPECT_EQ(ResourcesOf("QueryRole", "s3:GetObject"),
            (std::vector<json>{json({{"Fn::Sub", "${DataBucket.Arn}/snapshots/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/chunks/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}})}));
  ExpectListsOnlyTheLog("QueryRole");
  // Pointers, the collection's configuration on COLL# (a log read before the first version), and
  // the registry's NAME#/ID# (names resolved to storage keys).
  const auto patterns = AllLeadingKeys("QueryRole", "dynamodb:GetItem");
  ASSERT_EQ(patterns.size(), 4u);
  const pipeline::ShardId shard{"docs", 3};
  EXPECT_TRUE(MatchesAny(patterns, pipeline::PointerKey(shard)));
  EXPECT_TRUE(MatchesAny(patterns, pipeline::CollectionKey(shard.collection)));
  EXPECT_TRUE(MatchesAny(patterns, "NAME#default_tenant/default_database/docs"));
  EXPECT_TRUE(MatchesAny(patterns, "ID#0f7d2b1e-4c1a-4f7e-9a51-1f2e3d4c5b6a"));
  EXPECT_FALSE(MatchesAny(patterns, pipeline::LeaseKey(shard)));
  EXPECT_FALSE(MatchesAny(patterns, pipeline::SequenceKey(shard)));
  EXPECT_FALSE(MatchesAny(patterns, "DB#default_tenant/default_database"));
  EXPECT_FALSE(MatchesAny(patterns, "CONFIG#docs"));
}

TEST_F(TemplateTest, CompactorUsesOnlyItsLeaseAndPointerItemsAndVoidsLogEntriesCreateOnly) {
  EXPECT_EQ(Actions("CompactorRole"),
            (std::set<std::string>{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
                                   "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                   "sqs:GetQueueAttributes", "sqs:SendMessage", "dynamodb:GetItem",
                                   "dynamodb:PutItem", "dynamodb:UpdateItem", "logs:CreateLogStream",
                                   "logs:PutLogEvents"}));
  ExpectListsOnlyTheLog("CompactorRole");
  EXPECT_EQ(ResourcesOf("CompactorRole", "s3:GetObject"),
            (std::vector<json>{json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/snapshots/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/chunks/*"}})}));
  // Snapshots freely (their own conditions are the code's: create-only files, If-Match manifests),
  // the log only create-only (void markers).
  std::map<std::string, json> put_conditions;
  for (const auto& s : StatementsFor("CompactorRole", "s3:PutObject")) {
    for (const auto& r : AsList(s["Resource"].is_array() ? s["Resource"] : json::array({s["Resource"]}))) {
      put_conditions[r] = s.value("Condition", json());
    }
  }
  EXPECT_EQ(put_conditions, (std::map<std::string, json>{
                                {R"({"Fn::Sub":"${DataBucket.Arn}/deltas/*"})", CreateOnlyCondition()},
                                {R"({"Fn::Sub":"${DataBucket.Arn}/snapshots/*"})", json()},
                                {R"({"Fn::Sub":"${DataBucket.Arn}/chunks/*"})", json()}}));
  EXPECT_EQ(ResourcesOf("CompactorRole", "s3:AbortMultipartUpload"),
            (std::vector<json>{json({{"Fn::Sub", "${DataBucket.Arn}/snapshots/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/chunks/*"}})}));
  // Re-arm triggers; skipped log entries reported to the DLQ (CHROMAPACT_DLQ_URL).
  EXPECT_EQ(ResourcesOf("CompactorRole", "sqs:SendMessage"),
            (std::vector<json>{json({{"Fn::GetAtt", {"DeltaQueue", "Arn"}}}),
                               json({{"Fn::GetAtt", {"DeadLetterQueue", "Arn"}}})}));
  for (const char* action : {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                             "sqs:GetQueueAttributes"}) {
    EXPECT_EQ(ResourcesOf("CompactorRole", action), std::vector<json>{json({{"Fn::GetAtt", {"DeltaQueue", "Arn"}}})})
        << action;
  }
  for (const char* action : {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}) {
    const auto patterns = AllLeadingKeys("CompactorRole", action);
    // Every key the compactor writes matches a pattern; the producer's items and an unrelated item
    // match none. It reads (only) the collection's configuration on COLL# (collection_options.h).
    const pipeline::ShardId shard{"my.coll-1", 12};
    const bool get = std::string(action) == "dynamodb:GetItem";
    EXPECT_TRUE(MatchesAny(patterns, pipeline::LeaseKey(shard))) << action;
    EXPECT_TRUE(MatchesAny(patterns, pipeline::PointerKey(shard))) << action;
    EXPECT_FALSE(MatchesAny(patterns, pipeline::SequenceKey(shard))) << action;
    EXPECT_EQ(MatchesAny(patterns, pipeline::CollectionKey(shard.collection)), get) << action;
    EXPECT_FALSE(MatchesAny(patterns, "CONFIG#my.coll-1")) << action;
    EXPECT_FALSE(MatchesAny(patterns, "NAME#default_tenant/default_database/my.coll-1")) << action;
    EXPECT_FALSE(MatchesAny(patterns, "docs")) << action;
  }
}

TEST_F(TemplateTest, ApiMayWriteLikeTheProducerReadLikeTheQueryAndKeepTheRegistry) {
  EXPECT_EQ(Actions("ApiRole"),
            (std::set<std::string>{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                   "dynamodb:DeleteItem", "s3:PutObject", "s3:ListBucket", "s3:GetObject",
                                   "sqs:SendMessage", "logs:CreateLogStream", "logs:PutLogEvents"}));
  // The producer's writes: create-only log entries, triggers on the delta queue (not the DLQ).
  const auto puts = StatementsFor("ApiRole", "s3:PutObject");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0]["Resource"], json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}}));
  EXPECT_EQ(puts[0]["Condition"], CreateOnlyCondition());
  EXPECT_EQ(ResourcesOf("ApiRole", "sqs:SendMessage"),
            std::vector<json>{json({{"Fn::GetAtt", {"DeltaQueue", "Arn"}}})});
  // The query's reads.
  EXPECT_EQ(ResourcesOf("ApiRole", "s3:GetObject"),
            (std::vector<json>{json({{"Fn::Sub", "${DataBucket.Arn}/snapshots/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/chunks/*"}}),
                               json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}})}));
  ExpectListsOnlyTheLog("ApiRole");
  EXPECT_EQ(ResourcesOf("ApiRole", "logs:PutLogEvents"), std::vector<json>{json({{"Fn::Sub", "${ApiLogGroup.Arn}"}})});

  // The table: every key shape the API's code uses matches, for exactly the calls it makes on it.
  // Registry keys as pipeline/collection_registry.h documents them.
  const pipeline::ShardId shard{pipeline::NewUuid(), 3};
  const std::string db = std::string(pipeline::kDefaultTenant) + "/" + pipeline::kDefaultDatabase;
  const std::map<std::string, std::string> keys = {
      {"SEQ", pipeline::SequenceKey(shard)},
      {"COLL", pipeline::CollectionKey(shard.collection)},
      {"PTR", pipeline::PointerKey(shard)},
      {"LOCK", pipeline::LeaseKey(shard)},
      {"NAME", "NAME#" + db + "/my.coll-1"},
      {"ID", "ID#" + shard.collection},
      {"DB", "DB#" + db}};
  const std::map<std::string, std::set<std::string>> allowed = {
      // pointers (query), dimension + configuration (query, registry), the registry
      {"dynamodb:GetItem", {"PTR", "COLL", "NAME", "ID", "DB"}},
      // sequence numbers + dimension (producer), configuration at creation, the registry's listing
      {"dynamodb:UpdateItem", {"SEQ", "COLL", "NAME", "ID", "DB"}},
      {"dynamodb:PutItem", {"NAME", "ID", "DB"}},
      {"dynamodb:DeleteItem", {"NAME", "ID", "DB"}}};
  for (const auto& [action, kinds] : allowed) {
    const auto patterns = AllLeadingKeys("ApiRole", action);
    for (const auto& [kind, key] : keys) {
      EXPECT_EQ(MatchesAny(patterns, key), kinds.count(kind) == 1) << action << " " << key;
    }
    EXPECT_FALSE(MatchesAny(patterns, "CONFIG#x")) << action;
    EXPECT_FALSE(MatchesAny(patterns, shard.collection)) << action;  // a bare name or id
  }
}

TEST_F(TemplateTest, ApiFunctionUrlIsIamAuthenticatedByDefaultAndPublicOnlyWhenAsked) {
  const json& params = tpl_["Parameters"];
  EXPECT_EQ(params["ApiAuthType"]["Default"], "AWS_IAM");
  EXPECT_EQ(params["ApiAuthType"]["AllowedValues"], json::array({"AWS_IAM", "NONE"}));
  EXPECT_EQ(params["ApiFunctionUrlEnabled"]["Default"], "true");
  EXPECT_EQ(params["ApiImageUri"]["Default"], "");

  const json& url = Resource("ApiFunctionUrl");
  EXPECT_EQ(url["Type"], "AWS::Lambda::Url");
  EXPECT_EQ(url["Condition"], "HasApiUrl");
  EXPECT_EQ(url["Properties"]["AuthType"], json({{"Ref", "ApiAuthType"}}));
  EXPECT_EQ(url["Properties"]["TargetFunctionArn"], json({{"Fn::GetAtt", {"ApiFunction", "Arn"}}}));
  EXPECT_EQ(tpl_["Conditions"]["HasApiUrl"],
            json::parse(R"({"Fn::And": [{"Condition": "HasApiImage"},
                                         {"Fn::Equals": [{"Ref": "ApiFunctionUrlEnabled"}, "true"]}]})"));
  EXPECT_EQ(tpl_["Conditions"]["HasApiImage"],
            json::parse(R"({"Fn::Not": [{"Fn::Equals": [{"Ref": "ApiImageUri"}, ""]}]})"));
  EXPECT_EQ(Resource("ApiFunction")["Condition"], "HasApiImage");

  // Public access: only with NONE, and then exactly the two statements Lambda asks for.
  EXPECT_EQ(tpl_["Conditions"]["ApiUrlIsPublic"],
            json::parse(R"({"Fn::And": [{"Condition": "HasApiUrl"},
                                         {"Fn::Equals": [{"Ref": "ApiAuthType"}, "NONE"]}]})"));
  std::map<std::string, json> public_grants;
  for (const auto& p : OfType("AWS::Lambda::Permission")) {
    const json& props = p["Properties"];
    if (props["FunctionName"] != json({{"Ref", "ApiFunction"}})) continue;
    EXPECT_EQ(p.value("Condition", ""), "ApiUrlIsPublic") << p.dump();
    EXPECT_EQ(props["Principal"], "*") << p.dump();
    public_grants[props.value("Action", "")] = props;
  }
  ASSERT_EQ(public_grants.size(), 2u);
  EXPECT_EQ(public_grants["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"], "NONE");
  EXPECT_EQ(public_grants["lambda:InvokeFunction"]["InvokedViaFunctionUrl"], true);
  EXPECT_FALSE(public_grants["lambda:InvokeFunction"].contains("FunctionUrlAuthType"));
  // No other resource grants anyone "*" anything.
  for (const auto& p : OfType("AWS::Lambda::Permission")) {
    if (p["Properties"]["Principal"] == "*") {
      EXPECT_EQ(p.value("Condition", ""), "ApiUrlIsPublic") << p.dump();
    }
  }

  const json& out = tpl_["Outputs"]["ApiUrl"];
  EXPECT_EQ(out["Value"], json({{"Fn::GetAtt", {"ApiFunctionUrl", "FunctionUrl"}}}));
  EXPECT_EQ(out["Condition"], "HasApiUrl");
  EXPECT_EQ(tpl_["Outputs"]["ApiRoleArn"]["Value"], json({{"Fn::GetAtt", {"ApiRole", "Arn"}}}));
  EXPECT_EQ(tpl_["Outputs"]["ApiFunctionName"]["Condition"], "HasApiImage");

  // Sized like the query (it reads the same snapshots into /tmp); reads see other sandboxes' writes.
  const json& fn = Props("ApiFunction");
  EXPECT_EQ(fn["PackageType"], "Image");
  EXPECT_EQ(fn["Role"], json({{"Fn::GetAtt", {"ApiRole", "Arn"}}}));
  EXPECT_EQ(fn["EphemeralStorage"]["Size"], json({{"Ref", "ApiEphemeralStorageMb"}}));
  EXPECT_EQ(fn["Environment"]["Variables"]["CHROMAPACT_TAIL_TTL_MS"], "0");
  EXPECT_EQ(fn["Environment"]["Variables"]["CHROMAPACT_CACHE_DIR"], "/tmp/chromapact");
  EXPECT_EQ(Props("ApiRepository")["RepositoryName"], json({{"Fn::Sub", "${AWS::StackName}/api"}}));
  EXPECT_EQ(Props("ApiLogGroup")["LogGroupName"], json({{"Fn::Sub", "/aws/lambda/${AWS::StackName}-api"}}));
}

TEST_F(TemplateTest, NoRoleGetsAWildcardOrAnUnconditionalLogWrite) {
  for (const auto& p : OfType("AWS::IAM::Policy")) {
    for (const auto& s : p["Properties"]["PolicyDocument"]["Statement"]) {
      for (const auto& a : AsList(s["Action"])) EXPECT_EQ(a.find('*'), std::string::npos) << s.dump();
      EXPECT_NE(s["Resource"], "*") << s.dump();
      EXPECT_FALSE(s.contains("NotAction") || s.contains("NotResource")) << s.dump();
      // An existing log entry is never replaced: each write under deltas/ is create-only.
      const auto acts = AsList(s["Action"]);
      const bool puts = std::find(acts.begin(), acts.end(), "s3:PutObject") != acts.end();
      if (puts && s["Resource"].dump().find("/deltas/") != std::string::npos) {
        EXPECT_EQ(s["Condition"], CreateOnlyCondition()) << s.dump();
        EXPECT_EQ(s["Resource"], json({{"Fn::Sub", "${DataBucket.Arn}/deltas/*"}})) << s.dump();
      }
    }
  }
}

TEST_F(TemplateTest, QueueEventSourceAndFunctionsMatchTheIssue) {
  const json& q = Props("DeltaQueue");
  EXPECT_EQ(q["FifoQueue"], true);
  EXPECT_EQ(q["MessageRetentionPeriod"], 4 * 24 * 3600);
  EXPECT_EQ(q["RedrivePolicy"]["maxReceiveCount"], 3);
  EXPECT_EQ(q["VisibilityTimeout"], json({{"Ref", "CompactorTimeoutSeconds"}}));  // visibility >= timeout
  EXPECT_EQ(Props("CompactorFunction")["Timeout"], json({{"Ref", "CompactorTimeoutSeconds"}}));
  EXPECT_EQ(Props("DeadLetterQueue")["MessageRetentionPeriod"], 14 * 24 * 3600);
  const json& esm = Props("CompactorEventSource");
  EXPECT_EQ(esm["Enabled"], json({{"Fn::If", {"EventSourceOn", true, false}}}));
  EXPECT_EQ(tpl_["Conditions"]["EventSourceOn"],
            json({{"Fn::Equals", {{{"Ref", "EventSourceEnabled"}}, "true"}}}));
  EXPECT_EQ(esm["FunctionResponseTypes"], json::array({"ReportBatchItemFailures"}));
  EXPECT_TRUE(esm.contains("MaximumBatchingWindowInSeconds"));
  const json& params = tpl_["Parameters"];
  EXPECT_EQ(params["ProducerMemoryMb"]["Default"], 1024);
  EXPECT_EQ(params["ProducerTimeoutSeconds"]["Default"], 300);
  EXPECT_EQ(params["CompactorTimeoutSeconds"]["Default"], 900);
  EXPECT_EQ(params["CompactorEphemeralStorageMb"]["Default"], 10240);
  for (const char* fn : {"ProducerFunction", "CompactorFunction", "QueryFunction", "ApiFunction"}) {
    EXPECT_EQ(Props(fn)["PackageType"], "Image") << fn;
  }
  const json& bucket = Props("DataBucket");
  EXPECT_EQ(bucket["VersioningConfiguration"]["Status"], "Enabled");
  EXPECT_TRUE(bucket.contains("BucketEncryption"));
  std::map<std::string, json> rules;
  for (const auto& r : bucket["LifecycleConfiguration"]["Rules"]) rules[r.value("Prefix", "")] = r;
  EXPECT_TRUE(rules["deltas/"].contains("ExpirationInDays"));
  EXPECT_EQ(rules["snapshots/"]["Transitions"][0]["StorageClass"], "STANDARD_IA");
  EXPECT_EQ(Props("StateTable")["TimeToLiveSpecification"]["Enabled"], true);
}

TEST_F(TemplateTest, EmbeddingKeySecretIsReadableOnlyWhenGivenAndOnlyByTheFunctionsThatEmbed) {
  const json& policy = tpl_["Resources"]["EmbeddingKeyPolicy"];
  EXPECT_EQ(policy["Condition"], "HasEmbeddingKeySecret");
  EXPECT_EQ(tpl_["Conditions"]["HasEmbeddingKeySecret"],
            json({{"Fn::Not", {{{"Fn::Equals", {{{"Ref", "EmbeddingApiKeySecretArn"}}, ""}}}}}}));
  EXPECT_EQ(policy["Properties"]["Roles"], json::array({json{{"Ref", "ProducerRole"}}, json{{"Ref", "QueryRole"}},
                                                         json{{"Ref", "ApiRole"}}}));
  const json& st = policy["Properties"]["PolicyDocument"]["Statement"];
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0]["Action"], "secretsmanager:GetSecretValue");
  EXPECT_EQ(st[0]["Resource"], json({{"Ref", "EmbeddingApiKeySecretArn"}}));
  for (const char* fn : {"ProducerFunction", "QueryFunction", "ApiFunction"}) {
    const json& vars = Props(fn)["Environment"]["Variables"];
    EXPECT_EQ(vars["CHROMAPACT_EMBEDDING_URL"], json({{"Ref", "EmbeddingUrl"}})) << fn;
    EXPECT_EQ(vars["CHROMAPACT_EMBEDDING_API_KEY_SECRET_ARN"], json({{"Ref", "EmbeddingApiKeySecretArn"}})) << fn;
  }
  EXPECT_FALSE(Props("CompactorFunction")["Environment"]["Variables"].contains("CHROMAPACT_EMBEDDING_URL"));
}

TEST_F(TemplateTest, EveryVariableABootstrapRequiresIsWiredFromTheStack) {
  const std::regex required(R"re(EnvRequired\("(CHROMAPACT_[A-Z_]+)"\))re");
  const std::map<std::string, std::string> functions = {{"producer", "ProducerFunction"},
                                                         {"compactor", "CompactorFunction"},
                                                         {"query", "QueryFunction"},
                                                         {"api", "ApiFunction"}};
  for (const auto& [dir, resource] : functions) {
    const std::string src = ReadFile(SourceDir() + "/lambdas/" + dir + "/main.cpp");
    ASSERT_FALSE(src.empty()) << dir;
    const json& vars = Props(resource)["Environment"]["Variables"];
    int n = 0;
    for (auto it = std::sregex_iterator(src.begin(), src.end(), required); it != std::sregex_iterator();
         ++it) {
      ++n;
      EXPECT_TRUE(vars.contains((*it)[1].str()))
          << dir << " requires " << (*it)[1] << " but the template sets " << vars.dump();
    }
    EXPECT_GE(n, 2) << dir << ": no EnvRequired found (did main.cpp change shape?)";
    // A variable no code reads is a stale setting (e.g. the removed CHROMAPACT_MESSAGE_GROUPS): the
    // bootstrap, lambdas/common or the runtime (CHROMAPACT_LOG_LEVEL) names every one it reads.
    const std::string readers = src + ReadFile(SourceDir() + "/lambdas/common/env.h") +
                                ReadFile(SourceDir() + "/src/runtime/logging.cpp") +
                                ReadFile(SourceDir() + "/src/embed/embedding_env.cpp");
    for (const auto& [var, value] : vars.items()) {
      EXPECT_NE(readers.find("\"" + var + "\""), std::string::npos) << dir << ": the template sets " << var
                                                                      << ", which nothing reads";
    }
    // All four must agree on the shard count and share one table (docs/reference/environment.md).
    EXPECT_EQ(vars["CHROMAPACT_SHARDS"], json({{"Ref", "Shards"}})) << dir;
    EXPECT_EQ(vars["CHROMAPACT_TABLE"], json({{"Ref", "StateTable"}})) << dir;
    EXPECT_EQ(vars["CHROMAPACT_BUCKET"], json({{"Ref", "DataBucket"}})) << dir;
  }
  for (const char* fn : {"ProducerFunction", "CompactorFunction", "ApiFunction"}) {
    EXPECT_EQ(Props(fn)["Environment"]["Variables"]["CHROMAPACT_QUEUE_URL"], json({{"Ref", "DeltaQueue"}})) << fn;
  }
  EXPECT_EQ(Props("CompactorFunction")["Environment"]["Variables"]["CHROMAPACT_DLQ_URL"],
            json({{"Ref", "DeadLetterQueue"}}));
}

}  // namespace
}  // namespace chromapact::testing
