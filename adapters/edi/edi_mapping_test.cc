// Partner-profile mapping of the good samples to milestone events, and the 997 that
// acknowledges each received group.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "adapters/edi/edi_analysis.h"
#include "adapters/edi/functional_ack.h"

namespace ordersync {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(ORDERSYNC_X12_SAMPLES) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

EdiOptions Partners() {
  EdiOptions o;
  EdiPartnerProfile gm;
  gm.name = "GENMILLS";
  gm.isa_qualifier = "08";
  gm.isa_id = "925119TEST";
  gm.company_code = "US01";
  gm.sku_qualifier = "VN";
  gm.uom_map = {{"CA", "CS"}};
  o.partners.push_back(gm);
  EdiPartnerProfile vendor;
  vendor.name = "VENDOR-3PL";
  vendor.isa_qualifier = "ZZ";
  vendor.isa_id = "VENDOR";
  vendor.sku_qualifier = "UP";
  o.partners.push_back(vendor);
  EdiPartnerProfile sender;
  sender.name = "XDOCK";
  sender.isa_qualifier = "ZZ";
  sender.isa_id = "SENDER";  // sku_qualifier "": the first product id (UP or EN)
  o.partners.push_back(sender);
  return o;
}

EdiAnalysis Analyze(const std::string& name, bool allow_unknown = true) {
  return AnalyzeX12(ReadSample(name), Partners(), allow_unknown, ValidatorOptions{});
}

std::vector<const EnvelopeSpec*> Events(const EdiAnalysis& a) {
  std::vector<const EnvelopeSpec*> out;
  for (const EdiSetResult& s : a.sets) {
    for (const EdiEvent& e : s.events) out.push_back(&e.spec);
  }
  return out;
}

TEST(EdiMappingTest, Order940NewBecomesOrderAccepted) {
  EdiAnalysis a = Analyze("940/apimeister__test_940_3_generalmills_new.edi");
  auto ev = Events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->kind, Milestone::OrderAccepted);
  EXPECT_EQ(ev[0]->order_id, "18061923");
  EXPECT_EQ(ev[0]->source, "GENMILLS");
  EXPECT_EQ(ev[0]->company_code, "US01");
  EXPECT_EQ(ev[0]->customer_id, "0060034969");  // N1*ST N104
  EXPECT_EQ(ev[0]->event_id, "edi:08/925119TEST:000000007:4311:43110001:0");
  ASSERT_EQ(ev[0]->lines.size(), 2u);
  EXPECT_EQ(ev[0]->lines[0].sku, "0638746000");
  EXPECT_EQ(ev[0]->lines[0].qty, 750);
  EXPECT_EQ(ev[0]->lines[0].uom, "CS");  // CA mapped by the profile
  EXPECT_EQ(ev[0]->lines[1].sku, "0143872000");
  EXPECT_EQ(ev[0]->lines[1].qty, 170);
  EXPECT_EQ(ev[0]->lines[1].line_no, 2u);
}

TEST(EdiMappingTest, Order940ReplaceAndCancel) {
  auto r = Analyze("940/apimeister__test_940_4_generalmills_change.edi");
  auto ev = Events(r);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->kind, Milestone::OrderAccepted);  // the engine dedups or excepts it
  EXPECT_EQ(ev[0]->order_id, "18061930");
  EXPECT_EQ(ev[0]->lines.at(0).qty, 300);
  auto f = Analyze("940/apimeister__test_940_5_generalmills_cancel.edi");
  ev = Events(f);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->kind, Milestone::OrderCancelled);
  EXPECT_EQ(ev[0]->order_id, "18061923");
  EXPECT_EQ(ev[0]->reason, "CANCELLED - DO NOT SHIP");
}

TEST(EdiMappingTest, SkuQualifierComesFromTheProfile) {
  auto a = Analyze("940/ediengine__acktest_2gs_3st.edi");
  auto ev = Events(a);
  ASSERT_EQ(ev.size(), 2u);  // 20067 rejected (N9**3)
  EXPECT_EQ(ev[0]->source, "VENDOR-3PL");
  EXPECT_EQ(ev[0]->lines.at(0).sku, "871209028795");  // UP, not VC
  EXPECT_EQ(ev[0]->order_id, "35131");
  auto babel = Analyze("940/apimeister__test_940_2_babelway.edi");  // unknown sender: default profile
  ev = Events(babel);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->source, "EDI-BIGETP");
  EXPECT_EQ(ev[0]->lines.at(0).sku, "E000169");
}

