// Scan imports through the app on every engine (PostgreSQL when ISMS_TEST_POSTGRES_URL is set):
// what the import decides from the whole report although it writes each finding as the parse
// hands it over.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/schema.h"
#include "app/vulns.h"
#include "store/store_test_util.h"

namespace isms::app {
namespace {

Instant T(const char* s) {
  return ParseInstant(s).value();
}

// A Nessus report of host web01: `hosts` is the ReportHost elements' inside.
std::string Nessus(const std::string& hosts) {
  return "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Report name=\"estate\">\n" + hosts +
         "</Report>\n</NessusClientData_v2>\n";
}

std::string Host(bool credentialed, const char* start, const std::string& items) {
  return std::string("<ReportHost name=\"web01.example.gov.uk\"><HostProperties>") +
         "<tag name=\"Credentialed_Scan\">" + (credentialed ? "true" : "false") + "</tag>" +
         "<tag name=\"host-ip\">192.0.2.10</tag>" +
         "<tag name=\"host-fqdn\">web01.example.gov.uk</tag>" +
         "<tag name=\"HOST_START_TIMESTAMP\">" + start + "</tag></HostProperties>\n" + items +
         "</ReportHost>\n";
}

const char* const kSshItem =
    "<ReportItem port=\"22\" svc_name=\"ssh\" protocol=\"tcp\" severity=\"3\" pluginID=\"300002\" "
    "pluginName=\"Example SSH Server Flaw\" pluginFamily=\"Misc.\"><cve>CVE-2025-2001</cve>"
    "<risk_factor>High</risk_factor><patch_publication_date>2026/01/05</patch_publication_date>"
    "<solution>Upgrade the SSH server.</solution></ReportItem>\n";
const char* const kInfoItem =
    "<ReportItem port=\"0\" svc_name=\"general\" protocol=\"tcp\" severity=\"0\" "
    "pluginID=\"19506\" pluginName=\"Nessus Scan Information\" pluginFamily=\"Settings\">"
    "<risk_factor>None</risk_factor></ReportItem>\n";

class VulnImportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_.SetUp(GetParam());
    if (store_.skip) GTEST_SKIP() << store_.why;
    dir_ = store_.dir;
    const std::string url = store_.url;
    auto ledger = Ledger::Open(url, clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(*ledger);
    NewContract c;
    c.name = "c";
    c.start = ParseDate("2026-01-05").value();
    ASSERT_TRUE(ledger_->CreateContract(c, actor_).ok());
  }
  void TearDown() override {
    ledger_.reset();
    store_.TearDown();
  }

  ImportScanResult Import(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    Vulnerabilities v(*ledger_);
    auto r = v.ImportScan({"c", path, std::nullopt, "", std::nullopt}, actor_);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
    return r.ok() ? *r : ImportScanResult{};
  }
  std::vector<FindingView> Open() {
    Vulnerabilities v(*ledger_);
    auto list = v.List("c", FindingFilter{});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? *list : std::vector<FindingView>{};
  }

