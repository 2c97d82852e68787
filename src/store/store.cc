#include "store/store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "store/store_internal.h"

namespace isms::store {
namespace internal {

std::string SqlSnippet(std::string_view sql) {
  constexpr std::size_t kMax = 80;
  std::string out;
  bool space = false;
  for (char ch : sql) {
    bool ws = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
  }
  return out;
}

Status SqlError(StatusCode code, Engine engine, std::string_view display_url, std::string_view sql,
                std::string_view message) {
  std::string m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ' || m.back() == '.')) m.pop_back();
  std::string text =
      std::string(EngineName(engine)) + " store " + std::string(display_url) + ": " + m;
  if (!sql.empty()) text += " (SQL: " + SqlSnippet(sql) + ")";
  return Status(code, std::move(text));
}

Status CheckText(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    // Eight bytes at a time while they are ASCII and none is NUL (nearly all stored text).
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (((w | ((w - kOnes) & ~w)) & kHighs) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c == 0) {
      return Status::InvalidArgument("text at byte " + std::to_string(i) +
                                     " holds a NUL byte, which PostgreSQL text cannot store: "
                                     "store such data as a blob");
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      return Status::InvalidArgument("text at byte " + std::to_string(i) +
                                     " is not valid UTF-8: convert it to UTF-8 or store it as a "
                                     "blob");
    }
    i += len;
  }
  return Status::Ok();
}

namespace {
bool IsSimpleIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}
}  // namespace

