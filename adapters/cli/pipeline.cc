#include "adapters/cli/pipeline.h"

#include <spdlog/spdlog.h>

#include "adapters/cli/quarantine_command.h"
#include "adapters/cli/edi_command.h"
#include "adapters/cli/status_command.h"
#include "adapters/cli/trace_command.h"
#include "adapters/master_data/master_data_admin.h"
#include "adapters/metrics/channel_collectors.h"
#include "adapters/reconcile/connector_query_source.h"
#include "adapters/reconcile/reconcile_request.h"
#include "adapters/metrics/dispatcher_collector.h"
#include "adapters/metrics/cluster_collector.h"
#include "adapters/metrics/ingress_collector.h"

namespace ordersync {

Result<std::unique_ptr<Pipeline>> Pipeline::Start(const AppConfig& config, const PipelineOptions& options) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    spdlog::error("cannot open the state store: {}", store.status().ToString());
    return store.status();
  }
  p->store_ = std::move(store).value();
  const bool cluster = config.cluster.enabled;
  if (!cluster) {  // cluster mode: the log is the replicated one (ClusterRuntime)
    auto log = OpenEventLog(config.storage);
    if (!log.ok()) {
      spdlog::error("cannot open the event log: {}", log.status().ToString());
      return log.status();
    }
    p->log_ = std::move(log).value();
  }
  // The ERP dispatcher exists before the engine: it is the engine's OutboxListener.
  // SLO histograms: fed by the dispatcher on every Posted/AlreadyPosted answer.
  p->slo_ = std::make_unique<SloRecorder>(Observability::TargetNames(config));
  SloRecorder* slo = p->slo_.get();
  auto erp = ErpService::Create(config.erp, config.admin, config.engine, p->store_.get(),
                                [slo](std::string_view command, AckStatus, int64_t acked_at_ns) {
                                  // The dispatcher's command buffers are std::strings: aligned.
                                  slo->OnCommandAcked(*GetErpCommand(command.data()), acked_at_ns);
                                },
                                /*own_all_partitions=*/!cluster);
  if (!erp.ok()) {
    spdlog::error("cannot set up the ERP fan-out: {}", erp.status().ToString());
    return erp.status();
  }
  p->erp_ = std::move(erp).value();
  // Master data before the engine: the intake checks read it from the first event on.
  auto master_data = MasterDataStore::Start(config.master_data);
  if (!master_data.ok()) {
    spdlog::error("cannot load the master data: {}", master_data.status().ToString());
    return master_data.status();
  }
  p->master_data_ = std::move(master_data).value();
  if (config.master_data.any()) {
    spdlog::info("master data {} loaded", p->master_data_->Current()->version());
  }
  if (cluster) {
    if (Status s = p->OpenCluster(config); !s.ok()) return s;
  } else {
    auto engine = Engine::Open(config.engine, p->store_.get(), p->log_.get(), SystemClock::Default(),
                               p->erp_->listener(), p->master_data_.get());
    if (!engine.ok()) {
      spdlog::error("cannot start the engine: {}", engine.status().ToString());
      return engine.status();
    }
    p->engine_ = std::move(engine).value();
    const EngineStats recovered = p->engine_->Stats();
    const RecoveryReport& r = p->engine_->recovery();
    spdlog::info(
        "engine ready in {} ms: {} partitions on {} workers, {} parked events; replayed {} events and {} ERP notes "
        "({} KiB of event log{}) from {}",
        r.duration_ns / 1'000'000, p->engine_->options().partitions, p->engine_->options().workers,
        recovered.parked_now, r.replayed_events, r.replayed_notes, r.replayed_log_bytes / 1024,
        r.torn_bytes > 0 ? ", cut a torn tail of " + std::to_string(r.torn_bytes) + " bytes" : std::string(),
        config.storage.data_dir);
  }
  // Metrics before the admin endpoint starts: its status/trace commands use them.
  auto observability =
      Observability::Start(config, p->engine_.get(), p->store_.get(), options.version, SystemClock::Default(), slo);
  if (!observability.ok() && !options.metrics_fallback_address.empty()) {
    AppConfig fallback = config;
    fallback.metrics.listen_address = options.metrics_fallback_address;
    p->metrics_note_ = observability.status().ToString();
    observability =
        Observability::Start(fallback, p->engine_.get(), p->store_.get(), options.version, SystemClock::Default(), slo);
    if (!observability.ok()) {
      fallback.metrics.enabled = false;
      observability = Observability::Start(fallback, p->engine_.get(), p->store_.get(), options.version,
                                           SystemClock::Default(), slo);
    }
  }
  if (!observability.ok()) {
    spdlog::error("cannot start metrics: {}", observability.status().ToString());
    p->Stop();
    return observability.status();
  }
  p->observability_ = std::move(observability).value();
  {
    OutboxDispatcher* dispatcher = p->erp_->dispatcher();
    p->observability_->AddCollector(MakeDispatcherCollector([dispatcher] { return dispatcher->Stats(); }));
    // The synchronisation KPIs (docs/operations.md): integration recovery time from the
    // dispatcher's stats, traceability and inventory sync accuracy from the journals.
    p->recovery_ = std::make_unique<RecoveryTracker>(config.metrics.recovery_normal_backlog);
    p->recovery_->Start([dispatcher] { return dispatcher->Stats(); }, std::chrono::seconds(1));
    p->observability_->AddCollector(p->recovery_->Collector());
    if (Engine* engine = p->engine_.get(); engine != nullptr) {
      // (Cluster mode: a node's store holds only the partitions it owns now; the KPIs
      // over journals need every partition — not yet, docs/cluster.md.)
      p->kpis_ = std::make_unique<SyncKpiScanner>(p->store_.get(), static_cast<int64_t>(config.metrics.kpi_window_s),
                                                  static_cast<int64_t>(config.slo.inventory_sync_s),
                                                  [engine] { return engine->Checkpoint(); });
      p->kpis_->Start(std::chrono::seconds(config.metrics.kpi_scan_interval_s));
      p->observability_->AddCollector(p->kpis_->Collector());
    }
  }
  if (!cluster) p->StartReconcileSchedules(config);  // (reads every partition: single node only)
  // One quarantine writer for every ingress (ZeroMQ, EDI, HTTP): record ids stay unique.
  auto quarantine = QuarantineWriter::Open(p->store_.get(), config.ingress.quarantine, config.engine.durability);
  if (!quarantine.ok()) {
    spdlog::error("cannot open the quarantine: {}", quarantine.status().ToString());
    p->Stop();
    return quarantine.status();
  }
  p->quarantine_ = std::move(quarantine).value();
  {
    EdiIngressOptions edi_options = config.edi_ingress;
    if (edi_options.outbox_dir.empty()) edi_options.functional_acks = false;  // `edi ingest` without an outbox
    auto edi = EdiIngestor::Create(config.edi, edi_options, config.engine.validation, p->intake(),
                                   p->quarantine_.get());
    if (!edi.ok()) {
      spdlog::error("cannot set up the EDI ingress: {}", edi.status().ToString());
      p->Stop();
      return edi.status();
    }
    p->edi_ = std::move(edi).value();
  }
  if (AdminServer* admin = p->erp_->admin(); admin != nullptr) {
    RegisterEdiAdminCommand(admin, p->edi_.get());
    RegisterStatusAdminCommand(admin, p->observability_.get());
    RegisterQuarantineAdminCommands(admin, p->store_.get());
    RegisterMasterDataAdminCommands(admin, p->master_data_.get(), config.engine.master_data);
    if (p->engine_ != nullptr) {  // they read every partition's state: single node only (docs/cluster.md)
      RegisterTraceAdminCommand(admin, p->store_.get(), p->engine_.get());
      RegisterReconcileAdminCommand(admin, p->store_.get(), p->engine_.get());
    }
    if (p->reconcile_ != nullptr) RegisterReconcileScheduleAdminCommand(admin, p->reconcile_.get());
  }
  if (Status started = p->erp_->Start(p->engine_.get(), p->dispatcher_host()); !started.ok()) {
    spdlog::error("cannot start the ERP fan-out / admin endpoint: {}", started.ToString());
    p->Stop();
    return started;
  }
  auto ingress = IngressServer::Start(config.ingress, config.engine.validation, p->intake(), p->store_.get(),
                                      SystemClock::Default(), p->quarantine_.get());
  if (!ingress.ok()) {
    spdlog::error("cannot start the ingress: {}", ingress.status().ToString());
    p->Stop();
    return ingress.status();
  }
  p->ingress_ = std::move(ingress).value();
  spdlog::info("ingress: acknowledged endpoint {}, fire-and-forget endpoint {}, {}",
               p->ingress_->ack_endpoint().empty() ? "off" : p->ingress_->ack_endpoint(),
               p->ingress_->pull_endpoint().empty() ? "off" : p->ingress_->pull_endpoint(),
               config.ingress.curve_secret_key_file.empty() ? "no CURVE (any peer may send)" : "CURVE with allow-list");
  {
    IngressServer* in = p->ingress_.get();
    p->observability_->AddCollector(MakeIngressCollector([in] { return in->Stats(); }));
  }
  if (config.http_ingress.enabled) {
    auto http = HttpIngress::Start(config.http_ingress, config.ingress, config.engine.validation, p->intake(),
                                   p->quarantine_.get());
    if (!http.ok()) {
      spdlog::error("cannot start the HTTP ingress: {}", http.status().ToString());
      p->Stop();
      return http.status();
    }
    p->http_ = std::move(http).value();
    spdlog::info("http ingress: {}/v1/events{}", p->http_->url(),
                 config.http_ingress.token_file.empty() ? "" : " (bearer token required)");
  }
  if (!config.edi_ingress.inbox_dir.empty()) {
    auto inbox = InboxWatcher::Start(p->edi_.get());
    if (!inbox.ok()) {
      spdlog::error("cannot start the EDI inbox: {}", inbox.status().ToString());
      p->Stop();
      return inbox.status();
    }
    p->inbox_ = std::move(inbox).value();
    spdlog::info("edi ingress: watching {} (997s to {}, {} partner profiles)", config.edi_ingress.inbox_dir,
                 config.edi_ingress.outbox_dir.empty() ? "nowhere" : config.edi_ingress.outbox_dir,
                 config.edi.partners.size());
  }
  {
    EdiIngestor* edi = p->edi_.get();
    p->observability_->AddCollector(MakeEdiCollector([edi] {
      const EdiIngestStats& st = edi->stats();
      EdiMetricsSnapshot s;
      s.files = st.files.load(std::memory_order_relaxed);
      s.files_rejected = st.files_rejected.load(std::memory_order_relaxed);
      s.sets = st.sets.load(std::memory_order_relaxed);
      s.sets_rejected = st.sets_rejected.load(std::memory_order_relaxed);
      s.accepted = st.accepted.load(std::memory_order_relaxed);
      s.duplicate = st.duplicate.load(std::memory_order_relaxed);
      s.acks_written = st.acks_written.load(std::memory_order_relaxed);
      s.quarantined = st.quarantined.load(std::memory_order_relaxed);
      for (size_t i = 0; i < kEdiReasonFamilies.size(); ++i) {
        s.rejected_by_reason.emplace_back(kEdiReasonFamilies[i], st.rejected_by_family[i].load(std::memory_order_relaxed));
      }
      return s;
    }));
  }
  if (HttpIngress* http = p->http_.get(); http != nullptr) {
    p->observability_->AddCollector(MakeHttpCollector([http] {
      const HttpIngressStats st = http->Stats();
      HttpMetricsSnapshot s;
      s.requests = st.requests;
      s.accepted = st.accepted;
      s.duplicate = st.duplicate;
      s.rejected = st.rejected;
      s.throttled = st.throttled;
      s.busy = st.busy;
      s.unauthorized = st.unauthorized;
      s.bad_json = st.bad_json;
      s.too_large = st.too_large;
      return s;
    }));
  }
  if (!p->observability_->url().empty()) {
    spdlog::info("metrics: {} (store scan every {} s)", p->observability_->url(), config.metrics.scan_interval_s);
  }
  if (Status s = p->StartConsole(config, options); !s.ok()) {
    p->Stop();
    return s;
  }
  if (cluster) {
    // Last: partitions come once everything that serves them runs.
    if (Status s = p->JoinCluster(config); !s.ok()) {
      p->Stop();
      return s;
    }
  }
  return p;
}

