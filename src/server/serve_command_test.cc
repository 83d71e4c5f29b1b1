// End to end (integration): the prototype's model on the whole shared
// corpus through /predict; the `sagaflow serve` binary against
// `sagaflow query --format json` on the same store, SIGTERM; and the probe
// endpoint of `sagaflow run --http-port`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/server_testing.h"
#include "text/python_reference_testing.h"

namespace sagaflow::server {
namespace {

using nlohmann::json;

// A child process running `command` through /bin/sh, its stdout on a pipe.
class Child {
 public:
  explicit Child(const std::string& command, int stdin_fd = -1) {
    int out[2];
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
      ::close(out[0]);
      ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (out_) std::fclose(out_);
  }
  std::string Line() {
    char buf[4096];
    if (!std::fgets(buf, sizeof buf, out_)) return "";
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Exit status (or 128+signal).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
};

std::string Output(const std::string& command) {
  std::FILE* p = ::popen(command.c_str(), "r");
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command;
  return out;
}

TEST(ServeSharedCorpusTest, PredictLabelsEqualScikitLearnOnTheWholeCorpus) {
  SAGAFLOW_REQUIRE_SHARED(joblib, "models/classification_pipeline.joblib");
  SAGAFLOW_REQUIRE_SHARED(tsv, "models/sklearn-predictions.tsv");
  SAGAFLOW_REQUIRE_SHARED(corpus, "corpus/texts.jsonl");
  testing::ScratchDir dir;
  const std::string model = dir.File("model.json");
  ASSERT_EQ(text::testing::ExportModel(joblib, model, "got,lotr,hp"), 0);
  ApiServerOptions o;
  o.http.port = 0;
  o.model_path = model;
  o.entities_path = testing::EntitiesFile();
  auto server = ApiServer::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->http().Start().ok());
  httplib::Client client("127.0.0.1", (*server)->http().port());

  std::map<std::string, std::pair<std::string, std::vector<double>>> expected;
  std::istringstream in(testing::ReadFile(tsv));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, label, s[3];
    std::getline(f, id, '\t');
    std::getline(f, label, '\t');
    for (auto& v : s) std::getline(f, v, '\t');
    expected[id] = {label, {std::stod(s[0]), std::stod(s[1]), std::stod(s[2])}};
  }
  auto docs = text::testing::ReadCorpus(corpus);
  ASSERT_EQ(docs.size(), 2286u);
  size_t same = 0;
  for (const auto& d : docs) {
    auto r = client.Post("/predict", json{{"text", d.text}}.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    const auto& [label, scores] = expected.at(d.id);
    EXPECT_EQ(j["label"], label) << d.id;
    same += j["label"] == label;
    int k = 0;
    for (const char* l : {"got", "lotr", "hp"}) EXPECT_NEAR(j["scores"][l].get<double>(), scores[k++], 1e-9) << d.id;
  }
  EXPECT_EQ(same, 2286u);
}

class ServeCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = testing::NewSampleData(); }
  static void TearDownTestSuite() { delete data_; }
  static std::string Binary() { return text::testing::Quote(SAGAFLOW_BINARY); }
  static testing::SampleData* data_;
};
testing::SampleData* ServeCommandTest::data_ = nullptr;

TEST_F(ServeCommandTest, AnswersLikeQueryAndStopsCleanlyOnSigterm) {
  ASSERT_FALSE(HasFatalFailure());
  const std::string store = "sqlite:" + data_->store;
  // Flags from the environment, as documented.
  Child serve("env SAGAFLOW_PORT=0 SAGAFLOW_STORE=" + text::testing::Quote(store) + " " + Binary() + " serve --model " +
              text::testing::Quote(data_->model) + " --entities " + text::testing::Quote(testing::EntitiesFile()));
  const std::string url = serve.Line();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  httplib::Client client(url);
  const std::string query = Binary() + " query --store " + text::testing::Quote(store) + " --format json ";
  struct Case {
    std::string path, args;
  };
  for (const Case& c : std::vector<Case>{
           {"/v1/top-entities?saga=got", "top-entities --saga got"},
           {"/v1/top-entities?saga=hp&limit=0&by=readers", "top-entities --saga hp --limit 0 --by readers"},
           {"/v1/top-entities?saga=lotr&from=2023-11-15&to=1700300000",
            "top-entities --saga lotr --from 2023-11-15 --to 1700300000"},
           {"/v1/sagas", "sagas"},
           {"/v1/sagas?from=1700100000", "sagas --from 1700100000"},
           {"/v1/trend?entity=Jon%20Snow&bucket=hour", "trend --entity 'Jon Snow' --bucket hour"},
           {"/v1/trend?entity=Frodo%20Baggins&saga=lotr", "trend --entity 'Frodo Baggins' --saga lotr"},
           {"/v1/saga-trend?bucket=hour", "saga-trend --bucket hour"},
           {"/v1/saga-trend", "saga-trend"},
           {"/v1/rejected", "rejected"},
           {"/v1/rejected?list=true&limit=3", "rejected --list --limit 3"}}) {
    auto r = client.Get(c.path);
    ASSERT_TRUE(r) << c.path;
    EXPECT_EQ(r->status, 200) << c.path << ": " << r->body;
    EXPECT_EQ(r->body, Output(query + c.args)) << c.path;
    EXPECT_GT(r->body.size(), 4u) << c.path;
  }
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0);
}

TEST_F(ServeCommandTest, RunServesMetricsAndProbesWhileRunning) {
  ASSERT_FALSE(HasFatalFailure());
  testing::ScratchDir dir;
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);  // the child gets in[0] as stdin only
  // A free port: bind one, then give it to run.
  int port = 0;
  {
    HttpServiceOptions o;
    o.port = 0;
    HttpService probe(o);
    ASSERT_TRUE(probe.Bind().ok());
    port = probe.port();
  }
  Child run(Binary() + " run --source - --progress never --store sqlite:" + text::testing::Quote(dir.File("s.db")) +
                " --model " + text::testing::Quote(data_->model) + " --entities " +
                text::testing::Quote(testing::EntitiesFile()) + " --http-port " + std::to_string(port) +
                " --linger-ms 20",
            in[0]);
  ::close(in[0]);
  const std::string events = testing::ReadFile(data_->events);
  ASSERT_EQ(::write(in[1], events.data(), events.size()), static_cast<ssize_t>(events.size()));
  httplib::Client client("127.0.0.1", port);
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    auto r = client.Get("/metrics");
    if (r && r->body.find("sagaflow_events_total{status=\"classified\"} 0\n") == std::string::npos &&
        r->body.find("sagaflow_batches_committed_total") != std::string::npos &&
        r->body.find("sagaflow_rejected_total{reason=\"invalid_json\"} 1\n") != std::string::npos) {
      metrics = r->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(metrics.empty()) << "the pipeline's counters never showed up";
  EXPECT_NE(metrics.find("sagaflow_component_received_total{component=\"source\",kind=\"file\"}"), std::string::npos);
  for (const auto& [path, status] : std::vector<std::pair<const char*, int>>{
           {"/readyz", 200}, {"/healthz", 200}, {"/v1/sagas", 404}}) {  // probes only
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, status) << path;
  }
  ::close(in[1]);  // end of input: run finishes
  std::string summary;
  for (std::string l; !(l = run.Line()).empty();) summary += l + "\n";
  EXPECT_EQ(run.Wait(), 0) << summary;
  EXPECT_NE(summary.find("803 records"), std::string::npos) << summary;
  EXPECT_FALSE(client.Get("/healthz"));  // gone with the run
}

}  // namespace
}  // namespace sagaflow::server
