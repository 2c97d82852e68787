// The audit log at scale, through the app layer (no network): what `isms serve` does with each
// received message, stage by stage, and a store filled with as many records as wanted.
//
//   audit_bench prepare [COUNT]
//       per-record CPU time of parsing (RFC 5424, into views of the messages as isms serve's
//       preparers do), classifying, encoding and hashing (128 leaves at a time, as the
//       preparers hash them), on one thread (default 200,000 records)
//   audit_bench hash [COUNT]
//       ns of CPU per leaf hash of COUNT encoded records (default 200,000) and per node hash of
//       their leaf hashes taken in pairs: one by one through OpenSSL (LeafHash, NodeHash), then
//       in one batch (LeafHashes, NodeHashes; leaves also in slices of 128, as isms serve's
//       preparers hash them) by each path: OpenSSL, 1 to 4 interleaved messages with the SHA
//       extensions, 16 in AVX-512 registers, and the CPU's choice
//   audit_bench hash-path
//       the path this CPU's leaf and node hashes take: 16 in AVX-512 registers, N interleaved
//       with the SHA extensions, or the OpenSSL fallback
//   audit_bench classify [COUNT] [TEXT]
//       ns of CPU to classify each of the four texts (or text TEXT only, 0 to 3: for a profiler),
//       COUNT times each (default 1,000,000), the record parsed once and copied before each
//       classification (the copy timed apart and taken off): the rules' own cost, every byte in
//       cache
//   audit_bench listen [COUNT]
//       per-record CPU time of the listener's side of `isms serve` alone, as it does it: each
//       message parsed into one record kept from message to message, then classified and
//       encoded (no hash: the writer's) into the next of a batch's worth of prepared records
//       used again and again, as the server's committed records are (default 1,000,000
//       messages, after one unmeasured pass that makes the records)
//   audit_bench append [COUNT] [BATCH] [LANES]
//       per-record CPU time of the writer's side of `isms serve` alone: COUNT records (default
//       327,680: five chunks) prepared beforehand (not hashed: the writer hashes the leaves, as
//       the server's does), then appended to a new SQLite store in a
//       temporary folder in batches of BATCH (default 65,536: a chunk, as a busy `isms serve`
//       appends them) with a signed checkpoint each, on one thread. LANES (0, 1, 2, 4 or 16)
//       forces the hashing path of audit/sha256_lanes.h, 0 being OpenSSL one hash at a time
//   audit_bench fill --store URL --count N [--hosts H] [--days D] [--from YYYY-MM-DD]
//       appends N records from H hosts (default 1,000) spread evenly over D days (default 1)
//       from the given day (default 2026-01-01) to the contract "bench" (created when missing),
//       as `isms serve` does: one thread prepares the records, the caller appends them in
//       batches of 20,000 with a signed checkpoint each
//
// Records are those of bench/syslog_send.cc (sshd, sudo, firewall and proxy texts, about 160
// bytes each). Prints one line per measurement; docs/benchmarks.md records the figures.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "app/audit.h"
#include "audit/sha256_lanes.h"
#include "core/calendar.h"
#include "cpu_time.h"
#include "formats/syslog.h"
#include "syslog_records.h"

