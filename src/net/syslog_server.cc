#include "net/syslog_server.h"

// Asio 1.74 under C++20 needs <utility> first.
// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
// clang-format on

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <type_traits>

#include "app/audit.h"
#include "audit/sha256_lanes.h"
#include "formats/syslog.h"
#include "formats/syslog_framing.h"
#include "net/listen.h"
#include "net/tls_cert.h"

namespace isms::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;
using TlsStream = asio::ssl::stream<tcp::socket>;

constexpr size_t kReadBuffer = 64 * 1024;
constexpr std::chrono::milliseconds kFullRetry{10};

// Fetches the first bytes (at most 512) of [p, p + n) into the cache, to be read (kWrite 0) or
// written (1): memory another core wrote last, touched a little later.
template <int kWrite>
void Prefetch(const char* p, size_t n) {
  for (size_t off = 0; off < n && off < 512; off += 64) __builtin_prefetch(p + off, kWrite);
}

// The records of one read (or one datagram), in order: the first `count` of `records`. The
// vector travels whole — preparer, queue, writer, and back to a preparer, which prepares new
// records into the records it holds (their strings keep their memory) — so that no record is
// moved or allocated on the way once the server is warm. Records beyond `count` are spares
// carried along unused.
struct Received {
  std::vector<app::PreparedAuditRecord> records;
  size_t count = 0;
};

// The frames of one read (or one datagram, or what a connection still held at shutdown), as the
// listeners' thread decoded them; `times` says when they were read: from frame `first` on, until
// the next entry's. A preparer thread makes records of them; the frames' memory then goes back to
// a listener, whose decoder reads new frames into it.
struct RawRead {
  SyslogFrames frames;
  std::vector<std::pair<size_t, Instant>> times;  // (first, when read), by first
};

// Between the listeners, the preparers and the writer. The listeners' thread submits the frames
// of each read, in the order received; a pool of preparer threads makes records of them, several
// reads at once; the writer takes the records in the order the reads were submitted (a read
// prepared early waits for the ones before it), so that each connection's records are appended
// in the order it sent them.
//
// Bounded: while `capacity` records are submitted and not yet taken by the writer, Submit refuses
// more (unless forced), so a connection may pass the bound by one read's records.
class Pipeline {
 public:
  // `preparers`: the number of preparer threads. `on_room` is called (on the writer's thread,
  // without a lock held) when the writer takes records after a Submit was refused, and the
  // pipeline has room again.
  Pipeline(size_t capacity, size_t batch, size_t preparers, std::function<void()> on_room)
      : capacity_(capacity), batch_(batch), preparers_(preparers), on_room_(std::move(on_room)) {}