  store::testing::TestStore store_;
  std::string dir_;
  FixedClock clock_{T("2026-02-01T12:00:00Z")};
  std::unique_ptr<Ledger> ledger_;
  const Actor actor_{"alice", false};
};

TEST_P(VulnImportTest, AHostListedTwiceTakesItsLastCredentialsForEveryFindingOnIt) {
  // The finding comes in an uncredentialed section of the report; the same host is listed again
  // later, credentialed. The report's credentials for the host are the last ones, whichever
  // section its findings were in: so a later uncredentialed scan (narrower) proves nothing
  // about the finding, and a later credentialed one does.
  ImportScanResult first =
      Import("week1.nessus", Nessus(Host(false, "1768208400", std::string(kInfoItem) + kSshItem) +
                                    Host(true, "1768208400", kInfoItem)));
  EXPECT_EQ(first.new_findings, 2);
  ASSERT_EQ(Open().size(), 1u);

  ImportScanResult narrower =
      Import("week2-uncredentialed.nessus", Nessus(Host(false, "1768813200", kInfoItem)));
  EXPECT_EQ(narrower.remediated, 0) << "an uncredentialed scan does not remediate it";
  ASSERT_EQ(Open().size(), 1u);

  ImportScanResult as_good =
      Import("week3-credentialed.nessus", Nessus(Host(true, "1769418000", kInfoItem)));
  EXPECT_EQ(as_good.remediated, 1) << "a credentialed scan does";
  EXPECT_TRUE(Open().empty());
}

TEST_P(VulnImportTest, APluginOnTwoPortsIsOneFindingWhicheverPortComesFirst) {
  const std::string https =
      "<ReportItem port=\"443\" svc_name=\"www\" protocol=\"tcp\" severity=\"4\" "
      "pluginID=\"300001\" pluginName=\"Example HTTP Server Flaw\" pluginFamily=\"Web\">"
      "<cve>CVE-2025-1001</cve><risk_factor>Critical</risk_factor></ReportItem>\n";
  const std::string http =
      "<ReportItem port=\"80\" svc_name=\"www\" protocol=\"tcp\" severity=\"4\" "
      "pluginID=\"300001\" pluginName=\"Example HTTP Server Flaw\" pluginFamily=\"Web\">"
      "<cve>CVE-2025-1002</cve><exploit_available>true</exploit_available>"
      "<risk_factor>Critical</risk_factor></ReportItem>\n";
  // The second port comes after the first was written, in another ReportHost of the same host.
  Import("ports.nessus", Nessus(Host(true, "1768208400", https) + Host(true, "1768208400", http)));
  std::vector<FindingView> open = Open();
  ASSERT_EQ(open.size(), 1u);
  Vulnerabilities v(*ledger_);
  auto f = v.Show(open[0].id);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->port, "443/tcp,80/tcp");
  EXPECT_EQ(f->cves, (std::vector<std::string>{"CVE-2025-1001", "CVE-2025-1002"}));
  EXPECT_EQ(f->vuln_id, "300001") << "two CVEs: the scanner's id";
  // Its clocks are those of the merged finding (written before the merge, evaluated again
  // after it): exploitable with no patch opens 9.5.6, and a recompute changes nothing.
  store::Connection& conn = ledger_->connection();
  auto rows = [&] {
    std::vector<std::string> out;
    auto st = conn.Prepare("SELECT stream, ordinal, clause, title, state, due_at FROM obligations "
                           "ORDER BY stream, ordinal");
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    while (st.ok()) {
      auto row = (*st)->Step();
      if (!row.ok() || !*row) break;
      std::string r;
      for (int c = 0; c < 6; ++c) r += std::string((*st)->ColumnView(c)) + "|";
      out.push_back(r);
    }
    return out;
  };
  const std::vector<std::string> imported = rows();
  EXPECT_TRUE(std::any_of(imported.begin(), imported.end(), [](const std::string& r) {
    return r.find("|9.5.6|") != std::string::npos;
  })) << "the exploit came with the second port";
  ASSERT_TRUE(ledger_->Recompute("c").ok());
  EXPECT_EQ(rows(), imported);
}

TEST_P(VulnImportTest, AnImportOfManyObligationsLeavesTheUrgencyIndexInPlace) {
  // More new obligations than the store holds: they are written without obligations_by_urgency,
  // which is made again before the import commits. A scan and a finding are there already (the
  // import reads them before it drops the index).
  EXPECT_EQ(Import("small.nessus", Nessus(Host(true, "1768208400", kSshItem))).new_findings, 1);
  std::string items;
  const std::string output(2100, 'o');  // a report of over 20 MB: a large transaction
  for (int i = 0; i < 10000; ++i) {
    items += "<ReportItem port=\"22\" svc_name=\"ssh\" protocol=\"tcp\" severity=\"3\" "
             "pluginID=\"" +
             std::to_string(500000 + i) +
             "\" pluginName=\"Flaw\" pluginFamily=\"Misc.\"><cve>CVE-2025-" +
             std::to_string(10000 + i) +
             "</cve><risk_factor>High</risk_factor><patch_publication_date>2026/01/05"
             "</patch_publication_date><plugin_output>" +
             output + "</plugin_output></ReportItem>\n";
  }
  ImportScanResult r = Import("many.nessus", Nessus(Host(true, "1768813200", items)));
  EXPECT_EQ(r.new_findings, 10000);
  EXPECT_GE(r.bytes, 2048 * 10000);
  store::Connection& conn = ledger_->connection();
  auto journal_mode = [&]() -> std::string {
    auto st = conn.Prepare("PRAGMA journal_mode");
    if (!st.ok() || !*(*st)->Step()) return "?";
    return (*st)->ColumnText(0);
  };
  // On SQLite the large transaction put the store back in WAL mode when it ended.
  if (conn.engine() == store::Engine::kSqlite) {
    EXPECT_EQ(journal_mode(), "wal");
  }
  const std::string index_count =
      conn.engine() == store::Engine::kSqlite
          ? "SELECT COUNT(*) FROM sqlite_master WHERE name = 'obligations_by_urgency'"
          : "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname "
            "= 'obligations_by_urgency'";
  auto count = [&](const std::string& sql) -> std::int64_t {
    auto st = conn.Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return -1;
    auto row = (*st)->Step();
    return row.ok() && *row ? (*st)->ColumnInt(0) : -1;
  };
  EXPECT_EQ(count(index_count), 1);
  EXPECT_GE(count("SELECT COUNT(*) FROM obligations WHERE stream LIKE 'vuln:%'"), 10000);
  // The ledger's reads by urgency see every one of them.
  auto status = ledger_->StatusOf("c", StatusQuery{});
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(static_cast<std::int64_t>(status->size()), count("SELECT COUNT(*) FROM obligations"));

  // The same file again is known by its hash (computed while the import starts): nothing is
  // added, and the index stays.
  const std::int64_t findings = count("SELECT COUNT(*) FROM findings");
  const std::int64_t obligations = count("SELECT COUNT(*) FROM obligations");
  ImportScanResult again = Import("many.nessus", Nessus(Host(true, "1768813200", items)));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.scan_id, r.scan_id);
  EXPECT_EQ(again.findings, 0) << "nothing was imported, whatever was read before the hash";
  EXPECT_EQ(again.new_findings, 0);
  EXPECT_EQ(again.assets, 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM findings"), findings);
  EXPECT_EQ(count("SELECT COUNT(*) FROM obligations"), obligations);
  EXPECT_EQ(count("SELECT COUNT(*) FROM scans"), 2);
  EXPECT_EQ(count(index_count), 1);
  if (conn.engine() == store::Engine::kSqlite) {
    EXPECT_EQ(journal_mode(), "wal");
  }
}

