// Runs `isms` in-process for tests: a fresh SQLite store per test, a fixed clock, and the
// output captured.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace isms::cli::testing {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

// The engines a store test runs on: SQLite always; PostgreSQL when ISMS_TEST_POSTGRES_URL is
// set (store/store_test_util.h).
class CliTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    test_store_.SetUp(GetParam());
    if (test_store_.skip) GTEST_SKIP() << test_store_.why;
    dir_ = test_store_.dir;
    store_ = test_store_.url;
    schema_ = test_store_.schema;
  }
  void TearDown() override { test_store_.TearDown(); }

  // Runs `isms ARGS... --store <this test's store>` at the clock's time.
  CliRun Isms(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), "isms");
    args.push_back("--store");
    args.push_back(store_);
    return RunRaw(args, stdin_text);
  }

  // Runs without adding --store.
  CliRun RunRaw(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    CliRun r;
    r.code = RunCli(args, in, out, err, clock_);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  // Runs and expects success; returns stdout.
  std::string Ok(std::vector<std::string> args) {
    CliRun r = Isms(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  nlohmann::json Json(std::vector<std::string> args) {
    std::string out = Ok(std::move(args));
    return nlohmann::json::parse(out, nullptr, false);
  }

  void SetNow(const std::string& rfc3339) { clock_.Set(ParseInstant(rfc3339).value()); }

  store::testing::TestStore test_store_;
  std::string dir_;
  std::string store_;
  std::string schema_;
  FixedClock clock_{ParseInstant("2026-01-05T09:00:00Z").value()};
};

// "sha256:" and 64 hex digits derived from n.
inline std::string Doc(int n) {
  std::string hex = std::to_string(n);
  return "sha256:" + std::string(64 - hex.size(), 'a') + hex;
}

}  // namespace isms::cli::testing
