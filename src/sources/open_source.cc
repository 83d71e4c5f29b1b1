#include "sources/open_source.h"

#include "sources/file_source.h"
#include "sources/kafka_source.h"
#include "util/redact.h"

namespace sagaflow::sources {

Result<std::unique_ptr<Source>> OpenSource(const std::string& spec, size_t max_record_bytes,
                                           const kafka::Properties& kafka_properties, const std::string& instance_id) {
  if (spec.rfind("kafka://", 0) == 0) {
    auto k = KafkaSource::Open(spec, max_record_bytes, kafka_properties, instance_id);
    if (!k.ok()) return k.status();
    return std::unique_ptr<Source>(std::move(*k));
  }
  std::string path = spec;
  if (path.rfind("file:", 0) == 0) {
    path.erase(0, 5);
    if (path.rfind("//", 0) == 0) path.erase(0, 2);
  } else if (path.find("://") != std::string::npos) {
    return Status::InvalidArgument("unsupported source \"" + RedactUri(spec) +
                                   "\" (supported: file:PATH, -, kafka://BROKERS/TOPIC?group=G)");
  }
  if (path.empty()) return Status::InvalidArgument("invalid source \"" + spec + "\": empty path");
  auto s = FileSource::Open(path, max_record_bytes);
  if (!s.ok()) return s.status();
  return std::unique_ptr<Source>(std::move(*s));
}

}  // namespace sagaflow::sources
