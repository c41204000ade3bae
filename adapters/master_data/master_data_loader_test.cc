#include "adapters/master_data/master_data_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "adapters/master_data/master_data_store.h"
#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {

TEST(MasterDataLoaderTest, ParsesCustomersItemsAndPricesInBothFormats) {
  MasterDataFile c = ParseMasterDataFile(MasterDataKind::kCustomers, "customers.csv",
                                         "customer_id,company_code,currency,credit_hold,active\n"
                                         "C-1,1000,EUR,no,yes\nC-2,,USD,true,\n");
  ASSERT_TRUE(c.ok()) << c.errors[0];
  ASSERT_EQ(c.customers.size(), 2u);
  EXPECT_FALSE(c.customers[0].credit_hold);
  EXPECT_TRUE(c.customers[1].credit_hold);
  EXPECT_TRUE(c.customers[1].active);  // default
  EXPECT_EQ(c.format, "csv");

  MasterDataFile i = ParseMasterDataFile(MasterDataKind::kItems, "items.jsonl",
                                         "{\"sku\":\"SKU-1\",\"uom\":\"EA\"}\n{\"sku\":\"SKU-2\",\"active\":false}\n");
  ASSERT_TRUE(i.ok()) << i.errors[0];
  EXPECT_EQ(i.format, "json lines");
  EXPECT_FALSE(i.items[1].active);

  MasterDataFile p = ParseMasterDataFile(MasterDataKind::kPrices, "prices.csv",
                                         "sku,currency,unit_price,valid_from,valid_to\n"
                                         "SKU-1,EUR,19.99,2024-01-01,2024-07-01\n"
                                         "SKU-1,EUR,21.50,2024-07-01,\n");
  ASSERT_TRUE(p.ok()) << p.errors[0];
  EXPECT_EQ(p.prices[0].unit_price_minor, 1999);
  EXPECT_EQ(p.prices[1].unit_price_minor, 2150);
}

TEST(MasterDataLoaderTest, BadLinesAreReportedWithFileLineAndColumn) {
  MasterDataFile c = ParseMasterDataFile(MasterDataKind::kCustomers, "customers.csv",
                                         "customer_id,currency,credit_hold\n"
                                         "C-1,EUR,maybe\n"
                                         "C-2,EURO,false\n"
                                         "C-1,EUR,false\n");
  ASSERT_EQ(c.errors.size(), 3u);
  EXPECT_EQ(c.errors[0], "customers.csv:2: credit_hold: expected true or false, got 'maybe'");
  EXPECT_EQ(c.errors[1], "customers.csv:3: currency: expected a 3-letter ISO 4217 code, got 'EURO'");
  EXPECT_EQ(c.errors[2], "customers.csv:4: customer 'C-1' already on line 2");

  MasterDataFile p = ParseMasterDataFile(MasterDataKind::kPrices, "prices.jsonl",
                                         "{\"sku\":\"A\",\"currency\":\"EUR\",\"unit_price_minor\":100,"
                                         "\"valid_from\":\"2024-01-01\",\"valid_to\":\"2024-07-01\"}\n"
                                         "{\"sku\":\"A\",\"currency\":\"EUR\",\"unit_price_minor\":120,"
                                         "\"valid_from\":\"2024-06-01\"}\n"
                                         "{\"sku\":\"B\",\"currency\":\"EUR\",\"unit_price\":\"1.234\"}\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0],
            "prices.jsonl:3: unit_price: expected an amount >= 0 with at most 2 decimals, got '1.234'");
  p = ParseMasterDataFile(MasterDataKind::kPrices, "prices.jsonl",
                          "{\"sku\":\"A\",\"currency\":\"EUR\",\"unit_price_minor\":100,"
                          "\"valid_from\":\"2024-01-01\",\"valid_to\":\"2024-07-01\"}\n"
                          "{\"sku\":\"A\",\"currency\":\"EUR\",\"unit_price_minor\":120,"
                          "\"valid_from\":\"2024-06-01\"}\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0],
            "prices.jsonl:2: A EUR valid 2024-06-01T00:00:00Z..open overlaps line 1 "
            "(2024-01-01T00:00:00Z..2024-07-01T00:00:00Z)");

  MasterDataFile empty = ParseMasterDataFile(MasterDataKind::kItems, "items.csv", "sku,uom\n");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_NE(empty.errors[0].find("no records"), std::string::npos);
}

TEST(MasterDataLoaderTest, ErrorsAreCappedAndCounted) {
  std::string text = "sku,active\n";
  for (int i = 0; i < 30; ++i) text += "S" + std::to_string(i) + ",perhaps\n";
  MasterDataFile f = ParseMasterDataFile(MasterDataKind::kItems, "items.csv", text, 5);
  ASSERT_EQ(f.errors.size(), 6u);
  EXPECT_EQ(f.errors.back(), "... and 25 more");
}

