#include "audit/lease_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace isms::audit {
namespace {

Instant At(int minute) {
  return Instant(std::chrono::minutes(29'000'000 + minute));
}
constexpr std::chrono::minutes kHour{60};

const char* kMacA = "3c:22:fb:11:22:33";
const char* kMacB = "00:16:3e:aa:bb:cc";

class LeaseIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isms-leases-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = store::Connection::Open("sqlite:" + dir_ + "/audit.db");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conn_ = std::move(*c);
    ASSERT_TRUE(
        store::Migrate(*conn_, {{1, "leases", LeaseIndex::SchemaSql(store::Engine::kSqlite), ""}})
            .ok());
    index_ = std::make_unique<LeaseIndex>(*conn_, 3);
  }
  void TearDown() override {
    index_.reset();
    conn_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Grant(const std::string& ip, const std::string& host, const std::string& mac, int minute,
             std::uint64_t leaf, std::chrono::minutes length = kHour) {
    ASSERT_TRUE(index_->Grant(ip, host, mac, At(minute), length, leaf).ok());
  }

  // "ip host from-to first/last" per lease, minutes relative to At(0).
  std::vector<std::string> Held(const std::string& holder) {
    auto r = index_->HeldBy(holder, std::nullopt, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (const Lease& l : r.ok() ? *r : std::vector<Lease>{}) {
      auto m = [](Instant t) {
        return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(t - At(0)).count());
      };
      out.push_back(l.ip + " " + l.host + " " + m(l.from) + "-" + m(l.to) + " " +
                    std::to_string(l.first_leaf) + "/" + std::to_string(l.last_leaf));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<store::Connection> conn_;
  std::unique_ptr<LeaseIndex> index_;
};

TEST(NormalizeMac, AcceptsBothNotationsAndAnyCase) {
  EXPECT_EQ(NormalizeMac("3C-22-FB-11-22-33"), kMacA);
  EXPECT_EQ(NormalizeMac("3c:22:fb:11:22:33"), kMacA);
  EXPECT_EQ(NormalizeMac("laptop-042"), "");
  EXPECT_EQ(NormalizeMac("3c:22:fb:11:22:3g"), "");
  EXPECT_EQ(NormalizeMac("3c:22:fb:11:22:33:44"), "");
}

TEST_F(LeaseIndexTest, RenewalsExtendOneLeaseAndItExpiresAnHourAfterTheLastGrant) {
  Grant("10.0.0.5", "laptop-042", kMacA, 0, 10);
  Grant("10.0.0.5", "laptop-042", kMacA, 30, 11);
  Grant("10.0.0.5", "laptop-042", kMacA, 60, 12);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 0-120 10/12"}));
  // After the lease lapsed, a new grant is a new lease.
  Grant("10.0.0.5", "laptop-042", kMacA, 200, 13);
  EXPECT_EQ(Held(kMacA), (std::vector<std::string>{"10.0.0.5 laptop-042 0-120 10/12",
                                                   "10.0.0.5 laptop-042 200-260 13/13"}));
  EXPECT_EQ(Held("3C-22-FB-11-22-33").size(), 2u) << "the MAC in either notation";
}

TEST_F(LeaseIndexTest, AGrantToAnotherHolderEndsTheLeaseAndAReleaseEndsIt) {
  Grant("10.0.0.5", "laptop-042", kMacA, 0, 1);
  Grant("10.0.0.5", "desktop-007", kMacB, 20, 2);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 0-20 1/1"}));
  EXPECT_EQ(Held("desktop-007"), (std::vector<std::string>{"10.0.0.5 desktop-007 20-80 2/2"}));
  // A release by someone who does not hold the address changes nothing.
  ASSERT_TRUE(index_->Release("10.0.0.5", "laptop-042", kMacA, At(30), 3).ok());
  EXPECT_EQ(Held("desktop-007"), (std::vector<std::string>{"10.0.0.5 desktop-007 20-80 2/2"}));
  ASSERT_TRUE(index_->Release("10.0.0.5", "", kMacB, At(40), 4).ok());
  EXPECT_EQ(Held("desktop-007"), (std::vector<std::string>{"10.0.0.5 desktop-007 20-40 2/4"}));
}

TEST_F(LeaseIndexTest, AGrantThatArrivesLateStopsAtTheNextHoldersLease) {
  Grant("10.0.0.5", "desktop-007", kMacB, 50, 2);
  Grant("10.0.0.5", "laptop-042", kMacA, 20, 1);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 20-50 1/1"}));
  // The same holder's later lease merges with an earlier grant that reaches it.
  Grant("10.0.0.6", "laptop-042", kMacA, 100, 4);
  Grant("10.0.0.6", "laptop-042", kMacA, 70, 3);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 20-50 1/1",
                                                          "10.0.0.6 laptop-042 70-160 3/4"}));
}

TEST_F(LeaseIndexTest, ARenamedHostStartsANewLeaseAndANamelessRenewalKeepsTheName) {
  Grant("10.0.0.5", "laptop-042", kMacA, 0, 1);
  Grant("10.0.0.5", "", kMacA, 30, 2);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 0-90 1/2"}));
  Grant("10.0.0.5", "laptop-043", kMacA, 40, 3);
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.5 laptop-042 0-40 1/2"}));
  EXPECT_EQ(Held("laptop-043"), (std::vector<std::string>{"10.0.0.5 laptop-043 40-100 3/3"}));
}

