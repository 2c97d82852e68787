// Audit records and the tamper-evident logs (docs/api.md "Audit"):
//   GET  /api/v1/contracts/{contract}/audit/records                 search (`isms audit search`)
//   POST /api/v1/contracts/{contract}/audit/records                 ingest NDJSON (or syslog)
//   POST /api/v1/audit/records                                      the same, ?contract= or the
//                                                                   only contract the caller holds
//   GET  /api/v1/contracts/{contract}/audit/export                  `isms audit export`
//   GET  /api/v1/contracts/{contract}/audit/leases                  `isms audit leases`
//   GET  /api/v1/contracts/{contract}/audit/checkpoint              the latest signed checkpoint
//   GET  /api/v1/contracts/{contract}/audit/proofs/inclusion        `isms audit prove --index`
//   GET  /api/v1/contracts/{contract}/audit/proofs/consistency      `isms audit prove --from-size`
//   GET  /api/v1/contracts/{contract}/audit/verify                  `isms audit verify`
//   POST /api/v1/contracts/{contract}/audit/purge                   `isms audit purge`
//   GET  /api/v1/audit/public-key                                   the checkpoints' verifier key
//   GET  /api/v1/audit/key-transitions                              the signing key's rotations
//   GET  /api/v1/access-log                                         the store's access log (admin)
// An ingest is answered only after its records are committed and a checkpoint signed.
#include <chrono>

#include "app/audit.h"
#include "app/json_views.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "net/api_routes.h"
#include "net/api_util.h"

namespace isms::net {

namespace {

using api::Json;

std::optional<std::uint64_t> Unsigned(const std::optional<std::int64_t>& v) {
  return v ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*v)) : std::nullopt;
}

// from (the start of a London date, or an instant) and to (the end of a London date, or an
// instant; exclusive), as the command line reads them.
Status ParseRange(const HttpRequest& req, std::optional<Instant>& from,
                  std::optional<Instant>& to) {
  if (std::optional<std::string> f = api::QueryText(req, "from")) {
    ISMS_ASSIGN_OR_RETURN(Instant v, api::ParseAt(*f, false, "from"));
    from = v;
  }
  if (std::optional<std::string> t = api::QueryText(req, "to")) {
    ISMS_ASSIGN_OR_RETURN(Instant v, api::ParseAt(*t, true, "to"));
    to = t->size() == 10 ? v + std::chrono::milliseconds(1) : v;
  }
  return Status::Ok();
}

Result<app::AuditSearchRequest> SearchRequest(const HttpRequest& req, const std::string& c) {
  app::AuditSearchRequest r;
  r.contract = c;
  ISMS_RETURN_IF_ERROR(ParseRange(req, r.from, r.to));
  r.host = api::QueryText(req, "host");
  r.user = api::QueryText(req, "user");
  r.category = api::QueryText(req, "category");
  r.text = api::QueryText(req, "text");
  return r;
}

const std::vector<api::ApiParam> kSearchParams = {
    {"from", "string", "from: YYYY-MM-DD (the start of that London day) or an RFC 3339 instant"},
    {"to", "string", "to (exclusive): YYYY-MM-DD (through that London day) or an instant"},
    {"host", "string",
     "records the host sent, and outbound requests from the addresses it held by DHCP lease"},
    {"user", "string", "records of this user"},
    {"category", "string", "an Annex 1 8.1 category key (docs/audit-format.md)"},
    {"text", "string", "records whose message holds this text"}};

// Runs a search and answers one page of it.
HttpResponse SearchPage(
    const HttpRequest& req, const app::AuditSearchRequest& base,
    const std::function<Status(const app::AuditSearchRequest&,
                               const std::function<Result<bool>(app::AuditHit&&)>&)>& search) {
  Result<PageRequest> page = ParsePage(req);
  if (!page.ok()) return api::Fail(page.status());
  app::AuditSearchRequest r = base;
  r.limit = page->offset + page->limit + 1;
  Json items = Json::array();
  std::int64_t seen = 0;
  bool more = false;
  Status st = search(r, [&](app::AuditHit&& h) -> Result<bool> {
    if (seen++ < page->offset) return true;
    if (static_cast<std::int64_t>(items.size()) >= page->limit) {
      more = true;
      return false;
    }
    items.push_back(app::AuditRecordJson(h));
    return true;
  });
  if (!st.ok()) return api::Fail(st);
  return api::PageReply(std::move(items), *page, more);
}

