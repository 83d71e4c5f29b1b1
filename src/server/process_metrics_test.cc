// The process families against what the kernel reports by other means
// (getrusage, setrlimit, descriptors opened here, memory touched here).
#include "server/process_metrics.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "util/build_info.h"

namespace sagaflow::server {
namespace {

double RusageCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](timeval t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

TEST(ProcessMetricsTest, CpuTimeFollowsGetrusage) {
  const double before = ReadProcessStats().cpu_seconds;
  const double rusage_before = RusageCpuSeconds();
  volatile uint64_t x = 0;
  while (RusageCpuSeconds() - rusage_before < 0.3) {
    for (int i = 0; i < 100000; ++i) x = x + i;
  }
  const double after = ReadProcessStats().cpu_seconds;
  const double rusage_after = RusageCpuSeconds();
  ASSERT_GE(before, 0);
  // /proc counts in clock ticks (10 ms): equal within two ticks.
  EXPECT_NEAR(after, rusage_after, 0.05);
  EXPECT_GE(after - before, 0.25);
}

TEST(ProcessMetricsTest, ResidentMemoryGrowsWithTouchedPages) {
  const double before = ReadProcessStats().resident_bytes;
  ASSERT_GT(before, 0);
  constexpr size_t kBytes = 64 << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  const ProcessStats after = ReadProcessStats();
  EXPECT_GE(after.resident_bytes - before, kBytes * 0.9);
  EXPECT_GE(after.virtual_bytes, after.resident_bytes);
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(ProcessMetricsTest, OpenAndMaxDescriptors) {
  const double before = ReadProcessStats().open_fds;
  ASSERT_GT(before, 2);  // at least stdin, stdout, stderr
  std::vector<int> fds;
  fds.reserve(7);
  for (int i = 0; i < 7; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(ReadProcessStats().open_fds, before + 7);
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(ReadProcessStats().open_fds, before);

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  rlimit lower = old;
  lower.rlim_cur = 200;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lower), 0);
  EXPECT_EQ(ReadProcessStats().max_fds, 200);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
}

TEST(ProcessMetricsTest, StartTimeIsThisProcesssStart) {
  static const double now_at_start = static_cast<double>(std::time(nullptr));
  const ProcessStats s = ReadProcessStats();
  // The test binary started before this test and less than 10 minutes ago;
  // boot time has one-second resolution.
  EXPECT_LE(s.start_time_seconds, now_at_start + 1);
  EXPECT_GE(s.start_time_seconds, now_at_start - 600);
  EXPECT_GE(s.threads, 1);
}

TEST(ProcessMetricsTest, RendersEveryFamilyAndBuildInfo) {
  MetricsRegistry r;
  r.AddCollector(ProcessCollector());
  const std::string text = r.Render();
  for (const char* family :
       {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
        "process_virtual_memory_bytes gauge", "process_open_fds gauge", "process_max_fds gauge",
        "process_start_time_seconds gauge", "process_threads gauge", "sagaflow_build_info gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family << "\n" << text;
  }
  const std::string info =
      std::string("sagaflow_build_info{version=\"") + kVersion + "\",revision=\"" + BuildRevision() + "\"} 1\n";
  EXPECT_NE(text.find(info), std::string::npos) << text;
  const std::string revision = BuildRevision();
  EXPECT_TRUE(revision == "unknown" || revision.size() >= 40) << revision;
}

}  // namespace
}  // namespace sagaflow::server