void Pipeline::StartReconcileSchedules(const AppConfig& config) {
  if (config.reconcile.schedules.empty()) return;
  std::vector<ReconcileScheduler::Schedule> schedules;
  for (const ReconcileScheduleOptions& o : config.reconcile.schedules) {
    // source = "api": the target's own HTTP API (config checks made sure it is an HTTP
    // kind). The options are copied: the factory runs on the scheduler's thread.
    ErpDocumentSourceFactory api;
    if (const ErpTargetOptions* target = config.erp.FindTarget(o.target); target != nullptr) {
      api = [target_options = *target] { return MakeConnectorQuerySource(target_options); };
    }
    schedules.push_back({o, MakeScheduledSourceFactory(o, std::move(api))});
    spdlog::info("reconcile: {} every {} s over [now - {} s, now - {} s) from {}", o.target, o.interval_s,
                 o.lookback_s, o.settle_s, o.source == kReconcileSourceApi ? "its API" : o.export_path);
  }
  Engine* engine = engine_.get();
  reconcile_ = std::make_unique<ReconcileScheduler>(store_.get(), [engine] { return engine->Checkpoint(); },
                                                    config.reconcile.margin_s, std::move(schedules));
  observability_->AddCollector(reconcile_->Collector());
  reconcile_->Start();
}

