#include "pipeline/pipeline.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "pipeline/analyzer.h"

namespace sagaflow::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

// Records as read, copied out of the source's buffer.
struct RawBatch {
  uint64_t sequence = 0;
  Clock::time_point opened;
  std::string data;  // payloads back to back, then kPayloadPadding bytes
  struct Item {
    sources::Record record;  // payload points into `data` once sealed
    size_t offset = 0;       // of the payload in `data`
  };
  std::vector<Item> items;
};

struct AnalyzedBatch {
  Clock::time_point opened;  // when its first record was read
  Batch batch;
  AnalyzeTally tally;
  std::vector<uint32_t> source_streams;  // batch.streams[i] is the source's stream source_streams[i]
};

}  // namespace

struct Pipeline::State {
  sources::Source& source;
  Sink& sink;
  const text::Classifier& classifier;
  const text::EntityMatcher& matcher;
  const Dimensions& dims;
  PipelineOptions options;
  PipelineCounters* counters;

  std::atomic<bool> stop{false};

  // The open batch, shared by the reader (appends) and the commit thread
  // (seals it when it lingers).
  std::mutex open_mu;
  std::unique_ptr<RawBatch> open;
  uint64_t next_sequence = 0;  // guarded by open_mu

  // Sealed batches waiting for a worker.
  std::mutex work_mu;
  std::condition_variable work_cv;
  std::deque<std::unique_ptr<RawBatch>> work;
  bool reading_done = false;  // guarded by work_mu (and read under open_mu for sealing)
  uint64_t sealed = 0;        // batches sealed in total, final once reading_done

  // Analyzed batches by sequence, and flow control.
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::map<uint64_t, std::unique_ptr<AnalyzedBatch>> done;
  size_t in_flight = 0;  // sealed and not yet committed
  std::condition_variable slot_cv;

  std::mutex error_mu;
  Status first_error;

  // The sink's checkpoints as the source reads them, also while the commit
  // thread writes (a Kafka source reads them on every partition assignment):
  // sink_mu serializes the two.
  struct LockedCheckpoints final : sources::CheckpointReader {
    Sink& sink;
    std::mutex& mu;
    LockedCheckpoints(Sink& s, std::mutex& m) : sink(s), mu(m) {}
    Result<std::optional<sources::Checkpoint>> LoadCheckpoint(std::string_view key) override {
      std::lock_guard<std::mutex> lock(mu);
      return sink.LoadCheckpoint(key);
    }
  };
  std::mutex sink_mu;
  LockedCheckpoints checkpoints{sink, sink_mu};

  // Raw batches for reuse: their buffers keep their capacity, which spares
  // the reader a fresh allocation (and its page faults) per batch.
  std::mutex pool_mu;
  std::vector<std::unique_ptr<RawBatch>> pool;

  std::unique_ptr<RawBatch> TakeRaw() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        auto raw = std::move(pool.back());
        pool.pop_back();
        return raw;
      }
    }
    auto raw = std::make_unique<RawBatch>();
    raw->data.reserve(std::min<size_t>(options.batch_bytes + (1 << 20), 64 << 20));
    return raw;
  }
  void ReturnRaw(std::unique_ptr<RawBatch> raw) {
    raw->items.clear();
    raw->data.clear();
    std::lock_guard<std::mutex> lock(pool_mu);
    if (pool.size() < options.max_batches_in_flight) pool.push_back(std::move(raw));
  }

  State(sources::Source& s, Sink& k, const text::Classifier& c, const text::EntityMatcher& m, const Dimensions& d,
        PipelineOptions o, PipelineCounters* n)
      : source(s), sink(k), classifier(c), matcher(m), dims(d), options(o), counters(n) {}

  void Fail(Status st) {
    {
      std::lock_guard<std::mutex> lock(error_mu);
      if (first_error.ok()) first_error = std::move(st);
    }
    stop.store(true);
    source.RequestStop();
  }

  // Moves the open batch to the work queue. Caller holds open_mu.
  void SealLocked() {
    if (!open || open->items.empty()) return;
    open->sequence = next_sequence++;
    open->data.append(sources::kPayloadPadding, '\0');
    for (auto& item : open->items) {
      if (item.record.kind == sources::Record::Kind::kPayload) {
        item.record.payload = std::string_view(open->data.data() + item.offset, item.record.size);
      }
    }
    {
      std::lock_guard<std::mutex> lock(done_mu);
      ++in_flight;
    }
    {
      std::lock_guard<std::mutex> lock(work_mu);
      work.push_back(std::move(open));
      ++sealed;
    }
    work_cv.notify_one();
  }

  // Seals the open batch once it has been open for `linger`. Called by the
  // reader whenever the source returns without a record and by the commit
  // thread when it has nothing to commit: whichever comes first, so the
  // deadline holds within a source poll, or within a commit wait's slack
  // for a source that blocks.
  void SealIfLingering() {
    std::lock_guard<std::mutex> lock(open_mu);
    if (open && Clock::now() - open->opened >= options.linger) SealLocked();
  }
  // How long the commit thread may wait for a batch: until the open batch's
  // linger ends, at most `linger`.
  Clock::duration CommitWait() {
    std::lock_guard<std::mutex> lock(open_mu);
    if (!open) return options.linger;
    const Clock::duration left = open->opened + options.linger - Clock::now();
    return std::clamp<Clock::duration>(left, std::chrono::milliseconds(1), options.linger);
  }

  void Reader();
  void Worker();
  Status Committer();
  void Analyze(RawBatch& raw, AnalyzedBatch* out, Analyzer* analyzer);
};

