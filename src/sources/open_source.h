// Sources by address: "file:PATH", a bare PATH, or "-" / "file:-" for
// standard input; "kafka://BROKERS/TOPIC?group=G" for a Kafka consumer group
// (sources/kafka_source.h).
#pragma once

#include <memory>
#include <string>

#include "kafka/kafka_config.h"
#include "sources/source.h"

namespace sagaflow::sources {

// `kafka_properties` (--kafka-config) and `instance_id` (a Kafka consumer's
// group.instance.id, static membership) are used by kafka:// sources only.
Result<std::unique_ptr<Source>> OpenSource(const std::string& spec, size_t max_record_bytes,
                                           const kafka::Properties& kafka_properties = {},
                                           const std::string& instance_id = {});

}  // namespace sagaflow::sources
