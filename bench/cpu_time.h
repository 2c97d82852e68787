// CPU time for the benchmark tools: user + system seconds so far.
#pragma once

#include <sys/resource.h>

namespace isms::bench {

// Of the whole process (RUSAGE_SELF) or of the calling thread (RUSAGE_THREAD).
inline double CpuSeconds(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace isms::bench
