// Test helpers shared by the ERP fan-out tests: builds ErpCommand buffers.
#pragma once

#include <string>

#include "erp_generated.h"

namespace ordersync::testing {

inline std::string MakeErpCommand(const std::string& order_id, uint64_t seq, CommandKind kind,
                                  const std::string& target = "erp", const std::string& business_key = "",
                                  Priority priority = Priority::Standard, const std::string& sku = "SKU-1") {
  flatbuffers::FlatBufferBuilder fbb(256);
  const std::string key = business_key.empty() ? std::to_string(seq) : business_key;
  auto command_id = fbb.CreateString(order_id + "/" + EnumNameCommandKind(kind) + "/" + key);
  auto order = fbb.CreateString(order_id);
  auto tgt = fbb.CreateString(target);
  auto bk = fbb.CreateString(key);
  auto line = CreateLine(fbb, 1, fbb.CreateString(sku), 5, fbb.CreateString("EA"), 100);
  auto lines = fbb.CreateVector(&line, 1);
  ErpCommandBuilder b(fbb);
  b.add_command_id(command_id);
  b.add_order_id(order);
  b.add_target(tgt);
  b.add_kind(kind);
  b.add_order_cmd_seq(seq);
  b.add_business_key(bk);
  b.add_lines(lines);
  b.add_priority(priority);
  FinishErpCommandBuffer(fbb, b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

inline std::string CommandIdOf(const std::string& bytes) {
  std::string aligned = bytes;
  return GetErpCommand(aligned.data())->command_id()->str();
}

}  // namespace ordersync::testing