namespace {

using isms::Instant;
using Steady = std::chrono::steady_clock;

double Seconds(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Message i of syslog_send's stream, at `ms` since 1970.
std::string Message(long i, long hosts, std::int64_t ms) {
  const std::string t = isms::FormatInstant(Instant(std::chrono::milliseconds(ms)));
  char msg[512];
  std::snprintf(msg, sizeof msg, "<86>1 %s host-%ld %s %ld - - %s seq=%ld", t.c_str(), i % hosts,
                isms::bench::kApps[i % 4], 1000 + i % 5000, isms::bench::kTexts[i % 4], i);
  return msg;
}

int Fail(const isms::Status& s) {
  std::fprintf(stderr, "audit_bench: %s\n", s.ToString().c_str());
  return 1;
}

int Prepare(long count) {
  isms::SystemClock clock;
  std::vector<std::string> msgs;
  const std::int64_t day = 1764288000000;  // 2025-11-28
  for (long i = 0; i < count; ++i) msgs.push_back(Message(i, 1000, day + i));
  auto classifier = isms::AuditClassifier::Create();
  if (!classifier.ok()) return Fail(classifier.status());
  isms::SyslogOptions o;
  o.received = clock.Now();
  // Views of the messages, as isms serve's preparers parse them.
  std::vector<isms::AuditRecordView> records(msgs.size());
  std::vector<std::string> encoded(msgs.size());
  double c0 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    isms::ParseSyslogMessageInto(msgs[i], o, records[i]);
  }
  double c1 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  for (auto& r : records) classifier->Classify(r);
  double c2 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!isms::EncodeAuditRecordInto(records[i], encoded[i]).ok()) return 1;
  }
  double c3 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  // The leaves as isms serve's preparers hash them: 128 at a time (audit::LeafHasher).
  const std::vector<std::string_view> views(encoded.begin(), encoded.end());
  std::vector<isms::audit::Hash> leaves(views.size());
  for (std::size_t i = 0; i < views.size(); i += 128) {
    isms::audit::LeafHashes(
        std::span(views).subspan(i, std::min<std::size_t>(128, views.size() - i)),
        leaves.data() + i);
  }
  double c4 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  std::size_t bytes = 0;
  unsigned sink = 0;  // printed, so that the hashes are not optimised away
  for (std::size_t i = 0; i < views.size(); ++i) {
    sink += leaves[i][0];
    bytes += views[i].size();
  }
  const double n = static_cast<double>(count) / 1e9;
  std::printf(
      "per record (ns of CPU): parse %.0f, classify %.0f, encode %.0f, hash %.0f; "
      "%.0f encoded bytes a record (check %u)\n",
      (c1 - c0) / n, (c2 - c1) / n, (c3 - c2) / n, (c4 - c3) / n,
      static_cast<double>(bytes) / static_cast<double>(count), sink % 10);
  return 0;
}

int ClassifyTexts(long count, int only) {
  auto classifier = isms::AuditClassifier::Create();
  if (!classifier.ok()) return Fail(classifier.status());
  isms::SyslogOptions o;
  const std::int64_t day = 1764288000000;  // 2025-11-28
  auto now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
  };
  unsigned sink = 0;  // printed, so that the work is not optimised away
  for (long k = 0; k < 4; ++k) {
    if (only >= 0 && k != only) continue;
    const isms::AuditRecord parsed = isms::ParseSyslogMessage(Message(k, 1000, day), o);
    isms::AuditRecord r;
    double t0 = now();
    for (long i = 0; i < count; ++i) {
      r = parsed;
      sink += static_cast<unsigned>(r.message.size());
    }
    const double copy = now() - t0;
    t0 = now();
    for (long i = 0; i < count; ++i) {
      r = parsed;
      classifier->Classify(r);
      sink += static_cast<unsigned>(r.category);
    }
    const double both = now() - t0;
    std::printf("%-7s %-24s classify %.0f ns (the copy before it %.0f ns)\n", isms::bench::kApps[k],
                r.rule.c_str(), (both - copy) / static_cast<double>(count),
                copy / static_cast<double>(count));
  }
  std::printf("(check %u)\n", sink % 10);
  return 0;
}

// The best of five passes of `pass`, in ns of CPU per hash: the least disturbed by whatever else
// the machine runs. The thread's CPU clock, not getrusage's, whose ticks are too coarse for a
// pass of a few milliseconds.
template <typename Pass>
double NsPerHash(std::size_t hashes, const Pass& pass) {
  auto now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
  };
  double best = 1e300;
  for (int i = 0; i < 5; ++i) {
    const double t0 = now();
    pass();
    best = std::min(best, now() - t0);
  }
  return best / static_cast<double>(hashes);
}

// The hashing path of audit/sha256_lanes.h with `lanes` messages in flight (Sha256Lanes()).
std::string HashPathName(int lanes) {
  return lanes == 0    ? std::string("fallback (OpenSSL)")
         : lanes == 16 ? std::string("16 in AVX-512 registers")
                       : std::to_string(lanes) + " interleaved (SHA extensions)";
}