TEST(MasterDataLoaderTest, VersionFollowsTheContent) {
  const std::string dir = std::filesystem::temp_directory_path() / ("md-loader-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  MasterDataOptions o;
  o.customers = dir + "/customers.csv";
  std::ofstream(o.customers) << "customer_id\nC-1\n";
  MasterDataLoad first = LoadMasterData(o);
  ASSERT_NE(first.snapshot, nullptr);
  MasterDataLoad same = LoadMasterData(o);
  EXPECT_EQ(first.snapshot->version(), same.snapshot->version());
  EXPECT_EQ(first.snapshot->version().substr(0, 3), "md-");
  EXPECT_EQ(first.snapshot->version().size(), 15u);
  std::ofstream(o.customers) << "customer_id\nC-1\nC-2\n";
  EXPECT_NE(LoadMasterData(o).snapshot->version(), first.snapshot->version());
  std::filesystem::remove_all(dir);
}

TEST(MasterDataStoreTest, BadReloadKeepsTheDataInForce) {
  const std::string dir = std::filesystem::temp_directory_path() / ("md-store-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  MasterDataOptions o;
  o.customers = dir + "/customers.csv";
  o.watch_interval_ms = 0;
  std::ofstream(o.customers) << "customer_id,credit_hold\nC-1,false\n";
  auto store = MasterDataStore::Start(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string v1 = (*store)->Current()->version();
  const uint64_t g1 = (*store)->generation();
  std::ofstream(o.customers) << "customer_id,credit_hold\nC-1,false\nC-2,sometimes\n";
  Status s = (*store)->Reload();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("customers.csv:3: credit_hold: expected true or false, got 'sometimes'"),
            std::string::npos);
  EXPECT_EQ((*store)->Current()->version(), v1);
  EXPECT_EQ((*store)->generation(), g1);
  nlohmann::json status = (*store)->StatusJson();
  EXPECT_EQ(status["last_result"], "refused");
  EXPECT_EQ(status["version"], v1);
  EXPECT_EQ(status["errors"].size(), 1u);
  EXPECT_EQ(status["counts"]["customers"], 1);
  std::ofstream(o.customers) << "customer_id,credit_hold\nC-1,false\nC-2,true\n";
  EXPECT_TRUE((*store)->Reload().ok());
  EXPECT_NE((*store)->Current()->version(), v1);
  EXPECT_GT((*store)->generation(), g1);
  EXPECT_TRUE((*store)->Current()->FindCustomer("C-2")->credit_hold);
  EXPECT_EQ((*store)->StatusJson()["errors"].size(), 0u);
  std::filesystem::remove_all(dir);
}

TEST(MasterDataStoreTest, AChangedFileIsLoadedOnceItSettles) {
  const std::string dir = std::filesystem::temp_directory_path() / ("md-watch-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  MasterDataOptions o;
  o.items = dir + "/items.csv";
  o.watch_interval_ms = 20;
  std::ofstream(o.items) << "sku\nA\n";
  auto store = MasterDataStore::Start(o);
  ASSERT_TRUE(store.ok());
  const uint64_t g = (*store)->generation();
  std::ofstream(o.items) << "sku\nA\nB\n";
  for (int i = 0; i < 200 && (*store)->generation() == g; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT((*store)->generation(), g);
  EXPECT_NE((*store)->Current()->FindItem("B"), nullptr);
  std::filesystem::remove_all(dir);
}

TEST(FieldParseTest, TimestampsMoneyAndBooleans) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseTimestampNs("2024-05-01", &ns));
  EXPECT_EQ(FormatTimestampNs(ns), "2024-05-01T00:00:00Z");
  ASSERT_TRUE(ParseTimestampNs("2024-05-01T12:30:15.250+02:00", &ns));
  EXPECT_EQ(FormatTimestampNs(ns), "2024-05-01T10:30:15.25Z");
  EXPECT_FALSE(ParseTimestampNs("2024-02-31", &ns));
  EXPECT_FALSE(ParseTimestampNs("01/05/2024", &ns));
  int64_t m = 0;
  ASSERT_TRUE(ParseMoneyMinor("19.9", &m));
  EXPECT_EQ(m, 1990);
  ASSERT_TRUE(ParseMoneyMinor("-0.05", &m));
  EXPECT_EQ(m, -5);
  EXPECT_FALSE(ParseMoneyMinor("1.234", &m));
  EXPECT_FALSE(ParseMoneyMinor("abc", &m));
  bool b = false;
  EXPECT_TRUE(ParseBool("YES", &b) && b);
  EXPECT_FALSE(ParseBool("maybe", &b));
}

}  // namespace
}  // namespace ordersync