// The tables an import fills in bulk carry no reference to `contracts` that PostgreSQL would
// check by a query per row (migration 11); SQLite keeps its references (one look-up each).
TEST_P(VulnImportTest, TheTablesAnImportFillsAreCheckedWithoutATriggerPerRow) {
  store::Connection& conn = ledger_->connection();
  for (const char* table : {"findings", "assets", "asset_aliases", "scan_assets"}) {
    const std::string sql =
        conn.engine() == store::Engine::kPostgres
            ? "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = '" +
                  std::string(table) + "'::regclass"
            : "SELECT COUNT(*) FROM pragma_foreign_key_list('" + std::string(table) + "')";
    auto st = conn.Prepare(sql);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto row = (*st)->Step();
    ASSERT_TRUE(row.ok() && *row) << table;
    EXPECT_EQ((*st)->ColumnInt(0), conn.engine() == store::Engine::kPostgres ? 0 : 1) << table;
  }
  // The import still lands whole on both.
  EXPECT_EQ(Import("one.nessus", Nessus(Host(true, "1768208400", kSshItem))).new_findings, 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, VulnImportTest, ::testing::Values("sqlite", "postgresql"));

// A store made by migrations 1 to 8, with findings in it, opened by this isms: migration 9 keys
// the findings by their id alone (SQLite's rowid) and drops findings_by_asset; the findings read
// back as they were, their identity stays unique, and an import numbers new ones after them.
class FindingsMigrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_.SetUp(GetParam());
    if (store_.skip) GTEST_SKIP() << store_.why;
  }
  void TearDown() override { store_.TearDown(); }
  store::testing::TestStore store_;
};

std::int64_t Count(store::Connection& c, const std::string& sql) {
  auto st = c.Prepare(sql);
  EXPECT_TRUE(st.ok()) << sql << ": " << st.status().ToString();
  if (!st.ok()) return -1;
  auto row = (*st)->Step();
  EXPECT_TRUE(row.ok() && *row) << sql << ": "
                                << (row.ok() ? std::string("no row") : row.status().ToString());
  return row.ok() && *row ? (*st)->ColumnInt(0) : -1;
}

