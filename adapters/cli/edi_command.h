// `ordersync edi check FILE...` (parse and map X12 files with the config's partner
// profiles, print every set's events or rejection reason; no engine) and
// `ordersync edi ingest FILE...` (hand the files to a running `serve` through its admin
// endpoint command "edi.ingest": the engine takes them in exactly as if the files had
// arrived in its inbox - events durable, quarantine, 997s - and answers with the report).
//
// Thread-safety: the Run functions are called once from main; RegisterEdiAdminCommand
// before the admin endpoint starts.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/admin/admin_server.h"
#include "adapters/config/app_config.h"
#include "adapters/edi/edi_ingestor.h"

namespace ordersync {

struct EdiCommandOptions {
  std::string action;  // check | ingest
  std::vector<std::string> files;
  bool json = false;
  std::string endpoint;  // ingest: admin endpoint; "" = [admin] endpoint
};

void AddEdiSubcommand(CLI::App& app, EdiCommandOptions* options);
int RunEdiCommand(const AppConfig& config, const EdiCommandOptions& options, std::ostream& out, std::ostream& err);

// Registers "edi.ingest" {file_name, content_base64} -> the file's EdiFileReport as JSON.
void RegisterEdiAdminCommand(AdminServer* admin, EdiIngestor* ingestor);

}  // namespace ordersync
