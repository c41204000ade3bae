#include "adapters/cli/keygen_command.h"

#include <filesystem>

#include "adapters/ingress/curve_keys.h"

namespace ordersync {

int RunKeygen(const KeygenOptions& options, std::ostream& out, std::ostream& err) {
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  if (!pair.ok()) {
    err << "ordersync keygen: " << pair.status().message() << "\n";
    return 1;
  }
  Status s = WriteCurveKeyPair(options.dir, options.name, *pair, options.force);
  if (!s.ok()) {
    err << "ordersync keygen: " << s.message() << "\n";
    return 1;
  }
  const std::string base = (std::filesystem::path(options.dir) / options.name).string();
  out << "wrote " << base << ".key (secret key, mode 0600: keep it where only its owner reads it)\n"
      << "wrote " << base << ".pub (public key " << pair->public_z85 << ")\n"
      << "\n"
      << "For the ingress:  [ingress] curve_secret_key_file = \"" << base << ".key\"\n"
      << "                  and give producers " << options.name << ".pub (the server key they connect with)\n"
      << "For a producer:   copy " << options.name << ".pub into the server's curve_authorized_keys_dir;\n"
      << "                  the producer connects with " << options.name << ".key (e.g. ordersync loadgen --curve-key)\n";
  return 0;
}

}  // namespace ordersync