HttpResponse Ingest(RequestContext& ctx, const std::string& contract) {
  std::string format = api::QueryText(ctx.req, "format").value_or("jsonl");
  if (format != "jsonl" && format != "syslog") {
    return api::Fail(Status::InvalidArgument("format=" + format + ": use jsonl or syslog"));
  }
  if (ctx.req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return api::Fail(Status::InvalidArgument(
        "the body holds no records: send one JSON object per line (docs/audit-format.md)"));
  }
  app::AuditIngestRequest r;
  r.contract = contract;
  r.data = ctx.req.body;
  r.source = "body";
  r.format = format;
  Result<app::AuditIngestResult> res = ctx.services.audit->Ingest(r);
  if (!res.ok()) return api::Fail(res.status().WithContext("nothing was ingested"));
  Json cats = Json::object();
  for (const auto& [k, n] : res->categories) cats[k] = n;
  ctx.Note("ingested " + std::to_string(res->records) + " records");
  return api::JsonReply(200, Json{{"contract", contract},
                                  {"records", res->records},
                                  {"first_leaf", res->first_leaf},
                                  {"size", res->size},
                                  {"categories", cats},
                                  {"checkpoint", res->checkpoint}});
}

const api::ApiDoc kIngestDoc =
    api::ApiDoc()
        .Describe(
            "One JSON object per line in the schema of docs/audit-format.md (\"JSON lines\"); with "
            "format=syslog, syslog lines (RFC 5424 or RFC 3164, LF or octet-counted framing). The "
            "whole body is one transaction: a bad line refuses all of it, naming body:LINE:COLUMN. "
            "The answer comes after the records are committed and a checkpoint is signed.")
        .Query({{"format", "string", "default jsonl", {"jsonl", "syslog"}}})
        .Request({"application/x-ndjson"})
        .RequestText("the records")
        .Returns(
            "records, first_leaf, size (of the log after), categories (key -> "
            "count), checkpoint (the signed note)")
        .Errors({400, 413});

}  // namespace

