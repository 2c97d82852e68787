// Audit records (Annex 1 8):
//   GET  /c/{contract}/audit                  search with filters (time, host, user, category,
//                                             text), paginated; the latest signed checkpoint;
//                                             the result of the last verification
//   GET  /c/{contract}/audit/checkpoint       the latest signed checkpoint, as a file to keep
//   GET  /c/{contract}/audit/verifier-key     the key that verifies the checkpoints' signatures
//   GET  /c/{contract}/audit/key-transition/{keyid}   a rotation's transition note, as a file
//   POST /c/{contract}/audit/verify           verifies the audit log (optionally against a
//                                             checkpoint kept earlier) and the ledger log
// The last verification is kept by this server process, per store and contract, until it
// restarts (docs/web.md); every verification is also in the access record of its request.
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "app/access.h"
#include "app/audit.h"
#include "audit/merkle.h"
#include "formats/audit_record.h"
#include "net/web_pages.h"
#include "net/web_render.h"

namespace isms::net {

namespace {

constexpr AuditCategory kCategoryList[] = {
    AuditCategory::kOther,           AuditCategory::kOutboundRequest,
    AuditCategory::kDhcpLease,       AuditCategory::kPrivilegedLogon,
    AuditCategory::kPrivilegedLogoff, AuditCategory::kRemoteSessionStart,
    AuditCategory::kRemoteSessionEnd, AuditCategory::kSecurityAlert};

struct Verification {
  std::string when, by;
  bool ok = false;
  std::string summary;
  std::vector<std::string> problems;
  std::string ledger;  // the ledger log's result
  bool ledger_ok = false;
  bool against = false;
};

std::mutex verifications_mu;
std::map<std::pair<std::string, std::string>, Verification>& Verifications() {
  static std::map<std::pair<std::string, std::string>, Verification> m;
  return m;
}

nlohmann::json Option(const std::string& value, const std::string& label, const std::string& cur) {
  return {{"value", value}, {"label", label}, {"selected", value == cur}};
}

HttpResponse AuditPage(RequestContext& ctx) {
  Result<PageRequest> page = ParsePage(ctx.req);
  if (!page.ok()) return web::StatusPage(ctx, page.status());
  auto q = [&](const char* name) { return ctx.req.Query(name).value_or(""); };
  std::string from = q("from"), to = q("to"), host = q("host"), user = q("user"),
              category = q("category"), text = q("text");
  bool searching = ctx.req.Query("search").has_value() || !from.empty() || !to.empty() ||
                   !host.empty() || !user.empty() || !category.empty() || !text.empty();
  nlohmann::json d = {{"section", "audit"},
                      {"from", from},
                      {"to", to},
                      {"host", host},
                      {"user", user},
                      {"text", text},
                      {"searching", searching}};
  nlohmann::json cats = nlohmann::json::array();
  cats.push_back(Option("", "any", category));
  for (AuditCategory c : kCategoryList) {
    std::string k(AuditCategoryKey(c));
    cats.push_back(Option(k, k, category));
  }
  d["categories"] = cats;

  if (searching) {
    app::AuditSearchRequest r;
    r.contract = ctx.contract;
    std::string error;
    if (!from.empty()) {
      Result<Instant> t = web::ParseWhen("from", from, false);
      if (t.ok()) r.from = *t; else error = t.status().message();
    }
    if (!to.empty() && error.empty()) {
      Result<Instant> t = web::ParseWhen("to", to, true);
      if (t.ok()) r.to = *t; else error = t.status().message();
    }
    if (!category.empty() && error.empty()) {
      Result<AuditCategory> c = ParseAuditCategoryKey(category);
      if (c.ok()) r.category = category; else error = c.status().message();
    }
    if (!host.empty()) r.host = host;
    if (!user.empty()) r.user = user;
    if (!text.empty()) r.text = text;
    nlohmann::json rows = nlohmann::json::array();
    std::int64_t seen = 0;
    bool more = false;
    if (error.empty()) {
      Status st = ctx.services.audit->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
        if (seen++ < page->offset) return true;
        if (static_cast<std::int64_t>(rows.size()) >= page->limit) {
          more = true;
          return false;
        }
        const AuditRecord& rec = h.record;
        std::string msg = rec.message.size() > 400 ? rec.message.substr(0, 397) + "..." : rec.message;
        nlohmann::json row = {{"leaf", h.leaf},
                              {"time", web::LondonTime(rec.time)},
                              {"time_iso", FormatInstant(rec.time)},
                              {"host", rec.host},
                              {"erased", h.erased},
                              {"via_lease", h.via_lease.has_value()}};
        if (!h.erased) {
          row["app"] = rec.app;
          row["user"] = rec.user;
          row["src"] = rec.src_ip;
          row["category"] = std::string(AuditCategoryKey(rec.category));
          row["message"] = msg;
        }
        rows.push_back(std::move(row));
        return true;
      });
      if (!st.ok()) error = st.message();
    }
    d["error"] = error;
    d["rows"] = rows;
    d["has_rows"] = !rows.empty();
    d["from_n"] = page->offset + 1;
    d["to_n"] = page->offset + static_cast<std::int64_t>(rows.size());
    ctx.Note("audit search: " + std::to_string(rows.size()) + " records shown");
    if (more) {
      std::string next = "/audit?search=1";
      for (const auto& [k, v] : ctx.req.query) {
        if (k == "cursor" || k == "search") continue;
        next += "&" + PercentEncode(k) + "=" + PercentEncode(v);
      }
      next += "&cursor=" + NextCursor(page->offset, page->limit);
      d["next"] = web::ContractPath(ctx.contract, next);
    }
  }

