// The API's audit records (api_audit.cc) on SQLite and PostgreSQL: NDJSON ingest committed
// before the answer, search with the filters of `isms audit search`, export, checkpoints and
// proofs a Buyer verifies offline, verification, retention, the store's access log.
#include <gtest/gtest.h>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/proof.h"
#include "net/api_test_util.h"

namespace isms::net::testing {
namespace {

// `n` JSON lines from `host`, one a minute from 2026-03-01T09:00Z.
std::string Lines(int n, const std::string& host, const std::string& user = "alice") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    char time[32];
    std::snprintf(time, sizeof time, "2026-03-01T%02d:%02d:00Z", 9 + i / 60, i % 60);
    out += json{{"time", time},
                {"host", host},
                {"app", "sshd"},
                {"user", user},
                {"message", "Accepted publickey for " + user + " from 10.0.0.9 port " +
                                std::to_string(50000 + i) + " ssh2"}}
               .dump() +
           "\n";
  }
  return out;
}

class AuditApi : public ApiTest {
 protected:
  Reply Ingest(const std::string& user, const std::string& target, const std::string& body) {
    return Api(user, "POST", target, body, {{"Content-Type", "application/x-ndjson"}});
  }
  // Records of `host` in acme's log, read through a connection of the test's own.
  std::vector<app::AuditHit> Stored(const std::string& host) {
    auto audit = app::AuditService::Open(store_.url, store_.dir + "/keys", clock_);
    EXPECT_TRUE(audit.ok()) << audit.status().ToString();
    std::vector<app::AuditHit> out;
    if (!audit.ok()) return out;
    app::AuditSearchRequest r;
    r.contract = "acme";
    r.host = host;
    Status st = (*audit)->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
      out.push_back(std::move(h));
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  audit::NoteVerifier Verifier() {
    Reply key = Api("buyer", "GET", "/api/v1/audit/public-key");
    EXPECT_EQ(key.status, 200);
    std::string k = key.body;
    while (!k.empty() && k.back() == '\n') k.pop_back();
    auto v = audit::NoteVerifier::Decode(k);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return *v;
  }
};

TEST_P(AuditApi, IngestedRecordsAreCommittedWhenTheAnswerComes) {
  Reply r = Ingest("engineer", "/api/v1/contracts/acme/audit/records", Lines(120, "web-01"));
  ASSERT_EQ(r.status, 200) << r.body;
  json res = Json(r);
  EXPECT_EQ(res["records"], 120);
  EXPECT_EQ(res["categories"], json({{"remote-session-start", 120}})) << res.dump();
  EXPECT_NE(res["checkpoint"].get<std::string>().find("isms/acme/audit"), std::string::npos);
  // No flush, no wait: another connection reads them now.
  std::vector<app::AuditHit> stored = Stored("web-01");
  ASSERT_EQ(stored.size(), 120u);
  EXPECT_EQ(stored[7].record.message, "Accepted publickey for alice from 10.0.0.9 port 50007 ssh2");
}

TEST_P(AuditApi, TheCallersOnlyContractOrTheOneNamed) {
  ASSERT_EQ(Ingest("engineer", "/api/v1/audit/records", Lines(3, "db-01")).status, 200);
  EXPECT_EQ(Stored("db-01").size(), 3u);
  ASSERT_TRUE(access_->Grant("officer", "other", app::Actor{"setup", false}).ok());
  Reply two = Ingest("officer", "/api/v1/audit/records", Lines(1, "db-02"));
  EXPECT_EQ(two.status, 400);
  EXPECT_NE(two.body.find("?contract=NAME"), std::string::npos) << two.body;
  EXPECT_EQ(Ingest("officer", "/api/v1/audit/records?contract=acme", Lines(1, "db-02")).status,
            200);
  EXPECT_EQ(Ingest("engineer", "/api/v1/audit/records?contract=other", Lines(1, "x")).status,
            404);
  EXPECT_EQ(Ingest("auditor", "/api/v1/audit/records", Lines(1, "x")).status, 403);
  EXPECT_EQ(Ingest("buyer", "/api/v1/contracts/acme/audit/records", Lines(1, "x")).status, 403);
  EXPECT_EQ(Ingest("admin", "/api/v1/audit/records", Lines(1, "x")).status, 403);
  EXPECT_EQ(Ingest("", "/api/v1/audit/records", Lines(1, "x")).status, 401);
  EXPECT_TRUE(Stored("x").empty());
}

TEST_P(AuditApi, ABadLineRefusesTheWholeBodyNamingIt) {
  std::string body = Lines(2, "web-01") + "{\"time\":\"2026-03-01T10:00:00Z\",\"host\":5}\n";
  Reply r = Ingest("engineer", "/api/v1/contracts/acme/audit/records", body);
  EXPECT_EQ(r.status, 400);
  std::string message = Json(r)["error"]["message"];
  EXPECT_NE(message.find("nothing was ingested"), std::string::npos) << message;
  EXPECT_NE(message.find("body:3:"), std::string::npos) << message;
  EXPECT_TRUE(Stored("web-01").empty());
  EXPECT_EQ(Ingest("engineer", "/api/v1/contracts/acme/audit/records", "\n").status, 400);
  Reply syslog = Ingest("engineer", "/api/v1/contracts/acme/audit/records?format=syslog",
                        "<34>1 2026-03-01T10:00:00Z web-02 sshd 42 - - Failed password for bob\n");
  EXPECT_EQ(syslog.status, 200) << syslog.body;
  EXPECT_EQ(Stored("web-02").size(), 1u);
}

TEST_P(AuditApi, SearchFiltersAndPagesAsTheCommandLine) {
  ASSERT_EQ(Ingest("engineer", "/api/v1/contracts/acme/audit/records",
                   Lines(130, "web-01") + Lines(5, "db-01", "bob"))
                .status,
            200);
  std::vector<json> web = Walk("buyer", "/api/v1/contracts/acme/audit/records?host=web-01", 50,
                               "leaf");
  ASSERT_EQ(web.size(), 130u);
  EXPECT_EQ(web[0]["message"], "Accepted publickey for alice from 10.0.0.9 port 50000 ssh2");
  EXPECT_EQ(web[0]["category"], "remote-session-start");
  json bob = Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/records?user=bob"));
  EXPECT_EQ(bob["items"].size(), 5u);
  json text = Json(Api("auditor", "GET",
                       "/api/v1/contracts/acme/audit/records?text=port%2050129&host=web-01"));
  ASSERT_EQ(text["items"].size(), 1u) << text.dump();
  json range = Json(Api("auditor", "GET",
                        "/api/v1/contracts/acme/audit/records?host=web-01&from=2026-03-01T10:00:00Z"
                        "&to=2026-03-01T10:05:00Z"));
  EXPECT_EQ(range["items"].size(), 5u);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/audit/records?from=yesterday").status,
            400);
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/audit/records").status, 404);
  EXPECT_EQ(Api("admin", "GET", "/api/v1/contracts/acme/audit/records").status, 403);

