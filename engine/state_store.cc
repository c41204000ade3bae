#include "engine/state_store.h"

namespace ordersync {

std::string_view TableName(Table table) {
  switch (table) {
    case Table::kOrders: return "orders";
    case Table::kDedup: return "dedup";
    case Table::kParked: return "parked";
    case Table::kOutbox: return "outbox";
    case Table::kExceptions: return "exceptions";
    case Table::kMeta: return "meta";
    case Table::kDeadLetters: return "dead_letters";
    case Table::kQuarantine: return "quarantine";
    case Table::kJournal: return "journal";
    case Table::kCount: break;
  }
  return "invalid";
}

}  // namespace ordersync
