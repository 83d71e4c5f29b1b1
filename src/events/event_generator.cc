#include "events/event_generator.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/jsonl_documents.h"
#include "util/json_writer.h"

namespace sagaflow::events {

namespace fs = std::filesystem;

namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// One {"id","text"} JSON file of the prototype's texts folder.
Status LoadJsonFile(const fs::path& path, simdjson::dom::parser* parser, std::vector<SourceText>* out) {
  simdjson::padded_string json;
  if (auto e = simdjson::padded_string::load(path.string()).get(json)) {
    return Status::IoError(fmt::format("{}: {}", path.string(), simdjson::error_message(e)));
  }
  simdjson::dom::object obj;
  if (auto e = parser->parse(json).get(obj)) {
    return Status::InvalidArgument(
        fmt::format("{}: not a JSON object ({})", path.string(), simdjson::error_message(e)));
  }
  SourceText t;
  simdjson::dom::element id;
  std::string_view text;
  if (obj["id"].get(id) || obj["text"].get(text)) {
    return Status::InvalidArgument(path.string() + ": needs an \"id\" and a string \"text\"");
  }
  if (id.is_string()) {
    AppendJsonString(&t.id_json, id.get_string().value_unsafe());
  } else if (id.is_int64()) {
    AppendJsonString(&t.id_json, std::to_string(id.get_int64().value_unsafe()));
  } else {
    return Status::InvalidArgument(path.string() + ": \"id\" must be a string or an integer");
  }
  t.text.assign(text);
  out->push_back(std::move(t));
  return Status::Ok();
}

Result<std::vector<SourceText>> LoadDirectory(const std::string& dir, uint64_t* skipped) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().filename().string().rfind('.', 0) != 0) files.push_back(entry.path());
  }
  if (ec) return Status::IoError(fmt::format("cannot list {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<SourceText> texts;
  simdjson::dom::parser parser;
  for (const auto& f : files) {
    Status st = LoadJsonFile(f, &parser, &texts);
    if (!st.ok()) {
      spdlog::warn("skipping document: {}", st.message());
      ++*skipped;
    }
  }
  return texts;
}

Result<std::vector<SourceText>> LoadJsonl(const std::string& path, uint64_t* skipped) {
  auto docs = io::JsonlDocuments::Open(path);
  if (!docs.ok()) return docs.status();
  std::vector<SourceText> texts;
  io::Document doc;
  std::string reason;
  for (;;) {
    auto outcome = (*docs)->Next(&doc, &reason);
    if (!outcome.ok()) return outcome.status().WithContext(path);
    if (*outcome == io::JsonlDocuments::Outcome::kEnd) break;
    if (*outcome == io::JsonlDocuments::Outcome::kRejected) {
      spdlog::warn("skipping document: {}: {}", path, reason);
      ++*skipped;
      continue;
    }
    SourceText t;
    if (!doc.id_json.empty() && doc.id_json.front() == '"') {
      t.id_json.assign(doc.id_json);
    } else {
      AppendJsonString(&t.id_json, doc.id_json);  // an integer id becomes its decimal string
    }
    t.text.assign(doc.text);
    texts.push_back(std::move(t));
  }
  return texts;
}

}  // namespace

Random::Random(uint64_t seed) {
  for (auto& s : s_) s = SplitMix64(&seed);
}

uint64_t Random::Next() noexcept {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Random::Below(uint64_t bound) noexcept {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(Next()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Random::Between(int64_t lo, int64_t hi) noexcept {
  return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
}

Result<std::vector<SourceText>> LoadCorpus(const std::string& path, uint64_t* skipped) {
  *skipped = 0;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return LoadDirectory(path, skipped);
  return LoadJsonl(path, skipped);
}

Result<uint64_t> GenerateEvents(const std::vector<SourceText>& texts, const GeneratorOptions& options,
                                const std::function<Status(const SourceText& text, std::string_view event)>& emit) {
  if (texts.empty()) return Status::InvalidArgument("the corpus has no documents");
  if (options.min_readers > options.max_readers) return Status::InvalidArgument("min readers above max readers");
  const uint64_t count = options.count ? options.count : texts.size();
  Random rng(options.seed);
  std::string line;
  for (uint64_t i = 0; i < count; ++i) {
    const SourceText& t = texts[options.order == Order::kRandom ? rng.Below(texts.size()) : i % texts.size()];
    const int64_t readers = rng.Between(options.min_readers, options.max_readers);
    const int64_t time = options.start_time + static_cast<int64_t>(i) * options.interval;
    line.clear();
    line.append("{\"id\":").append(t.id_json);
    line.append(",\"time\":").append(std::to_string(time));
    line.append(",\"readers\":").append(std::to_string(readers));
    line.append(",\"text\":");
    AppendJsonString(&line, t.text);
    line.append("}");
    SAGAFLOW_RETURN_IF_ERROR(emit(t, line));
  }
  return count;
}

Result<uint64_t> WriteEvents(const std::vector<SourceText>& texts, const GeneratorOptions& options, std::FILE* out) {
  auto count = GenerateEvents(texts, options, [out](const SourceText&, std::string_view event) {
    if (std::fwrite(event.data(), 1, event.size(), out) != event.size() || std::fputc('\n', out) == EOF) {
      return Status::IoError(std::string("write failed: ") + std::strerror(errno));
    }
    return Status::Ok();
  });
  if (!count.ok()) return count;
  if (std::fflush(out) != 0) return Status::IoError(std::string("write failed: ") + std::strerror(errno));
  return count;
}

}  // namespace sagaflow::events
