// DynamoDbClient against moto_server with signature checking on (docs/aws-notes.md §1, §4): table
// management, every item operation with its ReturnValues, the lease-style conditional write
// conflict with reserved words escaped, and the two auth failures.
#include "chromapact/aws/dynamodb.h"

#include <gtest/gtest.h>

#include <optional>

#include "support/moto.h"

namespace chromapact::aws {
namespace {

using testing::MotoServer;

class DynamoDbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = MotoServer::Start();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    moto_ = std::move(m).value();
    auto reader = moto_->CreateUser(
        "ddb-reader",
        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]})");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = *reader;
    ASSERT_TRUE(moto_->EnableAuth().ok());
  }
  static void TearDownTestSuite() {
    reader_.reset();
    moto_.reset();
  }

  void SetUp() override {
    ASSERT_NE(moto_, nullptr);
    auto admin = moto_->Admin();
    ASSERT_TRUE(admin.ok());
    client_ = std::make_unique<DynamoDbClient>(moto_->Config(*admin));
  }

  std::string NewTable(const std::string& name) {
    CreateTableRequest req;
    req.table = name;
    req.partition_key = "pk";
    auto d = client_->CreateTable(req);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return name;
  }

  // The lease acquire (docs/design/pointer.md): take the lock when nobody holds it or the holder's lease
  // expired; bump the fencing counter. `owner` and `ttl` are reserved words: only #names work.
  Result<WriteItemResult> Acquire(const std::string& table, const std::string& owner, int64_t now_ms,
                                  int64_t ttl_ms, std::optional<Item>* old = nullptr) {
    UpdateItemRequest req;
    req.table = table;
    req.key = {{"pk", AttributeValue::S("LOCK#coll#0")}};
    req.update_expression = "SET #o = :me, #e = :exp ADD fence :one";
    req.condition_expression = "attribute_not_exists(pk) OR #e < :now";
    req.expr.names = {{"#o", "owner"}, {"#e", "ttl"}};
    req.expr.values = {{":me", AttributeValue::S(owner)},
                       {":exp", AttributeValue::N(now_ms + ttl_ms)},
                       {":now", AttributeValue::N(now_ms)},
                       {":one", AttributeValue::N(int64_t{1})}};
    req.return_values = ReturnValues::kAllNew;
    req.return_old_on_condition_failure = old != nullptr;
    return client_->UpdateItem(req, old);
  }

  static std::unique_ptr<MotoServer> moto_;
  static std::optional<Credentials> reader_;
  std::unique_ptr<DynamoDbClient> client_;
};

std::unique_ptr<MotoServer> DynamoDbTest::moto_;
std::optional<Credentials> DynamoDbTest::reader_;

TEST_F(DynamoDbTest, TableLifecycle) {
  CreateTableRequest req;
  req.table = "life";
  req.partition_key = "pk";
  req.sort_key = "sk";
  req.sort_key_type = KeyType::kN;
  auto created = client_->CreateTable(req);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "life");
  EXPECT_EQ(created->partition_key, "pk");
  EXPECT_EQ(created->sort_key, "sk");
  EXPECT_NE(created->arn.find(":table/life"), std::string::npos);

  auto described = client_->DescribeTable("life");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->status, "ACTIVE");
  EXPECT_EQ(described->item_count, 0);

  auto dup = client_->CreateTable(req);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();
  EXPECT_EQ(dup.status().aws()->error_code, "ResourceInUseException");

  ASSERT_TRUE(client_->DeleteTable("life").ok());
  auto gone = client_->DescribeTable("life");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  ASSERT_TRUE(gone.status().aws().has_value());
  EXPECT_EQ(gone.status().aws()->error_code, "ResourceNotFoundException");
  EXPECT_EQ(gone.status().aws()->http_status, 400);
}

