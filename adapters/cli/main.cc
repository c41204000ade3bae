// ordersync command line: parses arguments with CLI11, loads the config and hands off to
// one subcommand. Only wiring lives here; each subcommand is in its own *_command.cc.
//
//   ordersync [--config FILE] serve [--print-config]
//   ordersync [--config FILE] config show [--default]
//   ordersync config check FILE
//   ordersync [--config FILE] validate [--json] [--max-message-bytes N] FILE...
//   ordersync [--config FILE] demo [--seconds N] [--rate R] [--data-dir DIR]
//
// Exit codes: 0 success; 2 usage or configuration error; subcommands may add their own
// (validate: 1 = a frame was rejected).
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/cli/config_command.h"
#include "adapters/cli/demo_command.h"
#include "adapters/cli/logging.h"
#include "adapters/cli/serve_command.h"
#include "adapters/config/config_loader.h"

#include "adapters/cli/validate_command.h"

#ifndef ORDERSYNC_VERSION
#define ORDERSYNC_VERSION "unknown"
#endif

namespace ordersync {
namespace {

constexpr int kUsageError = 2;

constexpr const char* kDescription =
    "ordersync keeps sales, warehouse, transport and ERP in step. Warehouse, transport and\n"
    "sales systems send order milestone events (FlatBuffers over ZeroMQ); ordersync\n"
    "validates them, puts each order's events in sequence, drops duplicates, and writes\n"
    "the ERP commands they cause to a durable RocksDB outbox, from which a dispatcher\n"
    "posts them to the configured ERP targets, in order and with idempotent command ids.\n";

constexpr const char* kFooter =
    "Configuration:\n"
    "  Without --config, ordersync uses its built-in default, compiled from\n"
    "  configs/ordersync.toml; `ordersync config show --default` prints it with every key\n"
    "  documented. A config file needs only the keys it changes; unknown keys, wrong types\n"
    "  and out-of-range values are errors.\n"
    "\n"
    "Examples:\n"
    "  ordersync serve                                run with the built-in defaults\n"
    "  ordersync --config /etc/ordersync.toml serve\n"
    "  ordersync config show --default > my.toml     start a config of your own\n"
    "  ordersync config check my.toml                check it (exit 0 = ok, 2 = error)\n"
    "  ordersync --config my.toml serve --print-config\n"
    "  ordersync validate --json frames/*.bin         check captured milestone frames\n"
    "  ordersync demo --seconds 60                    watch the pipeline work on generated orders\n"
    "\n"
    "Exit status: 0 on success, 2 on a usage or configuration error; validate: 1 if a frame\n"
    "was rejected, 2 if a file could not be read.";

// The config every subcommand but `config check` runs with: --config FILE, else the
// built-in default. Prints the error and returns false on failure.
bool LoadEffectiveConfig(const std::string& path, AppConfig* config) {
  Result<AppConfig> loaded = path.empty() ? LoadEmbeddedDefault() : LoadConfigFile(path);
  if (!loaded.ok()) {
    std::cerr << "ordersync: config error: " << loaded.status().message() << "\n";
    return false;
  }
  *config = std::move(loaded).value();
  return true;
}

std::string ConfigSource(const std::string& path) {
  return path.empty() ? "built-in configs/ordersync.toml" : path;
}

int Main(int argc, char** argv) {
  CLI::App app{kDescription, "ordersync"};
  app.set_version_flag("--version", ORDERSYNC_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --config may also follow the subcommand

  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "TOML config file; default: the built-in configs/ordersync.toml")
      ->type_name("FILE");

  CLI::App* serve = app.add_subcommand(
      "serve", "Run the engine: ingest milestones, keep order state, emit ERP commands");
  bool print_config = false;
  serve->add_flag("--print-config", print_config,
                  "Print the effective config as TOML and exit without starting");

  CLI::App* config = app.add_subcommand("config", "Show or check configuration");
  config->require_subcommand(1);
  CLI::App* show = config->add_subcommand(
      "show", "Print the effective config as TOML");
  bool show_default = false;
  show->add_flag("--default", show_default,
                 "Print the documented built-in default (configs/ordersync.toml) instead");
  CLI::App* check = config->add_subcommand(
      "check", "Check a config file: prints ok (exit 0) or the error (exit 2)");
  std::string check_path;
  check->add_option("FILE", check_path, "Config file to check")->required();

  CLI::App* validate = app.add_subcommand(
      "validate", "Check raw milestone frames (one Envelope per file)");
  bool validate_json = false;
  size_t max_message_bytes = 0;
  std::vector<std::string> validate_files;
  validate->add_flag("--json", validate_json, "Print the verdicts as a JSON array");
  CLI::Option* max_bytes_option =
      validate
          ->add_option("--max-message-bytes", max_message_bytes,
                       "Largest accepted frame; default: [validation] max_message_bytes")
          ->check(CLI::Range(size_t{1024}, size_t{16} * 1024 * 1024));
  validate->add_option("FILE", validate_files, "Frame files")->required();

  CLI::App* demo = app.add_subcommand(
      "demo", "Run the engine on generated order lifecycles (disordered, duplicated) and explain what it did");
  DemoOptions demo_options;
  demo->add_option("--seconds", demo_options.seconds, "How long to feed events")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  demo->add_option("--rate", demo_options.events_per_second, "Target events/s (0 = as fast as it goes)")
      ->capture_default_str();
  demo->add_option("--data-dir", demo_options.data_dir,
                   "Keep the demo's RocksDB here (default: a temp dir, removed afterwards)")
      ->type_name("DIR");

  // Set after the subcommands are added: they would inherit it and repeat it in their --help.
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the error
    return rc == 0 ? 0 : kUsageError;
  }

  if (*check) return RunConfigCheck(check_path, std::cout, std::cerr);
  if (*show && show_default) return RunConfigShowDefault(std::cout);

  AppConfig effective;
  if (!LoadEffectiveConfig(config_path, &effective)) return kUsageError;

  if (*show) return RunConfigShow(effective, ConfigSource(config_path), std::cout);
  if (*serve) {
    if (print_config) return RunConfigShow(effective, ConfigSource(config_path), std::cout);
    SetUpLogging(effective.log);
    spdlog::info("using config: {}", ConfigSource(config_path));
    return RunServe(effective);
  }
  if (*validate) {
    ValidatorOptions options = effective.engine.validation;
    if (max_bytes_option->count() > 0) options.max_message_bytes = max_message_bytes;
    return RunValidateCommand(validate_files, validate_json, options, std::cout);
  }
  if (*demo) {
    SetUpLogging(effective.log);
    return RunDemo(effective, demo_options);
  }
  return kUsageError;  // unreachable: require_subcommand(1)
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Main(argc, argv); }
