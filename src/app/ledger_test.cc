// The stored projection against a rebuild from the events alone: long random histories recorded
// one event at a time (each updating its stream's obligations in its own transaction), then
// `recompute`, on every engine (PostgreSQL when ISMS_TEST_POSTGRES_URL is set).
#include "app/ledger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "app/ledger_internal.h"
#include "store/store_test_util.h"

namespace isms::app {
namespace {

Instant T(const char* s) {
  return ParseInstant(s).value();
}

class LedgerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_.SetUp(GetParam());
    if (store_.skip) GTEST_SKIP() << store_.why;
    url_ = store_.url;
    auto ledger = Ledger::Open(url_, clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
  }
  void TearDown() override {
    ledger_.reset();
    store_.TearDown();
  }

  void Create(const std::string& name, bool bespoke) {
    NewContract c;
    c.name = name;
    c.start = ParseDate("2026-01-05").value();
    c.bespoke_isms = bespoke;
    clock_.Set(T("2026-01-05T09:00:00Z"));
    auto r = ledger_->CreateContract(c, {"alice", false});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Records `n` random events into `contract` over about two years from its Start Date: every
  // stream family but the findings', buyer's acts with evidence, answers to the latest
  // submission, tests with and without weaknesses, corrections, retractions, policy changes and
  // backdated records. Some are refused by validation, as they would be from a user; the
  // projection is read (and so brought up to date) now and then, as `status` does. Returns how
  // many were recorded.
  int RecordRandom(const std::string& contract, int n, unsigned seed) {
    std::mt19937 rng(seed);
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
    auto hex = [&] {
      std::string h;
      for (int i = 0; i < 64; ++i) h += "0123456789abcdef"[pick(16)];
      return h;
    };
    struct Recorded {
      std::int64_t id;
      NewEvent e;
    };
    std::vector<Recorded> recorded;
    std::map<std::string, std::int64_t> last_submission;  // "isms" / "smp" -> event id
    Instant at = T("2026-01-05T10:00:00Z");
    Instant now = at;
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      at += std::chrono::minutes(30 + pick(60 * 40));
      NewEvent e;
      e.contract = contract;
      e.at = at;
      const int family = pick(100);
      const std::string person = "p" + std::to_string(pick(10));
      const std::string incident = "INC-" + std::to_string(pick(6));
      if (family < 30) {
        static const char* kTypes[] = {"person.joined", "person.trained",     "person.trained",
                                       "person.left",   "privilege.unneeded", "access.revoked"};
        e.type = kTypes[pick(6)];
        e.subject = person;
      } else if (family < 50) {
        static const char* kTypes[] = {
            "breach.detected",   "breach.notified", "datarequest.received", "datarequest.answered",
            "details.delivered", "rca.requested",   "rca.delivered"};
        e.type = kTypes[pick(7)];
        e.subject = incident;
        if (e.type.starts_with("datarequest.")) {
          e.attrs.push_back({"request", "R" + std::to_string(pick(3))});
        }
      } else if (family < 58) {
        static const char* kTypes[] = {"data.demanded",     "data.provided",  "erasure.requested",
                                       "erasure.completed", "threat.learned", "threat.informed"};
        e.type = kTypes[pick(6)];
        e.subject = (e.type[0] == 'd'   ? "DD-"
                     : e.type[0] == 'e' ? "ER-"
                                        : "TH-") +
                    std::to_string(pick(3));
      } else if (family < 70) {
        const std::string doc = pick(2) ? "isms" : "smp";
        const int kind = pick(4);
        if (kind == 0 || !last_submission.count(doc)) {
          e.type = doc + ".submitted";
          e.attrs.push_back({"doc", "sha256:" + hex()});
        } else {
          e.type = doc + (kind == 1 ? ".rejected" : ".approved");
          e.attrs.push_back({"submission", std::to_string(last_submission[doc])});
        }
        if (kind == 3) {
          e.type = "review.completed";
          e.attrs = {{"doc", doc}};
        }
      } else if (family < 82) {
        const std::string test = "ST-" + std::to_string(pick(5));
        static const char* kTypes[] = {"securitytest.agreed", "securitytest.completed",
                                       "buyertest.completed", "securitytest.results.delivered",
                                       "changes.notified",    "retest.completed"};
        e.type = kTypes[pick(6)];
        e.subject = e.type == "buyertest.completed" ? "BT-" + std::to_string(pick(3)) : test;
        if (e.type.ends_with(".completed")) {
          const bool weak = pick(2);
          e.attrs.push_back({"weakness", weak ? "yes" : "no"});
          if (weak) e.attrs.push_back({"root_cause", "RC-" + std::to_string(pick(3))});
        }
      } else if (family < 88) {
        static const char* kTypes[] = {"change.proposed", "change.approved", "change.implemented"};
        e.type = kTypes[pick(3)];
        e.subject = "CHG-" + std::to_string(pick(4));
      } else if (family < 91) {
        const Date d = LondonDate(at);
        const auto month = d.year() / d.month() - std::chrono::months(1);
        char text[16];
        std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(month.year()),
                      static_cast<unsigned>(month.month()));
        e.type = "report.submitted";
        e.attrs = {{"month", text}, {"sha256", hex()}};
      } else if (family < 92) {
        e.type = "policy.changed";
        e.attrs = {{"policy", pick(2) ? "[timescales]\nbreach_notification = \"48 hours\"\n"
                                      : "[timescales]\nsecurity_training = \"6 months\"\n"}};
      } else if (!recorded.empty()) {
        // A correction of an earlier event (same type and subject, another time), or its
        // retraction.
        const Recorded& target = recorded[pick(static_cast<int>(recorded.size()))];
        if (pick(2)) {
          e = target.e;
          e.at = *target.e.at + std::chrono::minutes(pick(600));
          if (*e.at > at) e.at = at;
          e.attrs.push_back({"supersedes", std::to_string(target.id)});
        } else {
          e.type = "event.retracted";
          e.subject = target.e.subject;
          e.attrs = {{"supersedes", std::to_string(target.id)}, {"type", target.e.type}};
        }
      } else {
        continue;
      }
      // The Buyer's acts, recorded by the supplier's side, carry evidence.
      static const char* kBuyerActs[] = {
          "isms.approved",        "isms.rejected",       "smp.approved",        "smp.rejected",
          "datarequest.received", "rca.requested",       "data.demanded",       "erasure.requested",
          "change.approved",      "securitytest.agreed", "buyertest.completed", "event.retracted"};
      for (const char* act : kBuyerActs) {
        if (e.type == act) e.attrs.push_back({"evidence", "MSG-" + std::to_string(i)});
      }
      // Mostly recorded minutes after the fact; now and then days later (backdated).
      const Instant recorded_at =
          *e.at +
          (pick(10) == 0 ? std::chrono::hours(24 * (3 + pick(10))) : std::chrono::hours(0)) +
          std::chrono::minutes(5);
      now = std::max(now, recorded_at);
      clock_.Set(now);
      auto r = ledger_->RecordEvent(e, {"alice", false});
      if (r.ok()) {
        ++ok;
        if (on_recorded_) on_recorded_(*r);
        if (e.type.ends_with(".submitted") && e.subject.empty()) {
          last_submission[e.type.substr(0, e.type.find('.'))] = r->id;
        }
        if (e.type != "event.retracted" && e.type != "policy.changed") {
          NewEvent plain = e;
          std::erase_if(plain.attrs, [](const auto& kv) { return kv.first == "supersedes"; });
          recorded.push_back({r->id, std::move(plain)});
        }
      }
      if (i % 40 == 39) {
        EXPECT_TRUE(ledger_->StatusOf(contract, {}).ok());
      }
    }
    at += std::chrono::hours(24 * 20);
    clock_.Set(std::max(now, at));
    return ok;
  }