TEST_F(DynamoDbTest, PutGetRoundTripsEveryType) {
  std::string table = NewTable("items");
  Item item{{"pk", AttributeValue::S("rec#1")},
            {"n", AttributeValue::N("12345678901234567890")},
            {"neg", AttributeValue::N(int64_t{-7})},
            {"b", AttributeValue::B(std::string("\x00\x01\xff", 3))},
            {"yes", AttributeValue::Bool(true)},
            {"nothing", AttributeValue::Null()},
            {"tags", AttributeValue::SS({"x", "y"})},
            {"nums", AttributeValue::NS({"1", "2.5"})},
            {"meta", AttributeValue::M({{"owner", AttributeValue::S("c1")}, {"l", AttributeValue::L({AttributeValue::N(int64_t{1}), AttributeValue::S("two")})}})}};
  PutItemRequest put;
  put.table = table;
  put.item = item;
  auto p = client_->PutItem(put);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->attributes.has_value());

  GetItemRequest get;
  get.table = table;
  get.key = {{"pk", AttributeValue::S("rec#1")}};
  get.consistent_read = true;
  auto g = client_->GetItem(get);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_TRUE(g->item.has_value());
  EXPECT_EQ(*g->item, item) << ItemDebugString(*g->item);

  get.projection_expression = "#o, neg";
  get.names = {{"#o", "meta"}};
  auto projected = client_->GetItem(get);
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ(projected->item->size(), 2u) << ItemDebugString(*projected->item);

  get.key = {{"pk", AttributeValue::S("absent")}};
  get.projection_expression.clear();
  get.names.clear();
  auto none = client_->GetItem(get);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->item.has_value());

  get.key = {{"id", AttributeValue::S("a")}};  // not the table's key
  EXPECT_EQ(client_->GetItem(get).status().code(), StatusCode::kInvalidArgument);
  get.table = "no-such-table";
  EXPECT_EQ(client_->GetItem(get).status().code(), StatusCode::kNotFound);
}

TEST_F(DynamoDbTest, LeaseConflictIsPreconditionFailedWithTheOldItem) {
  std::string table = NewTable("leases");
  auto first = Acquire(table, "compactor-1", 1000, 60000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(GetInt64(*first->attributes, "fence").value(), 1);
  EXPECT_EQ(GetString(*first->attributes, "owner").value(), "compactor-1");

  // A competitor before expiry loses, and sees who holds the lease.
  std::optional<Item> old;
  auto lost = Acquire(table, "compactor-2", 2000, 60000, &old);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kPreconditionFailed) << lost.status().ToString();
  ASSERT_TRUE(lost.status().aws().has_value());
  EXPECT_EQ(lost.status().aws()->error_code, "ConditionalCheckFailedException");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(GetString(*old, "owner").value(), "compactor-1");
  EXPECT_EQ(GetInt64(*old, "ttl").value(), 61000);

  // After expiry the competitor takes it over with the next fence.
  auto taken = Acquire(table, "compactor-2", 61001, 60000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(GetInt64(*taken->attributes, "fence").value(), 2);
  EXPECT_EQ(GetString(*taken->attributes, "owner").value(), "compactor-2");

  // The old holder's heartbeat (conditioned on owner + fence) now fails; release by the new one works.
  UpdateItemRequest beat;
  beat.table = table;
  beat.key = {{"pk", AttributeValue::S("LOCK#coll#0")}};
  beat.update_expression = "SET #e = :exp";
  beat.condition_expression = "#o = :me AND fence = :fence";
  beat.expr.names = {{"#o", "owner"}, {"#e", "ttl"}};
  beat.expr.values = {{":me", AttributeValue::S("compactor-1")}, {":fence", AttributeValue::N(int64_t{1})},
                      {":exp", AttributeValue::N(int64_t{999999})}};
  EXPECT_EQ(client_->UpdateItem(beat).status().code(), StatusCode::kPreconditionFailed);

  DeleteItemRequest release;
  release.table = table;
  release.key = beat.key;
  release.condition_expression = "#o = :me AND fence = :fence";
  release.expr.names = {{"#o", "owner"}};
  release.expr.values = {{":me", AttributeValue::S("compactor-1")}, {":fence", AttributeValue::N(int64_t{1})}};
  std::optional<Item> holder;
  release.return_old_on_condition_failure = true;
  EXPECT_EQ(client_->DeleteItem(release, &holder).status().code(), StatusCode::kPreconditionFailed);
  ASSERT_TRUE(holder.has_value());
  EXPECT_EQ(GetString(*holder, "owner").value(), "compactor-2");
  release.expr.values = {{":me", AttributeValue::S("compactor-2")}, {":fence", AttributeValue::N(int64_t{2})}};
  release.return_values = ReturnValues::kAllOld;
  auto released = client_->DeleteItem(release);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(GetInt64(*released->attributes, "fence").value(), 2);

  // Unescaped reserved words are a ValidationException (moto enforces them too).
  UpdateItemRequest raw = beat;
  raw.update_expression = "SET ttl = :exp";
  raw.condition_expression = "owner = :me";
  raw.expr.names.clear();
  raw.expr.values.erase(":fence");
  auto invalid = client_->UpdateItem(raw);
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument) << invalid.status().ToString();
  EXPECT_EQ(invalid.status().aws()->error_code, "ValidationException");
}

