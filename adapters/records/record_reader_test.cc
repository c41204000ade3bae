#include "adapters/records/record_reader.h"

#include <gtest/gtest.h>

namespace ordersync {
namespace {

constexpr ColumnSpec kColumns[] = {
    {"sku", {"item"}, true},
    {"uom", {"unit"}, false},
    {"note", {}, false},
};

std::vector<std::vector<std::string>> ReadAll(RecordReader& reader) {
  std::vector<std::vector<std::string>> out;
  RecordView r;
  while (reader.Next(&r)) {
    out.push_back({std::to_string(r.line()), std::string(r.Get(0)), std::string(r.Get(1)), std::string(r.Get(2))});
  }
  return out;
}

TEST(RecordReaderTest, CsvWithQuotesAliasesAndBlankLines) {
  RecordReader reader("\xEF\xBB\xBFItem, unit ,note\nSKU-1,EA,\n\n\"SKU,2\",\"B\"\"OX\",\"two\nlines\"\nSKU-3,KG,x\n",
                      "items.csv", RecordFormat::kCsv, kColumns);
  auto rows = ReadAll(reader);
  EXPECT_EQ(reader.error(), "");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"2", "SKU-1", "EA", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"4", "SKU,2", "B\"OX", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"6", "SKU-3", "KG", "x"}));
}

TEST(RecordReaderTest, CsvErrorsNameTheLine) {
  RecordReader unknown("sku,colour\nA,red\n", "items.csv", RecordFormat::kCsv, kColumns);
  RecordView r;
  EXPECT_FALSE(unknown.Next(&r));
  EXPECT_EQ(unknown.error(), "items.csv:1: unknown column 'colour'; columns here: sku, uom, note");

  RecordReader missing("uom\nEA\n", "items.csv", RecordFormat::kCsv, kColumns);
  EXPECT_FALSE(missing.Next(&r));
  EXPECT_EQ(missing.error(), "items.csv:1: missing column 'sku'");

  RecordReader empty_required("sku,uom\nA,EA\n,EA\n", "items.csv", RecordFormat::kCsv, kColumns);
  EXPECT_TRUE(empty_required.Next(&r));
  EXPECT_FALSE(empty_required.Next(&r));
  EXPECT_EQ(empty_required.error(), "items.csv:3: sku: required, the field is empty");

  RecordReader too_many("sku,uom\nA,EA,extra\n", "items.csv", RecordFormat::kCsv, kColumns);
  EXPECT_FALSE(too_many.Next(&r));
  EXPECT_EQ(too_many.error(), "items.csv:2: row has 3 fields, the header 2");

  RecordReader quote("sku\n\"A\n", "items.csv", RecordFormat::kCsv, kColumns);
  EXPECT_FALSE(quote.Next(&r));
  EXPECT_EQ(quote.error(), "items.csv:2: unterminated quoted field");
}

TEST(RecordReaderTest, UnknownColumnsMayBeAllowed) {
  RecordReader reader("sku,colour\nA,red\n", "export.csv", RecordFormat::kCsv, kColumns, /*allow_unknown_columns=*/true);
  auto rows = ReadAll(reader);
  EXPECT_EQ(reader.error(), "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "A");
}

TEST(RecordReaderTest, JsonLinesValuesAsText) {
  RecordReader reader("{\"sku\":\"A\",\"uom\":\"EA\"}\n\n{\"item\":\"B\",\"note\":12.5}\n{\"sku\":\"C\",\"note\":true}\n",
                      "items.jsonl", RecordFormat::kJsonLines, kColumns);
  auto rows = ReadAll(reader);
  EXPECT_EQ(reader.error(), "");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"3", "B", "", "12.5"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"4", "C", "", "true"}));
}

TEST(RecordReaderTest, JsonLinesErrorsNameTheLine) {
  RecordView r;
  RecordReader bad("{\"sku\":\"A\"}\n{\"sku\": \n", "items.jsonl", RecordFormat::kJsonLines, kColumns);
  EXPECT_TRUE(bad.Next(&r));
  EXPECT_FALSE(bad.Next(&r));
  EXPECT_EQ(bad.error(), "items.jsonl:2: not valid JSON: {\"sku\":");
  RecordReader array("[1]\n", "items.jsonl", RecordFormat::kJsonLines, kColumns);
  EXPECT_FALSE(array.Next(&r));
  EXPECT_EQ(array.error(), "items.jsonl:1: expected one JSON object per line");
  RecordReader missing("{\"uom\":\"EA\"}\n", "items.jsonl", RecordFormat::kJsonLines, kColumns);
  EXPECT_FALSE(missing.Next(&r));
  EXPECT_EQ(missing.error(), "items.jsonl:1: sku: required, missing");
}

TEST(RecordReaderTest, FormatByExtensionThenContent) {
  EXPECT_EQ(DetectRecordFormat("a.CSV", "{"), RecordFormat::kCsv);
  EXPECT_EQ(DetectRecordFormat("a.jsonl", "x"), RecordFormat::kJsonLines);
  EXPECT_EQ(DetectRecordFormat("a.txt", "\n  {\"a\":1}"), RecordFormat::kJsonLines);
  EXPECT_EQ(DetectRecordFormat("a.txt", "sku,uom"), RecordFormat::kCsv);
}

}  // namespace
}  // namespace ordersync