bool IsIdentifier(std::string_view name) {
  auto dot = name.find('.');
  if (dot == std::string_view::npos) return IsSimpleIdentifier(name);
  return IsSimpleIdentifier(name.substr(0, dot)) && IsSimpleIdentifier(name.substr(dot + 1));
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

double ParseDouble(std::string_view t) {
  if (t == "Infinity" || t == "inf") return HUGE_VAL;
  if (t == "-Infinity" || t == "-inf") return -HUGE_VAL;
  if (t == "NaN" || t == "nan") return std::nan("");
  double v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::int64_t ParseInt(std::string_view t) {
  if (t == "t") return 1;
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

namespace {
// Splits a postgresql:// URL into the part before the user info, the user info, and the rest.
struct UrlParts {
  std::string_view scheme;    // "postgresql://"
  std::string_view userinfo;  // "user:password" (without '@'), empty when absent
  std::string_view rest;      // "host:port/db?params"
  bool has_at = false;
};

std::optional<UrlParts> SplitUrl(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  UrlParts p;
  p.scheme = url.substr(0, sep + 3);
  std::string_view after = url.substr(sep + 3);
  std::size_t end = after.find_first_of("/?");
  std::string_view authority = after.substr(0, end);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    p.rest = after;
    return p;
  }
  p.has_at = true;
  p.userinfo = authority.substr(0, at);
  p.rest = after.substr(at + 1);
  return p;
}

// Query parameters of a URL, as [begin, end) ranges of `url` for each "key=value".
std::vector<std::string_view> QueryParams(std::string_view url) {
  std::vector<std::string_view> out;
  auto q = url.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    out.push_back(query.substr(0, amp));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

bool IsPasswordParam(std::string_view kv) {
  return kv.substr(0, 9) == "password=";
}
}  // namespace

bool UrlHasPassword(std::string_view url) {
  auto parts = SplitUrl(url);
  if (!parts) return false;
  if (parts->userinfo.find(':') != std::string_view::npos) return true;
  auto params = QueryParams(url);
  return std::any_of(params.begin(), params.end(), IsPasswordParam);
}

std::string RedactUrl(std::string_view url) {
  auto parts = SplitUrl(url);
  if (!parts) return std::string(url);
  std::string out(parts->scheme);
  if (parts->has_at) {
    out += parts->userinfo.substr(0, parts->userinfo.find(':'));
    out += '@';
  }
  std::string_view rest = parts->rest;
  auto q = rest.find('?');
  out += rest.substr(0, q);
  if (q != std::string_view::npos) {
    std::string kept;
    for (std::string_view kv : QueryParams(rest)) {
      if (IsPasswordParam(kv)) continue;
      if (!kept.empty()) kept += '&';
      kept += kv;
    }
    if (!kept.empty()) out += '?' + kept;
  }
  return out;
}

}  // namespace internal

namespace {
constexpr std::string_view kDefaultStoreUrl = "sqlite:./isms-data/isms.db";
constexpr std::string_view kPasswordAdvice =
    ", which would show in `ps`: put it in ~/.pgpass or PGPASSFILE, or pass the whole URL in the "
    "ISMS_STORE environment variable";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
}  // namespace

std::string_view EngineName(Engine e) {
  switch (e) {
    case Engine::kSqlite: return "sqlite";
    case Engine::kPostgres: return "postgresql";
  }
  return "unknown";
}

Status Statement::Run() {
  Reset();
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

Result<std::string> ResolveStoreUrl(std::optional<std::string> flag_value) {
  if (flag_value) {
    if (internal::UrlHasPassword(*flag_value)) {
      return Status::InvalidArgument("the store URL on the command line carries a password" +
                                     std::string(kPasswordAdvice));
    }
    return *flag_value;
  }
  const char* env = std::getenv("ISMS_STORE");
  if (env != nullptr && *env != '\0') return std::string(env);
  return std::string(kDefaultStoreUrl);
}

Result<std::unique_ptr<Connection>> Connection::Open(std::string_view url) {
  if (internal::UrlHasPassword(url)) {
    const char* env = std::getenv("ISMS_STORE");
    if (env == nullptr || url != env) {
      return Status::InvalidArgument("the store URL " + internal::RedactUrl(url) +
                                     " carries a password" + std::string(kPasswordAdvice));
    }
  }
  if (StartsWith(url, "sqlite:")) return internal::OpenSqlite(url);
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    return internal::OpenPostgres(url);
  }
  return Status::InvalidArgument("unknown store URL \"" + internal::RedactUrl(url) +
                                 "\": use sqlite:PATH or postgresql://USER@HOST:PORT/DATABASE");
}

namespace {
// Any constant works; it only has to be the same in every isms process.
constexpr std::string_view kMigrationLockSql = "SELECT pg_advisory_xact_lock(7291623542731930211)";
constexpr std::string_view kCreateMigrationsSql =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at BIGINT NOT NULL)";

Result<bool> MigrationsTableExists(Connection& c) {
  ISMS_ASSIGN_OR_RETURN(
      auto stmt,
      c.Prepare(c.engine() == Engine::kSqlite
                    ? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                      "name = 'schema_migrations'"
                    : "SELECT count(*) FROM pg_catalog.pg_class c JOIN "
                      "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
                      "c.relname = 'schema_migrations' AND n.nspname = current_schema()"));
  ISMS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row && stmt->ColumnInt(0) > 0;
}

Result<int> MaxVersion(Connection& c) {
  ISMS_ASSIGN_OR_RETURN(auto stmt,
                        c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  ISMS_ASSIGN_OR_RETURN(bool row, stmt->Step());
  return row ? static_cast<int>(stmt->ColumnInt(0)) : 0;
}

Status ApplyNext(Connection& c, const std::vector<Migration>& migrations, bool& done) {
  Transaction tx(c);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  if (c.engine() == Engine::kPostgres) ISMS_RETURN_IF_ERROR(c.Execute(kMigrationLockSql));
  ISMS_RETURN_IF_ERROR(c.Execute(kCreateMigrationsSql));
  ISMS_ASSIGN_OR_RETURN(int current, MaxVersion(c));
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest) {
    return Status::FailedPrecondition("store " + c.DisplayUrl() + " is at schema version " +
                                      std::to_string(current) +
                                      ", but this isms knows only up to " + std::to_string(newest) +
                                      ": upgrade isms (never downgrade a store)");
  }
  auto next = std::find_if(migrations.begin(), migrations.end(),
                           [&](const Migration& m) { return m.version > current; });
  if (next == migrations.end()) {
    done = true;
    return tx.Commit();
  }
  const std::string context =
      "migration " + std::to_string(next->version) + " (" + next->name + ")";
  ISMS_RETURN_IF_ERROR(
      c.Execute(c.engine() == Engine::kSqlite ? next->sqlite_sql : next->postgres_sql)
          .WithContext(context));
  ISMS_ASSIGN_OR_RETURN(auto insert, c.Prepare("INSERT INTO schema_migrations (version, name, "
                                               "applied_at) VALUES ($1, $2, $3)"));
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  insert->BindInt(1, next->version);
  insert->BindText(2, next->name);
  insert->BindInt(3, now.count());
  ISMS_RETURN_IF_ERROR(insert->Run().WithContext(context));
  insert.reset();
  return tx.Commit().WithContext(context);
}
}  // namespace

Status Migrate(Connection& c, const std::vector<Migration>& migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return Status::Internal("migrations must be numbered 1, 2, ... in increasing order, but " +
                              std::to_string(m.version) + " (" + m.name + ") follows " +
                              std::to_string(previous));
    }
    previous = m.version;
  }
  for (bool done = false; !done;) ISMS_RETURN_IF_ERROR(ApplyNext(c, migrations, done));
  return Status::Ok();
}

Result<int> SchemaVersion(Connection& c) {
  ISMS_ASSIGN_OR_RETURN(bool exists, MigrationsTableExists(c));
  if (!exists) return 0;
  return MaxVersion(c);
}

}  // namespace isms::store
