#include "app/json_views.h"

#include <iterator>
#include <nlohmann/json.hpp>

#include "app/report.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/proof.h"
#include "core/period.h"
#include "core/policy.h"
#include "core/time.h"
#include "formats/audit_record.h"

namespace isms::app {
namespace {

using Json = nlohmann::ordered_json;

Json OptionalDate(const std::optional<Date>& d) {
  return d ? Json(FormatDate(*d)) : Json(nullptr);
}

Json OptionalInstant(const std::optional<Instant>& t) {
  return t ? Json(FormatInstant(*t)) : Json(nullptr);
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The columns of a CSV export, in order.
constexpr const char* kExportColumns[] = {
    "leaf", "time", "received", "source",   "host",    "app",  "procid",  "msgid",   "category",
    "rule", "user", "src_ip",   "src_host", "src_mac", "dest", "session", "message", "erased"};

}  // namespace

Json EventJson(const Event& e, bool backdated) {
  Json attrs = Json::object();
  for (const auto& [k, v] : e.attrs) attrs[k] = v;
  Json j;
  j["id"] = e.id;
  j["type"] = e.type;
  j["subject"] = e.subject;
  j["at"] = FormatInstant(e.at);
  j["recorded_at"] = FormatInstant(e.recorded_at);
  j["actor"] = e.actor;
  j["by_buyer"] = e.by_buyer;
  j["note"] = e.note;
  j["attrs"] = std::move(attrs);
  j["supersedes"] = e.supersedes ? Json(*e.supersedes) : Json(nullptr);
  j["backdated"] = backdated;
  return j;
}

Json ObligationJson(const Obligation& o) {
  Json j;
  j["clause"] = o.clause;
  j["key"] = o.key;
  j["title"] = o.title;
  j["subject"] = o.subject;
  j["trigger_type"] = o.trigger_type;
  j["trigger_event"] = o.trigger_event_id;
  j["trigger_at"] = FormatInstant(o.trigger_at);
  j["due"] = OptionalDate(o.due_date);
  j["due_at"] = OptionalInstant(o.due_at);
  j["timescale"] = o.timescale ? Json(FormatPeriod(*o.timescale)) : Json(nullptr);
  j["timescale_source"] = TimescaleSourceKey(o.timescale_source);
  j["state"] = ObligationStateName(o.state);
  j["consequence"] = ConsequenceName(o.consequence);
  j["consequence_text"] = o.consequence_text;
  j["closed_at"] = OptionalInstant(o.closed_at);
  j["evidence"] = o.evidence;
  j["flags"] = o.flags;
  return j;
}

Json StatusCountJson(const StatusCount& n) {
  return Json{{"clause", n.clause},
              {"key", n.key},
              {"title", n.title},
              {"state", ObligationStateName(n.state)},
              {"count", n.count}};
}

Json FindingJson(const FindingView& v, bool full) {
  Json j;
  j["id"] = v.id;
  j["asset"] = v.asset;
  j["vuln_id"] = v.vuln_id;
  j["cves"] = v.cves;
  j["component"] = v.component;
  j["category"] = v.category;
  j["category_source"] = v.category_source;
  j["base_score"] = v.base_score ? Json(*v.base_score) : Json(nullptr);
  j["fix_available"] = v.fix_available;
  j["patch_released"] = OptionalDate(v.patch_released);
  j["patch_released_assumed"] = v.patch_released_assumed;
  j["first_seen"] = FormatInstant(v.first_seen);
  j["state"] = v.state;
  j["due"] = OptionalDate(v.due);
  j["obligation_state"] = v.obligation_state.empty() ? Json(nullptr) : Json(v.obligation_state);
  j["at_risk"] = v.at_risk;
  if (!full) return j;
  j["contract"] = v.contract;
  j["title"] = v.title;
  j["scanner"] = v.scanner;
  j["scan_type"] = v.scan_type;
  j["check_id"] = v.check_id;
  j["port"] = v.port;
  j["kind"] = v.kind;
  j["cvss_vector"] = v.cvss_vector;
  j["fixed_version"] = v.fixed_version;
  j["patch_release_source"] = v.patch_release_source;
  j["last_seen"] = FormatInstant(v.last_seen);
  j["remediated_at"] = OptionalInstant(v.remediated_at);
  j["remediated_by"] = v.remediated_by;
  j["statement"] = v.statement;
  j["justification"] = v.justification;
  j["exception"] = v.exception;
  Json obs = Json::array();
  for (const Obligation& o : v.obligations) obs.push_back(ObligationJson(o));
  j["obligations"] = std::move(obs);
  return j;
}

Json LeaseJson(const audit::Lease& l) {
  return Json{{"ip", l.ip},
              {"host", l.host},
              {"mac", l.mac},
              {"from", FormatInstant(l.from)},
              {"to", FormatInstant(l.to)},
              {"first_leaf", l.first_leaf},
              {"last_leaf", l.last_leaf}};
}

Json AuditRecordJson(const AuditHit& h) {
  const AuditRecord& r = h.record;
  Json j;
  j["leaf"] = h.leaf;
  j["time"] = FormatInstant(r.time);
  if (h.erased) {
    j["host"] = r.host;
    j["erased"] = true;
    j["leaf_hash"] = audit::HashHex(h.leaf_hash);
    return j;
  }
  j["received"] = FormatInstant(r.received);
  j["source"] = std::string(AuditSourceKey(r.source));
  j["host"] = r.host;
  j["app"] = r.app;
  j["procid"] = r.procid;
  j["msgid"] = r.msgid;
  j["category"] = std::string(AuditCategoryKey(r.category));
  j["rule"] = r.rule;
  j["user"] = r.user;
  j["src_ip"] = r.src_ip;
  j["src_host"] = r.src_host;
  j["src_mac"] = r.src_mac;
  j["dest"] = r.dest;
  j["session"] = r.session;
  j["message"] = r.message;
  if (h.via_lease) j["via_lease"] = LeaseJson(*h.via_lease);
  return j;
}

namespace {

std::vector<std::string> HexList(const std::vector<audit::Hash>& hs) {
  std::vector<std::string> out;
  out.reserve(hs.size());
  for (const audit::Hash& h : hs) out.push_back(audit::HashHex(h));
  return out;
}

}  // namespace

Result<Json> AuditProofJson(AuditService& audit, const std::string& contract,
                            std::optional<std::uint64_t> index,
                            std::optional<std::uint64_t> from_size,
                            std::optional<std::uint64_t> size) {
  Result<std::string> note =
      size ? audit.CheckpointAt(contract, *size) : audit.LatestCheckpoint(contract);
  if (!note.ok()) return note.status().WithContext("proofs are given against signed checkpoints");
  ISMS_ASSIGN_OR_RETURN(audit::Checkpoint cp, audit::ParseCheckpoint(*note));
  Json j;
  j["log"] = cp.origin;
  j["size"] = cp.size;
  j["root"] = audit::HashHex(cp.root);
  j["checkpoint"] = *note;
  if (index) {
    ISMS_ASSIGN_OR_RETURN(audit::InclusionProofData p,
                          audit.ProveInclusion(contract, *index, cp.size));
    j["inclusion"] = Json{{"index", p.index},
                          {"leaf_hash", audit::HashHex(p.leaf_hash)},
                          {"hashes", HexList(p.hashes)}};
  }
  if (from_size) {
    ISMS_ASSIGN_OR_RETURN(std::string from_note, audit.CheckpointAt(contract, *from_size));
    ISMS_ASSIGN_OR_RETURN(std::vector<audit::Hash> p,
                          audit.ProveConsistency(contract, *from_size, cp.size));
    j["consistency"] =
        Json{{"from_size", *from_size}, {"from_checkpoint", from_note}, {"hashes", HexList(p)}};
  }
  return j;
}

namespace {

Result<std::vector<audit::Hash>> HashList(const Json& j) {
  if (!j.is_array()) return Status::InvalidArgument("\"hashes\" is not an array");
  std::vector<audit::Hash> out;
  for (const auto& e : j) {
    if (!e.is_string()) return Status::InvalidArgument("a proof hash is not a string");
    ISMS_ASSIGN_OR_RETURN(audit::Hash h, audit::HashFromHex(e.get<std::string>()));
    out.push_back(h);
  }
  return out;
}

// The string member `key` of object `j`, or nullopt.
std::optional<std::string> StringAt(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

AuditProofCheck VerifyAuditProofJson(std::string_view text, const audit::NoteVerifier& verifier) {
  return VerifyAuditProofJson(text, std::span<const audit::NoteVerifier>(&verifier, 1));
}

AuditProofCheck VerifyAuditProofJson(std::string_view text,
                                     std::span<const audit::NoteVerifier> keys) {
  AuditProofCheck check;
  if (keys.empty()) {
    check.status = Status::InvalidArgument("no verifier key given");
    return check;
  }
  check.status = [&]() -> Status {
    const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    const std::optional<std::string> note =
        j.is_object() ? StringAt(j, "checkpoint") : std::nullopt;
    if (!note) {
      return Status::InvalidArgument("not a proof of isms audit prove (no \"checkpoint\")");
    }
    Result<audit::Checkpoint> cp = audit::VerifyCheckpoint(*note, keys);
    if (!cp.ok()) return cp.status().WithContext("the checkpoint");
    check.proved.push_back("OK: checkpoint of " + cp->origin + " at size " +
                           std::to_string(cp->size) + " signed by " + keys.front().name());
    if (const auto inc = j.find("inclusion"); inc != j.end()) {
      const std::optional<std::string> leaf_hex =
          inc->is_object() ? StringAt(*inc, "leaf_hash") : std::nullopt;
      const auto index = inc->is_object() ? inc->find("index") : inc->end();
      if (!leaf_hex || index == inc->end() || !index->is_number_unsigned() ||
          !inc->contains("hashes")) {
        return Status::InvalidArgument("\"inclusion\" needs index, leaf_hash and hashes");
      }
      Result<audit::Hash> leaf = audit::HashFromHex(*leaf_hex);
      if (!leaf.ok()) return leaf.status().WithContext("leaf_hash");
      Result<std::vector<audit::Hash>> hashes = HashList((*inc)["hashes"]);
      if (!hashes.ok()) return hashes.status().WithContext("inclusion");
      const auto i = index->get<std::uint64_t>();
      ISMS_RETURN_IF_ERROR(
          audit::VerifyInclusion(*leaf, i, cp->size, *hashes, cp->root).WithContext("inclusion"));
      check.proved.push_back("OK: record " + std::to_string(i) + " (leaf hash " +
                             audit::HashHex(*leaf) + ") is in the log at size " +
                             std::to_string(cp->size));
    }
    if (const auto con = j.find("consistency"); con != j.end()) {
      const std::optional<std::string> from_note =
          con->is_object() ? StringAt(*con, "from_checkpoint") : std::nullopt;
      if (!from_note || !con->contains("hashes")) {
        return Status::InvalidArgument("\"consistency\" needs from_checkpoint and hashes");
      }
      Result<audit::Checkpoint> from = audit::VerifyCheckpoint(*from_note, keys);
      if (!from.ok()) return from.status().WithContext("from_checkpoint");
      if (from->origin != cp->origin) {
        return Status::InvalidArgument("the two checkpoints are of different logs");
      }
      Result<std::vector<audit::Hash>> hashes = HashList((*con)["hashes"]);
      if (!hashes.ok()) return hashes.status().WithContext("consistency");
      ISMS_RETURN_IF_ERROR(
          audit::VerifyConsistency(from->size, cp->size, from->root, cp->root, *hashes)
              .WithContext("consistency"));
      check.proved.push_back("OK: the log at size " + std::to_string(cp->size) +
                             " extends the log at size " + std::to_string(from->size));
    }
    return Status::Ok();
  }();
  return check;
}

std::string AuditExportHeader(std::string_view format) {
  if (format != "csv") return "";
  std::string out;
  for (size_t i = 0; i < std::size(kExportColumns); ++i) {
    out += (i ? "," : "") + std::string(kExportColumns[i]);
  }
  return out + "\r\n";
}

std::string AuditExportLine(const AuditHit& h, std::string_view format) {
  Json j = AuditRecordJson(h);
  if (format != "csv") return Dump(j) + "\n";
  j["erased"] = h.erased ? "yes" : "no";
  std::string out;
  bool first = true;
  for (const char* col : kExportColumns) {
    const Json v = j.contains(col) ? j[col] : Json("");
    out += (first ? "" : ",") + CsvCell(v.is_string() ? v.get<std::string>() : Dump(v));
    first = false;
  }
  return out + "\r\n";
}

std::string CsvCell(std::string_view v) {
  std::string s = "\"";
  if (CsvLooksLikeAFormula(v)) s += '\'';
  for (char c : v) {
    if (c == '"') s += '"';
    s += c;
  }
  return s + "\"";
}

}  // namespace isms::app