TEST(EdiMappingTest, UnknownPartnerRejectedWithoutDefault) {
  auto a = Analyze("940/apimeister__test_940_2_babelway.edi", /*allow_unknown=*/false);
  ASSERT_EQ(a.sets.size(), 1u);
  EXPECT_EQ(a.sets[0].fault.reason, "edi_unknown_partner:01/BIGETP");
  EXPECT_TRUE(a.any_rejected);
}

TEST(EdiMappingTest, ShipNotice856OneEventPerOrderLoop) {
  auto a = Analyze("856/ediengine__856_crossdock_ok.edi");
  auto ev = Events(a);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]->kind, Milestone::ShipmentDispatched);
  EXPECT_EQ(ev[0]->order_id, "POREF00");
  EXPECT_EQ(ev[0]->business_key, "000009");
  EXPECT_EQ(ev[0]->carrier, "OVNT");
  EXPECT_EQ(ev[0]->tracking_no, "0000000008741");
  EXPECT_EQ(ev[0]->lines.size(), 4u);
  EXPECT_EQ(ev[1]->order_id, "POREF01");
  EXPECT_EQ(ev[1]->event_id, "edi:ZZ/SENDER:000000091:91:0001:11");
  ASSERT_EQ(ev[1]->lines.size(), 1u);
  EXPECT_EQ(ev[1]->lines[0].sku, "0000000000642");
  EXPECT_EQ(ev[1]->lines[0].qty, 12);
}

TEST(EdiMappingTest, LineWithoutTheProfilesQualifierRejectsTheSet) {
  EdiOptions o = Partners();
  o.partners[2].sku_qualifier = "UP";  // one crossdock item is EN-coded
  EdiAnalysis a = AnalyzeX12(ReadSample("856/ediengine__856_crossdock_ok.edi"), o, false, ValidatorOptions{});
  ASSERT_EQ(a.sets.size(), 1u);
  EXPECT_EQ(a.sets[0].fault.reason, "edi_missing_sku:UP");
  EXPECT_TRUE(a.sets[0].events.empty());
}

TEST(EdiMappingTest, ShipNoticeFisherAndWalmart) {
  auto f = Analyze("856/apimeister__test_856_xx_fisher.edi");
  auto ev = Events(f);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->order_id, "DR3469500");
  EXPECT_EQ(ev[0]->business_key, "222253");
  EXPECT_EQ(ev[0]->tracking_no, "1Z54242X0357922222");  // MAN*SM on the pack level
  EXPECT_EQ(ev[0]->lines.at(0).sku, "25901");
  EXPECT_EQ(ev[0]->lines.at(0).qty, 2);
  EXPECT_EQ(ev[0]->lines.at(0).line_no, 1u);
  auto w = Analyze("repaired/856_walmart_2orders_ge01_fixed.edi");
  ev = Events(w);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]->order_id, "9988776655");
  EXPECT_EQ(ev[1]->order_id, "2288115555");
  EXPECT_EQ(ev[0]->carrier, "JBHT");
  EXPECT_EQ(ev[0]->tracking_no, "082131");
  EXPECT_EQ(ev[1]->lines.size(), 2u);
  EXPECT_EQ(ev[1]->lines[1].qty, 9);
}

TEST(EdiMappingTest, ShippingAdvice945ImpliesReservationAndPick) {
  auto a = Analyze("repaired/945_parse_1_se01_fixed.edi");
  auto ev = Events(a);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]->kind, Milestone::InventoryReserved);
  EXPECT_EQ(ev[1]->kind, Milestone::PickCompleted);
  EXPECT_EQ(ev[2]->kind, Milestone::ShipmentDispatched);
  for (const EnvelopeSpec* e : ev) {
    EXPECT_EQ(e->order_id, "IF102");
    EXPECT_EQ(e->business_key, "BOL12345");
    ASSERT_EQ(e->lines.size(), 1u);
    EXPECT_EQ(e->lines[0].sku, "123456789");
    EXPECT_EQ(e->lines[0].qty, 3000);
    EXPECT_EQ(e->lines[0].line_no, 10u);
  }
  EXPECT_EQ(ev[0]->warehouse, "CHI");
  EXPECT_EQ(ev[2]->carrier, "NPLT");
  EXPECT_NE(ev[0]->event_id, ev[1]->event_id);
}

