#include "app/schema.h"

#include "app/ledger_internal.h"
#include "audit/lease_index.h"
#include "audit/log_store.h"

namespace isms::app {
namespace {

// Instants are integer milliseconds since 1970-01-01T00:00:00Z (UTC); dates are "YYYY-MM-DD".
// The two engines share every column definition but the generated keys.
constexpr const char* kLedgerTables = R"sql(
CREATE TABLE contracts (
  id            %ID%,
  name          TEXT NOT NULL UNIQUE,
  start_date    TEXT NOT NULL,
  buyer         TEXT NOT NULL,
  supplier      TEXT NOT NULL,
  bespoke_isms  INTEGER NOT NULL,
  policy_toml   TEXT NOT NULL,
  policy_dir    TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  created_by    TEXT NOT NULL
);
CREATE TABLE events (
  contract_id   BIGINT NOT NULL REFERENCES contracts(id),
  id            BIGINT NOT NULL,
  type          TEXT NOT NULL,
  subject       TEXT NOT NULL,
  stream        TEXT NOT NULL,
  at            BIGINT NOT NULL,
  recorded_at   BIGINT NOT NULL,
  actor         TEXT NOT NULL,
  by_buyer      INTEGER NOT NULL,
  note          TEXT NOT NULL,
  attrs         TEXT NOT NULL,
  supersedes    BIGINT,
  PRIMARY KEY (contract_id, id)
);
CREATE INDEX events_by_stream ON events (contract_id, stream, at, id);
CREATE INDEX events_by_type ON events (contract_id, type);
CREATE TABLE streams (
  contract_id   BIGINT NOT NULL REFERENCES contracts(id),
  stream        TEXT NOT NULL,
  next_change   BIGINT,
  PRIMARY KEY (contract_id, stream)
);
CREATE INDEX streams_by_next_change ON streams (contract_id, next_change);
CREATE TABLE obligations (
  contract_id       BIGINT NOT NULL REFERENCES contracts(id),
  stream            TEXT NOT NULL,
  ordinal           INTEGER NOT NULL,
  clause            TEXT NOT NULL,
  key               TEXT NOT NULL,
  title             TEXT NOT NULL,
  subject           TEXT NOT NULL,
  trigger_event_id  BIGINT NOT NULL,
  trigger_type      TEXT NOT NULL,
  trigger_at        BIGINT NOT NULL,
  timescale_amount  INTEGER,
  timescale_unit    TEXT,
  timescale_source  TEXT NOT NULL,
  due_date          TEXT,
  due_at            BIGINT,
  state             TEXT NOT NULL,
  consequence       TEXT NOT NULL,
  consequence_text  TEXT NOT NULL,
  closed_at         BIGINT,
  evidence          TEXT NOT NULL,
  flags             TEXT NOT NULL,
  PRIMARY KEY (contract_id, stream, ordinal)
);
CREATE INDEX obligations_by_state ON obligations (contract_id, state, due_at);
)sql";

// Vulnerability management (paragraph 9): the asset register with its aliases, the scans
// imported, the findings they established, and the CSAF advisories read.
constexpr const char* kVulnerabilityTables = R"sql(
CREATE TABLE assets (
  contract_id     BIGINT NOT NULL REFERENCES contracts(id),
  id              BIGINT NOT NULL,
  name            TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  last_scanned_at BIGINT,
  PRIMARY KEY (contract_id, id),
  UNIQUE (contract_id, name)
);
CREATE TABLE asset_aliases (
  contract_id BIGINT NOT NULL REFERENCES contracts(id),
  kind        TEXT NOT NULL,
  value       TEXT NOT NULL,
  asset_id    BIGINT NOT NULL,
  PRIMARY KEY (contract_id, kind, value)
);
CREATE TABLE scans (
  contract_id   BIGINT NOT NULL REFERENCES contracts(id),
  id            BIGINT NOT NULL,
  format        TEXT NOT NULL,
  scanner       TEXT NOT NULL,
  scan_type     TEXT NOT NULL,
  file_name     TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  scanned_at    BIGINT NOT NULL,
  imported_at   BIGINT NOT NULL,
  imported_by   TEXT NOT NULL,
  findings      BIGINT NOT NULL,
  PRIMARY KEY (contract_id, id)
);
CREATE TABLE scan_assets (
  contract_id  BIGINT NOT NULL REFERENCES contracts(id),
  scan_id      BIGINT NOT NULL,
  asset_id     BIGINT NOT NULL,
  credentialed INTEGER,
  PRIMARY KEY (contract_id, scan_id, asset_id)
);
CREATE INDEX scan_assets_by_asset ON scan_assets (contract_id, asset_id, scan_id);
CREATE TABLE findings (
  contract_id          BIGINT NOT NULL REFERENCES contracts(id),
  id                   BIGINT NOT NULL,
  asset_id             BIGINT NOT NULL,
  scanner              TEXT NOT NULL,
  scan_type            TEXT NOT NULL,
  check_id             TEXT NOT NULL,
  component            TEXT NOT NULL,
  purl                 TEXT NOT NULL,
  cpe                  TEXT NOT NULL,
  port                 TEXT NOT NULL,
  title                TEXT NOT NULL,
  vuln_id              TEXT NOT NULL,
  cves                 TEXT NOT NULL,
  category             TEXT NOT NULL,
  category_source      TEXT NOT NULL,
  base_score           DOUBLE PRECISION,
  cvss_vector          TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  fix_state            TEXT NOT NULL,
  fixed_version        TEXT NOT NULL,
  patch_published      TEXT,
  vuln_published       TEXT,
  csaf_fix_date        TEXT,
  csaf_advisory_date   TEXT,
  csaf_advisory        TEXT NOT NULL,
  exploit_available    INTEGER NOT NULL,
  exploit_seen_at      BIGINT,
  first_seen           BIGINT NOT NULL,
  last_seen            BIGINT NOT NULL,
  first_scan_id        BIGINT NOT NULL,
  last_scan_id         BIGINT NOT NULL,
  credentialed         INTEGER,
  remediated_at        BIGINT,
  remediated_by        TEXT NOT NULL,
  statement            TEXT NOT NULL,
  statement_note       TEXT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (contract_id, asset_id, scanner, check_id, component)
);
CREATE INDEX findings_by_asset ON findings (contract_id, asset_id, scanner, scan_type);
CREATE TABLE advisories (
  id                   %ID%,
  document_id          TEXT NOT NULL,
  publisher            TEXT NOT NULL,
  initial_release_date BIGINT,
  current_release_date BIGINT,
  sha256               TEXT NOT NULL UNIQUE,
  file_name            TEXT NOT NULL,
  imported_at          BIGINT NOT NULL,
  imported_by          TEXT NOT NULL,
  body                 TEXT NOT NULL
);
)sql";