  Reply csv = Api("auditor", "GET",
                  "/api/v1/contracts/acme/audit/export?from=2026-03-01&to=2026-03-01&format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body.rfind("leaf,time,received,", 0), 0u);
  Reply jsonl =
      Api("auditor", "GET", "/api/v1/contracts/acme/audit/export?from=2026-03-01&to=2026-03-01");
  ASSERT_EQ(jsonl.status, 200);
  EXPECT_EQ(std::count(jsonl.body.begin(), jsonl.body.end(), '\n'), 135);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/audit/export").status, 400);
}

TEST_P(AuditApi, LeasesOfAHostAndAnAddress) {
  std::string dhcp =
      json{{"time", "2026-03-01T08:00:00Z"},
           {"host", "gw-01"},
           {"app", "dhcpd"},
           {"message", "DHCPACK on 10.0.0.5 to aa:bb:cc:dd:ee:ff (laptop-042) via eth0"}}
          .dump() +
      "\n";
  ASSERT_EQ(Ingest("engineer", "/api/v1/contracts/acme/audit/records", dhcp).status, 200);
  json by_host = Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/leases?host=laptop-042"));
  ASSERT_EQ(by_host["items"].size(), 1u) << by_host.dump(2);
  EXPECT_EQ(by_host["items"][0]["ip"], "10.0.0.5");
  EXPECT_EQ(by_host["items"][0]["mac"], "aa:bb:cc:dd:ee:ff");
  json by_ip = Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/leases?ip=10.0.0.5"));
  EXPECT_EQ(by_ip["items"].size(), 1u);
  EXPECT_EQ(Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/leases?ip=10.0.0.6"))["items"]
                .size(),
            0u);
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/audit/leases").status, 404);
}

TEST_P(AuditApi, CheckpointsAndProofsVerifyOfflineWithThePublicKey) {
  Reply first = Ingest("engineer", "/api/v1/contracts/acme/audit/records", Lines(10, "web-01"));
  ASSERT_EQ(first.status, 200);
  Reply kept = Api("buyer", "GET", "/api/v1/contracts/acme/audit/checkpoint");
  ASSERT_EQ(kept.status, 200) << kept.body;
  EXPECT_NE(kept.Header("content-disposition").find("acme-audit-checkpoint-"), std::string::npos);
  audit::NoteVerifier verifier = Verifier();
  auto kept_checkpoint = audit::VerifyCheckpoint(kept.body, verifier);
  ASSERT_TRUE(kept_checkpoint.ok()) << kept_checkpoint.status().ToString();
  // The buyer asks for consistency from the size of the checkpoint it kept: the log's size when
  // the ingest answered may differ from it (the access log's records go on being committed).
  const std::uint64_t kept_size = kept_checkpoint->size;
  EXPECT_GE(kept_size, 10u);
  ASSERT_EQ(Ingest("engineer", "/api/v1/contracts/acme/audit/records", Lines(7, "web-02")).status,
            200);

  Reply inc = Api("buyer", "GET", "/api/v1/contracts/acme/audit/proofs/inclusion?index=3");
  ASSERT_EQ(inc.status, 200) << inc.body;
  json p = Json(inc);
  auto cp = audit::VerifyCheckpoint(p["checkpoint"].get<std::string>(), verifier);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  std::vector<audit::Hash> hashes;
  for (const json& h : p["inclusion"]["hashes"]) hashes.push_back(*audit::HashFromHex(h.get<std::string>()));
  EXPECT_TRUE(audit::VerifyInclusion(*audit::HashFromHex(p["inclusion"]["leaf_hash"].get<std::string>()),
                                     3, cp->size, hashes, cp->root)
                  .ok());

  Reply con = Api("buyer", "GET",
                  "/api/v1/contracts/acme/audit/proofs/consistency?from_size=" +
                      std::to_string(kept_size));
  ASSERT_EQ(con.status, 200) << con.body;
  json c = Json(con);
  auto now = audit::VerifyCheckpoint(c["checkpoint"].get<std::string>(), verifier);
  auto then = audit::VerifyCheckpoint(kept.body, verifier);
  ASSERT_TRUE(now.ok() && then.ok());
  std::vector<audit::Hash> chashes;
  for (const json& h : c["consistency"]["hashes"]) chashes.push_back(*audit::HashFromHex(h.get<std::string>()));
  EXPECT_TRUE(
      audit::VerifyConsistency(then->size, now->size, then->root, now->root, chashes).ok());

  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/acme/audit/proofs/inclusion").status, 400);
  EXPECT_EQ(Api("buyer", "GET", "/api/v1/contracts/acme/audit/proofs/inclusion?index=99999")
                .status / 100,
            4);
  EXPECT_EQ(Api("otherbuyer", "GET", "/api/v1/contracts/acme/audit/checkpoint").status, 404);
}

// The signing key's rotations, for a buyer who holds an earlier key: none at first; after a
// rotation, the transition note from the key served before to the key served now, which the
// note's old key opens.
TEST_P(AuditApi, KeyTransitionsLeadFromTheEarlierKeyToTheCurrentOne) {
  const audit::NoteVerifier before = Verifier();
  Reply none = Api("buyer", "GET", "/api/v1/audit/key-transitions");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(Json(none)["transitions"], json::array());
  EXPECT_EQ(Json(none)["current_key"], before.Encode());

  Result<app::AuditKeyRotation> r =
      app::RotateAuditKey(store_.dir + "/keys", ParseInstant("2026-11-30T12:00:00Z").value());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const audit::NoteVerifier after = Verifier();
  EXPECT_EQ(after.Encode(), r->new_key.Encode());
  Reply one = Api("buyer", "GET", "/api/v1/audit/key-transitions");
  ASSERT_EQ(one.status, 200) << one.body;
  json j = Json(one);
  ASSERT_EQ(j["transitions"].size(), 1u) << j.dump();
  EXPECT_EQ(j["current_key"], after.Encode());
  EXPECT_EQ(j["transitions"][0]["from"], before.Encode());
  EXPECT_EQ(j["transitions"][0]["to"], after.Encode());
  EXPECT_EQ(j["transitions"][0]["at"], "2026-11-30T12:00:00.000Z");
  Result<app::AuditKeyTransition> t =
      app::OpenAuditKeyTransition(j["transitions"][0]["note"].get<std::string>(), {&before, 1});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->to.Encode(), after.Encode());
  EXPECT_EQ(Api("", "GET", "/api/v1/audit/key-transitions").status, 401);
}

