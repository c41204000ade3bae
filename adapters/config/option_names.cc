#include "adapters/config/option_names.h"

#include <vector>

namespace ordersync {

std::span<const EnumName<Milestone>> MilestoneKindNames() {
  static const std::vector<EnumName<Milestone>> names = [] {
    std::vector<EnumName<Milestone>> v;
    for (Milestone kind : EnumValuesMilestone()) {
      if (kind == Milestone::NONE) continue;
      v.push_back({EnumNameMilestone(kind), kind});
    }
    return v;
  }();
  return names;
}

std::span<const EnumName<CommandKind>> CommandKindNames() {
  static const std::vector<EnumName<CommandKind>> names = [] {
    std::vector<EnumName<CommandKind>> v;
    for (CommandKind kind : EnumValuesCommandKind()) {
      v.push_back({EnumNameCommandKind(kind), kind});
    }
    return v;
  }();
  return names;
}

}  // namespace ordersync