// Migration 9, on SQLite: the findings table again with `id INTEGER PRIMARY KEY`, SQLite's rowid,
// where `id BIGINT` beside a rowid of its own kept a fourth B-tree (the primary key's index) to
// write for every finding; and without findings_by_asset, whose queries (by contract, asset and
// scanner) the UNIQUE index serves by its first columns. The columns are those of migration 2,
// in the same order.
constexpr const char* kFindingsByRowid = R"sql(
CREATE TABLE findings_by_rowid (
  contract_id          BIGINT NOT NULL REFERENCES contracts(id),
  id                   INTEGER PRIMARY KEY,
  asset_id             BIGINT NOT NULL,
  scanner              TEXT NOT NULL,
  scan_type            TEXT NOT NULL,
  check_id             TEXT NOT NULL,
  component            TEXT NOT NULL,
  purl                 TEXT NOT NULL,
  cpe                  TEXT NOT NULL,
  port                 TEXT NOT NULL,
  title                TEXT NOT NULL,
  vuln_id              TEXT NOT NULL,
  cves                 TEXT NOT NULL,
  category             TEXT NOT NULL,
  category_source      TEXT NOT NULL,
  base_score           DOUBLE PRECISION,
  cvss_vector          TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  fix_state            TEXT NOT NULL,
  fixed_version        TEXT NOT NULL,
  patch_published      TEXT,
  vuln_published       TEXT,
  csaf_fix_date        TEXT,
  csaf_advisory_date   TEXT,
  csaf_advisory        TEXT NOT NULL,
  exploit_available    INTEGER NOT NULL,
  exploit_seen_at      BIGINT,
  first_seen           BIGINT NOT NULL,
  last_seen            BIGINT NOT NULL,
  first_scan_id        BIGINT NOT NULL,
  last_scan_id         BIGINT NOT NULL,
  credentialed         INTEGER,
  remediated_at        BIGINT,
  remediated_by        TEXT NOT NULL,
  statement            TEXT NOT NULL,
  statement_note       TEXT NOT NULL,
  UNIQUE (contract_id, asset_id, scanner, check_id, component)
);
INSERT INTO findings_by_rowid SELECT * FROM findings ORDER BY id;
DROP TABLE findings;
ALTER TABLE findings_by_rowid RENAME TO findings;
)sql";