Status Pipeline::StartConsole(const AppConfig& config, const PipelineOptions& options) {
  if (!config.console.enabled) {
    spdlog::info("console: off ([console] enabled = false)");
    return Status::OK();
  }
  if (erp_->admin() == nullptr) {
    console_note_ = "it runs the admin endpoint's commands, and [admin] endpoint is \"\"";
    spdlog::warn("console: off: {}", console_note_);
    return Status::OK();
  }
  ConsoleContext context;
  context.admin = erp_->admin();
  context.version = options.version;
  context.figures = [slo = config.slo](const PromSamples& now, const PromSamples* before, double dt_s) {
    return StatusJson(now, before, dt_s, slo, "console");
  };
  auto console = ConsoleServer::Start(config.console, context);
  if (!console.ok() && console.status().code() == Status::Code::kIOError && !options.console_fallback_listen.empty()) {
    ConsoleOptions fallback = config.console;
    fallback.listen = options.console_fallback_listen;
    console_note_ = console.status().message();
    console = ConsoleServer::Start(fallback, context);
    if (!console.ok()) {
      console_note_ += "; " + console.status().message();
      spdlog::warn("console: off: {}", console_note_);
      return Status::OK();
    }
  }
  if (!console.ok() && console.status().code() == Status::Code::kIOError) {
    // A taken port does not stop the engine: the console is a window on it, not part of it.
    console_note_ = console.status().message();
    spdlog::error("console: off: {}", console_note_);
    return Status::OK();
  }
  if (!console.ok()) {
    spdlog::error("cannot start the console: {}", console.status().ToString());
    return console.status();
  }
  console_ = std::move(console).value();
  spdlog::info("console: {} ({})", console_->url(),
               console_->actions_enabled() ? "replay/purge need the admin token"
                                           : "read-only: replay/purge need [admin] token_file");
  return Status::OK();
}

