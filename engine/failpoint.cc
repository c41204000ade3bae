#include "engine/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ordersync {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, Failpoints::Callback, std::less<>> callbacks;  // GUARDED_BY(mu)
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: points may fire at exit
  return *registry;
}

// Arms the "name=crash@N" entries of ORDERSYNC_FAILPOINTS.
void ArmFromEnvironment() {
  const char* spec = std::getenv("ORDERSYNC_FAILPOINTS");
  if (spec == nullptr || *spec == '\0') return;
  std::string_view rest(spec);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = item.substr(0, eq);
    std::string_view action = item.substr(eq + 1);
    uint64_t after = 1;
    if (const size_t at = action.find('@'); at != std::string_view::npos) {
      after = std::strtoull(std::string(action.substr(at + 1)).c_str(), nullptr, 10);
      action = action.substr(0, at);
    }
    const bool torn = action == "torn";
    if (action != "crash" && !torn) continue;
    auto hits = std::make_shared<std::atomic<uint64_t>>(0);
    GetRegistry().callbacks[std::string(name)] = [hits, after, torn](void* arg) {
      if (hits->fetch_add(1) + 1 < after) return;
      if (torn && arg != nullptr) {
        const auto* w = static_cast<const TornWrite*>(arg);
        ssize_t n = ::write(w->fd, w->header.data(), w->header.size());
        n = ::write(w->fd, w->payload.data(), w->payload.size() / 2);
        (void)n;
      }
      ::kill(::getpid(), SIGKILL);
    };
  }
}

std::once_flag env_once;

}  // namespace

// Starts at 1 so the first hit reads the environment; afterwards the count of armed points.
std::atomic<int> Failpoints::armed_{1};

void Failpoints::HitSlow(std::string_view name, void* arg) {
  std::call_once(env_once, [] {
    ArmFromEnvironment();
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    armed_.store(static_cast<int>(r.callbacks.size()), std::memory_order_relaxed);
  });
  Callback callback;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.callbacks.find(name);
    if (it == r.callbacks.end()) return;
    callback = it->second;
  }
  callback(arg);
}

void Failpoints::Arm(std::string_view name, Callback callback) {
  std::call_once(env_once, [] { ArmFromEnvironment(); });
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.callbacks[std::string(name)] = std::move(callback);
  armed_.store(static_cast<int>(r.callbacks.size()), std::memory_order_relaxed);
}

void Failpoints::Clear() {
  std::call_once(env_once, [] { ArmFromEnvironment(); });
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.callbacks.clear();
  armed_.store(0, std::memory_order_relaxed);
}

}  // namespace ordersync
