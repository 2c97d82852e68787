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

namespace isms::cli::testing {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

// The engines a store test runs on: SQLite always; PostgreSQL when ISMS_TEST_POSTGRES_URL is
// set (scripts/with-pg.sh sets it), and then in a schema of its own, dropped afterwards. With
// ISMS_REQUIRE_POSTGRES=1 a missing URL fails the test instead of skipping it.
class CliTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/isms-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = "sqlite:" + dir_ + "/isms.db";
    if (GetParam() != "postgresql") return;
    const char* base = std::getenv("ISMS_TEST_POSTGRES_URL");
    const char* required = std::getenv("ISMS_REQUIRE_POSTGRES");
    if (base == nullptr) {
      if (required != nullptr && std::string(required) == "1") {
        FAIL() << "ISMS_REQUIRE_POSTGRES=1 but ISMS_TEST_POSTGRES_URL is not set";
      }
      GTEST_SKIP() << "PostgreSQL not tested: set ISMS_TEST_POSTGRES_URL (scripts/with-pg.sh)";
    }
    static int counter = 0;
    schema_ = "isms_cli_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto admin = store::Connection::Open(base);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->Execute("CREATE SCHEMA " + schema_).ok());
    std::string b = base;
    store_ =
        b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
    admin_url_ = base;
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    if (!schema_.empty()) {
      auto admin = store::Connection::Open(admin_url_);
      if (admin.ok()) (void)(*admin)->Execute("DROP SCHEMA " + schema_ + " CASCADE");
    }
  }

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

  std::string dir_;
  std::string store_;
  std::string schema_;
  std::string admin_url_;
  FixedClock clock_{ParseInstant("2026-01-05T09:00:00Z").value()};
};

// "sha256:" and 64 hex digits derived from n.
inline std::string Doc(int n) {
  std::string hex = std::to_string(n);
  return "sha256:" + std::string(64 - hex.size(), 'a') + hex;
}

}  // namespace isms::cli::testing