  // Moves `from`'s frames in when the pipeline is not full (it may then pass its capacity by one
  // read's records), or with `force`; else leaves them and returns false (on_room is called once
  // there is room). When moved, `from` is left empty, with the memory of a read prepared before.
  bool Submit(RawRead& from, bool force) {
    if (from.frames.empty()) return true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!force && in_flight_ >= capacity_) {
        refused_ = true;
        return false;
      }
      in_flight_ += from.frames.size();
      raw_.push_back(Pending{next_submitted_++, std::move(from)});
      from.frames.clear();
      from.times.clear();
      if (!raw_spares_.empty()) {
        std::swap(from.frames, raw_spares_.back());
        raw_spares_.pop_back();
      }
    }
    raw_cv_.notify_one();
    return true;
  }

  // For a preparer: waits for a read to prepare and moves it into `raw`, with its sequence
  // number; gives `out` (which holds no record) the records of a committed read, when there is
  // one. Returns false once the pipeline is closed and every read was handed out.
  bool NextRaw(RawRead& raw, std::uint64_t& seq, Received& out) {
    std::unique_lock<std::mutex> lock(mu_);
    raw_cv_.wait(lock, [&] { return raw_.empty() ? closed_ : preparing_ < Running(); });
    if (raw_.empty()) return false;
    seq = raw_.front().seq;
    raw = std::move(raw_.front().read);
    raw_.pop_front();
    ++preparing_;
    if (out.records.empty() && !spares_.empty()) {
      spare_records_ -= spares_.back().size();
      out.records.swap(spares_.back());
      spares_.pop_back();
    }
    out.count = 0;
    return true;
  }

  // For a preparer: hands over the records of read `seq` (from NextRaw), which the writer takes
  // once every read before it was handed over; `out` is left empty. `raw`'s memory is kept for a
  // listener (Submit) and `raw` left empty.
  void Deliver(std::uint64_t seq, Received& out, RawRead& raw) {
    bool wake = false;
    raw.frames.clear();
    raw.times.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --preparing_;
      if (!raw_.empty()) raw_cv_.notify_one();
      if (raw_spares_.size() < kMaxRawSpares) raw_spares_.push_back(std::move(raw.frames));
      waiting_.emplace(seq, std::move(out));
      // Reads handed over in order move on to the writer.
      for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_ready_;
           it = waiting_.erase(it)) {
        ++next_ready_;
        if (it->second.count == 0) continue;
        ready_count_ += it->second.count;
        ready_.push_back(std::move(it->second));
        wake = true;
      }
      wake = wake || Drained();
    }
    raw.frames = SyslogFrames();
    out.records.clear();
    out.count = 0;
    if (wake) ready_cv_.notify_all();
  }

  // No more submissions: the preparers finish what was submitted, then NextRaw returns false.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    raw_cv_.notify_all();
    ready_cv_.notify_all();
  }

  // For the writer: waits until records are ready, every read submitted was taken after the
  // pipeline closed (`drained` set), or `deadline` passes; then moves the ready reads holding up
  // to `limit` records, in order, into `out`, which must be empty, and returns how many records
  // they hold. Reads move whole; only a read that passes `limit` is split, its remaining records
  // moved into a read of their own that stays first.
  size_t Take(std::optional<std::chrono::steady_clock::time_point> deadline, size_t limit,
              std::vector<Received>& out, bool& drained) {
    limit = std::max<size_t>(1, std::min(limit, batch_));
    bool room = false;
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!raw_.empty()) raw_cv_.notify_one();
    const auto ready = [&] { return ready_count_ > 0 || Drained(); };
    if (deadline) {
      ready_cv_.wait_until(lock, *deadline, ready);
    } else {
      ready_cv_.wait(lock, ready);
    }
    drained = ready_count_ == 0 && Drained();
    size_t taken = 0;
    while (!ready_.empty() && taken < limit) {
      Received& front = ready_.front();
      if (front.count > limit - taken) {
        const size_t k = limit - taken;
        Received rest;
        rest.records.reserve(front.count - k);
        for (size_t i = k; i < front.count; ++i) {
          rest.records.push_back(std::move(front.records[i]));
        }
        rest.count = front.count - k;
        front.count = k;
        taken += k;
        out.push_back(std::move(front));
        front = std::move(rest);
        break;
      }
      taken += front.count;
      out.push_back(std::move(front));
      ready_.pop_front();
    }
    ready_count_ -= taken;
    in_flight_ -= taken;
    writing_ = taken > 0;
    if (refused_ && in_flight_ < capacity_) {
      refused_ = false;
      room = true;
    }
    lock.unlock();
    if (room && on_room_) on_room_();
    return taken;
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

  // Committed reads, handed back whole so that the preparers prepare new records into them (no
  // allocation a record). At most about two batches of records are kept; `from` is left empty.
  void Recycle(std::vector<Received>& from) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Received& r : from) {
        if (spare_records_ >= 2 * batch_) break;
        spare_records_ += r.records.size();
        r.count = 0;
        spares_.push_back(std::move(r.records));
      }
    }
    from.clear();
  }

  // Records submitted and not yet taken by the writer.
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return in_flight_;
  }

 private:
  static constexpr size_t kMaxRawSpares = 256;
  struct Pending {
    std::uint64_t seq;
    RawRead read;
  };

  // Closed, and every read submitted is ready (or taken): the writer waits for nothing more.
  bool Drained() const { return closed_ && raw_.empty() && preparing_ == 0; }

  // How many reads may be prepared at once: one for each preparer, less one while the writer
  // works. The writer is the one stage every record passes in order; preparers that outnumber
  // the cores left to them would take its core's time, fill the pipeline and then wait for it.
  size_t Running() const { return std::max<size_t>(1, preparers_ - (writing_ ? 1 : 0)); }

  std::mutex mu_;
  std::condition_variable raw_cv_, ready_cv_;
  std::deque<Pending> raw_;                    // submitted, not yet handed to a preparer
  std::map<std::uint64_t, Received> waiting_;  // prepared before an earlier read
  std::deque<Received> ready_;                 // for the writer, in order
  std::vector<SyslogFrames> raw_spares_;       // Deliver, for Submit
  std::vector<std::vector<app::PreparedAuditRecord>> spares_;  // Recycle, for NextRaw
  size_t spare_records_ = 0;
  size_t in_flight_ = 0;    // records submitted and not taken
  size_t ready_count_ = 0;  // records in ready_
  size_t preparing_ = 0;    // reads handed to preparers and not delivered
  std::uint64_t next_submitted_ = 0, next_ready_ = 0;
  size_t capacity_;
  size_t batch_;
  size_t preparers_;
  std::function<void()> on_room_;
  bool refused_ = false;  // a Submit was refused since the writer last made room
  bool writing_ = false;  // the writer is appending what it took last
  bool closed_ = false;
};

}  // namespace