void Pipeline::State::Reader() {
  sources::Record record;
  // Since when the source has been idle without a break; max(): it is not.
  Clock::time_point idle_since = Clock::time_point::max();
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) break;
    auto r = source.Next(&record);
    if (!r.ok()) {
      Fail(r.status().WithContext(source.Describe()));
      break;
    }
    if (*r == sources::Source::ReadResult::kEnd) break;
    if (*r != sources::Source::ReadResult::kRecord) SealIfLingering();
    if (*r == sources::Source::ReadResult::kIdle) {
      if (options.stop_when_idle.count() > 0) {
        if (idle_since == Clock::time_point::max()) {
          idle_since = Clock::now();
        } else if (Clock::now() - idle_since >= options.stop_when_idle) {
          spdlog::info("source idle for {} ms: stopping", options.stop_when_idle.count());
          break;
        }
      }
      continue;
    }
    idle_since = Clock::time_point::max();
    if (*r == sources::Source::ReadResult::kWaiting) continue;
    counters->source.received.fetch_add(1, std::memory_order_relaxed);
    counters->bytes.fetch_add(record.size, std::memory_order_relaxed);

    std::unique_lock<std::mutex> lock(open_mu);
    if (!open) {
      lock.unlock();
      {
        // Flow control: wait for a free slot before opening a new batch.
        std::unique_lock<std::mutex> slots(done_mu);
        slot_cv.wait(slots, [&] { return in_flight < options.max_batches_in_flight || stop.load(); });
      }
      lock.lock();
      if (!open) {
        open = TakeRaw();
        open->opened = Clock::now();
      }
    }
    RawBatch::Item& item = open->items.emplace_back();
    item.record = record;
    item.offset = open->data.size();
    item.record.payload = {};
    open->data.append(record.payload);
    counters->source.sent.fetch_add(1, std::memory_order_relaxed);
    if (open->items.size() >= options.batch_records || open->data.size() >= options.batch_bytes) SealLocked();
  }
  counters->source.dropped.store(source.SkippedRecords(), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(open_mu);
  SealLocked();
  {
    std::lock_guard<std::mutex> wl(work_mu);
    reading_done = true;
  }
  work_cv.notify_all();
  done_cv.notify_all();
}

void Pipeline::State::Analyze(RawBatch& raw, AnalyzedBatch* out, Analyzer* analyzer) {
  Batch& b = out->batch;
  b.sequence = raw.sequence;
  const std::string description = source.Describe();
  std::vector<int> local;  // source stream -> index in b.streams
  std::vector<const RawBatch::Item*> last;
  for (const auto& item : raw.items) {
    uint32_t s = item.record.stream;
    if (s >= local.size()) local.resize(s + 1, -1);
    if (local[s] < 0) {
      local[s] = static_cast<int>(b.streams.size());
      b.streams.push_back(StreamCheckpoint{source.StreamKey(s), description, {}});
      out->source_streams.push_back(s);
      last.push_back(nullptr);
    }
    last[local[s]] = &item;
    analyzer->Process(item.record, static_cast<uint32_t>(local[s]), &b, &out->tally);
  }
  for (size_t i = 0; i < b.streams.size(); ++i) {
    const sources::Record& r = last[i]->record;
    sources::Checkpoint& cp = b.streams[i].checkpoint;
    cp.position = r.position;
    cp.line = r.line;
    cp.digest = r.kind == sources::Record::Kind::kPayload ? sources::Fnv1a64(r.payload) : 0;
  }
}

void Pipeline::State::Worker() {
  Analyzer analyzer(classifier, matcher, dims, options.max_record_bytes);
  for (;;) {
    std::unique_ptr<RawBatch> raw;
    {
      std::unique_lock<std::mutex> lock(work_mu);
      work_cv.wait(lock, [&] { return !work.empty() || reading_done; });
      if (work.empty()) return;
      raw = std::move(work.front());
      work.pop_front();
    }
    auto analyzed = std::make_unique<AnalyzedBatch>();
    analyzed->opened = raw->opened;
    Analyze(*raw, analyzed.get(), &analyzer);
    counters->analyze.received.fetch_add(analyzed->batch.records, std::memory_order_relaxed);
    const uint64_t sequence = raw->sequence;
    ReturnRaw(std::move(raw));
    {
      std::lock_guard<std::mutex> lock(done_mu);
      done.emplace(sequence, std::move(analyzed));
    }
    done_cv.notify_all();
  }
}