void Pipeline::StopIntake() {
  if (recovery_ != nullptr) recovery_->Stop();  // reads the dispatcher
  if (kpis_ != nullptr) kpis_->Stop();          // checkpoints the engine
  if (reconcile_ != nullptr) reconcile_->Stop();  // checkpoints the engine; a run in progress finishes
  if (console_ != nullptr) console_->Stop();  // before the admin commands it runs go away
  if (inbox_ != nullptr) inbox_->Stop();      // a file in progress finishes (needs the engine)
  if (http_ != nullptr) http_->Stop();        // requests in progress get their answers
  if (ingress_ != nullptr) ingress_->Stop();  // before the engine: answers the batches already submitted
  if (cluster_metrics_ != nullptr) cluster_metrics_->Stop();  // its sampler reads the node and the log
  if (cluster_ != nullptr) {
    cluster_->StopFrontDoor();  // the publishes in flight get their answers
    cluster_->Leave();          // partitions handed over (checkpointed) while the dispatcher still runs
  }
  if (erp_ != nullptr) erp_->Stop();          // admin endpoint, then dispatcher: in-flight commands stay in the outbox
}

void Pipeline::Stop() {
  StopIntake();
  if (observability_ != nullptr) observability_->Stop();
  if (engine_ != nullptr) engine_->Stop();
  cluster_.reset();  // closes the NATS connection
  if (master_data_ != nullptr) master_data_->Stop();
}

}  // namespace ordersync
