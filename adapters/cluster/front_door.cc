#include "adapters/cluster/front_door.h"

#include <string>
#include <utility>

#include "engine/event_view.h"
#include "engine/hash.h"
#include "engine/log_record.h"
#include "engine/master_data_check.h"
#include "milestone_generated.h"

namespace ordersync {
namespace {

std::atomic<uint64_t> next_id{1};  // front doors of this process, for per-thread caches

}  // namespace

ClusterFrontDoor::ClusterFrontDoor(JetStreamLog* log, const ClusterFrontDoorOptions& options,
                                   const MasterDataSource* master_data, const Clock* clock)
    : options_(options),
      log_(log),
      master_data_(master_data),
      clock_(clock),
      partitions_(log->options().partitions),
      max_in_flight_(options.max_in_flight > 0
                         ? options.max_in_flight
                         : static_cast<uint64_t>(std::max<int64_t>(1, log->connection()->options().max_async_pending))),
      id_(next_id.fetch_add(1, std::memory_order_relaxed)),
      empty_snapshot_(std::make_shared<const MasterDataSnapshot>()) {}

Result<std::unique_ptr<ClusterFrontDoor>> ClusterFrontDoor::Create(JetStreamLog* log,
                                                                   const ClusterFrontDoorOptions& options,
                                                                   const MasterDataSource* master_data,
                                                                   const Clock* clock) {
  if (log == nullptr || clock == nullptr) return Status::InvalidArgument("front door: a log and a clock are required");
  std::unique_ptr<ClusterFrontDoor> door(new ClusterFrontDoor(log, options, master_data, clock));
  auto publisher = AsyncEventPublisher::Create(log, &ClusterFrontDoor::OnCompletion, door.get());
  if (!publisher.ok()) return publisher.status();
  door->publisher_ = std::move(publisher).value();
  return door;
}

ClusterFrontDoor::~ClusterFrontDoor() {
  // The publisher's destructor waits for every outstanding completion, so no callback
  // reaches this object once it is gone.
  Stop(2 * log_->connection()->options().request_timeout_ms + 1000).PermitUncheckedError();
  publisher_.reset();
}

Status ClusterFrontDoor::Submit(InboundEvent&& event, uint32_t* retry_after_ms) {
  if (!accepting_.load(std::memory_order_acquire)) {
    unavailable_.fetch_add(1, std::memory_order_relaxed);
    return Status::Unavailable("front door is stopping");
  }
  // Too many publishes unanswered (the log is slow or unreachable): push back at once
  // rather than block the ingress thread inside nats.c.
  if (publisher_->in_flight() >= max_in_flight_) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    if (retry_after_ms != nullptr) *retry_after_ms = options_.busy_retry_after_ms;
    return Status::Busy("front door: " + std::to_string(max_in_flight_) + " publishes await their JetStream ack");
  }

  const Envelope* envelope = GetEnvelope(event.bytes.data());
  const std::string_view event_id = ToView(envelope->event_id());
  const uint32_t p = PartitionOf(ToView(envelope->order_id()), partitions_);

  // The master-data verdict, as the worker's gate decides it live (master_data_gate.h).
  MasterDataVerdict verdict;
  if (options_.master_data.any() && envelope->payload_type() == Milestone::OrderAccepted) {
    EvaluateMasterData(CurrentSnapshot(), options_.master_data, MakeEventView(envelope), &verdict);
  }

  // One builder per thread: its buffer is reused, so a record costs no allocation once
  // the buffer has grown to the largest event seen.
  thread_local LogRecordBuilder builder;
  builder.Begin(clock_->NowNanos());
  builder.AddEvent(p, event.received_at_ns, event.replay, event.bytes.view(),
                   verdict.kind != MasterDataVerdict::Kind::kNone ? &verdict : nullptr);
  const std::string_view record = builder.Finish();

  const Status s = publisher_->Publish(p, event_id, record, {event.sink, event.cookie});
  if (s.IsBusy()) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    if (retry_after_ms != nullptr) *retry_after_ms = options_.busy_retry_after_ms;
    return s;
  }
  if (!s.ok()) {
    unavailable_.fetch_add(1, std::memory_order_relaxed);
    return Status::Unavailable("front door: " + s.ToString());
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  // The record holds its own copy: the event's bytes are released now.
  InboundEvent taken = std::move(event);
  return Status::OK();
}

const MasterDataSnapshot& ClusterFrontDoor::CurrentSnapshot() const {
  if (master_data_ == nullptr) return *empty_snapshot_;
  // Per thread, the snapshot in force, taken again only when the source's generation
  // moved (one atomic load), as the worker's gate does per group commit: Current() may
  // take the source's lock.
  struct Cache {
    uint64_t door = 0;
    uint64_t generation = 0;
    std::shared_ptr<const MasterDataSnapshot> snapshot;
  };
  thread_local Cache cache;
  const uint64_t generation = master_data_->generation();
  if (cache.door != id_ || cache.generation != generation || cache.snapshot == nullptr) {
    cache.snapshot = master_data_->Current();
    cache.door = id_;
    cache.generation = generation;
  }
  return *cache.snapshot;
}

void ClusterFrontDoor::OnCompletion(void* closure, const AsyncEventPublisher::Completion& c) {
  auto* self = static_cast<ClusterFrontDoor*>(closure);
  EventReport report;
  std::string error;
  if (c.status.ok() && c.ack.duplicate && c.ack.sequence == 0) {
    // "Duplicate" without a sequence: JetStream knows the event_id only from a publish it
    // has not stored (yet) — still being replicated, or dropped with its proposal by a
    // leader change while the id stays in the duplicate window (nats-server#5827,
    // #6415). Not a confirmation: the producer must resend. The fault suite lost
    // acknowledged events when this was answered Accepted.
    self->unconfirmed_.fetch_add(1, std::memory_order_relaxed);
    report.outcome = EventOutcome::kStoreError;
    report.reason = kUnconfirmedDuplicateReason;
  } else if (c.status.ok()) {
    self->logged_.fetch_add(1, std::memory_order_relaxed);
    if (c.ack.duplicate) self->already_logged_.fetch_add(1, std::memory_order_relaxed);
    report.outcome = EventOutcome::kLogged;
    report.reason = c.ack.duplicate ? "already_in_log" : "";
  } else {
    self->failed_.fetch_add(1, std::memory_order_relaxed);
    error = c.status.ToString();
    report.outcome = EventOutcome::kStoreError;
    report.reason = error;
  }
  if (auto* sink = static_cast<ResultSink*>(c.context.object); sink != nullptr) {
    sink->OnEventResult(c.context.cookie, report);
  }
}

Status ClusterFrontDoor::Stop(int64_t timeout_ms) {
  accepting_.store(false, std::memory_order_release);
  if (publisher_ == nullptr) return Status::OK();
  return publisher_->WaitAll(timeout_ms);
}

ClusterFrontDoorStats ClusterFrontDoor::Stats() const {
  ClusterFrontDoorStats s;
  s.published = published_.load(std::memory_order_relaxed);
  s.logged = logged_.load(std::memory_order_relaxed);
  s.already_logged = already_logged_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.unconfirmed_duplicates = unconfirmed_.load(std::memory_order_relaxed);
  s.busy = busy_.load(std::memory_order_relaxed);
  s.unavailable = unavailable_.load(std::memory_order_relaxed);
  s.in_flight = publisher_ != nullptr ? publisher_->in_flight() : 0;
  return s;
}

}  // namespace ordersync