void AddAuditRoutes(WebApp& app) {
  using api::ApiParam;

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/audit/records", RouteKind::kApi, RouteAuth::kUser,
            "audit.search", "Search the audit records (`isms audit search`)"},
           api::ApiDoc()
               .Describe("Matching records in log order.")
               .Query(kSearchParams)
               .Paginated()
               .Returns("records with the fields of `isms audit search --json`")
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<app::AuditSearchRequest> r = SearchRequest(ctx.req, ctx.contract);
             if (!r.ok()) return api::Fail(r.status());
             app::AuditService& audit = *ctx.services.audit;
             return SearchPage(ctx.req, *r,
                               [&audit](const app::AuditSearchRequest& q, const auto& fn) {
                                 return audit.Search(q, fn);
                               });
           });

  api::Add(app,
           {"POST", "/api/v1/contracts/{contract}/audit/records", RouteKind::kApi, RouteAuth::kUser,
            "audit.ingest", "Append audit records (NDJSON)"},
           kIngestDoc, [](RequestContext& ctx) { return Ingest(ctx, ctx.contract); });

  api::ApiDoc any = kIngestDoc;
  any.query.push_back({"contract", "string",
                       "the contract whose log receives the records; default: the only "
                       "contract the caller holds"});
  api::Add(app,
           {"POST", "/api/v1/audit/records", RouteKind::kApi, RouteAuth::kUser, "",
            "Append audit records (NDJSON) to the caller's contract"},
           any, [](RequestContext& ctx) {
             std::string contract = api::QueryText(ctx.req, "contract").value_or("");
             if (contract.empty()) {
               const auto& held = ctx.principal->contracts;
               if (held.size() != 1) {
                 if (Status st = ctx.Check(app::Action::kAuditIngest, "");
                     !st.ok() && st.code() == StatusCode::kPermissionDenied) {
                   return api::Fail(st);
                 }
                 return api::Fail(Status::InvalidArgument(
                     "name the contract with ?contract=NAME: " +
                     std::string(held.empty()
                                     ? "you hold no contract"
                                     : "you hold " + std::to_string(held.size()) + " contracts")));
               }
               contract = held.front();
             }
             ctx.contract = contract;
             if (Status st = ctx.Check(app::Action::kAuditIngest, contract); !st.ok()) {
               return api::Fail(st);
             }
             return Ingest(ctx, contract);
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/audit/export", RouteKind::kApi, RouteAuth::kUser,
            "audit.search", "Export the audit records of a period (`isms audit export`)"},
           api::ApiDoc()
               .Describe("Every record of [from, to) as JSON lines or CSV, as a download.")
               .Query({{"from", "string", "YYYY-MM-DD or an RFC 3339 instant", {}, true},
                       {"to", "string", "YYYY-MM-DD (through that day) or an instant", {}, true},
                       {"format", "string", "default jsonl", {"jsonl", "csv"}}})
               .Response({"application/x-ndjson", "text/csv"})
               .Errors({400}),
           [](RequestContext& ctx) {
             std::string format = api::QueryText(ctx.req, "format").value_or("jsonl");
             if (format != "jsonl" && format != "csv") {
               return api::Fail(Status::InvalidArgument("format=" + format + ": use jsonl or csv"));
             }
             if (!api::QueryText(ctx.req, "from") || !api::QueryText(ctx.req, "to")) {
               return api::Fail(Status::InvalidArgument("an export needs from and to"));
             }
             app::AuditSearchRequest r;
             r.contract = ctx.contract;
             if (Status st = ParseRange(ctx.req, r.from, r.to); !st.ok()) return api::Fail(st);
             std::string out = app::AuditExportHeader(format);
             std::int64_t n = 0;
             Status st = ctx.services.audit->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
               ++n;
               out += app::AuditExportLine(h, format);
               return true;
             });
             if (!st.ok()) return api::Fail(st);
             ctx.Note("exported " + std::to_string(n) + " records");
             HttpResponse res = HttpResponse::Text(
                 200, std::move(out),
                 format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
             res.With("Content-Disposition", "attachment; filename=\"" + ctx.contract + "-audit." +
                                                 (format == "csv" ? "csv" : "jsonl") + "\"");
             return res;
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/audit/leases", RouteKind::kApi, RouteAuth::kUser,
            "audit.search", "DHCP leases held by a host or of an address (`isms audit leases`)"},
           api::ApiDoc()
               .Query({{"host", "string", "a host name or MAC address"},
                       {"ip", "string", "an address"},
                       {"from", "string", "YYYY-MM-DD or an RFC 3339 instant"},
                       {"to", "string", "YYYY-MM-DD (through that day) or an instant"}})
               .Paginated()
               .Returns("ip, host, mac, from, to, first_leaf, last_leaf")
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             std::optional<Instant> from, to;
             if (Status st = ParseRange(ctx.req, from, to); !st.ok()) return api::Fail(st);
             Result<std::vector<audit::Lease>> leases =
                 ctx.services.audit->Leases(ctx.contract, api::QueryText(ctx.req, "host"),
                                            api::QueryText(ctx.req, "ip"), from, to);
             if (!leases.ok()) return api::Fail(leases.status());
             return api::SlicePage(*leases, *page, app::LeaseJson);
           });

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/audit/checkpoint", RouteKind::kApi, RouteAuth::kUser,
       "audit.read", "The latest signed checkpoint of the audit log, for the Buyer to keep"},
      api::ApiDoc()
          .Describe("The C2SP signed note (docs/audit-merkle.md), as a download; with size, "
                    "the checkpoint signed at that size. Keep it: GET .../audit/proofs/"
                    "consistency later proves that the log still extends it.")
          .Query({{"size", "integer", "the log size of an earlier checkpoint"}})
          .Response({"text/plain"})
          .Errors({400}),
      [](RequestContext& ctx) {
        Result<std::optional<std::int64_t>> size = api::QueryInt(ctx.req, "size");
        if (!size.ok()) return api::Fail(size.status());
        Result<std::string> note =
            *size ? ctx.services.audit->CheckpointAt(ctx.contract,
                                                     static_cast<std::uint64_t>(**size))
                  : ctx.services.audit->LatestCheckpoint(ctx.contract);
        if (!note.ok()) return api::Fail(note.status());
        Result<audit::Checkpoint> cp = audit::ParseCheckpoint(*note);
        std::string name = ctx.contract + "-audit-checkpoint-" +
                           (cp.ok() ? std::to_string(cp->size) : std::string("latest")) + ".txt";
        HttpResponse res = HttpResponse::Text(200, *note, "text/plain; charset=utf-8");
        res.With("Content-Disposition", "attachment; filename=\"" + name + "\"");
        return res;
      });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/audit/proofs/inclusion", RouteKind::kApi,
            RouteAuth::kUser, "audit.read", "Prove that a record is in the log (RFC 9162)"},
           api::ApiDoc()
               .Describe("The JSON of `isms audit prove --index`: checked offline with `isms audit "
                         "verify-proof FILE --public-key F`.")
               .Query({{"index", "integer", "the record's leaf index", {}, true},
                       {"size", "integer", "the size of a signed checkpoint (default the latest)"}})
               .Returns("log, size, root, checkpoint, inclusion {index, leaf_hash, "
                        "hashes}")
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<std::optional<std::int64_t>> index = api::QueryInt(ctx.req, "index");
             Result<std::optional<std::int64_t>> size = api::QueryInt(ctx.req, "size");
             if (!index.ok()) return api::Fail(index.status());
             if (!size.ok()) return api::Fail(size.status());
             if (!*index)
               return api::Fail(Status::InvalidArgument("give index: the leaf to prove"));
             Result<Json> j = app::AuditProofJson(*ctx.services.audit, ctx.contract,
                                                  static_cast<std::uint64_t>(**index),
                                                  std::nullopt, Unsigned(*size));
             if (!j.ok()) return api::Fail(j.status());
             return api::JsonReply(200, *j);
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/audit/proofs/consistency", RouteKind::kApi,
            RouteAuth::kUser, "audit.read",
            "Prove that the log extends an earlier checkpoint (RFC 9162)"},
           api::ApiDoc()
               .Describe("The JSON of `isms audit prove --from-size`: checked offline with `isms "
                         "audit verify-proof`.")
               .Query({{"from_size", "integer", "the size of the earlier checkpoint", {}, true},
                       {"size", "integer", "the size of the later one (default the latest)"}})
               .Returns("log, size, root, checkpoint, consistency {from_size, "
                        "from_checkpoint, hashes}")
               .Errors({400}),
           [](RequestContext& ctx) {
             Result<std::optional<std::int64_t>> from = api::QueryInt(ctx.req, "from_size");
             Result<std::optional<std::int64_t>> size = api::QueryInt(ctx.req, "size");
             if (!from.ok()) return api::Fail(from.status());
             if (!size.ok()) return api::Fail(size.status());
             if (!*from) {
               return api::Fail(Status::InvalidArgument(
                   "give from_size: the size of the checkpoint the log must extend"));
             }
             Result<Json> j = app::AuditProofJson(*ctx.services.audit, ctx.contract,
                                                  std::nullopt, static_cast<std::uint64_t>(**from),
                                                  Unsigned(*size));
             if (!j.ok()) return api::Fail(j.status());
             return api::JsonReply(200, *j);
           });

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/audit/verify", RouteKind::kApi, RouteAuth::kUser,
       "audit.read", "Verify the audit log or the ledger log now (`isms audit verify`)"},
      api::ApiDoc()
          .Describe("Reads the whole log: every chunk against its hashes, every checkpoint's "
                    "signature and root. `ok` false lists the problems, the first first.")
          .Query({{"log", "string", "default audit", {"audit", "ledger"}}})
          .Returns("ok, problems, size, root, and the counts checked")
          .Errors({400}),
      [](RequestContext& ctx) {
        std::string log = api::QueryText(ctx.req, "log").value_or("audit");
        if (log != "audit" && log != "ledger") {
          return api::Fail(Status::InvalidArgument("log=" + log + ": use audit or ledger"));
        }
        Json j;
        j["log"] = log;
        const audit::VerifyReport* rep = nullptr;
        Result<app::AuditService::LedgerVerifyReport> ledger = Status::Internal("unset");
        Result<audit::VerifyReport> audit_rep = Status::Internal("unset");
        if (log == "ledger") {
          ledger = ctx.services.audit->VerifyLedger(ctx.contract);
          if (!ledger.ok()) return api::Fail(ledger.status());
          rep = &ledger->log;
          j["events"] = ledger->events;
          j["lagging"] = ledger->lagging;
        } else {
          audit_rep = ctx.services.audit->Verify(ctx.contract, std::nullopt);
          if (!audit_rep.ok()) return api::Fail(audit_rep.status());
          rep = &*audit_rep;
          j["chunks"] = rep->chunks;
          j["purged_chunks"] = rep->purged_chunks;
          j["tail_batches"] = rep->tail_batches;
          j["erased"] = rep->erased.size();
          j["blocks_without_kinds"] = rep->blocks_without_kinds;  // `isms audit upgrade`
        }
        j["ok"] = rep->problems.empty();
        j["problems"] = rep->problems;
        // Rows checked through their records only (written before rows kept their bytes' hash).
        j["rows_without_digest"] = rep->rows_without_digest;
        j["size"] = rep->size;
        j["checkpoints"] = rep->checkpoints;
        j["root"] = audit::HashHex(rep->root);
        ctx.Note(rep->problems.empty() ? "verified" : "does not verify: " + rep->problems.front());
        return api::JsonReply(200, j);
      });

  api::Add(app,
           {"POST", "/api/v1/contracts/{contract}/audit/purge", RouteKind::kApi, RouteAuth::kUser,
            "audit.purge", "Purge whole chunks older than a date (retention, `isms audit purge`)"},
           api::ApiDoc()
               .Describe("Refused for a date younger than the retention period of the policy "
                         "in force. Hashes are kept, so proofs still verify; recorded as "
                         "audit.purged in the ledger.")
               .Request({"application/json"})
               .RequestSchema(Json::parse(R"({"type":"object","required":["before"],
              "properties":{"before":{"type":"string","format":"date"}}})"))
               .Returns("chunks, records purged, before")
               .Errors({400, 409}),
           [](RequestContext& ctx) {
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(*body, {"before"}); !st.ok()) return api::Fail(st);
             Result<std::string> before = api::StringField(*body, "before", true);
             if (!before.ok()) return api::Fail(before.status());
             Result<Date> d = ParseDate(*before);
             if (!d.ok()) return api::Fail(d.status().WithContext("before"));
             Result<app::AuditPurgeResult> r =
                 ctx.services.audit->Purge(ctx.contract, *d, ctx.Actor());
             if (!r.ok()) return api::Fail(r.status());
             ctx.Note("purged " + std::to_string(r->purged.records) + " records before " + *before);
             return api::JsonReply(200, Json{{"chunks", r->purged.chunks},
                                             {"records", r->purged.records},
                                             {"before", FormatDate(r->before)}});
           });

  api::Add(app,
           {"GET", "/api/v1/audit/public-key", RouteKind::kApi, RouteAuth::kUser, "",
            "The verifier key of the signed checkpoints (for `isms audit verify-proof`)"},
           api::ApiDoc().Response({"text/plain"}), [](RequestContext& ctx) {
             Result<audit::NoteVerifier> v = ctx.services.audit->Verifier();
             if (!v.ok()) return api::Fail(v.status());
             return HttpResponse::Text(200, v->Encode() + "\n", "text/plain; charset=utf-8");
           });

  api::Add(
      app,
      {"GET", "/api/v1/audit/key-transitions", RouteKind::kApi, RouteAuth::kUser, "",
       "The signing key's rotations, oldest first: each transition note (signed by the old "
       "key and the new one) with the keys it names, for `isms audit verify-transition`"},
      api::ApiDoc(), [](RequestContext& ctx) {
        Result<audit::NoteVerifier> current = ctx.services.audit->Verifier();
        if (!current.ok()) return api::Fail(current.status());
        Result<std::vector<std::string>> notes = ctx.services.audit->KeyTransitionNotes();
        if (!notes.ok()) return api::Fail(notes.status());
        Json list = Json::array();
        for (const std::string& note : *notes) {
          // Checked with the key it names as the old one: the note is whole and signed by
          // both keys (whether that old key is to be trusted is the reader's to say).
          Result<app::AuditKeyTransition> t = app::AuditKeyTransitionOf(note);
          if (!t.ok()) return api::Fail(t.status());
          list.push_back(Json{
              {"from", t->from.Encode()}, {"to", t->to.Encode()}, {"at", t->at}, {"note", note}});
        }
        return api::JsonReply(
            200, Json{{"current_key", current->Encode()}, {"transitions", std::move(list)}});
      });

  api::Add(app,
           {"GET", "/api/v1/access-log", RouteKind::kApi, RouteAuth::kUser, "access-log.read",
            "The store's access log: authentications and account changes (`isms user log`)"},
           api::ApiDoc().Query(kSearchParams).Paginated().Errors({400}), [](RequestContext& ctx) {
             Result<app::AuditSearchRequest> r = SearchRequest(ctx.req, "");
             if (!r.ok()) return api::Fail(r.status());
             app::AuditService& audit = *ctx.services.audit;
             return SearchPage(ctx.req, *r,
                               [&audit](const app::AuditSearchRequest& q, const auto& fn) {
                                 return app::SearchAccessLog(audit, q, fn);
                               });
           });
}

}  // namespace isms::net
