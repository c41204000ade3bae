// Checks of a loaded AppConfig that span tables (each table's own ranges are checked as
// it is read, config_loader.cc): target names, watermarks, HTTP targets' auth and the
// command kinds their ERP can take, EDI partner names and ISA senders, master-data checks
// and their files, scheduled reconciles (defined target, window, source), that every
// route names a defined ERP target, and [cluster] names and lease timing.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "adapters/config/app_config.h"
#include "engine/status.h"

namespace ordersync {

// OK, or InvalidArgument naming the key and `origin` (the file or "<embedded default>").
Status ValidateCrossReferences(const AppConfig& c, std::string_view origin);

}  // namespace ordersync
