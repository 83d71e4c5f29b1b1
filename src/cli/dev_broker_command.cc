// `sagaflow dev-broker`: a Kafka-protocol test broker (librdkafka's mock
// cluster). Prints the bootstrap address as the first line of stdout, then
// applies fault-injection commands read from stdin (one per line, answered
// with "ok" or "error: ..."), and serves until SIGTERM or SIGINT.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "kafka/dev_broker.h"

namespace sagaflow::cli {

void AddDevBrokerCommand(CLI::App& app) {
  auto opts = std::make_shared<kafka::DevBrokerOptions>();
  auto* cmd = app.add_subcommand("dev-broker", "Run a Kafka-protocol test broker (librdkafka mock cluster)");
  cmd->add_option("--partitions", opts->partitions, "Partitions of the topic")
      ->envname("SAGAFLOW_DEV_BROKER_PARTITIONS")
      ->capture_default_str();
  cmd->add_option("--topic", opts->topic, "Topic to create")->envname("SAGAFLOW_TOPIC")->capture_default_str();
  cmd->add_option("--brokers", opts->brokers, "Number of brokers")
      ->envname("SAGAFLOW_DEV_BROKER_BROKERS")
      ->capture_default_str();
  cmd->callback([opts] {
    // Signals are taken synchronously by this thread; block them before
    // librdkafka starts its threads so they inherit the mask.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    auto broker = kafka::DevBroker::Start(*opts);
    if (!broker.ok()) {
      spdlog::error("dev-broker: {}", broker.status().ToString());
      SetExitStatus(1);
      return;
    }
    std::printf("%s\n", (*broker)->bootstrap().c_str());
    std::fflush(stdout);
    spdlog::info("dev-broker: serving topic '{}' with {} partitions on {}", opts->topic, opts->partitions,
                 (*broker)->bootstrap());

    kafka::DevBroker* b = broker->get();
    std::thread control([b] {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        Status st = b->Control(line);
        std::printf("%s\n", st.ok() ? "ok" : ("error: " + st.message()).c_str());
        std::fflush(stdout);
        spdlog::info("dev-broker: control '{}': {}", line, st.ok() ? "ok" : st.message());
      }
    });
    control.detach();  // blocked in read until exit; owns nothing

    int sig = 0;
    sigwait(&stop, &sig);
    spdlog::info("dev-broker: stopping on signal {}", sig);
    broker->reset();
    SetExitStatus(0);
  });
}

}  // namespace sagaflow::cli