int HashStage(long count) {
  isms::SystemClock clock;
  auto classifier = isms::AuditClassifier::Create();
  if (!classifier.ok()) return Fail(classifier.status());
  isms::SyslogOptions o;
  o.received = clock.Now();
  const std::int64_t day = 1764288000000;  // 2025-11-28
  std::vector<std::string> encoded;
  std::size_t bytes = 0;
  for (long i = 0; i < count; ++i) {
    isms::AuditRecord r = isms::ParseSyslogMessage(Message(i, 1000, day + i), o);
    classifier->Classify(r);
    encoded.push_back(isms::EncodeAuditRecord(r).value());
    bytes += encoded.back().size();
  }
  const std::vector<std::string_view> views(encoded.begin(), encoded.end());
  const std::size_t n = encoded.size();
  std::vector<isms::audit::Hash> leaves(n), nodes(n / 2), check(n);
  unsigned sink = 0;  // printed, so that the hashes are not optimised away
  std::printf("%zu records of %.0f bytes on average; ns of CPU a hash:\n", n,
              static_cast<double>(bytes) / static_cast<double>(n));
  const double leaf1 = NsPerHash(n, [&] {
    for (std::size_t i = 0; i < n; ++i) leaves[i] = isms::audit::LeafHash(encoded[i]);
  });
  const double node1 = NsPerHash(n / 2, [&] {
    for (std::size_t i = 0; i < n / 2; ++i) {
      nodes[i] = isms::audit::NodeHash(leaves[2 * i], leaves[2 * i + 1]);
    }
  });
  sink += leaves[n / 3][0] + nodes[n / 5][0];
  std::printf("  one by one (OpenSSL): leaf %.1f, node %.1f\n", leaf1, node1);
  // Whole, and in the slices of 128 that isms serve's preparers hash at a time (LeafHasher).
  const auto sliced = [&] {
    for (std::size_t i = 0; i < n; i += 128) {
      isms::audit::LeafHashes(std::span(views).subspan(i, std::min<std::size_t>(128, n - i)),
                              check.data() + i);
    }
  };
  for (int lanes : {0, 1, 2, 3, 4, 16, -1}) {
    isms::audit::SetSha256LanesForTesting(lanes);
    const double leaf128 = NsPerHash(n, sliced);
    if (check != leaves) return Fail(isms::Status::Internal("batched leaf hashes differ"));
    const double leaf = NsPerHash(n, [&] { isms::audit::LeafHashes(views, check.data()); });
    const double node = NsPerHash(n / 2, [&] { isms::audit::NodeHashes(check, nodes.data()); });
    if (check != leaves) return Fail(isms::Status::Internal("batched leaf hashes differ"));
    sink += nodes[n / 5][0];
    const std::string how = lanes < 0
                                ? "automatic (" + HashPathName(isms::audit::Sha256Lanes()) + ")"
                                : HashPathName(lanes);
    std::printf("  batch, %s: leaf %.1f (%.2fx; %.1f in slices of 128), node %.1f (%.2fx)\n",
                how.c_str(), leaf, leaf1 / leaf, leaf128, node, node1 / node);
  }
  isms::audit::SetSha256LanesForTesting(-1);
  std::printf("(check %u)\n", sink % 10);
  return 0;
}

// A new SQLite store in a temporary folder (removed with it) holding the contract "bench", and
// the preparer of that contract's audit records.
struct BenchStore {
  std::string dir;
  std::unique_ptr<isms::app::AuditService> service;
  std::shared_ptr<const isms::app::AuditPreparer> preparer;
  ~BenchStore() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

isms::Status OpenBenchStore(const isms::Clock& clock, BenchStore& b) {
  char dir[] = "/tmp/audit_bench.XXXXXX";
  if (mkdtemp(dir) == nullptr) return isms::Status::Internal("mkdtemp failed");
  b.dir = dir;
  ISMS_ASSIGN_OR_RETURN(b.service,
                        isms::app::AuditService::Open("sqlite:" + b.dir + "/isms.db", b.dir, clock));
  isms::app::NewContract c;
  c.name = "bench";
  c.start = isms::ParseDate("2026-11-01").value();
  ISMS_RETURN_IF_ERROR(
      b.service->ledger().CreateContract(c, isms::app::Actor{"audit_bench"}).status());
  ISMS_ASSIGN_OR_RETURN(b.preparer, b.service->Preparer("bench"));
  return isms::Status::Ok();
}

int Listen(long count) {
  isms::SystemClock clock;
  BenchStore store;
  if (isms::Status s = OpenBenchStore(clock, store); !s.ok()) return Fail(s);
  const isms::app::AuditPreparer& preparer = *store.preparer;
  // A batch's worth of distinct messages side by side in one buffer, as a read's frames are.
  constexpr std::size_t kBatch = 65536;
  const std::int64_t day = 1795824000000;  // 2026-11-28
  std::string stream;
  std::vector<std::pair<std::size_t, std::size_t>> frames;
  for (std::size_t i = 0; i < kBatch; ++i) {
    const auto n = static_cast<long>(i);
    const std::string m = Message(n, 1000, day + n);
    frames.emplace_back(stream.size(), m.size());
    stream += m;
  }
  isms::SyslogOptions o;
  o.received = clock.Now();
  isms::AuditRecordView parsed;  // as isms serve's preparers: a view of each message
  std::vector<isms::app::PreparedAuditRecord> records(kBatch);
  unsigned sink = 0;  // printed, so that the work is not optimised away
  auto run = [&](long messages) {
    for (long i = 0; i < messages; ++i) {
      const auto k = static_cast<std::size_t>(i) % kBatch;
      const auto [at, size] = frames[k];
      isms::ParseSyslogMessageInto(std::string_view(stream).substr(at, size), o, parsed);
      if (!preparer.PrepareInto(parsed, records[k], /*hash=*/false).ok()) ++sink;
      sink += static_cast<unsigned>(records[k].entry.bytes.size());
    }
  };
  run(static_cast<long>(kBatch));
  const double c0 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  run(count);
  const double cpu = isms::bench::CpuSeconds(RUSAGE_THREAD) - c0;
  std::printf(
      "listen: %.3f us of CPU a record (%ld records parsed, classified and encoded into %zu "
      "kept ones; check %u)\n",
      cpu * 1e6 / static_cast<double>(count), count, kBatch, sink % 10);
  return 0;
}

// Batches from the preparing thread to the appending one.
class Batches {
 public:
  void Put(std::vector<isms::app::PreparedAuditRecord>&& b) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return q_.size() < 4; });
    q_.push_back(std::move(b));
    cv_.notify_all();
  }
  // Empty at the end.
  std::vector<isms::app::PreparedAuditRecord> Get() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    auto b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<isms::app::PreparedAuditRecord>> q_;
};

