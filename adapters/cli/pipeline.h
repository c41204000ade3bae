// Pipeline: the components of a running ordersync process, wired the way `serve` runs
// them, so `serve` and `demo` share one wiring: the RocksDB store, the event log, the SLO
// recorder, the ERP fan-out (outbox dispatcher + admin endpoint), the engine,
// observability (metrics endpoint, store scanner, with the dispatcher's and the ingress's
// collectors), the scheduled reconciles when configured, the ZeroMQ ingress, the EDI
// inbox and HTTP ingresses when configured (all three share one quarantine writer), and
// the operations console (web page on the admin commands). With [cluster] enabled the
// engine and the local log are replaced by a ClusterRuntime (adapters/cluster/
// cluster_runtime.h): the ingresses publish through its front door, the dispatcher
// dispatches only the partitions the node owns, and the node joins the cluster last
// (pipeline_cluster.cc; docs/cluster.md "Running a cluster"). Start logs each step at info
// level, as `serve` always did; on failure it logs the error ("cannot start the engine:
// ...") and undoes what it had started.
//
//   auto p = Pipeline::Start(config, {});   // store, ERP, engine, metrics, admin, ingress
//   ...                                      // p->ingress()->ack_endpoint(), p->engine()->Stats()
//   p->StopIntake();                         // console, ingress (answers what it took), then ERP
//   p->Stop();                               // metrics, then the engine drains
//
// Thread-safety: Start/StopIntake/Stop from one controlling thread; the accessors return
// the components, whose own thread-safety applies (their Stats() from any thread).
#pragma once

#include <memory>
#include <string>

#include "adapters/master_data/master_data_store.h"
#include "adapters/metrics/recovery_tracker.h"
#include "adapters/metrics/sync_kpi_scan.h"
#include "adapters/config/app_config.h"
#include "adapters/cluster/cluster_runtime.h"
#include "adapters/console/console_server.h"
#include "adapters/edi/edi_ingestor.h"
#include "adapters/edi/inbox_watcher.h"
#include "adapters/http/http_ingress.h"
#include "adapters/erp/erp_service.h"
#include "adapters/ingress/ingress_server.h"
#include "adapters/metrics/observability.h"
#include "adapters/metrics/slo_recorder.h"
#include "adapters/reconcile/reconcile_scheduler.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "engine/status.h"

namespace ordersync {

class ClusterCollector;

struct PipelineOptions {
  // Version label of the metrics (ordersync_build_info).
  std::string version;
  // When the metrics endpoint cannot bind [metrics] listen_address: "" = Start fails
  // (serve); else it retries once on this address (e.g. "127.0.0.1:0", an ephemeral
  // port) and, if that fails too, runs without the endpoint (the scanner still runs).
  std::string metrics_fallback_address;
  // Where the console goes when [console] listen cannot be bound (e.g. "127.0.0.1:0");
  // "" = no retry. Either way, a console that cannot bind is logged as an error and the
  // pipeline runs without it (console_note() says why): the engine does not stop for its
  // web page. A bad or off-loopback-without-token listen address still fails Start.
  std::string console_fallback_listen;
};

class Pipeline {
 public:
  static Result<std::unique_ptr<Pipeline>> Start(const AppConfig& config, const PipelineOptions& options);
  ~Pipeline() { Stop(); }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Stops the EDI inbox and HTTP ingress (files/requests in progress finish), the ZeroMQ
  // ingress (it answers the batches already submitted), then the admin endpoint
  // and the dispatcher (commands in flight stay in the outbox). Idempotent.
  void StopIntake();
  // StopIntake, then the metrics, then the engine (drains its queues). Idempotent.
  void Stop();

  RocksDbStore* store() { return store_.get(); }
  SegmentLog* log() { return log_.get(); }        // null in cluster mode
  Engine* engine() { return engine_.get(); }      // null in cluster mode
  ClusterRuntime* cluster() { return cluster_.get(); }  // null unless cluster mode
  // Where the ingresses hand their events: the engine, or the cluster's front door.
  EventIntake* intake();
  ErpService* erp() { return erp_.get(); }
  // The master data of the intake checks ([master_data]); always present (version
  // "none" when no file is configured).
  MasterDataStore* master_data() { return master_data_.get(); }
  OutboxDispatcher* dispatcher() { return erp_->dispatcher(); }
  IngressServer* ingress() { return ingress_.get(); }
  EdiIngestor* edi() { return edi_.get(); }           // always present
  HttpIngress* http() { return http_.get(); }         // null unless [ingress.http] enabled
  InboxWatcher* inbox() { return inbox_.get(); }      // null unless [ingress.edi] inbox_dir
  Observability* observability() { return observability_.get(); }
  SloRecorder* slo() { return slo_.get(); }
  // Why the metrics endpoint is not at [metrics] listen_address ("" when it is, or when
  // metrics are disabled): the bind error, and where it went instead.
  const std::string& metrics_note() const { return metrics_note_; }
  // The operations console, or null when it is off ([console] enabled = false, no admin
  // endpoint, or it could not bind and a fallback was allowed: console_note() says why).
  ConsoleServer* console() { return console_.get(); }
  // The scheduled reconciles ([reconcile.schedule.<target>]), or null when none is set.
  ReconcileScheduler* reconcile_scheduler() { return reconcile_.get(); }
  const std::string& console_note() const { return console_note_; }

 private:
  Pipeline() = default;
  // Starts the console on the admin server's commands (after the ERP fan-out started).
  Status StartConsole(const AppConfig& config, const PipelineOptions& options);
  // Starts the scheduled reconciles on their own thread (after the engine and metrics).
  void StartReconcileSchedules(const AppConfig& config);
  // Cluster mode (pipeline_cluster.cc): connects the ClusterRuntime (instead of the
  // engine), adds its metrics, and joins the cluster (last).
  Status OpenCluster(const AppConfig& config);
  // Joins the cluster, then adds the node's metrics (ClusterCollector).
  Status JoinCluster(const AppConfig& config);
  // What the dispatcher reports to: the engine, or the cluster runtime.
  DispatcherHost* dispatcher_host();

  // Declared in start order; Stop() tears down in the order the header describes.
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<SegmentLog> log_;
  std::unique_ptr<SloRecorder> slo_;
  std::unique_ptr<ErpService> erp_;
  std::unique_ptr<MasterDataStore> master_data_;  // outlives the engine that reads it
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ClusterRuntime> cluster_;          // cluster mode: instead of log_ and engine_
  std::unique_ptr<PartitionHost> partition_host_;    // cluster mode: adoptions -> the dispatcher
  std::shared_ptr<ClusterCollector> cluster_metrics_;  // cluster mode: ordersync_cluster_*
  std::unique_ptr<Observability> observability_;
  std::unique_ptr<RecoveryTracker> recovery_;  // samples the dispatcher every second
  std::unique_ptr<SyncKpiScanner> kpis_;       // journal scan for the synchronisation KPIs
  std::unique_ptr<ReconcileScheduler> reconcile_;  // scheduled reconciles, own thread
  std::unique_ptr<QuarantineWriter> quarantine_;
  std::unique_ptr<EdiIngestor> edi_;
  std::unique_ptr<IngressServer> ingress_;
  std::unique_ptr<ConsoleServer> console_;
  std::unique_ptr<InboxWatcher> inbox_;
  std::unique_ptr<HttpIngress> http_;
  std::string metrics_note_;
  std::string console_note_;
};

}  // namespace ordersync