struct SyslogServer::Impl {
  struct SessionBase {
    virtual ~SessionBase() = default;
    virtual void Cancel() = 0;
    // Ends the wait of a connection whose records the full pipeline refused: it tries again.
    virtual void Wake() = 0;
  };
  template <typename Stream>
  struct Session;
  struct Acceptor {
    explicit Acceptor(asio::io_context& io, bool t) : acceptor(io), tls(t) {}
    tcp::acceptor acceptor;
    bool tls;
  };
  struct UdpListener {
    explicit UdpListener(asio::io_context& io) : socket(io), buffer(kReadBuffer) {}
    udp::socket socket;
    udp::endpoint from;
    std::vector<char> buffer;
    RawRead pending;  // one datagram's frame
  };

  Impl(const SyslogServerOptions& o, const Clock& c, std::ostream& l)
      : options(o),
        preparer_threads(o.prepare_threads > 0
                             ? o.prepare_threads
                             : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8)),
        clock(c),
        log(l),
        pipeline(o.queue_records, o.batch_records, preparer_threads,
                 [this] { asio::post(io, [this] { ResumeBlocked(); }); }),
        signals(io, SIGINT, SIGTERM, SIGHUP) {}

  SyslogServerOptions options;
  size_t preparer_threads;  // options.prepare_threads, 0 resolved
  const Clock& clock;
  std::ostream& log;
  std::mutex log_mu;
  std::unique_ptr<app::AuditService> service;  // used by the writer thread only, once running
  std::string contract;
  std::mutex preparer_mu;
  std::shared_ptr<const app::AuditPreparer> preparer;
  Pipeline pipeline;
  asio::io_context io;
  asio::signal_set signals;
  // The TLS context new connections take (replaced by ReloadTls); each connection keeps its own.
  std::shared_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::vector<std::unique_ptr<UdpListener>> udp_listeners;
  std::set<std::shared_ptr<SessionBase>> sessions;
  std::vector<std::weak_ptr<SessionBase>> blocked;  // waiting for room in the pipeline
  std::vector<std::string> listening;
  bool stopping = false;
  LogThrottle drop_log, limit_log, idle_log;  // the listeners' thread's

  std::atomic<std::uint64_t> received{0}, committed{0}, batches{0}, udp_dropped{0}, refused{0},
      over_limit{0}, handshake_timeouts{0}, idle_closed{0}, failed{0};

  void Log(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    log << "isms serve: " << line << std::endl;
  }

  bool Allowed(const asio::ip::address& a) {
    if (options.allow.empty()) return true;
    for (const Cidr& c : options.allow) {
      if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        if (c.Contains(b.data(), b.size())) return true;
      } else {
        auto b = a.to_v6().to_bytes();
        if (c.Contains(b.data(), b.size())) return true;
      }
    }
    return false;
  }

  // The contract's preparer (classification rules); the writer replaces it when the contract's
  // policy changes.
  std::shared_ptr<const app::AuditPreparer> CurrentPreparer() {
    std::lock_guard<std::mutex> lock(preparer_mu);
    return preparer;
  }

  // On the listeners' thread, once the pipeline has room again: the connections it refused try
  // again.
  void ResumeBlocked() {
    std::vector<std::weak_ptr<SessionBase>> wake;
    wake.swap(blocked);
    for (const auto& w : wake) {
      if (auto s = w.lock()) s->Wake();
    }
  }

  // Submits the frames of a read to the preparers (Pipeline::Submit), counting them as received.
  bool Submit(RawRead& read, bool force) {
    const size_t n = read.frames.size();
    if (!pipeline.Submit(read, force)) return false;
    received.fetch_add(n, std::memory_order_relaxed);
    return true;
  }

  // Parses, classifies and encodes one message on a preparer's thread, through the preparer's
  // view `parsed` (of `bytes` and the rules: no byte is copied before the encoding), into the
  // next record of `out` (a record committed before, when `out` holds one: its memory is used
  // again).
  static void Parse(const app::AuditPreparer& p, std::string_view bytes, std::uint8_t flags,
                    Instant now, Received& out, AuditRecordView& parsed) {
    if (out.count == out.records.size()) out.records.emplace_back();
    // A recycled record was last touched by the writer, long ago: the next ones are fetched
    // while this one is parsed (their structs two ahead, the buffer of the next encoding).
    if (out.count + 2 < out.records.size()) __builtin_prefetch(&out.records[out.count + 2], 1);
    if (out.count + 1 < out.records.size()) {
      const std::string& next = out.records[out.count + 1].entry.bytes;
      Prefetch<1>(next.data(), next.capacity());
    }
    app::PreparedAuditRecord& rec = out.records[out.count++];
    SyslogOptions opts;
    opts.received = now;
    ParseSyslogMessageInto(bytes, opts, parsed);
    parsed.flags |= flags;
    if (p.PrepareInto(parsed, rec, /*hash=*/false).ok()) return;
    // Cannot happen for a frame of at most 64 KiB; kept verbatim all the same.
    AuditRecord raw = UnparsedAuditRecord(bytes, now);
    raw.flags |= flags;
    rec = p.Prepare(std::move(raw)).value();
  }

  // A preparer thread: makes records of the submitted reads until the pipeline closes.
  void PrepareLoop() {
    AuditRecordView parsed;
    RawRead raw;
    Received out;
    std::uint64_t seq = 0;
    while (pipeline.NextRaw(raw, seq, out)) {
      const std::shared_ptr<const app::AuditPreparer> p = CurrentPreparer();
      if (out.records.capacity() < raw.frames.size()) out.records.reserve(raw.frames.size());
      size_t t = 0;
      for (size_t i = 0; i < raw.frames.size(); ++i) {
        while (t + 1 < raw.times.size() && raw.times[t + 1].first <= i) ++t;
        // The frames were written on the listeners' core: fetch a later one while this one is
        // parsed.
        if (i + 2 < raw.frames.size()) {
          const std::string_view ahead = raw.frames.data(i + 2);
          Prefetch<0>(ahead.data(), ahead.size());
        }
        Parse(*p, raw.frames.data(i), raw.frames.flags(i), raw.times[t].second, out, parsed);
      }
      // The leaves are hashed here, several at once, so that the writer (one thread, which
      // every record passes) does less.
      audit::LeafHasher<audit::LogEntry> hasher;
      for (size_t i = 0; i < out.count; ++i) {
        out.records[i].entry.hashed = true;
        hasher.Add(out.records[i].entry);
      }
      hasher.Flush();
      pipeline.Deliver(seq, out, raw);
    }
  }

  Status BindStream(const std::string& text, bool is_tls) {
    ISMS_ASSIGN_OR_RETURN(ListenAddress la, ParseListenAddress(text));
    auto acc = std::make_unique<Acceptor>(io, is_tls);
    tcp::acceptor& a = acc->acceptor;
    tcp::endpoint ep(la.address, la.port);
    error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    tcp::endpoint local;
    if (!ec) local = a.local_endpoint(ec);
    std::string kind = is_tls ? "tls " : "tcp ";
    if (ec) return Status::Unavailable("cannot listen on " + kind + text + ": " + ec.message());
    listening.push_back(kind + EndpointText(local.address(), local.port()));
    acceptors.push_back(std::move(acc));
    return Status::Ok();
  }

  Status Bind() {
    for (const std::string& text : options.tcp) ISMS_RETURN_IF_ERROR(BindStream(text, false));
    if (!options.tls.empty()) {
      ISMS_RETURN_IF_ERROR(ReloadTls());
      for (const std::string& text : options.tls) ISMS_RETURN_IF_ERROR(BindStream(text, true));
    }
    for (const std::string& text : options.udp) {
      ISMS_ASSIGN_OR_RETURN(ListenAddress la, ParseListenAddress(text));
      auto u = std::make_unique<UdpListener>(io);
      udp::endpoint ep(la.address, la.port);
      error_code ec;
      u->socket.open(ep.protocol(), ec);
      if (!ec) u->socket.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
      ec.clear();
      if (!ec) u->socket.bind(ep, ec);
      udp::endpoint local;
      if (!ec) local = u->socket.local_endpoint(ec);
      if (ec) return Status::Unavailable("cannot listen on udp " + text + ": " + ec.message());
      listening.push_back("udp " + EndpointText(local.address(), local.port()));
      udp_listeners.push_back(std::move(u));
    }
    if (listening.empty()) {
      return Status::InvalidArgument(
          "no listener: give --syslog-tcp, --syslog-tls or --syslog-udp");
    }
    return Status::Ok();
  }

  void Accept(Acceptor& a) {
    a.acceptor.async_accept([this, &a](error_code ec, tcp::socket s) {
      if (!ec) Admit(std::move(s), a.tls);
      if (!stopping) Accept(a);
    });
  }

  // Makes the TLS context (again) from the certificate, key and CA files; the one in use stays
  // when that fails. On the listeners' thread once they run.
  Status ReloadTls() {
    TlsFiles files;
    files.cert = options.tls_cert;
    files.key = options.tls_key;
    files.client_ca = options.client_ca;
    ISMS_ASSIGN_OR_RETURN(std::unique_ptr<asio::ssl::context> ctx, MakeServerTlsContext(files));
    tls = std::move(ctx);
    return Status::Ok();
  }
  // Waits for the next signal: SIGHUP reloads the TLS certificate, SIGINT and SIGTERM stop.
  void WaitForSignal();

  void Admit(tcp::socket s, bool is_tls);
  void Receive(UdpListener& u);
  void OnDatagram(UdpListener& u, size_t n, Instant now);
  void DrainAtShutdown(UdpListener& u);
  void Shutdown();
  void WriterLoop();
};

