// The ledger at scale: one contract with N events across M subjects, recorded one by one
// through the same path as `isms event record` (validation, append, projection update in one
// transaction each), then `recompute` and `status`.
//
//   ledger_bench [--store URL] [--events N] [--subjects M]
//   ledger_bench --store URL --contract NAME     (recompute and status only, on a store that a
//                                                 run before recorded)
//   ledger_bench ... --only recompute|status      (one part of the measurements after recording)
//
// Defaults: a fresh SQLite store in a temporary folder, 1,000,000 events, 100,000 subjects.
// Prints one line per measurement; docs/benchmarks.md records the figures.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "app/ledger.h"

namespace {

using isms::Instant;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Planned {
  std::string type;
  std::string subject;
  Instant at;
  std::vector<std::pair<std::string, std::string>> attrs;
};

// A plausible history: most subjects are people (joined, trained each year, some leave and have
// their access revoked), the rest incidents (detected, notified, data requested and answered,
// details delivered). Events happen in time order over six years from the Start Date.
std::vector<Planned> Plan(long events, long subjects, Instant start) {
  std::mt19937_64 rng(42);
  std::vector<Planned> plan;
  plan.reserve(static_cast<size_t>(events));
  const long people = subjects * 7 / 10;
  const auto span = std::chrono::hours(24 * 365 * 6);
  const long per_subject = std::max(1L, events / subjects);
  for (long s = 0; s < subjects && static_cast<long>(plan.size()) < events; ++s) {
    Instant t = start + std::chrono::duration_cast<std::chrono::milliseconds>(
                            span * (static_cast<double>(s) / static_cast<double>(subjects)) / 4);
    auto step = [&](int days) {
      t += std::chrono::hours(24 * days) + std::chrono::minutes(rng() % 600);
    };
    if (s < people) {
      std::string who = "person-" + std::to_string(s);
      plan.push_back({"person.joined", who, t, {}});
      for (long k = 1; k + 2 < per_subject; ++k) {
        step(300 + static_cast<int>(rng() % 60));
        plan.push_back({"person.trained", who, t, {}});
      }
      step(30);
      plan.push_back({"person.left", who, t, {}});
      step(0);
      plan.push_back({"access.revoked", who, t, {}});
    } else {
      std::string inc = "INC-" + std::to_string(s);
      plan.push_back({"breach.detected", inc, t, {}});
      step(0);
      plan.push_back({"breach.notified", inc, t, {}});
      // One request more than fits in `per_subject`: the plan runs over N, and the events that
      // happen last are cut, so that it holds N events exactly.
      for (long k = 0; k + 3 < per_subject; k += 2) {
        step(1);
        plan.push_back({"datarequest.received",
                        inc,
                        t,
                        {{"request", "R" + std::to_string(k)}, {"evidence", "MSG-" + inc}}});
        step(1);
        plan.push_back({"datarequest.answered", inc, t, {{"request", "R" + std::to_string(k)}}});
      }
      step(5);
      plan.push_back({"details.delivered", inc, t, {}});
    }
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const Planned& a, const Planned& b) { return a.at < b.at; });
  if (static_cast<long>(plan.size()) > events) plan.resize(static_cast<size_t>(events));
  return plan;
}

std::string Describe(const std::vector<isms::Obligation>& list) {
  return std::to_string(list.size()) + " obligations";
}