  // Called by RecordRandom with each event recorded, as RecordEvent returned it.
  std::function<void(const Event&)> on_recorded_;

  // Every row of the projection (obligations, then streams), each column as text, in key order.
  std::vector<std::string> Projection() {
    std::vector<std::string> rows;
    const std::pair<const char*, int> queries[] = {
        {"SELECT contract_id, stream, ordinal, clause, key, title, subject, trigger_event_id, "
         "trigger_type, trigger_at, timescale_amount, timescale_unit, timescale_source, "
         "due_date, due_at, state, consequence, consequence_text, closed_at, evidence, flags "
         "FROM obligations ORDER BY contract_id, stream, ordinal",
         21},
        {"SELECT contract_id, stream, next_change FROM streams ORDER BY contract_id, stream", 3}};
    for (const auto& [sql, columns] : queries) {
      auto st = ledger_->connection().Prepare(sql);
      EXPECT_TRUE(st.ok()) << st.status().ToString();
      if (!st.ok()) return rows;
      while (true) {
        auto row = (*st)->Step();
        EXPECT_TRUE(row.ok()) << row.status().ToString();
        if (!row.ok() || !*row) break;
        std::string text;
        for (int c = 0; c < columns; ++c) {
          text += (*st)->IsNull(c) ? "NULL" : "'" + (*st)->ColumnText(c) + "'";
          text += '|';
        }
        rows.push_back(std::move(text));
      }
    }
    return rows;
  }

  // The obligations of `contract` now are the same from the projection (brought up to date)
  // and evaluated from the events as of the clock's time.
  void ExpectProjectionIsEvaluation(const std::string& contract);

  std::string url_;
  store::testing::TestStore store_;
  FixedClock clock_{T("2026-01-05T09:00:00Z")};
  std::unique_ptr<Ledger> ledger_;
};