// One stream connection: a plain TCP socket, or a TLS stream over one (after its handshake).
template <typename Stream>
struct SyslogServer::Impl::Session : SessionBase, std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `tls`: the context the stream is made with (kept while the stream lives), or null.
  template <typename... Args>
  Session(Impl& i, std::shared_ptr<asio::ssl::context> tls, tcp::socket s, Args&... args)
      : impl(i),
        tls_context(std::move(tls)),
        stream(std::move(s), args...),
        retry(impl.io),
        deadline(impl.io),
        idle(impl.io) {}

  Impl& impl;
  std::shared_ptr<asio::ssl::context> tls_context;  // before the stream: outlives it
  Stream stream;
  asio::steady_timer retry;
  asio::steady_timer deadline;  // the TLS handshake's
  asio::steady_timer idle;      // options.idle_timeout's, when set
  bool timed_out = false;
  bool idle_out = false;  // closed by the idle timer
  bool reading = false;   // a read is waiting for bytes (not for room in the queue)
  // When the server last began to wait for this connection's bytes (a read after bytes, or
  // after the queue had room again): the idle time counts from there.
  std::chrono::steady_clock::time_point last_bytes;
  SyslogFrameDecoder decoder;
  // Decoded, not yet submitted. Each read goes straight into its frames' buffer (decoder.Room):
  // the frames are decoded where the bytes lie, with no copy.
  RawRead pending;
  bool eof = false;
  bool done = false;

  void Cancel() override {
    error_code ec;
    stream.lowest_layer().cancel(ec);
    retry.cancel();
    deadline.cancel();
    idle.cancel();
  }

  void Wake() override { retry.cancel(); }

  void Close() {
    error_code ignored;
    idle.cancel();  // its wait holds the session
    stream.lowest_layer().close(ignored);
    impl.sessions.erase(this->shared_from_this());
  }

  void Start() {
    if constexpr (kTls) {
      // A handshake still running at the deadline is cancelled: its handler then refuses.
      deadline.expires_after(impl.options.handshake_timeout);
      deadline.async_wait([self = this->shared_from_this()](error_code ec) {
        if (ec) return;  // the handshake ended first, or the server stops
        self->timed_out = true;
        error_code ignored;
        self->stream.lowest_layer().cancel(ignored);
      });
      stream.async_handshake(asio::ssl::stream_base::server,
                             [self = this->shared_from_this()](error_code ec) {
                               self->deadline.cancel();
                               if (self->timed_out) ec = asio::error::timed_out;
                               if (ec) return self->Refuse(ec);
                               if (self->impl.stopping) return self->DrainAtShutdown();
                               self->StartIdleTimer();
                               self->Read();
                             });
    } else {
      StartIdleTimer();
      Read();
    }
  }

  // Closes the connection once it has sent nothing for options.idle_timeout while it was read:
  // the timer is armed for last_bytes plus the timeout, and looks again then (not re-armed by
  // every read, which would cost the busy connections).
  void StartIdleTimer() {
    if (impl.options.idle_timeout.count() <= 0) return;
    last_bytes = std::chrono::steady_clock::now();
    WaitIdle(last_bytes + impl.options.idle_timeout);
  }

  void WaitIdle(std::chrono::steady_clock::time_point at) {
    idle.expires_at(at);
    idle.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->done || self->eof || self->impl.stopping) return;
      const auto now = std::chrono::steady_clock::now();
      const auto due = self->last_bytes + self->impl.options.idle_timeout;
      // Waiting for room in the queue is the server's doing, not the sender's.
      if (!self->reading) return self->WaitIdle(now + self->impl.options.idle_timeout);
      if (now < due) return self->WaitIdle(due);
      self->idle_out = true;
      error_code ignored;
      self->stream.lowest_layer().cancel(ignored);
    });
  }

  void Refuse(const error_code& ec) {
    error_code ignored;
    tcp::endpoint peer = stream.lowest_layer().remote_endpoint(ignored);
    if (timed_out) {
      impl.handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
      impl.Log("tls handshake with " + peer.address().to_string() + " failed: not completed within " +
               std::to_string(impl.options.handshake_timeout.count()) + " ms");
    } else if (!impl.stopping) {
      impl.Log("tls handshake with " + peer.address().to_string() + " failed: " + ec.message());
    }
    Close();
  }

  // Where the next read's bytes go (Filled then decodes them).
  asio::mutable_buffer Room() {
    return asio::buffer(decoder.Room(pending.frames, kReadBuffer), kReadBuffer);
  }

  // Decodes the `n` bytes a read put where Room said (n may be 0).
  void Filled(size_t n) {
    const size_t first = pending.frames.size();
    decoder.Filled(pending.frames, n);
    Stamp(first);
  }

  void Finish() {
    const size_t first = pending.frames.size();
    decoder.Finish(pending.frames);
    Stamp(first);
  }

  // The frames from `first` on were read now.
  void Stamp(size_t first) {
    if (pending.frames.size() > first) pending.times.emplace_back(first, impl.clock.Now());
  }

  void Read() {
    reading = true;
    if (impl.options.idle_timeout.count() > 0) last_bytes = std::chrono::steady_clock::now();
    stream.async_read_some(Room(), [self = this->shared_from_this()](error_code ec, size_t n) {
      self->reading = false;
      self->Filled(n);
      if (self->impl.stopping) return self->DrainAtShutdown();
      if (self->idle_out) {
        if (n == 0) return self->CloseIdle();
        // Bytes came as the timer fired: it waits again.
        self->idle_out = false;
        self->StartIdleTimer();
      }
      if (ec) {
        self->Finish();
        self->eof = true;
      }
      self->Drain();
    });
  }

  // After the idle timer cancelled the read: keeps what was received (a last frame without its
  // terminator included), then closes.
  void CloseIdle() {
    error_code ignored;
    const tcp::endpoint peer = stream.lowest_layer().remote_endpoint(ignored);
    const std::uint64_t n = impl.idle_closed.fetch_add(1, std::memory_order_relaxed) + 1;
    if (impl.idle_log.Due()) {
      impl.Log(std::string("closed ") + (kTls ? "tls" : "tcp") + " connection from " +
               peer.address().to_string() + ": nothing received for " +
               std::to_string(impl.options.idle_timeout.count()) + " ms (--syslog-idle-timeout; " +
               std::to_string(n) + " closed so far)");
    }
    Finish();
    eof = true;
    Drain();
  }

  // Hands the decoded frames to the preparers; while the pipeline is full, waits before reading
  // on.
  void Drain() {
    if (!impl.Submit(pending, false)) {
      // Woken (the timer cancelled) once the writer makes room; the timer is a fallback.
      retry.expires_after(kFullRetry);
      retry.async_wait([self = this->shared_from_this()](error_code) {
        if (self->impl.stopping) return self->DrainAtShutdown();
        self->Drain();
      });
      impl.blocked.push_back(this->weak_from_this());
      return;
    }
    if (eof) return Close();
    Read();
  }

  // At shutdown: reads what the socket already holds, then ends the stream.
  void DrainAtShutdown() {
    if (done) return;
    done = true;
    error_code ec;
    stream.lowest_layer().non_blocking(true, ec);
    while (!eof && !ec) Filled(stream.read_some(Room(), ec));
    Finish();
    impl.Submit(pending, true);
    Close();
  }
};

