// The syslog listeners of `isms serve` (docs/serve.md): TCP (octet-counting and LF framing, both
// on one port, formats/syslog_framing.h), TLS (RFC 5425: the same framing inside TLS 1.2+) and
// UDP (one message per datagram), each appending to one contract's audit log.
//
// Threads: one thread (the caller of Run) runs every listener and splits what they receive into
// frames; `prepare_threads` threads parse, classify, encode and leaf-hash the frames of different
// reads at once (app::AuditPreparer); while the writer appends, one fewer of them runs, so that
// together they take no more cores than there are preparers. The writer thread owns the store
// connection; it stages each read's records as soon as they are prepared (app::
// StagedAuditRecords: each encoded into its host's block while it is in the cache, its memory
// then used again) and commits them, in the order they were received, in batches (group commit:
// one append and checkpoint per batch, when `batch_records` are staged or `flush_interval` after
// the first one was), so a record is committed well within a second of its arrival. A batch also
// ends where the audit log's next chunk begins, so that under load each batch is a whole chunk,
// written from its staged blocks, and its records skip the log's tail.
//
// Limits: at most `max_connections` stream connections at once (more are closed on arrival, and
// counted), and a TLS handshake must end within `handshake_timeout`: a sender cannot hold the
// listener's connections or memory without sending records. With `idle_timeout`, a stream
// connection that has sent nothing for that long is closed too (what it sent is kept, a last
// unterminated frame included); off by default, since senders such as rsyslog keep one connection
// open, quiet for hours, by design, and may lose the message that finds it closed.
//
// Backpressure, not loss: at most `queue_records` records wait to be prepared or committed (each
// read's records go in whole, so a connection may pass the bound by one read); while that many
// wait a TCP connection is not read (its sender slows down), and a UDP datagram that finds them
// waiting is dropped and counted in Stats::udp_dropped.
//
// Every record's `received` is the server clock's time when its bytes were read; input the
// parsers do not recognise is kept verbatim.
//
// Thread-safety: Stop() may be called from any thread; everything else from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "net/cidr.h"

namespace isms::net {

struct SyslogServerOptions {
  std::string store_url;              // resolved store URL
  std::string key_dir;                // the audit signing key's folder ("" for the default)
  std::string contract;               // "": the only contract of the store
  std::vector<std::string> tcp, udp;  // HOST:PORT, [V6]:PORT or PORT (127.0.0.1:PORT)
  std::vector<std::string> tls;       // as tcp; needs tls_cert and tls_key
  std::string tls_cert, tls_key;      // PEM files: the certificate (chain) and its private key
  std::string client_ca;              // PEM; when set, TLS clients need a certificate it signed
  std::vector<Cidr> allow;            // when not empty, only senders in one of these
  // Stream connections (TCP and TLS) open at once; one more is closed as soon as it is accepted.
  size_t max_connections = 1000;
  // A TLS connection whose handshake has not completed this long after it was accepted is closed.
  std::chrono::milliseconds handshake_timeout{10000};
  // A stream connection that has sent nothing this long is closed; 0: never. Time spent waiting
  // while the queue is full (the server not reading) does not count.
  std::chrono::milliseconds idle_timeout{0};
  size_t queue_records = 131072;
  size_t prepare_threads = 0;    // 0: one a core (at most 8)
  size_t batch_records = 65536;  // the default chunk: a busy server's batch is a whole chunk
  std::chrono::milliseconds flush_interval{200};
};

struct SyslogServerStats {
  std::uint64_t received = 0;   // records read
  std::uint64_t committed = 0;  // records committed
  std::uint64_t batches = 0;    // commits
  std::uint64_t udp_dropped = 0;
  std::uint64_t refused_senders = 0;  // connections and datagrams outside --syslog-allow
  std::uint64_t refused_over_limit = 0;  // connections beyond max_connections
  std::uint64_t handshake_timeouts = 0;  // TLS connections closed before their handshake ended
  std::uint64_t idle_closed = 0;      // stream connections closed after idle_timeout without data
  std::uint64_t failed = 0;           // records whose commit failed at shutdown
};

class SyslogServer {
 public:
  // Opens the store, resolves the contract (FailedPrecondition when it is not given and the store
  // has several, or none) and binds every listener; InvalidArgument for a bad address or a TLS
  // certificate, key or CA file that is missing or cannot be loaded, Unavailable when a listener
  // cannot be bound. `log` receives one line per notable event and must
  // outlive the server.
  static Result<std::unique_ptr<SyslogServer>> Create(const SyslogServerOptions& options,
                                                      const Clock& clock, std::ostream& log);
  ~SyslogServer();
  SyslogServer(const SyslogServer&) = delete;
  SyslogServer& operator=(const SyslogServer&) = delete;

  const std::string& contract() const;
  // "tcp 127.0.0.1:5514" (or "tls ...", "udp ...") for each bound listener, with the port the
  // system chose for port 0.
  std::vector<std::string> listening() const;

  // Serves until SIGTERM or SIGINT (or Stop()), then reads what the sockets already hold, commits
  // everything received and returns. Not OK when records could not be committed. SIGHUP reads the
  // TLS certificate, key and CA files again for new connections (the ones in use stay when they
  // cannot be used; either way it is logged).
  Status Run();
  void Stop();

  SyslogServerStats stats() const;

 private:
  struct Impl;
  explicit SyslogServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace isms::net
