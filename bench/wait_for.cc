// Waits, for scripts/bench-syslog.sh, until a receiver has stored what was sent, and prints when
// (the wall clock, as syslog_send's "start" line). It polls every millisecond with a system call
// or two and no process started: a shell loop of `stat` and `sleep` every 10 ms took a few
// milliseconds of CPU each time from the receivers it timed.
//
//   wait_for size FILE BYTES
//     until FILE holds at least BYTES; prints "end T".
//   wait_for line FILE PREFIX PID [GO]
//     until a line of FILE begins with PREFIX, and until process PID has exited (or is a zombie: a
//     child of the caller stays one until reaped); prints "end T", when the line appeared. Reads
//     the process's CPU time and its threads' every 10 ms meanwhile, and prints the last readings:
//     "cpu SECONDS" (user and system), then "thread TID NAME SECONDS" for each thread seen (a
//     thread's last reading before it ended: threads that end are gone from /proc). With GO, it
//     first waits until the file GO exists (polled every millisecond, the threads read every
//     50 ms): started before the sender, it is running when the sender is done, and the shell then
//     only creates GO (no process started while the receiver finishes).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Nap(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// Fields 14 and 15 (utime, stime) of a /proc stat file, in seconds, and the name in parentheses;
// false when it cannot be read (the process or thread is gone) or belongs to a process that has
// ended and is not yet reaped (a zombie), whose times are no longer its own.
bool ReadStat(const std::string& path, std::string& name, double& seconds) {
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text)) return false;
  const size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open ||
      close + 2 > text.size()) {
    return false;
  }
  name = text.substr(open + 1, close - open - 1);
  // From field 3 (the state), after ") "; utime and stime are fields 14 and 15, in ticks.
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15; ++i) {
    if (!(rest >> field)) return false;
    if (i == 3 && (field == "Z" || field == "X")) return false;
    if (i >= 14) ticks += std::atol(field.c_str());
  }
  seconds = static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

bool HasLine(const std::string& file, const std::string& prefix) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

int Usage() {
  std::fprintf(stderr,
               "usage: wait_for size FILE BYTES\n"
               "       wait_for line FILE PREFIX PID [GO]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return Usage();
  const std::string mode = argv[1], file = argv[2];
  if (mode == "size" && argc == 4) {
    const long long want = std::atoll(argv[3]);
    struct stat st {};
    while (::stat(file.c_str(), &st) != 0 || st.st_size < want) Nap(1);
    std::printf("end %.6f\n", Now());
    return 0;
  }
  if (mode != "line" || (argc != 5 && argc != 6)) return Usage();
  const std::string prefix = argv[3];
  const std::string proc = std::string("/proc/") + argv[4];
  double end = 0, cpu = 0;
  std::map<std::string, std::pair<std::string, double>> threads;  // tid: name, seconds
  // The process's and its threads' CPU so far; false once it has ended.
  const auto read = [&] {
    std::string name;
    double seconds = 0;
    if (!ReadStat(proc + "/stat", name, seconds)) return false;
    cpu = std::max(cpu, seconds);
    if (DIR* d = ::opendir((proc + "/task").c_str())) {
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string tname;
        double t = 0;
        if (ReadStat(proc + "/task/" + e->d_name + "/stat", tname, t)) {
          threads[e->d_name] = {tname, t};
        }
      }
      ::closedir(d);
    }
    return true;
  };
  if (argc == 6) {
    // Meanwhile the threads are read every 50 ms: one that ends as the run does (an idle
    // preparer, once the server stops) keeps a recent reading.
    struct stat st {};
    for (int tick = 0; ::stat(argv[5], &st) != 0; ++tick) {
      if (tick % 50 == 0 && !read()) break;
      Nap(1);
    }
  }
  for (int tick = 0;; ++tick) {
    if (end == 0 && HasLine(file, prefix)) end = Now();
    if (tick % 10 == 0 && !read()) break;
    Nap(1);
  }
  if (end == 0 && HasLine(file, prefix)) end = Now();
  if (end == 0) {
    std::fprintf(stderr, "wait_for: process %s ended without the line\n", argv[4]);
    return 1;
  }
  std::printf("end %.6f\n", end);
  std::printf("cpu %.2f\n", cpu);
  for (const auto& [tid, v] : threads) {
    std::printf("thread %s %s %.2f\n", tid.c_str(), v.first.c_str(), v.second);
  }
  return 0;
}