void SyslogServer::Impl::Admit(tcp::socket s, bool is_tls) {
  error_code ec;
  tcp::endpoint peer = s.remote_endpoint(ec);
  if (ec || !Allowed(peer.address())) {
    refused.fetch_add(1, std::memory_order_relaxed);
    if (!ec) {
      Log(std::string("refused ") + (is_tls ? "tls" : "tcp") + " connection from " +
          peer.address().to_string());
    }
    s.close(ec);
    return;
  }
  if (sessions.size() >= options.max_connections) {
    const std::uint64_t n = over_limit.fetch_add(1, std::memory_order_relaxed) + 1;
    if (limit_log.Due()) {
      Log(std::string("refused ") + (is_tls ? "tls" : "tcp") + " connection from " +
          peer.address().to_string() + ": " + std::to_string(sessions.size()) +
          " connections are open, the most --syslog-max-connections allows (" +
          std::to_string(n) + " refused so far)");
    }
    s.close(ec);
    return;
  }
  if (is_tls) {
    if (stopping) {
      s.close(ec);
      return;
    }
    asio::ssl::context& ctx = *tls;
    auto session = std::make_shared<Session<TlsStream>>(*this, tls, std::move(s), ctx);
    sessions.insert(session);
    return session->Start();
  }
  auto session = std::make_shared<Session<tcp::socket>>(*this, nullptr, std::move(s));
  sessions.insert(session);
  if (stopping) return session->DrainAtShutdown();
  session->Start();
}