// Obligations in a canonical order, to compare lists whose ties (equal by MoreUrgent) may come
// in either order.
std::vector<Obligation> Canonical(std::vector<Obligation> v) {
  std::sort(v.begin(), v.end(), [](const Obligation& a, const Obligation& b) {
    return std::tie(a.trigger_at, a.trigger_event_id, a.clause, a.key, a.subject, a.state) <
           std::tie(b.trigger_at, b.trigger_event_id, b.clause, b.key, b.subject, b.state);
  });
  return v;
}

void LedgerTest::ExpectProjectionIsEvaluation(const std::string& contract) {
  auto stored = ledger_->StatusOf(contract, {});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  StatusQuery q;
  q.at = clock_.Now();
  auto evaluated = ledger_->StatusOf(contract, q);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status().ToString();
  EXPECT_EQ(Canonical(*stored), Canonical(*evaluated));
}

TEST_P(LedgerTest, RecomputeRebuildsTheIncrementalProjectionOfARandomHistory) {
  Create("c", /*bespoke=*/true);
  const int recorded = RecordRandom("c", 1500, 20261129);
  EXPECT_GT(recorded, 700) << "the random history should be mostly valid";
  ASSERT_TRUE(ledger_->StatusOf("c", {}).ok());  // brings the projection up to date
  const std::vector<std::string> incremental = Projection();
  ASSERT_GT(incremental.size(), 300u);
  // A stream is listed in `streams` only while its result will change.
  auto listed = [&](const char* where) {
    auto st = ledger_->connection().Prepare(std::string("SELECT COUNT(*) FROM streams WHERE ") +
                                            where);
    EXPECT_TRUE(st.ok() && *(*st)->Step());
    return (*st)->ColumnInt(0);
  };
  EXPECT_EQ(listed("next_change IS NULL"), 0);
  EXPECT_GT(listed("next_change IS NOT NULL"), 0);

  auto r = ledger_->Recompute("c");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->contracts, 1);
  EXPECT_EQ(r->events, recorded);
  const std::vector<std::string> rebuilt = Projection();
  EXPECT_EQ(rebuilt, incremental);
  EXPECT_EQ(listed("next_change IS NULL"), 0);
  ExpectProjectionIsEvaluation("c");
}

