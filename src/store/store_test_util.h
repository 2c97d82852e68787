// A store for one test: a fresh SQLite file in a temporary folder, or (engine "postgresql") a
// schema of its own in the database of $ISMS_TEST_POSTGRES_URL (scripts/with-pg.sh sets it),
// dropped afterwards. With ISMS_REQUIRE_POSTGRES=1 a missing URL is a failure, not a skip.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/store.h"

namespace isms::store::testing {

// A folder made for one test, removed with what it holds when the test ends, passed or failed
// (declare it before the connections opened in it, so that they close first). Empty when the
// folder could not be made.
struct TempDir {
  const std::string path = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "isms-test-XXXXXX").string();
    return ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }();
  ~TempDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

class TestStore {
 public:
  // Makes the store; `skip` is set (with the reason in `why`) when PostgreSQL is not available
  // and not required. Failures are reported with ADD_FAILURE.
  void SetUp(const std::string& engine) {
    char tmpl[] = "/tmp/isms-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir = tmpl;
    url = "sqlite:" + dir + "/isms.db";
    if (engine != "postgresql") return;
    const char* base = std::getenv("ISMS_TEST_POSTGRES_URL");
    const char* required = std::getenv("ISMS_REQUIRE_POSTGRES");
    if (base == nullptr) {
      if (required != nullptr && std::string(required) == "1") {
        ADD_FAILURE() << "ISMS_REQUIRE_POSTGRES=1 but ISMS_TEST_POSTGRES_URL is not set";
      }
      skip = true;
      why = "PostgreSQL not tested: set ISMS_TEST_POSTGRES_URL (scripts/with-pg.sh)";
      return;
    }
    static int counter = 0;
    schema = "isms_t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto admin = Connection::Open(base);
    if (!admin.ok()) {
      ADD_FAILURE() << admin.status().ToString();
      return;
    }
    if (!(*admin)->Execute("CREATE SCHEMA " + schema).ok()) ADD_FAILURE() << "CREATE SCHEMA";
    std::string b = base;
    url = b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
    admin_url = base;
  }

  void TearDown() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
    if (!schema.empty()) {
      auto admin = Connection::Open(admin_url);
      if (admin.ok()) (void)(*admin)->Execute("DROP SCHEMA " + schema + " CASCADE");
    }
  }

  std::string dir;  // a temporary folder (the SQLite file, keys, certificates)
  std::string url;
  std::string schema, admin_url;
  bool skip = false;
  std::string why;
};

}  // namespace isms::store::testing