TEST_F(LeaseIndexTest, HoldersWithoutMacsAreKnownByName) {
  Grant("10.0.0.5", "printer-1", "", 0, 1);
  Grant("10.0.0.5", "printer-1", "", 30, 2);
  Grant("10.0.0.5", "printer-2", "", 60, 3);
  EXPECT_EQ(Held("printer-1"), (std::vector<std::string>{"10.0.0.5 printer-1 0-60 1/2"}));
  auto of = index_->OfAddress("10.0.0.5", At(59), At(61));
  ASSERT_TRUE(of.ok());
  ASSERT_EQ(of->size(), 2u);
  EXPECT_EQ((*of)[1].host, "printer-2");
}

TEST_F(LeaseIndexTest, QueriesSelectLeasesOverlappingTheRange) {
  Grant("10.0.0.5", "laptop-042", kMacA, 0, 1);
  Grant("10.0.0.7", "laptop-042", kMacA, 300, 2);
  auto r = index_->HeldBy("laptop-042", At(60), At(301));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u) << "[0, 60) ends as the range begins";
  EXPECT_EQ((*r)[0].ip, "10.0.0.7");
}

TEST_F(LeaseIndexTest, AnErasuresRebuildReplacesTheLeasesAndRetentionDropsThem) {
  Grant("10.0.0.5", "laptop-042", kMacA, 0, 1);
  Grant("10.0.0.6", "laptop-042", kMacA, 300, 2);
  // As an erasure of leaf 1 rebuilds it: the lease it began is gone.
  const std::vector<Lease> rebuilt = {Lease{"10.0.0.6", "laptop-042", kMacA, At(300),
                                            At(300) + kHour, 2, 2}};
  ASSERT_TRUE(index_->ReplaceAll(rebuilt).ok());
  EXPECT_EQ(Held("laptop-042"), (std::vector<std::string>{"10.0.0.6 laptop-042 300-360 2/2"}));
  ASSERT_TRUE(index_->DropEndedBefore(At(361)).ok());
  EXPECT_TRUE(Held("laptop-042").empty());
}

// "ip host/mac from-to first/last" for each row, to compare the stored index and its rebuild.
std::vector<std::string> Describe(const std::vector<Lease>& rows) {
  std::vector<std::string> out;
  for (const Lease& l : rows) {
    out.push_back(l.ip + " " + l.host + "/" + l.mac + " " +
                  std::to_string(l.from.time_since_epoch().count()) + "-" +
                  std::to_string(l.to.time_since_epoch().count()) + " " +
                  std::to_string(l.first_leaf) + "/" + std::to_string(l.last_leaf));
  }
  return out;
}

// The rebuild verify relies on gives exactly the stored rows for any sequence of grants and
// releases: in and out of time order, at the same millisecond, holders with and without MACs,
// renamed hosts, releases by holders and by others, then a retention drop.
TEST_F(LeaseIndexTest, TheRebuildInMemoryGivesTheStoredRowsForAnySequence) {
  std::mt19937_64 rng(20261129);
  const std::vector<std::string> ips = {"10.0.0.5", "10.0.0.6", "10.0.0.7"};
  const std::vector<std::pair<std::string, std::string>> holders = {
      {"laptop-042", kMacA}, {"", kMacA}, {"laptop-043", kMacA}, {"desktop-007", kMacB},
      {"printer-1", ""},     {"printer-2", ""}};
  LeaseReplay replay;
  for (std::uint64_t leaf = 0; leaf < 3000; ++leaf) {
    const std::string& ip = ips[rng() % ips.size()];
    const auto& [host, mac] = holders[rng() % holders.size()];
    // Mostly forward in time, sometimes late, often on the same few minutes.
    const int minute = static_cast<int>(leaf / 3) + static_cast<int>(rng() % 90) - 60;
    const Instant at = At(minute) + std::chrono::milliseconds(rng() % 3 == 0 ? 0 : 500);
    if (rng() % 5 == 0) {
      ASSERT_TRUE(index_->Release(ip, host, mac, at, leaf).ok());
      ASSERT_TRUE(replay.Release(ip, host, mac, at, leaf).ok());
    } else {
      const std::chrono::milliseconds length = std::chrono::minutes(rng() % 2 ? 60 : 15);
      ASSERT_TRUE(index_->Grant(ip, host, mac, at, length, leaf).ok());
      ASSERT_TRUE(replay.Grant(ip, host, mac, at, length, leaf).ok());
    }
    if (leaf % 97 == 0) {
      auto stored = index_->All();
      ASSERT_TRUE(stored.ok()) << stored.status().ToString();
      ASSERT_EQ(Describe(*stored), Describe(replay.Rows())) << "after leaf " << leaf;
    }
  }
  ASSERT_TRUE(index_->DropEndedBefore(At(400)).ok());
  replay.DropEndedBefore(At(400));
  auto stored = index_->All();
  ASSERT_TRUE(stored.ok());
  EXPECT_GT(stored->size(), 100u);
  EXPECT_EQ(Describe(*stored), Describe(replay.Rows()));
}

TEST(LeaseReplay, ASeededLeaseIsExtendedByLaterGrantsAsTheStoredOneWas) {
  LeaseReplay replay;
  ASSERT_TRUE(replay.Seed(Lease{"10.0.0.5", "laptop-042", kMacA, At(0), At(60), 1, 1}).ok());
  EXPECT_FALSE(replay.Seed(Lease{"10.0.0.5", "x", "", At(0), At(5), 2, 2}).ok())
      << "two leases of one address cannot start at once";
  ASSERT_TRUE(replay.Grant("10.0.0.5", "laptop-042", kMacA, At(30), kHour, 7).ok());
  EXPECT_EQ(Describe(replay.Rows()),
            Describe({Lease{"10.0.0.5", "laptop-042", kMacA, At(0), At(90), 1, 7}}));
}

}  // namespace
}  // namespace isms::audit