TEST_P(LedgerTest, EventsRecordedAtOnceFromTwoConnectionsAreAllKeptAndTheirClocksRight) {
  Create("c", /*bespoke=*/false);
  clock_.Set(T("2026-06-01T09:00:00Z"));
  for (const char* p : {"p0", "p1", "p2"}) {
    NewEvent e;
    e.contract = "c";
    e.type = "person.joined";
    e.subject = p;
    e.at = T("2026-01-06T09:00:00Z");
    ASSERT_TRUE(ledger_->RecordEvent(e, {"alice", false}).ok());
  }
  auto other = Ledger::Open(url_, clock_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  // Both connections train the same three people, so they race for the same streams too.
  auto train = [](Ledger& l, const std::string& who, int offset, std::vector<Status>* out) {
    for (int i = 0; i < 40; ++i) {
      NewEvent e;
      e.contract = "c";
      e.type = "person.trained";
      e.subject = "p" + std::to_string(i % 3);
      e.at = T("2026-02-02T09:00:00Z") + std::chrono::hours(2 * i + offset);
      out->push_back(l.RecordEvent(e, {who, false}).status());
    }
  };
  std::vector<Status> mine, theirs;
  std::thread t([&] { train(**other, "bob", 1, &theirs); });
  train(*ledger_, "alice", 0, &mine);
  t.join();
  for (const Status& s : mine) EXPECT_TRUE(s.ok()) << s.ToString();
  for (const Status& s : theirs) EXPECT_TRUE(s.ok()) << s.ToString();
  auto events = ledger_->ListEvents("c");
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(events->size(), 83u);
  ExpectProjectionIsEvaluation("c");
}

// A long read of events is decoded on a second thread while the first steps through the rows
// (ledger_internal::ForEachEvent): every event comes back whole and in row order, and a row that
// cannot be decoded fails the read with its event's number, wherever it lies.
TEST_P(LedgerTest, ALongReadOfEventsComesBackWholeAndInOrderAndStopsAtADamagedRow) {
  Create("c", /*bespoke=*/false);
  store::Connection& conn = ledger_->connection();
  auto id = conn.Prepare("SELECT id FROM contracts WHERE name = 'c'");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(*(*id)->Step());
  const std::int64_t contract_id = (*id)->ColumnInt(0);
  id->reset();
  ASSERT_TRUE(conn.Execute("DELETE FROM events").ok());
  constexpr int kEvents = 60000;  // more batches past the rows decoded directly than are queued
  auto attrs_of = [](int i) -> std::string {
    switch (i % 3) {
      case 0: return "{}";
      case 1: return "{\"request\":\"R" + std::to_string(i) + "\"}";
      default: return "{\"note\":\"a \\\"quoted\\\" " + std::to_string(i) + "\"}";  // the JSON way
    }
  };
  {
    auto w = conn.BulkInsert("events", {"contract_id", "id", "type", "subject", "stream", "at",
                                        "recorded_at", "actor", "by_buyer", "note", "attrs",
                                        "supersedes"});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int i = 1; i <= kEvents; ++i) {
      (*w)->AddInt(contract_id);
      (*w)->AddInt(i);
      (*w)->AddText(i % 2 ? "person.trained" : "person.joined");
      (*w)->AddText("p" + std::to_string(i % 97));
      (*w)->AddText("person:p" + std::to_string(i % 97));
      (*w)->AddInt(1767600000000 + i);
      (*w)->AddInt(1767600000000 + 2 * i);
      (*w)->AddText(i % 5 ? "alice" : "bob");
      (*w)->AddInt(i % 7 == 0);
      (*w)->AddText(i % 11 ? "" : "note " + std::to_string(i));
      (*w)->AddText(attrs_of(i));
      i % 13 ? (*w)->AddNull() : (*w)->AddInt(i - 1);
      ASSERT_TRUE((*w)->EndRow().ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto read = [&]() -> Result<std::vector<Event>> {
    auto st = conn.Prepare(std::string("SELECT ") + ledger_internal::kEventColumns +
                           " FROM events WHERE contract_id = $1 ORDER BY id");
    if (!st.ok()) return st.status();
    (*st)->BindInt(1, contract_id);
    return ledger_internal::ReadEvents(**st);
  };
  auto events = read();
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), static_cast<size_t>(kEvents));
  for (int i = 1; i <= kEvents; ++i) {
    const Event& e = (*events)[static_cast<size_t>(i - 1)];
    SCOPED_TRACE(i);
    ASSERT_EQ(e.id, i);
    EXPECT_EQ(e.type, i % 2 ? "person.trained" : "person.joined");
    EXPECT_EQ(e.subject, "p" + std::to_string(i % 97));
    EXPECT_EQ(ledger_internal::Ms(e.at), 1767600000000 + i);
    EXPECT_EQ(ledger_internal::Ms(e.recorded_at), 1767600000000 + 2 * i);
    EXPECT_EQ(e.actor, i % 5 ? "alice" : "bob");
    EXPECT_EQ(e.by_buyer, i % 7 == 0);
    EXPECT_EQ(e.note, i % 11 ? "" : "note " + std::to_string(i));
    using Attrs = std::vector<std::pair<std::string, std::string>>;
    const Attrs want = i % 3 == 0   ? Attrs{}
                       : i % 3 == 1 ? Attrs{{"request", "R" + std::to_string(i)}}
                                    : Attrs{{"note", "a \"quoted\" " + std::to_string(i)}};
    EXPECT_EQ(e.attrs, want);
    EXPECT_EQ(e.supersedes, i % 13 ? std::nullopt : std::optional<std::int64_t>(i - 1));
  }
  // A damaged row among those decoded directly, then among those decoded by the second thread:
  // in its first batch (while the reader fills the queue) and in a late one.
  for (int damaged : {100, 3000, 50000}) {
    SCOPED_TRACE(damaged);
    ASSERT_TRUE(conn.Execute("UPDATE events SET attrs = '[1]' WHERE id = " +
                             std::to_string(damaged))
                    .ok());
    auto failed = read();
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.status().message().find("event " + std::to_string(damaged) + ":"),
              std::string::npos)
        << failed.status().ToString();
    ASSERT_TRUE(conn.Execute("UPDATE events SET attrs = '{}' WHERE id = " +
                             std::to_string(damaged))
                    .ok());
  }
  // The decoding thread meets the damaged row while the reader waits for room in the queue: it
  // is held at its first event until the reader has filled the queue. The read must still end,
  // with the damaged row's error.
  ASSERT_TRUE(conn.Execute("UPDATE events SET attrs = '[1]' WHERE id = 3000").ok());
  auto st = conn.Prepare(std::string("SELECT ") + ledger_internal::kEventColumns +
                         " FROM events WHERE contract_id = $1 ORDER BY id");
  ASSERT_TRUE(st.ok());
  (*st)->BindInt(1, contract_id);
  std::int64_t taken = 0;
  Status held = ledger_internal::ForEachEvent(**st, [&](Event&& e) {
    if (++taken == 2049) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LT(e.id, 3000);
  });
  ASSERT_FALSE(held.ok());
  EXPECT_NE(held.message().find("event 3000:"), std::string::npos) << held.ToString();
  EXPECT_EQ(taken, 2999);
}

