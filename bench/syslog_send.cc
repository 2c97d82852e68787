// Sends N RFC 5424 records over one TCP connection, octet-counted (RFC 6587), as fast as the
// receiver takes them, then closes. Used by scripts/bench-syslog.sh against rsyslog and isms.
//   syslog_send HOST PORT COUNT [HOSTS]
// Records name HOSTS different hosts (default 1,000) and carry realistic sshd, sudo, proxy and
// firewall texts; each is about 150-200 bytes. The whole stream is rendered in memory before
// connecting, so the timed part is only sending (the sender shares the machine's cores with the
// receiver, and formatting a million records cost it about 0.3 us of CPU each); the same for
// every receiver. Prints "start T" (the wall-clock time, seconds since 1970, when sending began)
// and then the bytes sent, the bytes of the messages alone (without their octet counts), the
// seconds the sending took and the CPU it took (the kernel's loopback TCP, mostly: its share of
// the cores, which the receiver does not have).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cpu_time.h"
#include "syslog_records.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: syslog_send HOST PORT COUNT [HOSTS]\n");
    return 2;
  }
  const long count = std::atol(argv[3]);
  const long hosts = argc > 4 ? std::atol(argv[4]) : 1000;
  std::string stream;
  stream.reserve(static_cast<size_t>(count) * 170);
  size_t message_bytes = 0;
  for (long i = 0; i < count; ++i) {
    char msg[512];
    int n = std::snprintf(
        msg, sizeof msg, "<86>1 2026-11-28T%02ld:%02ld:%02ld.%03ldZ host-%ld %s %ld - - %s seq=%ld",
        (i / 3600000) % 24, (i / 60000) % 60, (i / 1000) % 60, i % 1000, i % hosts,
        isms::bench::kApps[i % 4], 1000 + i % 5000, isms::bench::kTexts[i % 4], i);
    stream += std::to_string(n);
    stream += ' ';
    stream.append(msg, static_cast<size_t>(n));
    message_bytes += static_cast<size_t>(n);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (::inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    return 1;
  }
  // The wall-clock start, for scripts that time until the receiver has stored everything.
  const double start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::printf("start %.6f\n", start);
  std::fflush(stdout);
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = isms::bench::CpuSeconds();
  size_t off = 0;
  while (off < stream.size()) {
    // At most 4 MiB a call, as the sender wrote before the stream was rendered beforehand.
    const size_t len = std::min(stream.size() - off, size_t{1} << 22);
    ssize_t w = ::send(fd, stream.data() + off, len, 0);
    if (w <= 0) {
      std::perror("send");
      return 1;
    }
    off += static_cast<size_t>(w);
  }
  ::shutdown(fd, SHUT_WR);
  char drain[256];
  while (::read(fd, drain, sizeof drain) > 0) {
  }
  ::close(fd);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = isms::bench::CpuSeconds() - cpu0;
  std::printf(
      "sent %ld records, %zu bytes (%zu message bytes) in %.2f s, %.2f s of CPU (%.2f us a "
      "record)\n",
      count, stream.size(), message_bytes, s, cpu, cpu * 1e6 / static_cast<double>(count));
  return 0;
}