TEST_P(FindingsMigrationTest, FindingsOfAnOlderStoreReadBackAndNewOnesFollowThem) {
  {
    auto conn = store::Connection::Open(store_.url);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    const std::vector<store::Migration> up_to_8(Migrations().begin(), Migrations().begin() + 8);
    ASSERT_EQ(up_to_8.back().version, 8);
    ASSERT_TRUE(store::Migrate(**conn, up_to_8).ok());
    ASSERT_EQ(*store::SchemaVersion(**conn), 8);
    for (const char* sql : {
             "INSERT INTO contracts (name, start_date, buyer, supplier, bespoke_isms, "
             "policy_toml, policy_dir, created_at, created_by) VALUES ('c', '2026-01-05', "
             "'Buyer', 'Supplier', 0, '', '', 1767571200000, 'alice')",
             "INSERT INTO assets (contract_id, id, name, created_at) VALUES (1, 1, "
             "'db01.example.gov.uk', 1767571200000)",
             "INSERT INTO scans (contract_id, id, format, scanner, scan_type, file_name, sha256, "
             "scanned_at, imported_at, imported_by, findings) VALUES (1, 1, 'nessus', 'Nessus', "
             "'nessus', 'old.nessus', 'aa', 1768208400000, 1768208400000, 'alice', 2)",
         }) {
      ASSERT_TRUE((*conn)->Execute(sql).ok()) << sql;
    }
    // Two findings with a gap between their numbers, written as the old schema stored them.
    for (int id : {5, 9}) {
      auto ins = (*conn)->Prepare(
          "INSERT INTO findings (contract_id, id, asset_id, scanner, scan_type, check_id, "
          "component, purl, cpe, port, title, vuln_id, cves, category, category_source, "
          "base_score, cvss_vector, kind, fix_state, fixed_version, patch_published, "
          "vuln_published, csaf_advisory, exploit_available, first_seen, last_seen, "
          "first_scan_id, last_scan_id, credentialed, remediated_by, statement, statement_note) "
          "VALUES (1, $1, 1, 'nessus', 'nessus', $2, '', '', '', '5432/tcp', $3, $4, $4, "
          "'Important', 'NVD High', 7.5, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', "
          "'vulnerability', 'available', '', '2026-01-02', NULL, '', 0, 1768208400000, "
          "1768208400000, 1, 1, 1, '', '', '')");
      ASSERT_TRUE(ins.ok()) << ins.status().ToString();
      (*ins)->BindInt(1, id);
      (*ins)->BindText(2, "40000" + std::to_string(id));
      (*ins)->BindText(3, "Old flaw " + std::to_string(id));
      (*ins)->BindText(4, "CVE-2025-000" + std::to_string(id));
      ASSERT_TRUE((*ins)->Run().ok());
    }
  }

  FixedClock clock{T("2026-02-01T12:00:00Z")};
  auto ledger = Ledger::Open(store_.url, clock);  // migrates to the newest schema
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  store::Connection& conn = (*ledger)->connection();
  EXPECT_EQ(*store::SchemaVersion(conn), Migrations().back().version);
  if (conn.engine() == store::Engine::kSqlite) {
    EXPECT_EQ(Count(conn, "SELECT COUNT(*) FROM findings WHERE rowid = id"), 2)
        << "id is the rowid";
    EXPECT_EQ(Count(conn, "SELECT COUNT(*) FROM sqlite_master WHERE tbl_name = 'findings' AND "
                          "type = 'index'"),
              1)
        << "the UNIQUE index alone";
  } else {
    EXPECT_EQ(Count(conn, "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() "
                          "AND tablename = 'findings'"),
              2)
        << "the primary key and the UNIQUE index";
    // The definition of this schema's index only (by its name on the search path): other tests
    // drop their schemas meanwhile, and pg_get_indexdef fails on an index being dropped.
    EXPECT_EQ(Count(conn, "SELECT CASE WHEN pg_get_indexdef('findings_identity'::regclass) LIKE "
                          "'%(contract_id, asset_id, check_id, component, scanner)' THEN 1 ELSE "
                          "0 END"),
              1)
        << "migration 12: the identity's columns that tell findings apart come first";
  }
  EXPECT_FALSE(conn.Execute("INSERT INTO findings SELECT contract_id, 10, asset_id, scanner, "
                            "scan_type, check_id, component, purl, cpe, port, title, vuln_id, "
                            "cves, category, category_source, base_score, cvss_vector, kind, "
                            "fix_state, fixed_version, patch_published, vuln_published, "
                            "csaf_fix_date, csaf_advisory_date, csaf_advisory, "
                            "exploit_available, exploit_seen_at, first_seen, last_seen, "
                            "first_scan_id, last_scan_id, credentialed, remediated_at, "
                            "remediated_by, statement, statement_note FROM findings WHERE id = 9")
                   .ok())
      << "a finding's identity is still unique";

  Vulnerabilities v(**ledger);
  auto old = v.Show("F-9");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->title, "Old flaw 9");
  EXPECT_EQ(old->asset, "db01.example.gov.uk");
  EXPECT_EQ(old->vuln_id, "CVE-2025-0009");
  EXPECT_EQ(old->port, "5432/tcp");
  auto listed = v.List("c", FindingFilter{});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "F-5");
  EXPECT_EQ((*listed)[1].id, "F-9");

  const std::string path = store_.dir + "/new.nessus";
  std::ofstream(path, std::ios::binary) << Nessus(Host(true, "1768813200", kSshItem));
  auto imported = v.ImportScan({"c", path, std::nullopt, "", std::nullopt}, {"alice", false});
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->new_findings, 1);
  auto added = v.Show("F-10");
  ASSERT_TRUE(added.ok()) << "numbered after the old findings: " << added.status().ToString();
  EXPECT_EQ(added->vuln_id, "CVE-2025-2001");
  listed = v.List("c", FindingFilter{});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Engines, FindingsMigrationTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::app