// The monthly vulnerability reports as issued (9.5.5): frozen HTML and JSON, `sha256` of the JSON
// bytes, and the number of the report.submitted event that recorded the delivery (NULL until it
// is recorded: such a row was never issued). See docs/reports.md.
constexpr const char* kReportTables = R"sql(
CREATE TABLE reports (
  contract_id  BIGINT NOT NULL REFERENCES contracts(id),
  month        TEXT NOT NULL,
  issued_at    BIGINT NOT NULL,
  issued_by    TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  html         TEXT NOT NULL,
  json         TEXT NOT NULL,
  event_id     BIGINT,
  PRIMARY KEY (contract_id, month, issued_at)
);
)sql";

// Accounts and access (docs/access.md): users with their one role, the contracts granted to them,
// API tokens and browser sessions (stored as the SHA-256 of their secret, never the secret), and
// the failed log-ins that slow an account down from an address.
constexpr const char* kAccessTables = R"sql(
CREATE TABLE users (
  id              %ID%,
  name            TEXT NOT NULL UNIQUE,
  role            TEXT NOT NULL,
  password_hash   TEXT NOT NULL,
  totp_secret     TEXT,
  totp_last_step  BIGINT,
  disabled        INTEGER NOT NULL,
  created_at      BIGINT NOT NULL,
  created_by      TEXT NOT NULL,
  changed_at      BIGINT NOT NULL,
  changed_by      TEXT NOT NULL
);
CREATE TABLE user_contracts (
  user_id      BIGINT NOT NULL REFERENCES users(id),
  contract_id  BIGINT NOT NULL REFERENCES contracts(id),
  granted_at   BIGINT NOT NULL,
  granted_by   TEXT NOT NULL,
  PRIMARY KEY (user_id, contract_id)
);
CREATE INDEX user_contracts_by_contract ON user_contracts (contract_id);
CREATE TABLE tokens (
  id            %ID%,
  user_id       BIGINT NOT NULL REFERENCES users(id),
  token_hash    TEXT NOT NULL UNIQUE,
  note          TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  created_by    TEXT NOT NULL,
  expires_at    BIGINT NOT NULL,
  last_used_at  BIGINT,
  revoked_at    BIGINT,
  revoked_by    TEXT
);
CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE TABLE sessions (
  session_hash  TEXT NOT NULL PRIMARY KEY,
  user_id       BIGINT NOT NULL REFERENCES users(id),
  address       TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE login_failures (
  name             TEXT NOT NULL,
  address          TEXT NOT NULL,
  failures         INTEGER NOT NULL,
  last_failure_at  BIGINT NOT NULL,
  retry_at         BIGINT NOT NULL,
  PRIMARY KEY (name, address)
);
CREATE INDEX login_failures_by_time ON login_failures (last_failure_at);
)sql";

