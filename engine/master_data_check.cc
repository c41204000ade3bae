#include "engine/master_data_check.h"

#include <cstdlib>

namespace ordersync {
namespace {

// 1999 -> "19.99", -5 -> "-0.05" (prices are in minor units of a 2-decimal currency).
std::string Money(int64_t minor) {
  const bool negative = minor < 0;
  const uint64_t v = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string cents = std::to_string(v % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(v / 100) + "." + cents;
}

class Checker {
 public:
  Checker(const MasterDataSnapshot& data, const MasterDataCheckOptions& o, const EventView& e, MasterDataVerdict* out)
      : data_(data), o_(o), e_(e), out_(out) {}

  void Run() {
    out_->version = data_.version();
    out_->reason.clear();
    out_->kind = MasterDataVerdict::Kind::kPass;
    const auto* order = e_.envelope->payload_as_OrderAccepted();
    const std::string_view customer_id = ToView(order->customer_id());
    const std::string_view currency = ToView(order->currency());
    const CustomerMaster* customer = data_.FindCustomer(customer_id);
    if (o_.customer) {
      if (customer == nullptr) {
        return Fail("unknown_customer", "customer '" + std::string(customer_id) + "' is not in the customer master");
      }
      if (!customer->active) return Fail("inactive_customer", "customer '" + customer->customer_id + "' is inactive");
      if (!customer->company_code.empty() && customer->company_code != e_.company_code) {
        return Fail("customer_company_mismatch", "customer '" + customer->customer_id + "' belongs to company " +
                                                     customer->company_code + ", the order is for " +
                                                     std::string(e_.company_code));
      }
    }
    if (o_.currency && customer != nullptr && !customer->currency.empty() && customer->currency != currency) {
      return Fail("currency_mismatch", "order in " + std::string(currency) + ", customer '" +
                                           customer->customer_id + "' is billed in " + customer->currency);
    }
    if (e_.lines != nullptr && (o_.item || o_.uom || o_.price)) {
      if (!CheckLines(currency)) return;
    }
    if (o_.credit_hold && customer != nullptr && customer->credit_hold) {
      out_->kind = MasterDataVerdict::Kind::kHold;
      out_->reason = "credit_hold:" + customer->customer_id;
    }
  }

 private:
  // False once a line failed (the verdict is set).
  bool CheckLines(std::string_view currency) {
    std::string unknown, inactive, uom;
    for (const Line* l : *e_.lines) {
      const std::string_view sku = ToView(l->sku());
      const std::string where = "line " + std::to_string(l->line_no()) + " " + std::string(sku);
      const ItemMaster* item = data_.FindItem(sku);
      if (o_.item && item == nullptr) Append(&unknown, where);
      if (o_.item && item != nullptr && !item->active) Append(&inactive, where);
      if (o_.uom && item != nullptr && !item->uom.empty() && item->uom != ToView(l->uom())) {
        Append(&uom, where + " ordered in " + std::string(ToView(l->uom())) + ", the item master says " + item->uom);
      }
    }
    if (!unknown.empty()) return Fail("unknown_sku", unknown + " not in the item master"), false;
    if (!inactive.empty()) return Fail("inactive_sku", inactive + " inactive in the item master"), false;
    if (!uom.empty()) return Fail("wrong_uom", uom), false;
    if (!o_.price) return true;
    std::string missing, outside;
    for (const Line* l : *e_.lines) {
      const std::string_view sku = ToView(l->sku());
      const std::string where = "line " + std::to_string(l->line_no()) + " " + std::string(sku);
      const PriceMaster* list = data_.FindPrice(sku, currency, e_.occurred_at_ns);
      if (list == nullptr) {
        Append(&missing, where + " (" + std::string(currency) + ")");
        continue;
      }
      // |price - list| / list > tolerance, in integers: |d| * 10000 > bp * list.
      const __int128 diff = static_cast<__int128>(l->unit_price_minor()) - list->unit_price_minor;
      const __int128 abs_diff = diff < 0 ? -diff : diff;
      if (abs_diff * 10000 > static_cast<__int128>(o_.price_tolerance_bp) * list->unit_price_minor) {
        Append(&outside, where + " at " + Money(l->unit_price_minor()) + " " + std::string(currency) +
                             ", list price " + Money(list->unit_price_minor) + " " + std::string(currency));
      }
    }
    if (!missing.empty()) return Fail("no_list_price", missing + ": no list price valid at the order date"), false;
    if (!outside.empty()) {
      out_->failure_class = FailureClass::kPriceMismatch;
      return Fail("price_outside_tolerance",
                  outside + " (tolerance " + std::to_string(o_.price_tolerance_bp / 100) + "." +
                      (o_.price_tolerance_bp % 100 < 10 ? "0" : "") + std::to_string(o_.price_tolerance_bp % 100) +
                      " %)",
                  FailureClass::kPriceMismatch),
             false;
    }
    return true;
  }

  static void Append(std::string* list, const std::string& item) {
    if (!list->empty()) list->append("; ");
    list->append(item);
  }

  void Fail(std::string_view code, const std::string& detail, FailureClass c = FailureClass::kMasterData) {
    out_->kind = MasterDataVerdict::Kind::kException;
    out_->failure_class = c;
    out_->reason.assign(code).append(":").append(detail).append(" (master data ").append(data_.version()).append(")");
  }

  const MasterDataSnapshot& data_;
  const MasterDataCheckOptions& o_;
  const EventView& e_;
  MasterDataVerdict* out_;
};

}  // namespace

void EvaluateMasterData(const MasterDataSnapshot& data, const MasterDataCheckOptions& options, const EventView& event,
                        MasterDataVerdict* out) {
  if (!options.any() || event.kind != Milestone::OrderAccepted || event.envelope == nullptr) {
    out->kind = MasterDataVerdict::Kind::kNone;
    out->version.clear();
    out->reason.clear();
    return;
  }
  out->failure_class = FailureClass::kMasterData;
  Checker(data, options, event, out).Run();
}

std::string_view HeldCustomer(const MasterDataVerdict& verdict) {
  std::string_view r = verdict.reason;
  constexpr std::string_view kPrefix = "credit_hold:";
  return r.substr(0, kPrefix.size()) == kPrefix ? r.substr(kPrefix.size()) : std::string_view();
}

}  // namespace ordersync