TEST_P(LedgerTest, RecomputeOfOneContractLeavesTheOthersAsTheyWere) {
  Create("a", /*bespoke=*/false);
  Create("b", /*bespoke=*/true);
  RecordRandom("a", 400, 7);
  RecordRandom("b", 400, 8);
  ASSERT_TRUE(ledger_->StatusOf("a", {}).ok());
  ASSERT_TRUE(ledger_->StatusOf("b", {}).ok());
  const std::vector<std::string> before = Projection();

  auto one = ledger_->Recompute("a");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(Projection(), before);
  auto all = ledger_->Recompute("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->contracts, 2);
  EXPECT_EQ(Projection(), before);
  ExpectProjectionIsEvaluation("a");
  ExpectProjectionIsEvaluation("b");
}

// Recompute writes only the streams whose rows differ from the stored ones, or everything when
// most differ: either way the projection ends as the events give it.
TEST_P(LedgerTest, RecomputeRepairsADamagedProjection) {
  Create("c", /*bespoke=*/true);
  RecordRandom("c", 800, 3);
  ASSERT_TRUE(ledger_->StatusOf("c", {}).ok());
  const std::vector<std::string> good = Projection();
  ASSERT_GT(good.size(), 300u);
  const std::vector<std::pair<const char*, std::vector<const char*>>> damages = {
      {"a few rows changed, removed, added, and a stream's next change lost",
       {"UPDATE obligations SET state = 'met' WHERE ordinal = 0 AND stream LIKE 'person:p1%'",
        "UPDATE obligations SET flags = 'x' WHERE stream LIKE 'person:p4%' AND ordinal = 0",
        "UPDATE obligations SET due_at = NULL WHERE stream = 'incident:INC-0' AND ordinal = 0",
        "DELETE FROM obligations WHERE stream LIKE 'person:p2%' AND ordinal = 1",
        "INSERT INTO obligations SELECT contract_id, 'person:nobody', ordinal, clause, key, "
        "title, subject, trigger_event_id, trigger_type, trigger_at, timescale_amount, "
        "timescale_unit, timescale_source, due_date, due_at, state, consequence, "
        "consequence_text, closed_at, evidence, flags FROM obligations WHERE stream LIKE "
        "'person:p5%'",
        "INSERT INTO streams (contract_id, stream, next_change) VALUES (1, 'erasure:gone', 5)",
        "UPDATE streams SET next_change = 17 WHERE stream LIKE 'person:p3%'",
        "DELETE FROM streams WHERE stream LIKE 'incident:INC-1%'"}},
      {"most rows changed", {"UPDATE obligations SET title = 'x' WHERE ordinal % 3 <> 2"}},
      {"nothing stored", {"DELETE FROM obligations", "DELETE FROM streams"}},
  };
  // A rewrite of the whole projection sorts its index with settings of its own (SQLite), and
  // leaves the connection's as they were.
  auto cache_size = [&]() -> std::int64_t {
    if (ledger_->connection().engine() != store::Engine::kSqlite) return 0;
    auto st = ledger_->connection().Prepare("PRAGMA cache_size");
    EXPECT_TRUE(st.ok() && *(*st)->Step());
    return (*st)->ColumnInt(0);
  };
  const std::int64_t cache = cache_size();
  for (const auto& [what, sql] : damages) {
    SCOPED_TRACE(what);
    for (const char* statement : sql) {
      ASSERT_TRUE(ledger_->connection().Execute(statement).ok()) << statement;
    }
    ASSERT_NE(Projection(), good);
    auto r = ledger_->Recompute("c");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Projection(), good);
    EXPECT_EQ(cache_size(), cache);
    auto again = ledger_->Recompute("c");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->obligations, r->obligations);
    EXPECT_EQ(Projection(), good);
  }
}

TEST_P(LedgerTest, RecomputeFilesEventsByTheRulesStreamWhereTheStoredStreamDisagrees) {
  Create("c", /*bespoke=*/false);
  RecordRandom("c", 300, 11);
  ASSERT_TRUE(ledger_->StatusOf("c", {}).ok());
  const std::vector<std::string> before = Projection();
  // As if written by a version whose rules filed this person's events elsewhere.
  ASSERT_TRUE(ledger_->connection()
                  .Execute("UPDATE events SET stream = 'person:elsewhere' WHERE stream = "
                           "'person:p3'")
                  .ok());
  auto r = ledger_->Recompute("c");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Projection(), before);
}

