// Sends N RFC 5424 records over one TCP connection, octet-counted (RFC 6587), as fast as the
// receiver takes them, then closes. Used by scripts/bench-syslog.sh against rsyslog and isms.
//   syslog_send HOST PORT COUNT [HOSTS]
// Records name HOSTS different hosts (default 1,000) and carry realistic sshd, sudo, proxy and
// firewall texts; each is about 150-200 bytes. Prints the bytes sent and the seconds it took.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: syslog_send HOST PORT COUNT [HOSTS]\n");
    return 2;
  }
  const long count = std::atol(argv[3]);
  const long hosts = argc > 4 ? std::atol(argv[4]) : 1000;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (::inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    return 1;
  }
  const char* texts[] = {
      "Accepted publickey for alice from 10.0.0.9 port 51234 ssh2: ED25519 SHA256:abc",
      "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
      "[UFW BLOCK] IN=eth1 OUT=eth0 SRC=10.0.0.23 DST=203.0.113.7 LEN=60 PROTO=TCP SPT=40001 DPT=4444",
      "1732838400.123    145 10.0.0.41 TCP_MISS/200 5120 GET http://updates.example.org/x - HIER_DIRECT",
  };
  const char* apps[] = {"sshd", "sudo", "kernel", "squid"};
  std::string buf;
  buf.reserve(1 << 22);
  long long sent = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    char msg[512];
    int n = std::snprintf(msg, sizeof msg,
                          "<86>1 2026-11-28T%02ld:%02ld:%02ld.%03ldZ host-%ld %s %ld - - %s seq=%ld",
                          (i / 3600000) % 24, (i / 60000) % 60, (i / 1000) % 60, i % 1000,
                          i % hosts, apps[i % 4], 1000 + i % 5000, texts[i % 4], i);
    buf += std::to_string(n);
    buf += ' ';
    buf.append(msg, static_cast<size_t>(n));
    if (buf.size() > (1 << 22) - 1024 || i + 1 == count) {
      size_t off = 0;
      while (off < buf.size()) {
        ssize_t w = ::send(fd, buf.data() + off, buf.size() - off, 0);
        if (w <= 0) {
          std::perror("send");
          return 1;
        }
        off += static_cast<size_t>(w);
      }
      sent += static_cast<long long>(buf.size());
      buf.clear();
    }
  }
  ::shutdown(fd, SHUT_WR);
  char drain[256];
  while (::read(fd, drain, sizeof drain) > 0) {
  }
  ::close(fd);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("sent %ld records, %lld bytes in %.2f s\n", count, sent, s);
  return 0;
}
