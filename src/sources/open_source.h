// Sources by address: "file:PATH", a bare PATH, or "-" / "file:-" for
// standard input; "kafka://BROKERS/TOPIC?group=G" for a Kafka consumer group
// (sources/kafka_source.h).
#pragma once

#include <memory>
#include <string>

#include "sources/source.h"

namespace sagaflow::sources {

// `instance_id`: a Kafka consumer's group.instance.id (static membership);
// ignored by file sources, which have no group.
Result<std::unique_ptr<Source>> OpenSource(const std::string& spec, size_t max_record_bytes,
                                           const std::string& instance_id = {});

}  // namespace sagaflow::sources
