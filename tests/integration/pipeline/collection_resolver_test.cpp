// CollectionResolver against moto_server's DynamoDB: the string a producer or query event names is
// resolved through the collections registry (a registered name or UUID -> its storage key; anything
// else is its own key), a producer's first write registers a valid Chroma name (stored under
// itself, found by the registry like an API collection), invalid names and mapped names are not
// registered, answers are cached for the TTL only, and a registration race is reported.
#include "chromapact/pipeline/collection_resolver.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/pipeline_fixture.h"

namespace chromapact::pipeline {
namespace {

constexpr int64_t kT0 = 1764000000000;

// The item rights a registry needs (a delete frees a name).
constexpr const char* kRegistryPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem",)"
    R"("dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem"],"Resource":"*"}]})";

class CollectionResolverTest : public fixture::PipelineMotoTest {
 protected:
  static void SetUpTestSuite() { StartMoto(kRegistryPolicy); }
  void SetUp() override {
    kv_ = CompactorKv();
    registry_ = std::make_unique<CollectionRegistry>(kv_.get(), &clock_);
  }
  // A collection as the REST API creates it: stored under its UUID.
  CollectionInfo CreateViaApi(const std::string& name) {
    CollectionInfo info;
    info.name = name;
    auto c = registry_->Create(info, /*get_or_create=*/false);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : CollectionInfo{};
  }
  std::string Resolve(CollectionResolver& r, const std::string& s) {
    auto storage = r.Resolve(s);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? *storage : "";
  }

  ManualClock clock_{kT0};
  std::unique_ptr<KvStore> kv_;
  std::unique_ptr<CollectionRegistry> registry_;
};

TEST_F(CollectionResolverTest, RegisteredNamesAndUuidsMapToTheirStorageOthersToThemselves) {
  const CollectionInfo api = CreateViaApi("receipts-api");
  ASSERT_FALSE(api.storage.empty());
  ASSERT_NE(api.storage, "receipts-api");
  CollectionResolver r(registry_.get(), &clock_, 1);
  EXPECT_EQ(Resolve(r, "receipts-api"), api.storage);
  EXPECT_EQ(Resolve(r, api.id), api.storage);
  EXPECT_EQ(Resolve(r, "never-registered"), "never-registered");
  EXPECT_EQ(Resolve(r, "x"), "x");  // not a Chroma name: only a storage key
}

TEST_F(CollectionResolverTest, FirstWriteRegistersAValidNameStoredUnderItself) {
  CollectionResolver producer(registry_.get(), &clock_, 4);
  ASSERT_EQ(Resolve(producer, "receipt-words"), "receipt-words");
  ASSERT_TRUE(producer.Register("receipt-words").ok());
  auto found = registry_->GetByName(kDefaultTenant, kDefaultDatabase, "receipt-words");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->storage, "receipt-words");
  EXPECT_EQ(found->shards, 4);
  auto listed = registry_->List(kDefaultTenant, kDefaultDatabase);
  ASSERT_TRUE(listed.ok());
  bool in_list = false;
  for (const auto& c : *listed) in_list = in_list || c.name == "receipt-words";
  EXPECT_TRUE(in_list);
  // Another process finds it by name and by its new UUID.
  CollectionResolver query(registry_.get(), &clock_, 4);
  EXPECT_EQ(Resolve(query, "receipt-words"), "receipt-words");
  EXPECT_EQ(Resolve(query, found->id), "receipt-words");
  // Registering again (another producer, another write) changes nothing.
  CollectionResolver other(registry_.get(), &clock_, 4);
  ASSERT_TRUE(other.Register("receipt-words").ok());
  auto again = registry_->GetByName(kDefaultTenant, kDefaultDatabase, "receipt-words");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, found->id);
}

TEST_F(CollectionResolverTest, InvalidNamesAreNotRegistered) {
  CollectionResolver producer(registry_.get(), &clock_, 1);
  for (const std::string s : {"ab", "-bad-", "a..b", "192.168.0.1"}) {
    ASSERT_TRUE(producer.Register(s).ok()) << s;
    EXPECT_EQ(registry_->GetByName(kDefaultTenant, kDefaultDatabase, s).status().code(), StatusCode::kNotFound) << s;
  }
}

TEST_F(CollectionResolverTest, AnswersAreCachedForTheTtlOnly) {
  CollectionResolver r(registry_.get(), &clock_, 1, /*ttl_ms=*/1000);
  EXPECT_EQ(Resolve(r, "late-comer"), "late-comer");
  const CollectionInfo api = CreateViaApi("late-comer");
  clock_.Advance(999);
  EXPECT_EQ(Resolve(r, "late-comer"), "late-comer");  // cached
  clock_.Advance(1);
  EXPECT_EQ(Resolve(r, "late-comer"), api.storage);  // looked up again
  // Deleted and re-created through the API: a new UUID, followed after the TTL.
  ASSERT_TRUE(registry_->Delete(kDefaultTenant, kDefaultDatabase, "late-comer").ok());
  const CollectionInfo again = CreateViaApi("late-comer");
  ASSERT_NE(again.storage, api.storage);
  clock_.Advance(1000);
  EXPECT_EQ(Resolve(r, "late-comer"), again.storage);
}

TEST_F(CollectionResolverTest, ARegistrationRaceLostToTheApiIsReported) {
  CollectionResolver producer(registry_.get(), &clock_, 1);
  ASSERT_EQ(Resolve(producer, "raced"), "raced");  // looked up before the API created it
  const CollectionInfo api = CreateViaApi("raced");
  Status st = producer.Register("raced");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_NE(st.message().find(api.storage), std::string::npos) << st.message();
  auto found = registry_->GetByName(kDefaultTenant, kDefaultDatabase, "raced");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->storage, api.storage);  // the API's collection is untouched
  EXPECT_EQ(Resolve(producer, "raced"), api.storage);  // and later writes go to it
}

TEST_F(CollectionResolverTest, ResolveEventRewritesTheCollectionOrTheDefault) {
  const CollectionInfo api = CreateViaApi("by-event");
  CollectionResolver r(registry_.get(), &clock_, 1);
  nlohmann::json named = {{"collection", "by-event"}, {"action", "count"}};
  ASSERT_TRUE(r.ResolveEvent(&named, "").ok());
  EXPECT_EQ(named["collection"], api.storage);
  nlohmann::json defaulted = {{"action", "count"}};
  ASSERT_TRUE(r.ResolveEvent(&defaulted, "by-event").ok());
  EXPECT_EQ(defaulted["collection"], api.storage);
  nlohmann::json none = {{"action", "count"}};
  ASSERT_TRUE(r.ResolveEvent(&none, "").ok());
  EXPECT_FALSE(none.contains("collection"));  // the event's parser names that error
  nlohmann::json wrong = {{"collection", 7}};
  EXPECT_EQ(r.ResolveEvent(&wrong, "").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace chromapact::pipeline
