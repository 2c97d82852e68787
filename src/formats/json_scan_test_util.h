// Test helpers of the JSON scan parsers: a sink that keeps everything, and file reading.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/scan.h"
#include "formats/scan_parsers.h"
#include "isms_test_paths.h"

namespace isms::testing_json {

struct CollectingSink : ScanSink {
  int scans = 0;
  ScanInfo info;
  std::vector<ScannedAsset> assets;
  std::vector<RawFinding> findings;
  bool order_ok = true;

  Status OnScan(const ScanInfo& i) override {
    ++scans;
    info = i;
    if (!assets.empty() || !findings.empty()) order_ok = false;
    return Status::Ok();
  }
  Status OnAsset(const ScannedAsset& a) override {
    if (scans != 1) order_ok = false;
    assets.push_back(a);
    return Status::Ok();
  }
  Status OnFinding(RawFinding&& f) override {
    if (scans != 1) order_ok = false;
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

inline std::string SharedFile(const std::string& relative) {
  return std::string(ISMS_SHARED_TESTDATA) + "/" + relative;
}

inline std::string Fixture(const std::string& name) {
  return ReadFile(std::string(ISMS_SOURCE_DIR) + "/tests/fixtures/scans/" + name);
}

#define ISMS_REQUIRE_SHARED(path)                                 \
  do {                                                            \
    if (!std::filesystem::exists(path))                           \
      GTEST_SKIP() << "shared test data not found at " << (path); \
  } while (false)

using Parser = Status (*)(std::string_view, std::string_view, ScanSink&);

// Parses `data` and checks the sink's call order.
inline Status Parse(Parser parser, std::string_view data, CollectingSink& sink,
                    std::string_view source = "report.json") {
  Status s = parser(data, source, sink);
  EXPECT_TRUE(sink.order_ok) << "OnScan must come first, once";
  return s;
}

}  // namespace isms::testing_json