void SyslogServer::Impl::Receive(UdpListener& u) {
  u.socket.async_receive_from(asio::buffer(u.buffer), u.from, [this, &u](error_code ec, size_t n) {
    if (!ec) OnDatagram(u, n, clock.Now());
    if (stopping) return DrainAtShutdown(u);
    Receive(u);
  });
}

void SyslogServer::Impl::OnDatagram(UdpListener& u, size_t n, Instant now) {
  if (!Allowed(u.from.address())) {
    refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  RawRead& one = u.pending;
  one.frames.clear();
  one.frames.Add(std::string_view(u.buffer.data(), n), 0);
  one.times.assign(1, {0, now});
  if (Submit(one, stopping)) return;
  std::uint64_t dropped = udp_dropped.fetch_add(1, std::memory_order_relaxed) + 1;
  if (drop_log.Due()) {
    Log("queue full: dropped udp datagrams (" + std::to_string(dropped) + " so far)");
  }
}

// Stops accepting and reading; what the sockets already hold is read and queued, by the
// handlers of the operations this cancels. Run() returns once they all have completed.
void SyslogServer::Impl::DrainAtShutdown(UdpListener& u) {
  error_code ec;
  u.socket.non_blocking(true, ec);
  while (!ec) {
    size_t n = u.socket.receive_from(asio::buffer(u.buffer), u.from, 0, ec);
    if (!ec) OnDatagram(u, n, clock.Now());
  }
  u.socket.close(ec);
}

void SyslogServer::Impl::Shutdown() {
  if (stopping) return;
  stopping = true;
  error_code ec;
  signals.cancel(ec);
  for (auto& a : acceptors) {
    a->acceptor.non_blocking(true, ec);
    while (true) {
      tcp::socket s(io);
      a->acceptor.accept(s, ec);
      if (ec) break;
      Admit(std::move(s), a->tls);
    }
    a->acceptor.close(ec);
  }
  for (auto& u : udp_listeners) u->socket.cancel(ec);
  std::vector<std::shared_ptr<SessionBase>> open(sessions.begin(), sessions.end());
  for (const auto& s : open) s->Cancel();
}

void SyslogServer::Impl::WriterLoop() {
  std::vector<Received> batch;
  // The records of the next append, each staged (encoded into its host's block) as soon as it is
  // ready, while it is in the cache; its memory then goes back to the preparers at once.
  app::StagedAuditRecords staged;
  std::chrono::steady_clock::time_point due;  // when the staged records must be committed
  auto checked = std::chrono::steady_clock::now();
  // The log's size and chunk length, so that a batch ends at a chunk boundary when records wait:
  // the batch then becomes a chunk directly, its blocks as staged, instead of going to the tail
  // first and being read, encoded, hashed and compressed a second time when the chunk completes.
  std::uint64_t size = 0, chunk = 0;
  bool know_chunk = false;
  auto learn = [&] {
    Result<audit::LogState> st = service->State(contract);
    if (!st.ok()) return;
    size = st->size;
    chunk = st->chunk_bits > 0 && st->chunk_bits < 40 ? std::uint64_t{1} << st->chunk_bits : 0;
    know_chunk = st->size > 0;  // a new log's chunk length is fixed by its first append
  };
  learn();
  staged.Start(size);
  bool drained = false;
  while (true) {
    size_t limit = options.batch_records;
    if (chunk > 0) {
      limit = static_cast<size_t>(std::min<std::uint64_t>(limit, chunk - size % chunk));
    }
    // Stages what is ready until the batch is full, its time is up, or nothing more will come.
    while (!drained && staged.size() < limit) {
      std::optional<std::chrono::steady_clock::time_point> deadline;
      if (!staged.empty()) deadline = due;
      if (pipeline.Take(deadline, limit - staged.size(), batch, drained) == 0) break;
      if (staged.empty()) due = std::chrono::steady_clock::now() + options.flush_interval;
      for (Received& r : batch) {
        // The records were written on a preparer's core: later ones are fetched while one is
        // staged (their structs eight ahead, their bytes four ahead), so that the copies do not
        // wait for them one by one.
        for (size_t i = 0; i < r.count; ++i) {
          if (i + 8 < r.count)
            Prefetch<0>(reinterpret_cast<const char*>(&r.records[i + 8]),
                        sizeof(app::PreparedAuditRecord));
          if (i + 4 < r.count) {
            const std::string& ahead = r.records[i + 4].entry.bytes;
            Prefetch<0>(ahead.data(), ahead.size());
          }
          staged.Add(r.records[i]);
        }
      }
      pipeline.Recycle(batch);
      if (std::chrono::steady_clock::now() >= due) break;
    }
    if (staged.empty()) {
      if (drained) return;
      continue;
    }
    Result<app::AuditIngestResult> r = service->AppendStaged(contract, staged);
    if (r.ok()) {
      size = r->size;
      if (!know_chunk) learn();
      committed.fetch_add(staged.size(), std::memory_order_relaxed);
      batches.fetch_add(1, std::memory_order_relaxed);
      staged.Start(size);
      // A changed policy (its audit rules) applies to what is received from then on.
      if (std::chrono::steady_clock::now() - checked >= std::chrono::seconds(1)) {
        checked = std::chrono::steady_clock::now();
        Result<std::shared_ptr<const app::AuditPreparer>> p = service->Preparer(contract);
        if (p.ok()) {
          std::lock_guard<std::mutex> lock(preparer_mu);
          preparer = std::move(p).value();
        }
      }
      continue;
    }
    Log("cannot commit " + std::to_string(staged.size()) + " records of contract " + contract +
        " (will retry): " + r.status().ToString());
    if (pipeline.closed()) {
      failed.fetch_add(staged.size() + pipeline.size(), std::memory_order_relaxed);
      return;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

SyslogServer::SyslogServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyslogServer::~SyslogServer() = default;

Result<std::unique_ptr<SyslogServer>> SyslogServer::Create(const SyslogServerOptions& options,
                                                           const Clock& clock, std::ostream& log) {
  if (options.max_connections == 0) {
    return Status::InvalidArgument("--syslog-max-connections must be at least 1");
  }
  if (options.handshake_timeout.count() <= 0) {
    return Status::InvalidArgument("--syslog-handshake-timeout must be more than 0 seconds");
  }
  if (options.idle_timeout.count() < 0) {
    return Status::InvalidArgument("--syslog-idle-timeout must be 0 (never) or more");
  }
  if (options.queue_records == 0 || options.batch_records == 0) {
    return Status::InvalidArgument("the queue and batch sizes must be at least 1");
  }
  auto impl = std::make_unique<Impl>(options, clock, log);
  ISMS_ASSIGN_OR_RETURN(impl->service,
                        app::AuditService::Open(options.store_url, options.key_dir, clock));
  // The writer's commits never wait for the write-ahead log to be copied into the store.
  ISMS_RETURN_IF_ERROR(impl->service->audit_connection().CheckpointInBackground());
  if (options.contract.empty()) {
    ISMS_ASSIGN_OR_RETURN(std::vector<app::ContractRecord> all,
                          impl->service->ledger().ListContracts());
    if (all.empty()) {
      return Status::FailedPrecondition(
          "the store has no contract: create one with `isms contract create` first");
    }
    if (all.size() > 1) {
      std::string names;
      for (const auto& c : all) names += (names.empty() ? "" : ", ") + c.name;
      return Status::FailedPrecondition("the store has several contracts (" + names +
                                        "): say which one the listeners feed with --contract");
    }
    impl->contract = all.front().name;
  } else {
    ISMS_ASSIGN_OR_RETURN(app::ContractRecord c,
                          impl->service->ledger().FindContract(options.contract));
    impl->contract = c.name;
  }
  ISMS_ASSIGN_OR_RETURN(impl->preparer, impl->service->Preparer(impl->contract));
  ISMS_RETURN_IF_ERROR(impl->service->Signer().status());
  if (const auto& k = impl->service->created_key()) {
    impl->Log("created the audit signing key " + k->private_path + " (mode 0600); give the buyer " +
              k->public_path);
  }
  ISMS_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<SyslogServer>(new SyslogServer(std::move(impl)));
}

const std::string& SyslogServer::contract() const {
  return impl_->contract;
}

std::vector<std::string> SyslogServer::listening() const {
  return impl_->listening;
}

void SyslogServer::Impl::WaitForSignal() {
  signals.async_wait([this](error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (tls) Log(ReloadedMessage("syslog TLS", options.tls_cert, ReloadTls()));
      return WaitForSignal();
    }
    Log(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
        ": committing what was received");
    Shutdown();
  });
}

Status SyslogServer::Run() {
  Impl& m = *impl_;
  std::thread writer([&m] {
    NameThisThread("syslog-writer");
    m.WriterLoop();
  });
  std::vector<std::thread> preparers;
  for (size_t i = 0; i < m.preparer_threads; ++i) {
    preparers.emplace_back([&m] {
      NameThisThread("syslog-prepare");
      m.PrepareLoop();
    });
  }
  NameThisThread("syslog-io");
  m.WaitForSignal();
  for (auto& a : m.acceptors) m.Accept(*a);
  for (auto& u : m.udp_listeners) m.Receive(*u);
  error_code ec;
  m.io.run(ec);
  if (ec) m.Log("event loop: " + ec.message());
  m.pipeline.Close();
  for (std::thread& t : preparers) t.join();
  writer.join();
  SyslogServerStats s = stats();
  m.Log("stopped: received " + std::to_string(s.received) + ", committed " +
        std::to_string(s.committed) + " in " + std::to_string(s.batches) +
        " commits, udp dropped " + std::to_string(s.udp_dropped) + ", refused senders " +
        std::to_string(s.refused_senders) + ", connections refused over the limit " +
        std::to_string(s.refused_over_limit) + ", tls handshakes timed out " +
        std::to_string(s.handshake_timeouts) + ", idle connections closed " +
        std::to_string(s.idle_closed) + " for contract " + m.contract);
  if (s.failed > 0) {
    return Status::Unavailable(std::to_string(s.failed) + " received records of contract " +
                               m.contract + " could not be committed");
  }
  return Status::Ok();
}

void SyslogServer::Stop() {
  asio::post(impl_->io, [m = impl_.get()] { m->Shutdown(); });
}

SyslogServerStats SyslogServer::stats() const {
  const Impl& m = *impl_;
  SyslogServerStats s;
  s.received = m.received.load();
  s.committed = m.committed.load();
  s.batches = m.batches.load();
  s.udp_dropped = m.udp_dropped.load();
  s.refused_senders = m.refused.load();
  s.refused_over_limit = m.over_limit.load();
  s.handshake_timeouts = m.handshake_timeouts.load();
  s.idle_closed = m.idle_closed.load();
  s.failed = m.failed.load();
  return s;
}

}  // namespace isms::net