Status Pipeline::State::Committer() {
  uint64_t next = 0;
  bool sink_failed = false;
  for (;;) {
    std::unique_ptr<AnalyzedBatch> batch;
    const Clock::duration wait = CommitWait();  // before done_mu: open_mu comes first
    {
      std::unique_lock<std::mutex> lock(done_mu);
      bool ready = done_cv.wait_for(lock, wait, [&] {
        if (done.count(next)) return true;
        std::lock_guard<std::mutex> wl(work_mu);
        return reading_done && next == sealed;
      });
      if (ready && done.count(next)) {
        batch = std::move(done[next]);
        done.erase(next);
      } else if (ready) {
        return Status::Ok();  // everything sealed has been committed
      }
    }
    if (!batch) {
      SealIfLingering();  // nothing to commit for a while
      continue;
    }
    const Batch& b = batch->batch;
    const AnalyzeTally& t = batch->tally;
    counters->analyze.sent.fetch_add(b.events.size(), std::memory_order_relaxed);
    counters->analyze.errors.fetch_add(b.dead_letters.size(), std::memory_order_relaxed);
    if (!sink_failed) counters->sink.received.fetch_add(b.records, std::memory_order_relaxed);
    // After a failed write nothing more is written: the batches behind it
    // are dropped uncommitted and read again by the next run.
    if (!sink_failed) {
      auto report = [&] {
        std::lock_guard<std::mutex> lock(sink_mu);
        return sink.Write(b);
      }();
      if (!report.ok()) {
        sink_failed = true;
        counters->sink.errors.fetch_add(b.records, std::memory_order_relaxed);
        Fail(report.status().WithContext(sink.Describe()));
      } else {
        counters->sink.sent.fetch_add(report->events + report->dead_letters, std::memory_order_relaxed);
        counters->sink.dropped.fetch_add(report->duplicates, std::memory_order_relaxed);
        counters->classified.fetch_add(t.classified, std::memory_order_relaxed);
        counters->empty.fetch_add(t.empty, std::memory_order_relaxed);
        for (size_t i = 0; i < t.rejected.size(); ++i) {
          counters->rejected_by_reason[i].fetch_add(t.rejected[i], std::memory_order_relaxed);
        }
        counters->batches.fetch_add(1, std::memory_order_relaxed);
        for (size_t i = 0; i < b.streams.size(); ++i) {
          Status st = source.Acknowledge(batch->source_streams[i], b.streams[i].checkpoint);
          if (!st.ok()) Fail(st.WithContext(source.Describe()));
        }
        counters->batch_seconds.Observe(std::chrono::duration<double>(Clock::now() - batch->opened).count());
      }
    }
    {
      std::lock_guard<std::mutex> lock(done_mu);
      --in_flight;
    }
    slot_cv.notify_all();
    ++next;
  }
}

Pipeline::Pipeline(sources::Source& source, Sink& sink, const text::Classifier& classifier,
                   const text::EntityMatcher& matcher, const Dimensions& dimensions, PipelineOptions options,
                   PipelineCounters* counters) {
  if (options.workers == 0) options.workers = 1;
  if (options.batch_records == 0) options.batch_records = 1;
  if (options.max_batches_in_flight == 0) options.max_batches_in_flight = options.workers + 2;
  state_ = std::make_unique<State>(source, sink, classifier, matcher, dimensions, options, counters);
}

Pipeline::~Pipeline() = default;

void Pipeline::RequestStop() noexcept {
  state_->stop.store(true);
  state_->source.RequestStop();
  state_->slot_cv.notify_all();
}

void Pipeline::Abandon() noexcept {
  RequestStop();
  state_->sink.Abandon();
}

Status Pipeline::Run() {
  State& s = *state_;
  if (s.source.KeepsOwnPositions() && s.options.power_loss_durable_acks) {
    SAGAFLOW_RETURN_IF_ERROR(s.sink.RequirePowerLossDurability().WithContext(s.sink.Describe()));
  }
  SAGAFLOW_RETURN_IF_ERROR(s.sink.Prepare(s.dims).WithContext(s.sink.Describe()));
  SAGAFLOW_RETURN_IF_ERROR(s.source.Start(&s.checkpoints).WithContext(s.source.Describe()));
  // Named threads: per-thread CPU in top -H and perf tells which stage is the bottleneck.
  std::thread reader([&] {
    pthread_setname_np(pthread_self(), "sf-read");
    s.Reader();
  });
  std::vector<std::thread> workers;
  for (size_t i = 0; i < s.options.workers; ++i) {
    workers.emplace_back([&] {
      pthread_setname_np(pthread_self(), "sf-analyze");
      s.Worker();
    });
  }
  Status committed = s.Committer();
  reader.join();
  for (auto& w : workers) w.join();
  // After the last acknowledgement, also after a failure: what was
  // acknowledged becomes durable at the source too (Kafka offsets).
  Status finished = s.source.Finish().WithContext(s.source.Describe());
  std::lock_guard<std::mutex> lock(s.error_mu);
  if (!s.first_error.ok()) return s.first_error;
  if (!committed.ok()) return committed;
  return finished;
}

}  // namespace sagaflow::pipeline