TEST(EdiMappingTest, Return180) {
  auto a = Analyze("repaired/180_full_transmission_fixed.edi");
  auto ev = Events(a);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->kind, Milestone::ReturnReceived);
  EXPECT_EQ(ev[0]->business_key, "RMA1");
  EXPECT_EQ(ev[0]->order_id, "PO999");
  EXPECT_EQ(ev[0]->lines.at(0).sku, "012345678905");
  EXPECT_EQ(ev[0]->lines.at(0).qty, 5);
}

TEST(EdiMappingTest, ShipNoticeCancelIsKeptForReview) {
  std::string text = ReadSample("856/apimeister__test_856_xx_fisher.edi");
  text.replace(text.find("BSN*00*"), 7, "BSN*01*");
  EdiAnalysis a = AnalyzeX12(text, Partners(), true, ValidatorOptions{});
  ASSERT_EQ(a.sets.size(), 1u);
  EXPECT_TRUE(a.sets[0].fault.ok());
  EXPECT_FALSE(a.sets[0].review.empty());
  EXPECT_TRUE(a.sets[0].events.empty());
  ASSERT_EQ(a.rejected.size(), 1u);
  EXPECT_EQ(a.rejected[0].reason, "edi_review:856");
}

TEST(EdiMappingTest, ResentFileHasTheSameEventIds) {
  auto a = Analyze("856/ediengine__856_crossdock_ok.edi");
  auto b = Analyze("856/ediengine__856_crossdock_ok.edi");
  auto ea = Events(a), eb = Events(b);
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) EXPECT_EQ(ea[i]->event_id, eb[i]->event_id);
}

TEST(EdiMappingTest, FunctionalAckPerGroup) {
  auto a = Analyze("940/ediengine__acktest_2gs_3st.edi");
  const X12Interchange& x = a.doc->interchanges.at(0);
  std::vector<X12Fault> faults = {a.sets[0].fault, a.sets[1].fault};
  const std::string ack = Build997(x, x.groups[0], faults, X12Fault{}, 42, 1'700'000'000'000'000'000);
  EXPECT_NE(ack.find("ISA*00*          *00*          *ZZ*WAREHOUSE      *ZZ*VENDOR         *"), std::string::npos) << ack;
  EXPECT_NE(ack.find("*000000042*0*P*>~"), std::string::npos) << ack;
  EXPECT_NE(ack.find("AK1*OW*9221~"), std::string::npos) << ack;
  EXPECT_NE(ack.find("AK2*940*20066~\nAK5*A~"), std::string::npos) << ack;
  EXPECT_NE(ack.find("AK2*940*20067~\nAK3*N9*7**8~\nAK4*1**1~\nAK5*R*5~"), std::string::npos) << ack;
  EXPECT_NE(ack.find("AK9*P*2*2*1~"), std::string::npos) << ack;
  EXPECT_NE(ack.find("SE*10*0001~"), std::string::npos) << ack;
  // The 997 itself reads back as a clean interchange.
  auto doc = ParseX12(ack);
  ASSERT_EQ(doc->interchanges.size(), 1u);
  EXPECT_TRUE(doc->interchanges[0].fault.ok()) << doc->interchanges[0].fault.description;
  EXPECT_TRUE(doc->interchanges[0].groups.at(0).sets.at(0).fault.ok());
}

TEST(EdiMappingTest, ControlNumbersNeverRepeat) {
  const std::string path = ::testing::TempDir() + "/edi_control_" + std::to_string(::getpid());
  std::remove(path.c_str());
  uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    ControlNumbers numbers(path);  // a new process each round, as after a restart
    for (int i = 0; i < 5; ++i) {
      Result<uint64_t> n = numbers.Next();
      ASSERT_TRUE(n.ok());
      EXPECT_GT(*n, last);
      last = *n;
    }
  }
  EXPECT_EQ(last, 15u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ordersync
