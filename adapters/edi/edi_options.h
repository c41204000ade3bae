// EDI options: the trading-partner profiles ([edi], [[edi.partners]]) that say how a
// partner's X12 documents become milestone events, and the transport ([ingress.edi]):
// which directory `serve` watches, where it moves files and writes 997s. The TOML maps
// onto these fields one to one; configs/ordersync.toml documents the same defaults.
//
// Reloadable: no (restart). Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ordersync {

// One trading partner, recognised by its ISA sender (ISA05 qualifier + ISA06 id).
struct EdiPartnerProfile {
  // Names the partner: the events' `source`, the 997 outbox subdirectory, the quarantine's
  // source. Letters, digits, '-', '_' and '.'. Required.
  std::string name;
  // ISA05 sender id qualifier, e.g. "ZZ", "01", "08". Required.
  std::string isa_qualifier;
  // ISA06 sender id, without its padding, e.g. "925119TEST". Required.
  std::string isa_id;
  // The events' company_code (routes their ERP commands). Default: "" (default route).
  std::string company_code;
  // OrderAccepted.currency for 940s (X12 warehouse orders carry no currency). Default: "USD".
  std::string currency = "USD";
  // Product id qualifier whose id is the SKU (W01, W12, LIN, BLI pairs), e.g. "VN" (vendor
  // item), "UP" (UPC), "BP" (buyer part), "IN" (buyer item), "UC" (W0103/W1206 case
  // code). "" = the first product id of the line. Default: "".
  std::string sku_qualifier;
  // 856: REF qualifier that carries the order id when an HL O loop has no PRF01; 180: the
  // N9/REF qualifier of the order the return belongs to. Default: "PO".
  std::string order_ref_qualifier = "PO";
  // 945: InventoryReserved/PickCompleted.warehouse when N1*SF carries neither id nor
  // name. Default: "" (then the partner's name).
  std::string warehouse;
  // X12 unit of measure -> the uom sent in events, e.g. {"CA": "CS"}. Codes not listed
  // pass through unchanged. Default: none.
  std::vector<std::pair<std::string, std::string>> uom_map;
};

// [edi]
struct EdiOptions {
  std::vector<EdiPartnerProfile> partners;

  const EdiPartnerProfile* FindPartner(std::string_view qualifier, std::string_view id) const {
    for (const EdiPartnerProfile& p : partners) {
      if (p.isa_qualifier == qualifier && p.isa_id == id) return &p;
    }
    return nullptr;
  }
};

// [ingress.edi]
struct EdiIngressOptions {
  // Directory the EDI gateway moves complete files into (rename into it; names starting
  // with '.' or ending in .tmp/.part are ignored as incomplete). "" = EDI ingress off.
  // Processed files move to <inbox_dir>/processed/, files with any rejected part to
  // <inbox_dir>/rejected/, only after every event of the file is durable.
  // Default: "".
  std::string inbox_dir;
  // Where 997 functional acknowledgements are written, one subdirectory per partner
  // (written to a temporary name, then renamed). Required when inbox_dir is set.
  // Default: "".
  std::string outbox_dir;
  // How often the inbox is scanned for new files, in ms. Default: 500.
  uint32_t poll_interval_ms = 500;
  // Largest file read; larger files are rejected whole (edi_file_too_large).
  // Default: 16 MiB.
  uint64_t max_file_bytes = 16ull * 1024 * 1024;
  // Accept interchanges from senders with no [[edi.partners]] profile, under a default
  // profile (source EDI-<ISA06>, first product id as SKU, no company_code). Off: such
  // interchanges are rejected as edi_unknown_partner. Default: false.
  bool accept_unknown_partners = false;
  // Send 997 acknowledgements. Default: true.
  bool functional_acks = true;
};

}  // namespace ordersync