  // The checkpoint and the last verification: audit.read (every role that searches has it).
  if (app::Allowed(ctx.principal->role, app::Action::kAuditRead)) {
    nlohmann::json cp;
    Result<std::string> note = ctx.services.audit->LatestCheckpoint(ctx.contract);
    cp["note"] = note.ok() ? *note : "";
    cp["none"] = !note.ok() && note.status().code() == StatusCode::kNotFound;
    cp["cp_error"] = !note.ok() && note.status().code() != StatusCode::kNotFound
                         ? note.status().message()
                         : "";
    cp["download"] = web::ContractPath(ctx.contract, "/audit/checkpoint");
    cp["key"] = web::ContractPath(ctx.contract, "/audit/verifier-key");
    // The signing key's rotations: a buyer holding an earlier key checks these notes before
    // trusting the key offered for download (docs/audit-merkle.md, "Key rotation").
    nlohmann::json rotations = nlohmann::json::array();
    Result<std::vector<std::string>> notes = ctx.services.audit->KeyTransitionNotes();
    if (notes.ok()) {
      for (const std::string& n : *notes) {
        Result<app::AuditKeyTransition> t = app::AuditKeyTransitionOf(n);
        if (!t.ok()) continue;
        rotations.push_back({{"from", t->from.Label()},
                             {"to", t->to.Label()},
                             {"at", t->at},
                             {"download", web::ContractPath(ctx.contract, "/audit/key-transition/" +
                                                                              t->to.KeyIdText())}});
      }
    }
    cp["rotations"] = rotations;
    cp["rotated"] = !rotations.empty();
    d["checkpoint"] = cp;
    d["verify_action"] = web::ContractPath(ctx.contract, "/audit/verify");
    std::lock_guard<std::mutex> lock(verifications_mu);
    auto it = Verifications().find({ctx.app.options().store_url, ctx.contract});
    if (it != Verifications().end()) {
      const Verification& v = it->second;
      nlohmann::json problems = nlohmann::json::array();
      for (const std::string& p : v.problems) problems.push_back(p);
      d["verification"] = {{"when", v.when},   {"by", v.by},
                           {"ok", v.ok},       {"summary", v.summary},
                           {"problems", problems}, {"ledger", v.ledger},
                           {"ledger_ok", v.ledger_ok}, {"against", v.against}};
    }
  }
  return web::Page(ctx, "audit", "Audit records", d);
}

HttpResponse Checkpoint(RequestContext& ctx) {
  Result<std::string> note = ctx.services.audit->LatestCheckpoint(ctx.contract);
  if (!note.ok()) return web::StatusPage(ctx, note.status());
  ctx.Note("checkpoint downloaded");
  return web::Download(*note, "text/plain; charset=utf-8",
                       ctx.contract + "-audit-checkpoint.txt");
}