std::string WithId(const char* sql, const char* id) {
  std::string s(sql);
  const std::string token = "%ID%";
  for (size_t p; (p = s.find(token)) != std::string::npos;) s.replace(p, token.size(), id);
  return s;
}

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "ledger: contracts, events, obligations", WithId(kLedgerTables, "INTEGER PRIMARY KEY"),
       WithId(kLedgerTables, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")},
      {2, "vulnerabilities: assets, scans, findings, advisories",
       WithId(kVulnerabilityTables, "INTEGER PRIMARY KEY"),
       WithId(kVulnerabilityTables, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")},
      {3, "reports: the monthly vulnerability reports as issued", kReportTables, kReportTables},
      // On SQLite the audit tables live in their own file beside the main one (app/audit.h),
      // which carries its own migrations; here only a marker says so.
      {4, "audit logs: chunks, blocks, postings, tail batches, checkpoints",
       "CREATE TABLE audit_store (location TEXT NOT NULL);"
       "INSERT INTO audit_store VALUES ('sqlite: the -audit.db file beside this one')",
       audit::LogStore::SchemaSql(store::Engine::kPostgres)},
      {5, "access: users, grants, tokens, sessions, failed log-ins",
       WithId(kAccessTables, "INTEGER PRIMARY KEY"),
       WithId(kAccessTables, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")},
      // As 4: on SQLite these tables are the audit file's migration 2 (app/audit.cc).
      {6, "audit logs: address postings and the DHCP lease index",
       "UPDATE audit_store SET location = location",
       audit::LogStore::AddressSchemaSql(store::Engine::kPostgres) +
           audit::LeaseIndex::SchemaSql(store::Engine::kPostgres)},
      // A page of `status --all` in the order it is shown, from an index in that order; its
      // first term follows the state, so it serves the queries by state as well.
      {7, "ledger: obligations by urgency",
       ledger_internal::CreateUrgencyIndex(store::Engine::kSqlite) +
           "; DROP INDEX obligations_by_state",
       ledger_internal::CreateUrgencyIndex(store::Engine::kPostgres) +
           "; DROP INDEX obligations_by_state"},
      // PostgreSQL checks a foreign key by a trigger per row: writing 234,095 obligations took
      // 3.0 s with the projection's references to contracts and 0.9 s without. The projection
      // is written only by the ledger, for a contract it has read in the same transaction
      // (contracts are never deleted), and is rebuilt from the events, which keep theirs.
      // SQLite checks a reference by one look-up of the contract's rowid: kept.
      {8, "ledger: the projection's rows checked by the ledger, not by a trigger per row",
       "SELECT 1",
       "ALTER TABLE obligations DROP CONSTRAINT IF EXISTS obligations_contract_id_fkey; "
       "ALTER TABLE streams DROP CONSTRAINT IF EXISTS streams_contract_id_fkey"},
      // An import writes every new finding to each of the table's B-trees: on SQLite four (the
      // table, its `id` key, the UNIQUE index and findings_by_asset), now two; on PostgreSQL
      // the heap and three indexes, now two. See kFindingsByRowid.
      {9, "vulnerabilities: findings keyed by their id alone, without findings_by_asset",
       kFindingsByRowid, "DROP INDEX IF EXISTS findings_by_asset"},
      // A stream has a row in `streams` only while its result will change (its next change):
      // 205,000 of the 205,001 streams a first import of 200,000 findings wrote had none.
      {10, "ledger: streams listed only while their result will change",
       "DELETE FROM streams WHERE next_change IS NULL",
       "DELETE FROM streams WHERE next_change IS NULL"},
      // As migration 8 for the projection: PostgreSQL checked each finding's reference to its
      // contract by a trigger running a query per row, a quarter of the server's CPU in a first
      // import of 200,000 findings. An import writes findings, assets, their aliases and the
      // assets a scan covered only for the contract it read in the same transaction, and
      // contracts are never deleted. SQLite checks a reference by one look-up: kept.
      {11, "vulnerabilities: an import's rows checked by the import, not by a trigger per row",
       "SELECT 1",
       "ALTER TABLE findings DROP CONSTRAINT IF EXISTS findings_contract_id_fkey; "
       "ALTER TABLE assets DROP CONSTRAINT IF EXISTS assets_contract_id_fkey; "
       "ALTER TABLE asset_aliases DROP CONSTRAINT IF EXISTS asset_aliases_contract_id_fkey; "
       "ALTER TABLE scan_assets DROP CONSTRAINT IF EXISTS scan_assets_contract_id_fkey"},
      // The same identity of a finding, its columns in another order: PostgreSQL reads a column
      // of an index entry at a known offset only up to the first of variable length (`scanner`
      // was that one, the same in most entries, and `check_id` and `component`, which tell
      // them apart, were found by walking the entry). COPY of 200,000 Trivy findings into a
      // table with this index took about 0.3 s less than with the old. Queries by contract and
      // asset use its first columns as before. SQLite compares its entries'
      // columns in one pass: its index is kept as it is.
      {12, "vulnerabilities: a finding's identity indexed with its varying columns first",
       "SELECT 1",
       "ALTER TABLE findings DROP CONSTRAINT IF EXISTS "
       "findings_contract_id_asset_id_scanner_check_id_component_key; "
       "ALTER TABLE findings ADD CONSTRAINT findings_identity "
       "UNIQUE (contract_id, asset_id, check_id, component, scanner)"},
      // On PostgreSQL obligations_by_urgency again, its last five terms as one (see
      // UrgencyOrder). Now nothing: migration 14 makes the index again in the form that
      // followed, and a store that has not yet applied this one gets it from that one alone
      // rather than built twice.
      {13, "ledger: obligations by urgency, their tie-breakers as one term", "SELECT 1",
       "SELECT 1"},
      // On PostgreSQL obligations_by_urgency again (after migration 7's form, or 13's): its
      // tie-breakers joined by a constant, the ordinal a term of its own (see UrgencyOrder).
      {14, "ledger: obligations by urgency, the ordinal a term of its own", "SELECT 1",
       "DROP INDEX IF EXISTS obligations_by_urgency; " +
           ledger_internal::CreateUrgencyIndex(store::Engine::kPostgres)},
      // An issued report's HTML and JSON stored compressed (zstd) in columns of their own: the
      // report of docs/benchmarks.md (400,000 findings) is 620 MB of text, 20 MB compressed.
      // Rows issued before keep their text in `html` and `json`; new rows leave those empty.
      // On PostgreSQL the compressed columns are kept out of line as they are, not compressed
      // again by the server.
      {15, "reports: the issued HTML and JSON stored compressed",
       "ALTER TABLE reports ADD COLUMN html_zstd BLOB; "
       "ALTER TABLE reports ADD COLUMN json_zstd BLOB",
       "ALTER TABLE reports ADD COLUMN html_zstd BYTEA, ADD COLUMN json_zstd BYTEA; "
       "ALTER TABLE reports ALTER COLUMN html_zstd SET STORAGE EXTERNAL, "
       "ALTER COLUMN json_zstd SET STORAGE EXTERNAL"},
      // As 4: on SQLite this is the audit file's migration 3 (app/audit.cc).
      {16, "audit logs: the state row counts the checkpoints",
       "UPDATE audit_store SET location = location", audit::LogStore::CheckpointCountSql()},
      // As 4: on SQLite this is the audit file's migration 4 (app/audit.cc).
      {17, "audit logs: blocks keep their records' kinds (categories)",
       "UPDATE audit_store SET location = location", audit::LogStore::BlockKindsSql()},
      // As 4: on SQLite this is the audit file's migration 5 (app/audit.cc).
      {18, "audit logs: an index of the blocks without kinds",
       "UPDATE audit_store SET location = location", audit::LogStore::BlocksWithoutKindsIndexSql()},
      // As 4: on SQLite this is the audit file's migration 6 (app/audit.cc).
      {19, "audit logs: blocks and tail batches keep the SHA-256 of their bytes",
       "UPDATE audit_store SET location = location",
       audit::LogStore::DataDigestSql(store::Engine::kPostgres)},
      // As 4: on SQLite this is the audit file's migration 7 (app/audit.cc).
      {20, "audit logs: no index of the blocks by host",
       "UPDATE audit_store SET location = location", audit::LogStore::DropBlocksByHostIndexSql()},
      // As 4: on SQLite this is the audit file's migration 8 (app/audit.cc); no table changes.
      {21, "audit logs: entries stored without the keys their records give",
       "UPDATE audit_store SET location = location", "SELECT 1"},
  };
  return kMigrations;
}

}  // namespace isms::app
