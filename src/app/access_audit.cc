// Access audit records: every authentication, data access and change, in the contract's audit log
// or the store's access log.
#include <unistd.h>

#include <map>

#include "app/access.h"
#include "app/audit.h"

namespace isms::app {
namespace {

std::string LocalHostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

AuditRecord AccessAuditRecord(const AccessEvent& e) {
  AuditRecord r;
  r.time = e.time;
  r.received = e.time;
  r.source = AuditSource::kJsonLines;
  r.facility = 13;                              // log audit (RFC 5424 6.2.1)
  r.severity = e.outcome == "success" ? 6 : 4;  // informational; warning for a refusal
  static const std::string host = LocalHostName();
  r.host = host;
  r.app = "isms";
  r.msgid = e.kind;
  r.user = e.user;
  r.src_ip = e.address;
  r.session = e.session;
  r.rule = "isms";
  r.category = AuditCategory::kOther;
  if (e.role == "admin" && e.kind == "auth" && e.outcome == "success") {
    if (e.action == "login") r.category = AuditCategory::kPrivilegedLogon;
    if (e.action == "logout") r.category = AuditCategory::kPrivilegedLogoff;
  }
  r.message = e.action;
  if (!e.target.empty()) r.message += " " + e.target;
  r.message += ": " + e.outcome;
  if (!e.detail.empty()) r.message += " (" + e.detail + ")";
  if (!e.via.empty()) r.SetExtra("via", e.via);
  if (!e.role.empty()) r.SetExtra("role", e.role);
  r.SetExtra("action", e.action);
  r.SetExtra("outcome", e.outcome);
  if (!e.target.empty()) r.SetExtra("target", e.target);
  if (!e.detail.empty()) r.SetExtra("detail", e.detail);
  return r;
}

std::vector<AccessLogEntry> AccessEntries(const AccessEvent& e,
                                          const std::vector<std::string>& contracts) {
  std::vector<AccessLogEntry> out;
  const AuditRecord r = AccessAuditRecord(e);
  out.push_back({"", r});
  for (const std::string& c : contracts) out.push_back({c, r});
  return out;
}

Result<std::vector<AccessLogEntry>> Access::EntriesFor(const AccessEvent& e) {
  std::vector<std::string> contracts;
  if (ValidateUserName(e.user).ok()) {
    ISMS_ASSIGN_OR_RETURN(
        auto st, conn_.Prepare("SELECT c.name FROM users u JOIN user_contracts g ON g.user_id = "
                               "u.id JOIN contracts c ON c.id = g.contract_id WHERE u.name = $1 "
                               "ORDER BY c.name"));
    st->BindText(1, e.user);
    while (true) {
      ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
      if (!row) break;
      contracts.push_back(st->ColumnText(0));
    }
  }
  return AccessEntries(e, contracts);
}

namespace {

Status AppendToAccessLog(AuditService& audit, const std::vector<AuditRecord>& records,
                         const Clock& clock) {
  ISMS_ASSIGN_OR_RETURN(audit::NoteSigner signer, audit.Signer());
  std::vector<audit::LogEntry> entries;
  entries.reserve(records.size());
  for (const AuditRecord& r : records) {
    ISMS_ASSIGN_OR_RETURN(std::string bytes, EncodeAuditRecord(r));
    audit::LogEntry le;
    le.bytes = std::move(bytes);
    le.time = r.time;
    le.host = r.host;
    le.user = r.user;
    entries.push_back(std::move(le));
  }
  store::Connection& conn = audit.audit_connection();
  audit::LogStore log = AuditLog(conn, kAccessLogContractId);
  store::Transaction tx(conn);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  ISMS_RETURN_IF_ERROR(log.Append(entries));
  ISMS_ASSIGN_OR_RETURN(std::string note,
                        log.WriteCheckpoint(signer, kAccessLogOrigin, clock.Now()));
  (void)note;
  return tx.Commit();
}

}  // namespace

Status AppendAccessRecords(AuditService& audit, std::vector<AccessLogEntry> entries,
                           const Clock& clock) {
  std::map<std::string, std::vector<AuditRecord>> by_log;
  for (AccessLogEntry& e : entries) by_log[e.contract].push_back(std::move(e.record));
  std::vector<AuditRecord> store_log = std::move(by_log[""]);
  by_log.erase("");
  for (auto& [contract, records] : by_log) {
    Result<AuditIngestResult> r = audit.AppendRecords(contract, records);
    if (r.ok()) continue;
    if (r.status().code() != StatusCode::kNotFound) {
      return r.status().WithContext("the audit log of contract '" + contract + "'");
    }
    for (AuditRecord& rec : records) {
      rec.SetExtra("contract", contract);
      store_log.push_back(std::move(rec));
    }
  }
  if (store_log.empty()) return Status::Ok();
  return AppendToAccessLog(audit, store_log, clock).WithContext("the store's access log");
}

Status SearchAccessLog(AuditService& audit, const AuditSearchRequest& r,
                       const std::function<Result<bool>(AuditHit&&)>& fn) {
  std::optional<AuditCategory> category;
  if (r.category) {
    ISMS_ASSIGN_OR_RETURN(category, ParseAuditCategoryKey(*r.category));
  }
  audit::LogQuery q;
  q.from = r.from;
  q.to = r.to;
  q.host = r.host;
  q.user = r.user;
  if (category) q.kinds = AuditKindsOf(*category);
  q.leaf_hashes = false;
  std::int64_t seen = 0;
  audit::LogStore log = AuditLog(audit.audit_connection(), kAccessLogContractId);
  return log.Scan(q, [&](audit::StoredEntry&& e) -> Result<bool> {
    if (r.limit >= 0 && seen >= r.limit) return false;
    if (e.erased) return true;
    ISMS_ASSIGN_OR_RETURN(std::optional<AuditRecord> rec,
                          DecodeIfMatching(e.bytes, category, r.text));
    if (!rec) return true;
    ++seen;
    AuditHit hit;
    hit.leaf = e.leaf;
    hit.record = std::move(*rec);
    ISMS_ASSIGN_OR_RETURN(bool more, fn(std::move(hit)));
    return more && (r.limit < 0 || seen < r.limit);
  });
}

Result<audit::VerifyReport> VerifyAccessLog(AuditService& audit) {
  ISMS_ASSIGN_OR_RETURN(std::vector<audit::NoteVerifier> keys, audit.Verifiers());
  audit::LogStore log = AuditLog(audit.audit_connection(), kAccessLogContractId);
  return log.Verify(keys);
}

}  // namespace isms::app