TEST_P(LedgerTest, StatusPagesCoverTheWholeListOnceInUrgencyOrder) {
  Create("c", /*bespoke=*/true);
  RecordRandom("c", 600, 5);
  for (bool from_events : {false, true}) {
    SCOPED_TRACE(from_events ? "as of now, from the events" : "from the projection");
    StatusQuery q;
    if (from_events) q.at = clock_.Now();
    auto all = ledger_->StatusOf("c", q);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_GT(all->size(), 100u);
    std::vector<Obligation> pages;
    for (q.offset = 0;; q.offset += 37) {
      q.limit = 37;
      auto page = ledger_->StatusOf("c", q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_LE(page->size(), 37u);
      if (page->empty()) break;
      pages.insert(pages.end(), page->begin(), page->end());
    }
    EXPECT_TRUE(std::is_sorted(pages.begin(), pages.end(), MoreUrgent));
    EXPECT_EQ(Canonical(pages), Canonical(*all));
  }
}

TEST_P(LedgerTest, StatusPagesOfOneStateCoverThatStatesListOnceInUrgencyOrder) {
  Create("c", /*bespoke=*/true);
  RecordRandom("c", 600, 7);
  auto all = ledger_->StatusOf("c", {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (ObligationState state :
       {ObligationState::kOpen, ObligationState::kMet, ObligationState::kMetLate,
        ObligationState::kBreached, ObligationState::kSuspended, ObligationState::kSuperseded}) {
    SCOPED_TRACE(std::string(ObligationStateName(state)));
    std::vector<Obligation> expected;
    for (const Obligation& o : *all) {
      if (o.state == state) expected.push_back(o);
    }
    StatusQuery q;
    q.state = state;
    auto listed = ledger_->StatusOf("c", q);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    EXPECT_EQ(Canonical(*listed), Canonical(expected));
    std::vector<Obligation> pages;
    for (q.offset = 0;; q.offset += 11) {
      q.limit = 11;
      auto page = ledger_->StatusOf("c", q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      if (page->empty()) break;
      pages.insert(pages.end(), page->begin(), page->end());
    }
    EXPECT_TRUE(std::is_sorted(pages.begin(), pages.end(), MoreUrgent));
    EXPECT_EQ(Canonical(pages), Canonical(expected));
  }
}

// Obligations tied on urgency, due and trigger come in the order of their clause, key, subject,
// stream and ordinal, each compared byte by byte (on PostgreSQL the five are one term of the
// index): a text that is the start of another comes first, and ordinal 2 before 10.
TEST_P(LedgerTest, TiesOfUrgencyGoByClauseKeySubjectStreamAndOrdinal) {
  Create("c", /*bespoke=*/false);
  store::Connection& conn = ledger_->connection();
  ASSERT_TRUE(conn.Execute("DELETE FROM obligations").ok());
  using Row = std::tuple<std::string, std::string, std::string, std::string, std::int64_t>;
  std::vector<Row> rows;
  std::int64_t ordinal = 100;
  for (const char* clause : {"9.3", "9.3.1", "9.10"}) {
    for (const char* key : {"k", "k_a", "ka"}) {
      for (const char* subject : {"F-1", "F-10", "F-1 "}) {
        rows.emplace_back(clause, key, subject, "vuln:F-1", ordinal++);
      }
    }
  }
  for (const char* stream : {"vuln:F-10", "vuln:F-1 ", "vuln:F-"}) {
    rows.emplace_back("9.3", "k", "F-1", stream, 0);
  }
  for (std::int64_t o : {2, 10, 0}) rows.emplace_back("9.3", "k", "F-1", "vuln:F-1", o);
  for (const Row& r : rows) {
    auto st = conn.Prepare(
        "INSERT INTO obligations (contract_id, stream, ordinal, clause, key, title, subject, "
        "trigger_event_id, trigger_type, trigger_at, timescale_source, due_at, state, "
        "consequence, consequence_text, evidence, flags) VALUES (1, $1, $2, $3, $4, 't', $5, 0, "
        "'patch.released', 1000, 'contract', 5000, 'open', 'Default', '', '', '')");
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    (*st)->BindText(1, std::get<3>(r));
    (*st)->BindInt(2, std::get<4>(r));
    (*st)->BindText(3, std::get<0>(r));
    (*st)->BindText(4, std::get<1>(r));
    (*st)->BindText(5, std::get<2>(r));
    ASSERT_TRUE((*st)->Run().ok());
  }
  std::vector<Row> expected = rows;
  std::sort(expected.begin(), expected.end());
  auto st = conn.Prepare("SELECT clause, key, subject, stream, ordinal FROM obligations WHERE "
                         "contract_id = 1 ORDER BY " +
                         ledger_internal::UrgencyOrder(conn.engine()));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::vector<Row> listed;
  while (true) {
    auto row = (*st)->Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    if (!*row) break;
    listed.emplace_back((*st)->ColumnText(0), (*st)->ColumnText(1), (*st)->ColumnText(2),
                        (*st)->ColumnText(3), (*st)->ColumnInt(4));
  }
  EXPECT_EQ(listed, expected);
}

// A page is read from obligations_by_urgency in the index's order: the cost of a page is the walk
// to its offset, never a sort of every obligation of the contract.
TEST_P(LedgerTest, APageOfStatusIsReadInTheOrderOfTheIndexWithoutASort) {
  Create("c", /*bespoke=*/false);
  RecordRandom("c", 200, 3);
  store::Connection& conn = ledger_->connection();
  const bool postgres = conn.engine() == store::Engine::kPostgres;
  if (postgres) {
    // A small table is cheaper to sort than to walk by index: ask for the walk, so that the plan
    // shows whether the index can give the order at all (a Sort node would remain if not).
    ASSERT_TRUE(conn.Execute("SET enable_seqscan = off; SET enable_sort = off").ok());
  }
  std::vector<std::string> filters = {""};
  for (ObligationState state :
       {ObligationState::kOpen, ObligationState::kBreached, ObligationState::kMet}) {
    filters.push_back(" AND state = '" + std::string(ObligationStateName(state)) + "' AND " +
                      ledger_internal::UrgencyRankOf(state));
  }
  for (const std::string& filter : filters) {
    SCOPED_TRACE(filter);
    auto st =
        conn.Prepare(std::string(postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") +
                     "SELECT * FROM obligations WHERE contract_id = 1" + filter + " ORDER BY " +
                     ledger_internal::UrgencyOrder(conn.engine()) + " LIMIT 100 OFFSET 1000");
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::string plan;
    while (true) {
      auto row = (*st)->Step();
      ASSERT_TRUE(row.ok()) << row.status().ToString();
      if (!*row) break;
      plan += (*st)->ColumnText(postgres ? 0 : 3) + "\n";
    }
    EXPECT_NE(plan.find("obligations_by_urgency"), std::string::npos) << plan;
    EXPECT_EQ(plan.find(postgres ? "Sort" : "B-TREE"), std::string::npos) << plan;
  }
}

// Migration 14 (PostgreSQL): a store whose urgency index still has migration 13's form (the
// ordinal as ten digits of text, joined by chr(1)) gets the index the ledger's queries order by.
TEST_P(LedgerTest, AStoreWithMigration13sUrgencyIndexGetsTheOneItsQueriesUse) {
  store::Connection& conn = ledger_->connection();
  if (conn.engine() != store::Engine::kPostgres) GTEST_SKIP() << "PostgreSQL's index only";
  ASSERT_TRUE(conn.Execute("DROP INDEX obligations_by_urgency; CREATE INDEX "
                           "obligations_by_urgency ON obligations (contract_id, trigger_at, "
                           "((clause || chr(1) || key || chr(1) || subject || chr(1) || stream "
                           "|| chr(1) || lpad(ordinal::text, 10, '0')) COLLATE \"C\")); "
                           // The store as migration 13 left it: what the later ones did undone.
                           "ALTER TABLE reports DROP COLUMN html_zstd, DROP COLUMN json_zstd; "
                           "ALTER TABLE audit_logs DROP COLUMN checkpoints; "
                           "ALTER TABLE audit_blocks DROP COLUMN kinds, DROP COLUMN data_sha256; "
                           "ALTER TABLE audit_tail DROP COLUMN data_sha256; "
                           "DELETE FROM schema_migrations WHERE version >= 14")
                  .ok());
  ledger_.reset();
  auto ledger = Ledger::Open(url_, clock_);  // migrates
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ledger_ = std::move(*ledger);
  store::Connection& again = ledger_->connection();
  // This schema's index only: other tests drop their schemas meanwhile.
  auto def = again.Prepare("SELECT pg_get_indexdef('obligations_by_urgency'::regclass)");
  ASSERT_TRUE(def.ok() && *(*def)->Step());
  const std::string text = (*def)->ColumnText(0);
  EXPECT_EQ(text.find("lpad"), std::string::npos) << text;
  EXPECT_EQ(text.find("chr(1)"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("COLLATE \"C\", ordinal)")) << text;
  def->reset();
  ASSERT_TRUE(again.Execute("SET enable_seqscan = off; SET enable_sort = off").ok());
  auto plan = again.Prepare("EXPLAIN SELECT * FROM obligations WHERE contract_id = 1 ORDER BY " +
                            ledger_internal::UrgencyOrder(again.engine()) + " LIMIT 10");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string lines;
  while (*(*plan)->Step()) lines += (*plan)->ColumnText(0) + "\n";
  EXPECT_NE(lines.find("obligations_by_urgency"), std::string::npos) << lines;
  EXPECT_EQ(lines.find("Sort"), std::string::npos) << lines;
}

// Migration 20 (PostgreSQL, where the audit tables live in the store itself; on SQLite the audit
// file's migration 7, tested in audit_test.cc): the index of the audit blocks by host goes.
TEST_P(LedgerTest, AStoreWithAnIndexOfAuditBlocksByHostLosesIt) {
  store::Connection& conn = ledger_->connection();
  if (conn.engine() != store::Engine::kPostgres) GTEST_SKIP() << "PostgreSQL's store only";
  const auto indexes = [](store::Connection& c) -> std::int64_t {
    // This schema's index only: other tests have schemas of their own.
    auto st = c.Prepare("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND indexname = 'audit_blocks_by_host'");
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok() || !*(*st)->Step()) return -1;
    return (*st)->ColumnInt(0);
  };
  EXPECT_EQ(indexes(conn), 0);
  ASSERT_TRUE(conn.Execute("CREATE INDEX audit_blocks_by_host ON audit_blocks (contract_id, "
                           "log_kind, host, chunk_no); DELETE FROM schema_migrations WHERE "
                           "version >= 20")
                  .ok());
  EXPECT_EQ(indexes(conn), 1);
  ledger_.reset();
  auto ledger = Ledger::Open(url_, clock_);  // migrates
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ledger_ = std::move(*ledger);
  EXPECT_EQ(indexes(ledger_->connection()), 0);
}

TEST_P(LedgerTest, AnEventIsKnownBackdatedAtItsRecordingAsAReadOfTheContractThenFindsIt) {
  Create("c", /*bespoke=*/false);
  int backdated = 0, timely = 0, policy = 0;
  on_recorded_ = [&](const Event& e) {
    std::optional<bool> told = ledger_->RecordedBackdated("c", e.id);
    EXPECT_FALSE(ledger_->RecordedBackdated("other", e.id).has_value());
    EXPECT_FALSE(ledger_->RecordedBackdated("c", e.id + 1).has_value());
    if (e.type == "policy.changed") {  // it changes the policy in force: the contract is read
      EXPECT_FALSE(told.has_value());
      ++policy;
      return;
    }
    ASSERT_TRUE(told.has_value()) << e.type;
    auto context = ledger_->Context("c");
    ASSERT_TRUE(context.ok()) << context.status().ToString();
    EXPECT_EQ(*told,
              IsBackdated(e, context->calendar, PolicyInForce(context->versions, LondonDate(e.at))))
        << "event " << e.id << " " << e.type;
    ++(*told ? backdated : timely);
  };
  RecordRandom("c", 300, 5);
  EXPECT_GT(backdated, 0);
  EXPECT_GT(timely, 0);
  EXPECT_GT(policy, 0);
  // A refused event leaves nothing to tell of the event recorded before it.
  on_recorded_ = nullptr;
  NewEvent joined;
  joined.contract = "c";
  joined.type = "person.joined";
  joined.subject = "p-last";
  auto recorded = ledger_->RecordEvent(joined, {"alice", false});
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(ledger_->RecordedBackdated("c", recorded->id), std::optional<bool>(false));
  NewEvent refused = joined;
  refused.type = "no.such.type";
  EXPECT_FALSE(ledger_->RecordEvent(refused, {"alice", false}).ok());
  EXPECT_FALSE(ledger_->RecordedBackdated("c", recorded->id).has_value());
}

TEST_P(LedgerTest, OverviewCountsAndListsWhatNeedsAttention) {
  Create("c", /*bespoke=*/false);
  RecordRandom("c", 600, 9);
  auto all = ledger_->StatusOf("c", {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (bool from_events : {false, true}) {
    SCOPED_TRACE(from_events ? "as of now, from the events" : "from the projection");
    OverviewQuery q;
    if (from_events) q.at = clock_.Now();
    q.horizon = std::chrono::hours(24 * 400);
    q.limit = 1000;
    auto v = ledger_->Overview("c", q);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->as_of, clock_.Now());
    EXPECT_EQ(v->due_by, clock_.Now() + q.horizon);
    std::vector<Obligation> breached, due;
    std::int64_t open = 0, suspended = 0, met_late = 0;
    for (const Obligation& o : *all) {
      if (o.state == ObligationState::kBreached) breached.push_back(o);
      if (o.state == ObligationState::kOpen) ++open;
      if (o.state == ObligationState::kOpen && o.due_at && *o.due_at <= v->due_by) due.push_back(o);
      if (o.state == ObligationState::kSuspended) ++suspended;
      if (o.state == ObligationState::kMetLate) ++met_late;
    }
    ASSERT_FALSE(breached.empty());
    ASSERT_FALSE(due.empty());
    EXPECT_EQ(v->breached, static_cast<std::int64_t>(breached.size()));
    EXPECT_EQ(v->open, open);
    EXPECT_EQ(v->due_soon, static_cast<std::int64_t>(due.size()));
    EXPECT_EQ(v->suspended, suspended);
    EXPECT_EQ(v->met_late, met_late);
    EXPECT_EQ(Canonical(v->most_urgent_breached), Canonical(breached));
    EXPECT_EQ(Canonical(v->next_due), Canonical(due));

    // With a small limit: the most urgent few, none less urgent than one left out.
    q.limit = 3;
    auto few = ledger_->Overview("c", q);
    ASSERT_TRUE(few.ok()) << few.status().ToString();
    ASSERT_EQ(few->most_urgent_breached.size(), std::min<size_t>(3, breached.size()));
    ASSERT_EQ(few->next_due.size(), std::min<size_t>(3, due.size()));
    EXPECT_EQ(few->breached, v->breached);
    for (const auto& [shown, every] :
         {std::pair(&few->most_urgent_breached, &breached), std::pair(&few->next_due, &due)}) {
      EXPECT_TRUE(std::is_sorted(shown->begin(), shown->end(), MoreUrgent));
      for (size_t i = shown->size(); i < every->size(); ++i) {
        EXPECT_FALSE(MoreUrgent((*every)[i], shown->back()));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, LedgerTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace isms::app
