// The floor of the syslog benchmark: a receiver that only reads. Accepts one TCP connection on
// 127.0.0.1:PORT (0: one the system chooses), reads until the sender closes, and prints when it
// read the last byte, so that scripts/bench-syslog.sh can time the transport alone (the sender's
// loopback TCP and this reader's copies out of the kernel) as it times rsyslog and isms.
//   syslog_sink PORT
// Prints "listening PORT" once it accepts connections, then, at the end,
// "end T bytes N cpu S" (T: wall-clock seconds since 1970; S: this process's CPU seconds).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cpu_time.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: syslog_sink PORT\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("syslog_sink: listen");
    return 1;
  }
  std::printf("listening %u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  const int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) {
    std::perror("syslog_sink: accept");
    return 1;
  }
  std::vector<char> buffer(std::size_t{1} << 18);
  long long bytes = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      std::perror("syslog_sink: read");
      return 1;
    }
    if (n == 0) break;
    bytes += n;
  }
  const double end =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ::close(fd);
  std::printf("end %.6f bytes %lld cpu %.3f\n", end, bytes, isms::bench::CpuSeconds());
  return 0;
}