HttpResponse VerifierKey(RequestContext& ctx) {
  Result<std::string> dir = app::AuditKeyDir(ctx.app.options().store_url, ctx.app.options().key_dir);
  if (!dir.ok()) return web::StatusPage(ctx, dir.status());
  std::ifstream in(*dir + "/" + app::kAuditPublicKeyFile, std::ios::binary);
  if (!in) {
    return web::StatusPage(ctx, Status::NotFound("no verifier key yet: it is made with the "
                                                 "first checkpoint (isms init)"));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return web::Download(ss.str(), "text/plain; charset=utf-8", app::kAuditPublicKeyFile);
}

HttpResponse KeyTransition(RequestContext& ctx) {
  const std::string id(ctx.Param("keyid"));
  const bool hex = id.size() == 8 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  const std::string name = std::string(app::kAuditKeyTransitionPrefix) + id + ".note";
  Result<std::string> dir = ctx.services.audit->KeyDir();
  if (!dir.ok()) return web::StatusPage(ctx, dir.status());
  std::ifstream in(*dir + "/" + name, std::ios::binary);
  if (!hex || !in) {
    return web::StatusPage(ctx, Status::NotFound("no key transition to key " + id));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return web::Download(ss.str(), "text/plain; charset=utf-8", name);
}

HttpResponse Verify(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  std::optional<std::string> against;
  for (const auto& [k, v] : form->fields()) {
    if (k == "against" && !form->Get("against").empty()) against = v;
  }
  Verification v;
  v.when = web::LondonTime(ctx.clock.Now());
  v.by = ctx.principal->name;
  v.against = against.has_value();
  Result<audit::VerifyReport> rep = ctx.services.audit->Verify(ctx.contract, against);
  if (!rep.ok()) {
    v.summary = rep.status().message();
  } else {
    v.ok = rep->problems.empty();
    v.problems = rep->problems;
    v.summary = std::to_string(rep->size) + " records, " + std::to_string(rep->chunks) +
                " chunks checked, " + std::to_string(rep->purged_chunks) +
                " purged chunks (hashes kept), " + std::to_string(rep->checkpoints) +
                " checkpoints; root " + audit::HashHex(rep->root) +
                (against && v.ok ? "; the log extends the checkpoint given" : "") +
                (rep->blocks_without_kinds > 0
                     ? "; " + std::to_string(rep->blocks_without_kinds) +
                           " blocks were written before blocks kept their records' kinds "
                           "(`isms audit upgrade` stores them)"
                     : "") +
                (rep->rows_without_digest > 0
                     ? "; " + std::to_string(rep->rows_without_digest) +
                           " blocks and tail batches were written before rows kept the SHA-256 "
                           "of their bytes (checked through their records only; `isms audit "
                           "upgrade` stores it)"
                     : "");
  }
  Result<app::AuditService::LedgerVerifyReport> ledger = ctx.services.audit->VerifyLedger(ctx.contract);
  if (!ledger.ok()) {
    v.ledger = ledger.status().message();
  } else if (!ledger->log.problems.empty()) {
    v.ledger = ledger->log.problems.front();
  } else {
    v.ledger_ok = true;
    v.ledger = std::to_string(ledger->log.size) + " of " + std::to_string(ledger->events) +
               " events sealed and unchanged; root " + audit::HashHex(ledger->log.root) +
               (ledger->lagging > 0 ? "; " + std::to_string(ledger->lagging) + " newer not sealed yet"
                                    : "");
  }
  ctx.Note(std::string("verified: audit log ") + (v.ok ? "OK" : "BAD") + " (" + v.summary +
           "); ledger log " + (v.ledger_ok ? "OK" : "BAD") + " (" + v.ledger + ")");
  {
    std::lock_guard<std::mutex> lock(verifications_mu);
    Verifications()[{ctx.app.options().store_url, ctx.contract}] = std::move(v);
  }
  return HttpResponse::Redirect(web::ContractPath(ctx.contract, "/audit#verification"));
}

}  // namespace

void AddWebAuditRoutes(WebApp& app) {
  app.Add({"GET", "/c/{contract}/audit", RouteKind::kPage, RouteAuth::kUser, "audit.search",
           "Audit records: search; the latest checkpoint; the last verification"},
          AuditPage);
  app.Add({"GET", "/c/{contract}/audit/checkpoint", RouteKind::kPage, RouteAuth::kUser,
           "audit.read", "The latest signed checkpoint of the audit log, to keep"},
          Checkpoint);
  app.Add({"GET", "/c/{contract}/audit/verifier-key", RouteKind::kPage, RouteAuth::kUser,
           "audit.read", "The key that verifies the checkpoints' signatures"},
          VerifierKey);
  app.Add({"GET", "/c/{contract}/audit/key-transition/{keyid}", RouteKind::kPage, RouteAuth::kUser,
           "audit.read",
           "A rotation of the signing key: its transition note (signed by the old and the new "
           "key), to check with `isms audit verify-transition`"},
          KeyTransition);
  app.Add({"POST", "/c/{contract}/audit/verify", RouteKind::kPage, RouteAuth::kUser,
           "audit.read", "Verify the audit log (optionally against a kept checkpoint) and the "
           "ledger log"},
          Verify);
}

}  // namespace isms::net
