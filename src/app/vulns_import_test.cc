// Scan imports through the app on every engine (PostgreSQL when ISMS_TEST_POSTGRES_URL is set):
// what the import decides from the whole report although it writes each finding as the parse
// hands it over.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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
}

INSTANTIATE_TEST_SUITE_P(Engines, VulnImportTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace isms::app
