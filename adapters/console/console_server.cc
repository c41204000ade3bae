#include "adapters/console/console_server.h"

#include <vector>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "adapters/console/console_assets.h"

namespace ordersync {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kLoggedResultChars = 400;

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(DumpJson(body), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& why) { SendJson(res, status, {{"error", why}}); }

// Query parameters of a list request as admin command args: `strings` as they are,
// `numbers` as integers. False (and `why`) for a malformed number.
bool QueryArgs(const httplib::Request& req, const std::vector<const char*>& strings,
               const std::vector<const char*>& numbers, nlohmann::json* args, std::string* why) {
  *args = nlohmann::json::object();
  for (const char* key : strings) {
    if (req.has_param(key) && !req.get_param_value(key).empty()) (*args)[key] = req.get_param_value(key);
  }
  for (const char* key : numbers) {
    if (!req.has_param(key) || req.get_param_value(key).empty()) continue;
    const std::string text = req.get_param_value(key);
    try {
      size_t used = 0;
      const long long value = std::stoll(text, &used);
      if (used != text.size() || value < 0) throw std::invalid_argument(text);
      (*args)[key] = value;
    } catch (const std::exception&) {
      *why = std::string("query parameter '") + key + "' must be a non-negative integer, not '" + text + "'";
      return false;
    }
  }
  return true;
}

std::string Shorten(std::string text) {
  if (text.size() > kLoggedResultChars) text = text.substr(0, kLoggedResultChars) + "...";
  return text;
}

}  // namespace

ConsoleServer::ConsoleServer(const ConsoleOptions& options, ConsoleContext context, bool loopback)
    : options_(options), context_(std::move(context)), guard_(loopback) {}

ConsoleServer::~ConsoleServer() { Stop(); }

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(const ConsoleOptions& options, ConsoleContext context) {
  if (context.admin == nullptr) {
    return Status::InvalidArgument("the console runs the admin endpoint's commands; [admin] endpoint is off");
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(options.listen, &host, &port)) {
    return Status::InvalidArgument("console.listen '" + options.listen + "': expected host:port, e.g. 127.0.0.1:7180");
  }
  const bool loopback = IsLoopbackHost(host);
  if (!loopback && !context.admin->has_token()) {
    return Status::InvalidArgument("console.listen '" + options.listen +
                                   "' is not on loopback: set [admin] token_file first (or listen on 127.0.0.1)");
  }
  std::unique_ptr<ConsoleServer> server(new ConsoleServer(options, std::move(context), loopback));
  ConsoleServer* s = server.get();
  s->http_ = std::make_unique<httplib::Server>();
  httplib::Headers headers;
  for (auto& [name, value] : ConsoleGuard::SecurityHeaders()) headers.emplace(name, value);
  s->http_->set_default_headers(headers);
  s->http_->set_payload_max_length(kMaxBodyBytes);
  s->http_->set_pre_routing_handler([s](const httplib::Request& req, httplib::Response& res) {
    const std::string why = s->guard_.CheckHost(req.get_header_value("Host"));
    if (why.empty()) return httplib::Server::HandlerResponse::Unhandled;
    SendError(res, 403, why);
    return httplib::Server::HandlerResponse::Handled;
  });
  s->AddRoutes();
  const int bound = port == 0 ? s->http_->bind_to_any_port(host) : (s->http_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return Status::IOError("console.listen '" + options.listen + "': cannot bind (in use, or not an address here)");
  }
  s->url_ = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
            std::to_string(bound) + "/";
  AdminServer* admin = s->context_.admin;
  s->sampler_ = std::make_unique<ConsoleSampler>(
      [admin]() -> Result<std::string> {
        const nlohmann::json reply = admin->Handle({{"command", "status"}});
        if (!reply.value("ok", false)) return Status::Unavailable(reply.value("error", std::string("status failed")));
        return reply["result"].value("metrics", std::string());
      },
      s->context_.figures, options.sample_interval_s, options.history_s);
  s->sampler_->Start();
  s->thread_ = std::thread([s] { s->http_->listen_after_bind(); });
  return server;
}