TEST_F(DynamoDbTest, PutItemConditionAndReturnValues) {
  std::string table = NewTable("pointers");
  PutItemRequest create;
  create.table = table;
  create.item = {{"pk", AttributeValue::S("PTR#coll#0")}, {"version", AttributeValue::N(int64_t{1})}};
  create.condition_expression = "attribute_not_exists(pk)";
  ASSERT_TRUE(client_->PutItem(create).ok());
  auto again = client_->PutItem(create);
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed);

  // Compare-and-swap version 1 -> 2 wins once; the same swap again loses.
  PutItemRequest cas;
  cas.table = table;
  cas.item = {{"pk", AttributeValue::S("PTR#coll#0")}, {"version", AttributeValue::N(int64_t{2})}};
  cas.condition_expression = "version = :expected";
  cas.expr.values = {{":expected", AttributeValue::N(int64_t{1})}};
  cas.return_values = ReturnValues::kAllOld;
  auto swapped = client_->PutItem(cas);
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  EXPECT_EQ(GetInt64(*swapped->attributes, "version").value(), 1);
  EXPECT_EQ(client_->PutItem(cas).status().code(), StatusCode::kPreconditionFailed);

  UpdateItemRequest upd;
  upd.table = table;
  upd.key = {{"pk", AttributeValue::S("PTR#coll#0")}};
  upd.update_expression = "SET version = version + :one, note = :n";
  upd.expr.values = {{":one", AttributeValue::N(int64_t{1})}, {":n", AttributeValue::S("hi")}};
  upd.return_values = ReturnValues::kUpdatedOld;
  auto old = client_->UpdateItem(upd);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(GetInt64(*old->attributes, "version").value(), 2);
  EXPECT_EQ(old->attributes->count("note"), 0u);
  upd.return_values = ReturnValues::kUpdatedNew;
  auto now = client_->UpdateItem(upd);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(GetInt64(*now->attributes, "version").value(), 4);
  EXPECT_EQ(now->attributes->count("pk"), 0u);
}

TEST_F(DynamoDbTest, WrongSecretIsUnauthenticated) {
  std::string table = NewTable("auth");
  auto admin = moto_->Admin();
  ASSERT_TRUE(admin.ok());
  Credentials wrong = *admin;
  wrong.secret_access_key = "wrong-secret-wrong-secret-wrong-secret";
  DynamoDbClient bad(moto_->Config(wrong));
  auto r = bad.DescribeTable(table);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_EQ(r.status().aws()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.status().ToString().find(wrong.secret_access_key), std::string::npos);
}

TEST_F(DynamoDbTest, PolicyThatForbidsTheCallIsPermissionDenied) {
  std::string table = NewTable("guarded");
  DynamoDbClient reader(moto_->Config(*reader_));
  GetItemRequest get;
  get.table = table;
  get.key = {{"pk", AttributeValue::S("a")}};
  auto allowed = reader.GetItem(get);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  PutItemRequest put;
  put.table = table;
  put.item = get.key;
  auto denied = reader.PutItem(put);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  EXPECT_EQ(denied.status().aws()->error_code, "AccessDenied");
}

}  // namespace
}  // namespace chromapact::aws