int Fill(const std::string& url, long count, long hosts, long days, const std::string& from) {
  isms::SystemClock clock;
  auto service = isms::app::AuditService::Open(url, "", clock);
  if (!service.ok()) return Fail(service.status());
  isms::app::AuditService& s = **service;
  if (!s.ledger().FindContract("bench").ok()) {
    isms::app::NewContract c;
    c.name = "bench";
    c.start = isms::ParseDate(from).value();
    if (auto r = s.ledger().CreateContract(c, isms::app::Actor{"audit_bench"}); !r.ok()) {
      return Fail(r.status());
    }
  }
  auto preparer = s.Preparer("bench");
  if (!preparer.ok()) return Fail(preparer.status());
  auto state = s.State("bench");
  if (!state.ok()) return Fail(state.status());
  const long first = static_cast<long>(state->size);
  const std::int64_t start =
      isms::StartOfLondonDay(isms::ParseDate(from).value()).time_since_epoch().count();
  const double step = static_cast<double>(days) * 86400000.0 / static_cast<double>(count);
  constexpr std::size_t kBatch = 20000;
  Batches batches;
  double prepare_cpu = 0;
  std::thread producer([&] {
    const double c0 = isms::bench::CpuSeconds(RUSAGE_THREAD);
    isms::SyslogOptions o;
    std::vector<isms::app::PreparedAuditRecord> batch;
    for (long i = 0; i < count; ++i) {
      const std::int64_t ms = start + static_cast<std::int64_t>(static_cast<double>(i) * step);
      o.received = Instant(std::chrono::milliseconds(ms));
      batch.push_back(
          (*preparer)->Prepare(isms::ParseSyslogMessage(Message(first + i, hosts, ms), o)).value());
      if (batch.size() == kBatch) batches.Put(std::move(batch)), batch.clear();
    }
    if (!batch.empty()) batches.Put(std::move(batch));
    batches.Put({});
    prepare_cpu = isms::bench::CpuSeconds(RUSAGE_THREAD) - c0;
  });
  const auto t0 = Steady::now();
  const double c0 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  long done = 0;
  auto last_report = t0;
  while (true) {
    std::vector<isms::app::PreparedAuditRecord> b = batches.Get();
    if (b.empty()) break;
    auto r = s.AppendPrepared("bench", b);
    if (!r.ok()) {
      producer.detach();
      return Fail(r.status());
    }
    done += static_cast<long>(b.size());
    if (Seconds(last_report, Steady::now()) >= 30) {
      last_report = Steady::now();
      std::printf("  %ld records, %.0f records/s\n", done, done / Seconds(t0, last_report));
      std::fflush(stdout);
    }
  }
  const double append_cpu = isms::bench::CpuSeconds(RUSAGE_THREAD) - c0;
  producer.join();
  const double secs = Seconds(t0, Steady::now());
  std::printf(
      "filled %ld records (log size %ld) in %.1f s = %.0f records/s; CPU a record: "
      "prepare %.2f us, append %.2f us\n",
      done, first + done, secs, static_cast<double>(done) / secs,
      prepare_cpu * 1e6 / static_cast<double>(done), append_cpu * 1e6 / static_cast<double>(done));
  return 0;
}

}  // namespace

