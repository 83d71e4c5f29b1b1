// `sagaflow produce`: the prototype's event generator. Reads a corpus of
// {"id","text"} documents (a JSONL file or a directory of JSON files) and
// writes events {"id","time","readers","text"} as JSON lines, or publishes
// them to a Kafka topic (--kafka), keyed by article id, every delivery
// checked. --rate paces either.
// Exit status: 0 done (every event delivered), 2 bad arguments or unreadable
// corpus, 1 write or delivery failure.
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "events/event_generator.h"
#include "kafka/producer.h"
#include "query/time_format.h"

namespace sagaflow::cli {
namespace {

struct ProduceOptions {
  std::string input;
  std::string output = "-";
  uint64_t seed = 1;
  uint64_t count = 0;
  std::string order = "sequential";
  std::string start_time;  // default: now
  int64_t interval = 1;
  std::string kafka;  // bootstrap servers; empty = write to --output
  std::string topic = "events";
  std::string kafka_config;  // --kafka-config FILE
  double rate = 0;           // events per second; 0 = as fast as possible
};

// Sleeps so that event i leaves no earlier than i / rate seconds after the first.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), start_(std::chrono::steady_clock::now()) {}
  void Wait(uint64_t i) const {
    if (rate_ <= 0) return;
    std::this_thread::sleep_until(start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                               std::chrono::duration<double>(static_cast<double>(i) / rate_)));
  }

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

// The article id as Kafka key: the id's JSON string literal, unescaped.
Result<std::vector<std::string>> ArticleKeys(const std::vector<events::SourceText>& texts) {
  std::vector<std::string> keys;
  keys.reserve(texts.size());
  simdjson::dom::parser parser;
  for (const auto& t : texts) {
    std::string_view id;
    if (parser.parse(simdjson::padded_string(t.id_json)).get(id)) {
      return Status::Internal("article id is not a JSON string: " + t.id_json);
    }
    keys.emplace_back(id);
  }
  return keys;
}

int PublishToKafka(const std::vector<events::SourceText>& texts, const events::GeneratorOptions& g,
                   const ProduceOptions& o) {
  auto keys = ArticleKeys(texts);
  if (!keys.ok()) {
    spdlog::error("produce: {}", keys.status().ToString());
    return 1;
  }
  int status = kExitFailure;
  auto properties = LoadKafkaConfig("produce", o.kafka_config, &status);
  if (!properties) return status;
  auto producer = kafka::KafkaProducer::Open({o.kafka, o.topic, std::move(*properties)});
  if (!producer.ok()) {
    spdlog::error("produce: {}", producer.status().ToString());
    return kExitFailure;  // librdkafka refused its settings, as `run` finds them when it starts
  }
  Pacer pacer(o.rate);
  uint64_t i = 0;
  auto generated = events::GenerateEvents(texts, g, [&](const events::SourceText& t, std::string_view event) {
    pacer.Wait(i++);
    return (*producer)->Send((*keys)[static_cast<size_t>(&t - texts.data())], event);
  });
  // Flush even after a failure: what was sent is confirmed or reported.
  Status flushed = (*producer)->Flush(std::chrono::minutes(5));
  const auto& p = **producer;
  if (!generated.ok() || !flushed.ok()) {
    spdlog::error("produce: {}", (generated.ok() ? flushed : generated.status()).ToString());
    spdlog::error("produce: {} events delivered to {} topic {}, {} failed", p.delivered(), o.kafka, o.topic,
                  p.sent() - p.delivered());
    return 1;
  }
  spdlog::info("produce: {} events delivered to {} topic {}", p.delivered(), o.kafka, o.topic);
  return 0;
}

int RunProduce(const ProduceOptions& o) {
  events::GeneratorOptions g;
  g.seed = o.seed;
  g.count = o.count;
  g.order = o.order == "random" ? events::Order::kRandom : events::Order::kSequential;
  g.interval = o.interval;
  if (o.start_time.empty()) {
    g.start_time = static_cast<int64_t>(std::time(nullptr));
  } else {
    auto t = query::ParseTime(o.start_time);
    if (!t.ok()) {
      spdlog::error("produce: --start-time: {}", t.status().message());
      return kExitUsage;
    }
    g.start_time = *t;
  }
  uint64_t skipped = 0;
  auto texts = events::LoadCorpus(o.input, &skipped);
  if (!texts.ok()) {
    spdlog::error("produce: {}", texts.status().ToString());
    return kExitFailure;
  }
  if (texts->empty()) {
    spdlog::error("produce: {} holds no readable documents", o.input);
    return kExitFailure;
  }
  if (!o.kafka.empty()) return PublishToKafka(*texts, g, o);

  // A file is written under a temporary name and renamed when complete, so
  // a reader never sees half of it.
  std::FILE* out = stdout;
  std::string tmp;
  if (o.output != "-") {
    tmp = o.output + ".tmp." + std::to_string(::getpid());
    out = std::fopen(tmp.c_str(), "wb");
    if (!out) {
      spdlog::error("produce: cannot create {}: {}", tmp, std::strerror(errno));
      return kExitFailure;
    }
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  Result<uint64_t> written = 0;
  if (o.rate > 0) {
    Pacer pacer(o.rate);
    uint64_t i = 0;
    written = events::GenerateEvents(*texts, g, [&](const events::SourceText&, std::string_view event) {
      pacer.Wait(i++);
      if (std::fwrite(event.data(), 1, event.size(), out) != event.size() || std::fputc('\n', out) == EOF ||
          std::fflush(out) != 0) {
        return Status::IoError(std::string("write failed: ") + std::strerror(errno));
      }
      return Status::Ok();
    });
  } else {
    written = events::WriteEvents(*texts, g, out);
  }
  if (out != stdout && std::fclose(out) != 0 && written.ok()) written = Status::IoError(std::strerror(errno));
  if (!written.ok()) {
    if (!tmp.empty()) std::remove(tmp.c_str());
    spdlog::error("produce: {}", written.status().ToString());
    return 1;
  }
  if (!tmp.empty()) {
    std::error_code ec;
    std::filesystem::rename(tmp, o.output, ec);
    if (ec) {
      std::remove(tmp.c_str());
      spdlog::error("produce: cannot write {}: {}", o.output, ec.message());
      return 1;
    }
  }
  spdlog::info("produce: {} events from {} documents{} to {}", *written, texts->size(),
               skipped ? fmt::format(" ({} unreadable, skipped)", skipped) : "", o.output == "-" ? "stdout" : o.output);
  return 0;
}

}  // namespace

void AddProduceCommand(CLI::App& app) {
  auto o = std::make_shared<ProduceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "produce", "Generate events {\"id\",\"time\",\"readers\",\"text\"} from a corpus (the prototype's generator)");
  cmd->add_option("--input", o->input, "Corpus: a JSONL file of {\"id\",\"text\"} or a directory of such JSON files")
      ->envname("SAGAFLOW_INPUT")
      ->required();
  CLI::Option* output = cmd->add_option("--output", o->output, "Events file ('-' = stdout), written atomically")
                            ->envname("SAGAFLOW_OUTPUT")
                            ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the generator (same seed, same events on every machine)")
      ->envname("SAGAFLOW_SEED")
      ->capture_default_str();
  cmd->add_option("--count", o->count, "Number of events (default: one per document)")->envname("SAGAFLOW_COUNT");
  cmd->add_option("--order", o->order,
                  "sequential (documents in order, wrapping around) or random (picks with replacement)")
      ->envname("SAGAFLOW_ORDER")
      ->check(CLI::IsMember({"sequential", "random"}))
      ->capture_default_str();
  cmd->add_option("--start-time", o->start_time, "Time of the first event: unix seconds or ISO 8601 (default: now)")
      ->envname("SAGAFLOW_START_TIME");
  cmd->add_option("--interval", o->interval, "Seconds between consecutive events")
      ->envname("SAGAFLOW_INTERVAL")
      ->check(AtLeast(0))
      ->capture_default_str();
  cmd->add_option("--kafka", o->kafka, "Publish to Kafka instead: bootstrap servers HOST:PORT[,HOST:PORT...]")
      ->envname("SAGAFLOW_KAFKA")
      ->excludes(output);
  cmd->add_option("--topic", o->topic, "Kafka topic (with --kafka)")->envname("SAGAFLOW_TOPIC")->capture_default_str();
  AddKafkaConfigOption(cmd, &o->kafka_config);
  cmd->add_option("--rate", o->rate, "Events per second (0 = as fast as possible)")
      ->envname("SAGAFLOW_RATE")
      ->check(AtLeast(0))
      ->capture_default_str();
  cmd->callback([o] { SetExitStatus(RunProduce(*o)); });
}

}  // namespace sagaflow::cli