void ConsoleServer::Stop() {
  if (sampler_ != nullptr) sampler_->Stop();
  if (http_ != nullptr) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void ConsoleServer::Run(const std::string& name, const nlohmann::json& args, httplib::Response& res) const {
  if (context_.admin->Find(name) == nullptr) {
    SendError(res, 501, "this engine has no '" + name + "' command");
    return;
  }
  const nlohmann::json reply = context_.admin->Handle({{"command", name}, {"args", args}});
  if (reply.value("ok", false)) {
    SendJson(res, 200, reply["result"]);
  } else {
    SendError(res, 400, reply.value("error", std::string("failed")));
  }
}

void ConsoleServer::RunAction(const std::string& name, const httplib::Request& req, httplib::Response& res) const {
  const std::string who = ConsoleGuard::OperatorName(req.get_header_value(kConsoleOperatorHeader)) + " from " +
                          req.remote_addr + ":" + std::to_string(req.remote_port);
  auto refuse = [&](int status, const std::string& why) {
    spdlog::warn("console: {} by {} refused: {}", name, who, why);
    SendError(res, status, why);
  };
  if (std::string why = guard_.CheckMutation(req.get_header_value("Host"), req.get_header_value("Origin"),
                                             req.get_header_value("Sec-Fetch-Site"),
                                             req.get_header_value("Content-Type"));
      !why.empty()) {
    return refuse(403, why);
  }
  if (!context_.admin->has_token()) {
    return refuse(403, "actions are disabled: no admin token is configured ([admin] token_file), so the console is "
                       "read-only");
  }
  const std::string token = req.get_header_value(kConsoleTokenHeader);
  if (token.empty()) return refuse(401, std::string("this action needs the admin token (header ") + kConsoleTokenHeader + ")");
  if (!context_.admin->TokenMatches(token)) return refuse(403, "wrong admin token");
  nlohmann::json args = nlohmann::json::parse(req.body, nullptr, false);
  if (args.is_discarded() || !args.is_object()) return refuse(400, "the body must be a JSON object (the selection)");
  spdlog::warn("console: {} by {}: {}", name, who, DumpJson(args));
  const nlohmann::json reply = context_.admin->Handle({{"command", name}, {"args", args}, {"token", token}});
  if (!reply.value("ok", false)) {
    const std::string error = reply.value("error", std::string("failed"));
    spdlog::warn("console: {} by {} failed: {}", name, who, error);
    SendError(res, 400, error);
    return;
  }
  spdlog::warn("console: {} by {} done: {}", name, who, Shorten(DumpJson(reply["result"])));
  SendJson(res, 200, reply["result"]);
}

void ConsoleServer::AddRoutes() {
  httplib::Server& http = *http_;
  auto asset = [](const std::string& path, httplib::Response& res) {
    const ConsoleAsset* a = FindConsoleAsset(path);
    if (a == nullptr) {
      res.status = 404;
      res.set_content("not found", "text/plain");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a->body), std::string(a->content_type));
  };
  http.Get("/", [asset](const httplib::Request&, httplib::Response& res) { asset("/index.html", res); });
  http.Get(R"(/([a-z_]+\.(html|js|css|svg)))",
           [asset](const httplib::Request& req, httplib::Response& res) { asset("/" + req.matches[1].str(), res); });

  http.Get("/api/session", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200,
             {{"version", context_.version},
              {"url", url_},
              {"actions_enabled", context_.admin->has_token()},
              {"token_header", kConsoleTokenHeader},
              {"operator_header", kConsoleOperatorHeader},
              {"sample_interval_s", options_.sample_interval_s}});
  });
  http.Get("/api/overview",
           [this](const httplib::Request&, httplib::Response& res) { SendJson(res, 200, sampler_->Snapshot()); });
  http.Get(R"(/api/orders/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    Run("trace", {{"order_id", req.matches[1].str()}}, res);
  });
  // (vectors, not initializer_lists: the handlers outlive this call)
  auto list = [this](const char* command, std::vector<const char*> strings, std::vector<const char*> numbers) {
    return [this, command, strings, numbers](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json args;
      std::string why;
      if (!QueryArgs(req, strings, numbers, &args, &why)) return SendError(res, 400, why);
      Run(command, args, res);
    };
  };
  http.Get("/api/exceptions", list("exceptions.list", {"order", "class"}, {"limit"}));
  http.Get("/api/exception", list("exceptions.show", {"id"}, {}));
  http.Get("/api/dlq", list("dlq.list", {"order", "target", "reason"}, {"older_than_s", "newer_than_s", "limit"}));
  http.Get("/api/dlq/show", list("dlq.show", {"id"}, {}));
  http.Get("/api/quarantine", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json args;
    std::string why;
    if (!QueryArgs(req, {"reason", "source", "order"}, {"limit", "after"}, &args, &why)) return SendError(res, 400, why);
    args["newest"] = true;
    if (!args.contains("limit")) args["limit"] = 200;
    Run("quarantine.list", args, res);
  });
  http.Get("/api/quarantine/show", list("quarantine.show", {}, {"id"}));
  for (const char* action : {"exceptions.replay", "dlq.replay", "dlq.purge"}) {
    std::string path = std::string("/api/") + action;
    path[path.find('.')] = '/';
    http.Post(path, [this, action](const httplib::Request& req, httplib::Response& res) { RunAction(action, req, res); });
  }
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (req.path.rfind("/api/", 0) == 0) {
      SendError(res, res.status, "no such API: " + req.method + " " + req.path);
    } else {
      res.set_content("not found: " + req.path, "text/plain");
    }
  });
}

}  // namespace ordersync
