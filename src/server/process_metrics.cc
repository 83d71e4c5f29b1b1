#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/build_info.h"

namespace sagaflow::server {

namespace {

// Seconds since the epoch at boot: "btime" of /proc/stat (constant while
// the machine runs).
double BootTime() {
  static const double boot = [] {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = -1;
    while (in >> key) {
      if (key == "btime") {
        in >> value;
        break;
      }
      in.ignore(1 << 20, '\n');
    }
    return value;
  }();
  return boot;
}

int OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the descriptor of the listing itself
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ppid ...": comm may hold spaces and
  // parentheses, so the fields are counted after the last ')'. Fields
  // (proc(5), 1-based): 14 utime, 15 stime, 20 num_threads, 22 starttime
  // (ticks after boot), 23 vsize (bytes), 24 rss (pages).
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (std::getline(in, line)) {
    const size_t close = line.rfind(')');
    if (close != std::string::npos && tick > 0) {
      std::istringstream rest(line.substr(close + 1));
      std::vector<std::string> f(3);  // fields 1 and 2 stand before the split
      std::string v;
      while (rest >> v) f.push_back(v);
      if (f.size() > 24) {
        s.cpu_seconds = (std::strtod(f[14].c_str(), nullptr) + std::strtod(f[15].c_str(), nullptr)) / tick;
        s.threads = std::strtod(f[20].c_str(), nullptr);
        if (BootTime() >= 0) s.start_time_seconds = BootTime() + std::strtod(f[22].c_str(), nullptr) / tick;
        s.virtual_bytes = std::strtod(f[23].c_str(), nullptr);
        s.resident_bytes = std::strtod(f[24].c_str(), nullptr) * page;
      }
    }
  }
  s.open_fds = OpenFds();
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    s.max_fds = limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(limit.rlim_cur);
  }
  return s;
}

MetricsRegistry::Collector ProcessCollector() {
  return [](MetricsText& out) {
    const ProcessStats s = ReadProcessStats();
    struct Family {
      const char* name;
      const char* type;
      const char* help;
      double value;
    };
    const Family families[] = {
        {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds", s.cpu_seconds},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes", s.resident_bytes},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes", s.virtual_bytes},
        {"process_open_fds", "gauge", "Number of open file descriptors", s.open_fds},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors", s.max_fds},
        {"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds",
         s.start_time_seconds},
        {"process_threads", "gauge", "Number of OS threads in the process", s.threads},
    };
    for (const Family& f : families) {
      if (f.value < 0) continue;
      out.Family(f.name, f.type, f.help);
      out.Sample(f.name, {}, f.value);
    }
    out.Family("sagaflow_build_info", "gauge", "Always 1; labels: the version and the git revision built");
    out.Sample("sagaflow_build_info", {{"version", kVersion}, {"revision", BuildRevision()}}, 1);
  };
}

}  // namespace sagaflow::server
