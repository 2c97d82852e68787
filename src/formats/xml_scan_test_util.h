// Test helpers of the XML scan parsers (Nessus, OpenVAS): a sink that keeps everything and checks
// the call order, and file reading.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "formats/scan.h"
#include "isms_test_paths.h"

namespace isms::testing_xml {

struct RecordingSink : ScanSink {
  int scans = 0;
  ScanInfo info;
  std::vector<ScannedAsset> assets;
  std::vector<RawFinding> findings;
  bool order_ok = true;
  // When set, OnFinding fails with this status once it has this many findings.
  std::optional<std::size_t> fail_after;

  Status OnScan(const ScanInfo& i) override {
    ++scans;
    info = i;
    if (scans != 1 || !assets.empty() || !findings.empty()) order_ok = false;
    return Status::Ok();
  }
  Status OnAsset(const ScannedAsset& a) override {
    if (scans != 1) order_ok = false;
    assets.push_back(a);
    return Status::Ok();
  }
  Status OnFinding(RawFinding&& f) override {
    if (scans != 1) order_ok = false;
    if (fail_after && findings.size() >= *fail_after) {
      return Status::FailedPrecondition("sink refused the finding");
    }
    findings.push_back(std::move(f));
    return Status::Ok();
  }
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string SharedPath(const std::string& relative) {
  return std::string(ISMS_SHARED_TESTDATA) + "/" + relative;
}

inline std::string FixturePath(const std::string& relative) {
  return std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/scans/" + relative;
}

inline std::vector<std::string> Values(const std::vector<AssetName>& names) {
  std::vector<std::string> out;
  for (const AssetName& n : names) out.push_back(n.kind + ":" + n.value);
  return out;
}

inline Instant At(const char* rfc3339) {
  return ParseInstant(rfc3339).value();
}

inline Date D(const char* iso) {
  return ParseDate(iso).value();
}

}  // namespace isms::testing_xml

#define ISMS_REQUIRE_SHARED_XML(path)                             \
  do {                                                            \
    if (!std::filesystem::exists(path)) {                         \
      GTEST_SKIP() << "shared test data not found at " << (path); \
    }                                                             \
  } while (false)
