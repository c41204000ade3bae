// The reader against every sample in tests/edi/samples (copies of /work/shared/samples/x12,
// see its README for each file's source): good documents are read with their envelopes
// intact, NEGATIVE and defective ones are rejected with a precise reason, none crash.
#include "adapters/edi/x12_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "adapters/edi/edi_analysis.h"

namespace ordersync {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(ORDERSYNC_X12_SAMPLES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.is_open()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every set's effective verdict in file order ("ok" or the reason), with the file-level
// fault first when there is one.
std::vector<std::string> Verdicts(const std::string& name) {
  EdiAnalysis a = AnalyzeX12(ReadSample(name), EdiOptions{}, /*allow_unknown=*/true, ValidatorOptions{});
  std::vector<std::string> out;
  if (!a.doc->fault.ok()) out.push_back("file:" + a.doc->fault.reason);
  for (size_t i = 0; i < a.doc->interchanges.size(); ++i) {
    if (a.doc->interchanges[i].fault.reason == "edi_bad_isa") out.push_back("isa:edi_bad_isa");
  }
  for (const EdiSetResult& s : a.sets) {
    out.push_back(s.fault.ok() ? (s.review.empty() ? "ok" : "review") : s.fault.reason);
  }
  return out;
}

using V = std::vector<std::string>;

TEST(X12ReaderTest, Samples856) {
  EXPECT_EQ(Verdicts("856/apimeister__test_856_xx_fisher.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("856/ediengine__856_crossdock_ok.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("856/apimeister__test_856_xy_walmart_2orders.edi"), V{"edi_segment_count:GE01"});
  EXPECT_EQ(Verdicts("856/gozer__asn856.edi"), V{"edi_control_mismatch:IEA02"});
  EXPECT_EQ(Verdicts("856/stupidedi__002001_sh856_fail_1.edi"), (V{"edi_missing_loop:HL-O", "edi_missing_loop:HL-O"}));
  EXPECT_EQ(Verdicts("856/stupidedi__004010_sh856_fail_2.edi"), V{"edi_segment_count:SE01"});
}

TEST(X12ReaderTest, Samples940) {
  EXPECT_EQ(Verdicts("940/apimeister__neg_invalid_isa_wrong_element_separator.edi"), V{"isa:edi_bad_isa"});
  EXPECT_EQ(Verdicts("940/apimeister__test_940_1_1edisource.edi"), V{"edi_control_mismatch:IEA02"});
  EXPECT_EQ(Verdicts("940/apimeister__test_940_2_babelway.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("940/apimeister__test_940_3_generalmills_new.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("940/apimeister__test_940_4_generalmills_change.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("940/apimeister__test_940_5_generalmills_cancel.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("940/ediengine__940_failed_se01.edi"), V{"edi_segment_count:SE01"});
  EXPECT_EQ(Verdicts("940/ediengine__acktest_2gs_3st.edi"), (V{"ok", "edi_bad_element:N901", "ok"}));
  EXPECT_EQ(Verdicts("940/ediengine__control_numbers_mismatch.edi"), V{"edi_control_mismatch:SE02"});
  EXPECT_EQ(Verdicts("940/ediengine__multiple_interchanges_and_groups.edi"), V(6, "ok"));
}

TEST(X12ReaderTest, Samples945And180) {
  EXPECT_EQ(Verdicts("945/apimeister__parse_945_simplot_fragment.edi"), V{"file:edi_missing_segment:ISA"});
  EXPECT_EQ(Verdicts("945/apimeister__test_945_parse_1.edi"), V{"edi_segment_count:SE01"});
  EXPECT_EQ(Verdicts("180/apimeister__full_transmission_180.edi"), V{"edi_segment_count:SE01"});
  EXPECT_EQ(Verdicts("180/apimeister__sample_180_bli_fragment.edi"), V{"file:edi_missing_segment:ISA"});
  EXPECT_EQ(Verdicts("repaired/945_parse_1_se01_fixed.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("repaired/180_full_transmission_fixed.edi"), V{"ok"});
  EXPECT_EQ(Verdicts("repaired/856_walmart_2orders_ge01_fixed.edi"), V{"ok"});
}

TEST(X12ReaderTest, UnsupportedSetsAndBrokenEnvelopes) {
  EXPECT_EQ(Verdicts("810/apimeister__test_810_1_adobe.edi"), V{"edi_segment_count:SE01"});
  EXPECT_EQ(Verdicts("810/apimeister__test_810_2_edi2xml_5010.edi"), V{"edi_unsupported_set:810"});
  EXPECT_EQ(Verdicts("810/edinet__x12_810a.edi"), V{"edi_unsupported_set:810"});
  EXPECT_EQ(Verdicts("810/staedi__simple810.edi"), (V{"edi_unsupported_set:810", "edi_unsupported_set:810"}));
  EXPECT_EQ(Verdicts("810/stupidedi__x348_basic_invoice.edi"), V{"edi_unsupported_set:810"});
  EXPECT_EQ(Verdicts("997/staedi__simple997.edi"), V{"edi_unsupported_set:997"});
  EXPECT_EQ(Verdicts("997/staedi__invalid997_min.edi"), V{"edi_control_mismatch:GE02"});
  EXPECT_EQ(Verdicts("997/staedi__simple997_multiple_interchanges.edi"), V(3, "edi_unsupported_set:997"));
  EXPECT_EQ(Verdicts("997/stupidedi__004010_fa997_pass_1.edi"), V{"edi_unsupported_set:997"});
  EXPECT_EQ(Verdicts("997/apimeister__test_997_1_fragment.edi"), V{"file:edi_missing_segment:ISA"});
}

TEST(X12ReaderTest, SeparatorsComeFromTheIsa) {
  auto doc = ParseX12(ReadSample("856/stupidedi__002001_sh856_fail_1.edi"));
  ASSERT_EQ(doc->interchanges.size(), 1u);
  EXPECT_EQ(doc->interchanges[0].element_separator, '*');
  EXPECT_EQ(doc->interchanges[0].component_separator, '@');
  EXPECT_EQ(doc->interchanges[0].segment_terminator, '!');
  auto lf = ParseX12(ReadSample("856/ediengine__856_crossdock_ok.edi"));
  EXPECT_EQ(lf->interchanges[0].segment_terminator, '\n');
  EXPECT_EQ(lf->interchanges[0].component_separator, '>');
}

TEST(X12ReaderTest, MissingIsa16TakesTheTildeAsTerminator) {
  auto doc = ParseX12(ReadSample("940/apimeister__test_940_4_generalmills_change.edi"));
  ASSERT_EQ(doc->interchanges.size(), 1u);
  const X12Interchange& x = doc->interchanges[0];
  EXPECT_TRUE(x.fault.ok()) << x.fault.description;
  EXPECT_EQ(x.segment_terminator, '~');
  EXPECT_EQ(x.component_separator, 0);
  ASSERT_EQ(x.groups.size(), 1u);
  EXPECT_EQ(x.groups[0].gs.at(8), "004010UCS");  // not "004010UCS~"
  EXPECT_FALSE(doc->warnings.empty());
}

TEST(X12ReaderTest, WrappedSegmentIsOneSegment) {
  auto doc = ParseX12(ReadSample("940/apimeister__test_940_3_generalmills_new.edi"));
  const X12TransactionSet& set = doc->interchanges[0].groups[0].sets[0];
  EXPECT_TRUE(set.fault.ok()) << set.fault.description;
  EXPECT_EQ(set.segments.size(), 20u);
  for (const X12Segment& s : set.segments) {
    if (s.id() == "W01") EXPECT_EQ(s.at(15), "PI");
  }
}

TEST(X12ReaderTest, BomAndIndentation) {
  auto doc = ParseX12(ReadSample("810/edinet__x12_810a.edi"));
  ASSERT_EQ(doc->interchanges.size(), 1u);
  EXPECT_TRUE(doc->fault.ok());
  EXPECT_TRUE(doc->interchanges[0].fault.ok()) << doc->interchanges[0].fault.description;
  EXPECT_EQ(doc->interchanges[0].groups[0].sets[0].segments.size(), 64u);
}

TEST(X12ReaderTest, MultipleInterchangesAndNumericControlNumbers) {
  auto doc = ParseX12(ReadSample("940/ediengine__multiple_interchanges_and_groups.edi"));
  ASSERT_EQ(doc->interchanges.size(), 2u);
  EXPECT_EQ(doc->interchanges[0].groups.size(), 2u);
  EXPECT_EQ(doc->interchanges[1].groups.size(), 2u);
  EXPECT_TRUE(doc->interchanges[0].fault.ok());
  EXPECT_TRUE(SameControlNumber("3438", "000003438"));
  EXPECT_FALSE(SameControlNumber("3317     ", "000003438"));
}

TEST(X12ReaderTest, ControlMismatchesEachHaveTheirCode) {
  auto doc = ParseX12(ReadSample("940/ediengine__control_numbers_mismatch.edi"));
  const X12Interchange& x = doc->interchanges[0];
  EXPECT_EQ(x.fault.reason, "edi_control_mismatch:IEA02");
  EXPECT_EQ(x.groups[0].fault.reason, "edi_control_mismatch:GE02");
  EXPECT_EQ(x.groups[0].sets[0].fault.reason, "edi_control_mismatch:SE02");
}

// Found by x12_fuzz: a GS04 in the year 2411 overflowed occurred_at_ns (UBSan).
TEST(X12ReaderTest, FarFutureGroupDateIsABadElement) {
  std::string text = ReadSample("940/apimeister__test_940_5_generalmills_cancel.edi");
  text.replace(text.find("*20111201*1108*4313*"), 10, "*24111201*");
  EdiAnalysis a = AnalyzeX12(text, EdiOptions{}, true, ValidatorOptions{});
  ASSERT_EQ(a.sets.size(), 1u);
  EXPECT_EQ(a.sets[0].fault.reason, "edi_bad_element:GS04");
}

TEST(X12ReaderTest, TruncatedAndGarbageInputsNeverCrash) {
  const std::string good = ReadSample("940/apimeister__test_940_2_babelway.edi");
  for (size_t n = 0; n < good.size(); n += 7) {
    auto doc = ParseX12(std::string_view(good).substr(0, n));
    ASSERT_NE(doc, nullptr);
  }
  EXPECT_EQ(ParseX12("")->fault.reason, "edi_missing_segment:ISA");
  EXPECT_EQ(ParseX12("ISA")->interchanges.at(0).fault.reason, "edi_bad_isa");
  auto cut = ParseX12(std::string_view(good).substr(0, good.size() / 2));
  EXPECT_EQ(cut->interchanges.at(0).fault.reason, "edi_missing_segment:IEA");
}

}  // namespace
}  // namespace ordersync