TEST_P(AuditApi, VerificationOfBothLogs) {
  ASSERT_EQ(Ingest("engineer", "/api/v1/contracts/acme/audit/records", Lines(4, "web-01")).status,
            200);
  ASSERT_EQ(Post("officer", "/api/v1/contracts/acme/events",
                 {{"type", "person.joined"}, {"subject", "alice"}})
                .status,
            201);
  json a = Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/verify"));
  EXPECT_EQ(a["ok"], true) << a.dump(2);
  EXPECT_GE(a["size"].get<int>(), 4);
  EXPECT_EQ(a["blocks_without_kinds"], 0) << a.dump(2);
  EXPECT_EQ(a["rows_without_digest"], 0) << a.dump(2);  // every row keeps its bytes' SHA-256
  json l = Json(Api("auditor", "GET", "/api/v1/contracts/acme/audit/verify?log=ledger"));
  EXPECT_EQ(l["ok"], true) << l.dump(2);
  EXPECT_EQ(l["rows_without_digest"], 0) << l.dump(2);
  EXPECT_EQ(l["events"], 1);
  EXPECT_EQ(l["lagging"], 0);
  EXPECT_EQ(Api("auditor", "GET", "/api/v1/contracts/acme/audit/verify?log=both").status, 400);
}

TEST_P(AuditApi, PurgeIsTheSecurityOfficersAndKeepsTheRetentionPeriod) {
  EXPECT_EQ(Post("engineer", "/api/v1/contracts/acme/audit/purge", {{"before", "2026-01-01"}})
                .status,
            403);
  Reply young = Post("officer", "/api/v1/contracts/acme/audit/purge", {{"before", "2026-03-01"}});
  EXPECT_EQ(young.status / 100, 4) << young.body;
  EXPECT_NE(young.body.find("retention"), std::string::npos) << young.body;
  Reply ok = Post("officer", "/api/v1/contracts/acme/audit/purge", {{"before", "2025-06-01"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_P(AuditApi, TheStoresAccessLogIsTheAdmins) {
  Reply add = Post("admin", "/api/v1/users",
                   {{"name", "eve"}, {"role", "auditor"}, {"contracts", {"acme"}}});
  ASSERT_EQ(add.status, 201) << add.body;
  ASSERT_TRUE(web_->FlushAudit().ok());
  json log = Json(Api("admin", "GET", "/api/v1/access-log?text=user.add"));
  ASSERT_EQ(log["items"].size(), 1u) << log.dump(2);
  EXPECT_NE(log["items"][0]["message"].get<std::string>().find("user eve: success"),
            std::string::npos);
  EXPECT_EQ(Api("officer", "GET", "/api/v1/access-log").status, 403);
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditApi, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::net::testing