int Append(long count, std::size_t batch, int lanes) {
  isms::SystemClock clock;
  BenchStore store;
  if (isms::Status st = OpenBenchStore(clock, store); !st.ok()) return Fail(st);
  isms::app::AuditService& s = *store.service;
  const isms::app::AuditPreparer& preparer = *store.preparer;
  const std::size_t kBatch = batch > 0 ? batch : 65536;
  std::vector<std::vector<isms::app::PreparedAuditRecord>> batches(1);
  const std::int64_t day = 1795824000000;  // 2026-11-28
  isms::SyslogOptions o;
  for (long i = 0; i < count; ++i) {
    o.received = Instant(std::chrono::milliseconds(day + i));
    if (batches.back().size() == kBatch) batches.emplace_back();
    // Not hashed: `isms serve` hashes the leaves on the writer's side, measured here.
    isms::AuditRecord parsed = isms::ParseSyslogMessage(Message(i, 1000, day + i), o);
    if (auto s = preparer.PrepareInto(parsed, batches.back().emplace_back(), /*hash=*/false);
        !s.ok()) {
      return Fail(s);
    }
  }
  isms::audit::SetSha256LanesForTesting(lanes);
  const double c0 = isms::bench::CpuSeconds(RUSAGE_THREAD);
  for (auto& b : batches) {
    auto r = s.AppendPrepared("bench", b);
    if (!r.ok()) return Fail(r.status());
  }
  const double cpu = isms::bench::CpuSeconds(RUSAGE_THREAD) - c0;
  std::printf(
      "append: %.2f us of CPU a record (%ld records in batches of %zu; %d interleaved "
      "hashes)\n",
      cpu * 1e6 / static_cast<double>(count), count, kBatch, isms::audit::Sha256Lanes());
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "append") == 0) {
    return Append(argc >= 3 ? std::atol(argv[2]) : 327680,
                  argc >= 4 ? static_cast<std::size_t>(std::atol(argv[3])) : 65536,
                  argc >= 5 ? std::atoi(argv[4]) : -1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "hash-path") == 0) {
    std::printf("%s\n", HashPathName(isms::audit::Sha256Lanes()).c_str());
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "hash") == 0) {
    return HashStage(argc >= 3 ? std::atol(argv[2]) : 200000);
  }
  if (argc >= 2 && std::strcmp(argv[1], "classify") == 0) {
    return ClassifyTexts(argc >= 3 ? std::atol(argv[2]) : 1000000,
                         argc >= 4 ? std::atoi(argv[3]) : -1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "listen") == 0) {
    return Listen(argc >= 3 ? std::atol(argv[2]) : 1000000);
  }
  if (argc >= 2 && std::strcmp(argv[1], "prepare") == 0) {
    return Prepare(argc >= 3 ? std::atol(argv[2]) : 200000);
  }
  if (argc >= 2 && std::strcmp(argv[1], "fill") == 0) {
    std::string store, from = "2026-01-01";
    long count = 0, hosts = 1000, days = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string k = argv[i];
      if (k == "--store")
        store = argv[i + 1];
      else if (k == "--count")
        count = std::atol(argv[i + 1]);
      else if (k == "--hosts")
        hosts = std::atol(argv[i + 1]);
      else if (k == "--days")
        days = std::atol(argv[i + 1]);
      else if (k == "--from")
        from = argv[i + 1];
    }
    if (!store.empty() && count > 0 && hosts > 0 && days > 0) {
      return Fill(store, count, hosts, days, from);
    }
  }
  std::fprintf(stderr,
               "usage: audit_bench prepare [COUNT]\n"
               "       audit_bench hash [COUNT]\n"
               "       audit_bench hash-path\n"
               "       audit_bench classify [COUNT] [TEXT]\n"
               "       audit_bench listen [COUNT]\n"
               "       audit_bench append [COUNT] [BATCH] [LANES]\n"
               "       audit_bench fill --store URL --count N [--hosts H] [--days D] "
               "[--from YYYY-MM-DD]\n");
  return 2;
}