std::string Describe(const isms::app::StatusOverview& v) {
  return std::to_string(v.breached) + " breached (" + std::to_string(v.most_urgent_breached.size()) +
         " listed), " + std::to_string(v.open) + " open, " + std::to_string(v.due_soon) +
         " due soon, " + std::to_string(v.met_late) + " met late";
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, existing, only;
  long events = 1000000, subjects = 100000;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (i + 1 == argc) {  // --help, or an option without its value
      std::fprintf(stderr,
                   "usage: ledger_bench [--store URL] [--events N] [--subjects M] "
                   "[--contract NAME] [--only recompute|status]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
    if (a == "--store")
      url = argv[i + 1];
    else if (a == "--events")
      events = std::atol(argv[i + 1]);
    else if (a == "--subjects")
      subjects = std::atol(argv[i + 1]);
    else if (a == "--contract")
      existing = argv[i + 1];
    else if (a == "--only" && (std::string(argv[i + 1]) == "recompute" ||
                               std::string(argv[i + 1]) == "status"))
      only = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: ledger_bench [--store URL] [--events N] [--subjects M] "
                   "[--contract NAME] [--only recompute|status]\n");
      return 2;
    }
  }
  std::string tmp;
  if (url.empty()) {
    char tmpl[] = "/tmp/isms-ledger-bench-XXXXXX";
    tmp = mkdtemp(tmpl);
    url = "sqlite:" + tmp + "/isms.db";
  }
  isms::FixedClock clock(isms::ParseInstant("2020-01-06T09:00:00Z").value());
  auto ledger = isms::app::Ledger::Open(url, clock);
  if (!ledger.ok()) {
    std::fprintf(stderr, "%s\n", ledger.status().ToString().c_str());
    return 1;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  isms::app::NewContract nc;
  nc.name = existing.empty() ? "bench-" + std::to_string(::getpid()) : existing;
  nc.start = isms::ParseDate("2020-01-06").value();
  isms::app::Actor actor{"bench", false};
  if (!existing.empty()) {
    // The clock where the recording run left it: five minutes after the last event.
    auto st = (*ledger)->connection().Prepare(
        "SELECT MAX(at) FROM events WHERE contract_id = (SELECT id FROM contracts WHERE name = "
        "$1)");
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.status().ToString().c_str());
      return 1;
    }
    (*st)->BindText(1, existing);
    if (auto row = (*st)->Step(); !row.ok() || !*row || (*st)->IsNull(0)) {
      std::fprintf(stderr, "contract %s has no events in %s\n", existing.c_str(), url.c_str());
      return 1;
    }
    clock.Set(isms::Instant(std::chrono::milliseconds((*st)->ColumnInt(0))) +
              std::chrono::minutes(5));
    std::printf("store %s: contract %s, as of %s\n", url.c_str(), existing.c_str(),
                isms::FormatInstant(clock.Now()).c_str());
  } else if (auto c = (*ledger)->CreateContract(nc, actor); !c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  if (existing.empty()) {
    std::vector<Planned> plan = Plan(events, subjects, clock.Now());
    std::printf("store %s: %zu events over %ld subjects\n", url.c_str(), plan.size(), subjects);
    long n = 0;
    for (const Planned& p : plan) {
      clock.Set(p.at + std::chrono::minutes(5));
      isms::app::NewEvent e{nc.name, p.type, p.subject, p.at, "", p.attrs};
      auto r = (*ledger)->RecordEvent(e, actor);
      if (!r.ok()) {
        std::fprintf(stderr, "event %ld (%s %s): %s\n", n + 1, p.type.c_str(), p.subject.c_str(),
                     r.status().ToString().c_str());
        return 1;
      }
      if (++n % 100000 == 0) {
        std::fprintf(stderr, "  %ld events, %.0f/s\n", n, n / Seconds(t0, Clock::now()));
      }
    }
    auto t1 = Clock::now();
    std::printf("record: %ld events in %.1f s = %.0f events/s (one transaction each)\n", n,
                Seconds(t0, t1), n / Seconds(t0, t1));
  }

  // Recompute as it finds the projection (kept up to date by the recording: every row compared,
  // none written), then twice from an emptied projection (every row written).
  for (int i = 0; i < 3 && only != "status"; ++i) {
    const char* what = "recompute (projection current)";
    if (i > 0) {
      what = "recompute (projection emptied first)";
      auto& conn = (*ledger)->connection();
      if (!conn.Execute("DELETE FROM obligations").ok() ||
          !conn.Execute("DELETE FROM streams").ok()) {
        std::fprintf(stderr, "cannot empty the projection\n");
        return 1;
      }
    }
    auto t1 = Clock::now();
    auto r = (*ledger)->Recompute(nc.name);
    auto t2 = Clock::now();
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%s: %ld obligations from %ld events in %.2f s\n", what,
                static_cast<long>(r->obligations), static_cast<long>(r->events), Seconds(t1, t2));
  }
  if (only == "recompute") return 0;
  // Each status five times, the median reported: what `isms status` asks of the ledger.
  auto median_ms = [&](const char* what, auto&& run) -> bool {
    std::vector<double> ms;
    std::string rows;
    for (int i = 0; i < 5; ++i) {
      auto a = Clock::now();
      auto r = run();
      auto b = Clock::now();
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
        return false;
      }
      rows = Describe(*r);
      ms.push_back(Seconds(a, b) * 1000);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%s: %s, median %.1f ms (of 5)\n", what, rows.c_str(), ms[2]);
    return true;
  };
  isms::app::OverviewQuery overview;
  if (!median_ms("status (the overview)", [&] { return (*ledger)->Overview(nc.name, overview); })) {
    return 1;
  }
  for (const char* state : {"breached", "open"}) {
    isms::app::StatusQuery q;
    q.state = isms::ParseObligationState(state).value();
    if (!median_ms((std::string("status --state ") + state).c_str(),
                   [&] { return (*ledger)->StatusOf(nc.name, q); })) {
      return 1;
    }
  }
  isms::app::StatusQuery page;
  page.limit = 100;
  page.offset = 100000;
  if (!median_ms("status --all --limit 100 --offset 100000",
                 [&] { return (*ledger)->StatusOf(nc.name, page); })) {
    return 1;
  }
  if (!median_ms("status --all", [&] { return (*ledger)->StatusOf(nc.name, {}); })) return 1;
  isms::app::StatusQuery at;
  at.at = clock.Now();
  auto a = Clock::now();
  auto s = (*ledger)->StatusOf(nc.name, at);
  auto b = Clock::now();
  std::printf("status --at (from the events): %zu obligations in %.2f s\n", s.ok() ? s->size() : 0,
              Seconds(a, b));
  if (!tmp.empty()) std::filesystem::remove_all(tmp);
  return 0;
}
