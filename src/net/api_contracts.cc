// Contracts and their ledger (docs/api.md "Contracts and events"):
//   GET  /api/v1/contracts                               the contracts the caller may see
//   POST /api/v1/contracts                               create one (contract.create: admin)
//   GET  /api/v1/contracts/{contract}                    its terms (contract.read)
//   GET  /api/v1/contracts/{contract}/events             its events (contract.read)
//   POST /api/v1/contracts/{contract}/events             record one (event.record, buyer.act or
//                                                        vuln.record, by the type and the role)
//   GET  /api/v1/contracts/{contract}/status             obligations, as `isms status --all`
//   GET  /api/v1/contracts/{contract}/status/overview    what needs attention, as `isms status`
//   GET  /api/v1/contracts/{contract}/root-causes        root-cause ids used so far (6.5)
#include <algorithm>

#include "app/api_support.h"
#include "app/vulns.h"
#include "core/event_types.h"
#include "net/api_routes.h"
#include "net/api_util.h"
#include "net/web_cache.h"

namespace isms::net {

namespace {

using api::Json;

// {"name":..., "start":..., ...}: the JSON Schema of a contract.
Json ContractSchema() {
  return Json::parse(R"({"type":"object","properties":{
    "name":{"type":"string"},"start":{"type":"string","format":"date"},
    "buyer":{"type":"string"},"supplier":{"type":"string"},"bespoke_isms":{"type":"boolean"},
    "policy":{"type":["string","null"],"description":"the policy file of the contract, in TOML"},
    "created_at":{"type":"string","format":"date-time"},"created_by":{"type":"string"}}})");
}

Json EventSchema() {
  return Json::parse(R"({"type":"object","properties":{
    "id":{"type":"integer"},"type":{"type":"string"},"subject":{"type":"string"},
    "at":{"type":"string","format":"date-time"},"recorded_at":{"type":"string","format":"date-time"},
    "actor":{"type":"string"},"by_buyer":{"type":"boolean"},"note":{"type":"string"},
    "attrs":{"type":"object","additionalProperties":{"type":"string"}},
    "supersedes":{"type":["integer","null"]},"backdated":{"type":"boolean"}}})");
}

// The body of an event to record, as `isms event record` takes it.
Json NewEventSchema() {
  return Json::parse(R"({"type":"object","required":["type"],"properties":{
    "type":{"type":"string","description":"an event type of docs/events.md, e.g. isms.submitted"},
    "subject":{"type":"string","description":"what the event is about, where the type takes one"},
    "at":{"type":"string","description":"when it happened: YYYY-MM-DD (the start of that London day) or an RFC 3339 instant; default now"},
    "note":{"type":"string"},
    "attrs":{"type":"object","additionalProperties":{"type":["string","integer"]},
             "description":"KEY=VALUE attributes, e.g. {\"evidence\":\"MSG-123\"}"}}})");
}

// Attributes as an object of strings (whole numbers are taken as their decimal text).
Result<std::vector<std::pair<std::string, std::string>>> Attrs(const Json& body) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = body.find("attrs");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return Status::InvalidArgument(
        "field 'attrs' must be an object of KEY: VALUE, e.g. {\"evidence\": \"MSG-123\"}");
  }
  for (auto a = it->begin(); a != it->end(); ++a) {
    if (a.value().is_string()) {
      out.emplace_back(a.key(), a.value().get<std::string>());
    } else if (a.value().is_number_integer()) {
      out.emplace_back(a.key(), std::to_string(a.value().get<std::int64_t>()));
    } else {
      return Status::InvalidArgument("attribute '" + a.key() +
                                     "' must be a string (or a whole number)");
    }
  }
  return out;
}

}  // namespace

namespace api {

// Parses the body of an event (type, subject, at, note, attrs) for `contract`.
Result<app::NewEvent> ParseNewEvent(const Json& body, const std::string& contract) {
  ISMS_RETURN_IF_ERROR(OnlyFields(body, {"type", "subject", "at", "note", "attrs"}));
  app::NewEvent e;
  e.contract = contract;
  ISMS_ASSIGN_OR_RETURN(e.type, StringField(body, "type", true));
  ISMS_ASSIGN_OR_RETURN(e.subject, StringField(body, "subject"));
  ISMS_ASSIGN_OR_RETURN(e.note, StringField(body, "note"));
  ISMS_ASSIGN_OR_RETURN(std::string at, StringField(body, "at"));
  if (!at.empty()) {
    ISMS_ASSIGN_OR_RETURN(Instant t, ParseAt(at, /*end_of_day=*/false, "at"));
    e.at = t;
  }
  ISMS_ASSIGN_OR_RETURN(e.attrs, Attrs(body));
  return e;
}

// Checks the action of recording `e` as the caller, records it (a finding's event through the
// vulnerability checks), seals the ledger log and answers 201 with the event.
HttpResponse RecordEvent(RequestContext& ctx, app::NewEvent e) {
  const EventType* type = FindEventType(e.type);
  app::Role role = ctx.principal->role;
  app::Action action =
      type ? app::EventAction(role, *type)
           : (role == app::Role::kBuyer ? app::Action::kBuyerAct : app::Action::kEventRecord);
  if (Status st = ctx.Check(action, e.contract); !st.ok()) return Fail(st);
  Result<Event> r = Status::Internal("unset");
  if (type && type->stream == StreamFamily::kVuln) {
    if (e.subject.empty()) {
      return Fail(Status::InvalidArgument("event type " + e.type +
                                          " needs a subject: the finding, e.g. F-12"));
    }
    Result<app::FindingView> f = FindFinding(ctx, e.subject);
    if (!f.ok()) return Fail(f.status());
    app::Vulnerabilities vulns(ctx.services.ledger());
    r = vulns.RecordFindingEvent(f->id, std::move(e), ctx.Actor());
  } else {
    r = ctx.services.ledger().RecordEvent(e, ctx.Actor());
  }
  if (!r.ok()) return Fail(r.status());
  ctx.Note("event " + std::to_string(r->id) + " " + r->type +
           (r->subject.empty() ? "" : " " + r->subject));
  Result<bool> backdated = app::IsEventBackdated(ctx.services.ledger(), ctx.contract, *r);
  Json j;
  j["event"] = EventJson(*r, backdated.ok() && *backdated);
  Result<std::uint64_t> sealed = ctx.services.audit->SyncLedgerLog(ctx.contract);
  j["sealed"] = sealed.ok();
  if (!sealed.ok()) {
    j["warning"] = "the event is recorded, but the ledger log was not brought up to date (" +
                   sealed.status().message() + "); the next recorded event seals it";
  }
  return JsonReply(201, j);
}

}  // namespace api

void AddContractRoutes(WebApp& app) {
  using api::ApiDoc;
  using api::ApiParam;

  api::Add(app,
           {"GET", "/api/v1/contracts", RouteKind::kApi, RouteAuth::kUser, "",
            "The contracts the caller may see"},
           api::ApiDoc()
               .Describe("A user sees the contracts granted to it, with their terms; an admin "
                         "sees every contract's name only (it reads no contract data).")
               .Paginated()
               .Schema(ContractSchema()),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             if (ctx.principal->role == app::Role::kAdmin) {
               Result<std::vector<std::string>> names =
                   ctx.services.access->VisibleContracts(*ctx.principal);
               if (!names.ok()) return api::Fail(names.status());
               return api::SlicePage(*names, *page, [](const std::string& n) {
                 return Json{{"name", n}};
               });
             }
             Result<std::vector<app::ContractRecord>> all = ctx.services.ledger().ListContracts();
             if (!all.ok()) return api::Fail(all.status());
             std::vector<app::ContractRecord> mine;
             for (app::ContractRecord& c : *all) {
               const auto& held = ctx.principal->contracts;
               if (std::find(held.begin(), held.end(), c.name) != held.end()) {
                 mine.push_back(std::move(c));
               }
             }
             return api::SlicePage(mine, *page, api::ContractJson);
           });

  api::Add(app,
           {"POST", "/api/v1/contracts", RouteKind::kApi, RouteAuth::kUser, "contract.create",
            "Create a contract (as `isms contract create`)"},
           api::ApiDoc()
               .Request({"application/json"})
               .RequestText("name, start (YYYY-MM-DD), buyer, supplier, bespoke_isms, and "
                            "optionally policy: the text of a policy file (docs/policy.md)")
               .RequestSchema(Json::parse(R"({"type":"object","required":["name","start"],
         "properties":{"name":{"type":"string"},"start":{"type":"string","format":"date"},
         "buyer":{"type":"string"},"supplier":{"type":"string"},
         "bespoke_isms":{"type":"boolean"},"policy":{"type":"string"}}})"))
               .Success(201)
               .Returns("the contract created")
               .Schema(ContractSchema())
               .Errors({400, 409}),
           [](RequestContext& ctx) {
             Result<Json> body = api::JsonBody(ctx.req);
             if (!body.ok()) return api::Fail(body.status());
             if (Status st = api::OnlyFields(
                     *body, {"name", "start", "buyer", "supplier", "bespoke_isms", "policy"});
                 !st.ok()) {
               return api::Fail(st);
             }
             app::NewContract c;
             Result<std::string> name = api::StringField(*body, "name", true);
             Result<std::string> start = api::StringField(*body, "start", true);
             Result<std::string> buyer = api::StringField(*body, "buyer");
             Result<std::string> supplier = api::StringField(*body, "supplier");
             Result<bool> bespoke = api::BoolField(*body, "bespoke_isms");
             Result<std::string> policy = api::StringField(*body, "policy");
             for (const Status& s : {name.status(), start.status(), buyer.status(),
                                     supplier.status(), bespoke.status(), policy.status()}) {
               if (!s.ok()) return api::Fail(s);
             }
             Result<Date> d = ParseDate(*start);
             if (!d.ok()) return api::Fail(d.status().WithContext("start"));
             c.name = *name;
             c.start = *d;
             c.buyer = *buyer;
             c.supplier = *supplier;
             c.bespoke_isms = *bespoke;
             c.policy_toml = *policy;
             if (!c.policy_toml.empty()) c.policy_source = "the request's policy";
             Result<app::ContractRecord> r = ctx.services.ledger().CreateContract(c, ctx.Actor());
             if (!r.ok()) return api::Fail(r.status());
             ctx.Note("created contract " + r->name);
             return api::JsonReply(201, api::ContractJson(*r))
                 .With("Location", "/api/v1/contracts/" + PercentEncode(r->name));
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}", RouteKind::kApi, RouteAuth::kUser,
            "contract.read", "A contract's terms"},
           api::ApiDoc().Schema(ContractSchema()), [](RequestContext& ctx) {
             Result<app::ContractRecord> c = ctx.services.ledger().FindContract(ctx.contract);
             if (!c.ok()) return api::Fail(c.status());
             return api::JsonReply(200, api::ContractJson(*c));
           });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/events", RouteKind::kApi, RouteAuth::kUser,
            "contract.read", "The contract's events, in recording order (`isms event list`)"},
           api::ApiDoc()
               .Query({{"type", "string", "only events of this type"},
                       {"subject", "string", "only events about this subject"}})
               .Paginated()
               .Schema(EventSchema()),
           [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             Result<std::vector<app::EventView>> list =
                 ctx.services.ledger().ListEvents(ctx.contract);
             if (!list.ok()) return api::Fail(list.status());
             std::optional<std::string> type = api::QueryText(ctx.req, "type");
             std::optional<std::string> subject = api::QueryText(ctx.req, "subject");
             if (type || subject) {
               std::erase_if(*list, [&](const app::EventView& v) {
                 return (type && v.event.type != *type) || (subject && v.event.subject != *subject);
               });
             }
             return api::SlicePage(*list, *page, [](const app::EventView& v) {
               return api::EventJson(v.event, v.backdated);
             });
           });

  api::Add(
      app,
      {"POST", "/api/v1/contracts/{contract}/events", RouteKind::kApi, RouteAuth::kUser, "",
       "Record an event (`isms event record`)"},
      api::ApiDoc()
          .Describe(
              "The same validation and messages as the command line. The action checked depends "
              "on the type and the caller: a Buyer's act recorded from a buyer's account is "
              "buyer.act and needs no evidence=; a finding's event (vuln.*) is vuln.record; "
              "anything else event.record. The ledger log is sealed before the answer.")
          .Request({"application/json"})
          .RequestSchema(NewEventSchema())
          .Success(201)
          .Returns("{\"event\": the event recorded, \"sealed\": whether the ledger "
                   "log holds it, \"warning\" when not}")
          .Errors({400, 409}),
      [](RequestContext& ctx) {
        Result<Json> body = api::JsonBody(ctx.req);
        if (!body.ok()) return api::Fail(body.status());
        Result<app::NewEvent> e = api::ParseNewEvent(*body, ctx.contract);
        if (!e.ok()) {
          // A refused body must not tell whether the contract exists.
          if (Status st = ctx.Check(app::Action::kContractRead, ctx.contract); !st.ok()) {
            return api::Fail(st);
          }
          return api::Fail(e.status());
        }
        return api::RecordEvent(ctx, std::move(*e));
      });

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/status", RouteKind::kApi, RouteAuth::kUser,
       "contract.read", "The contract's obligations (`isms status`)"},
      api::ApiDoc()
          .Describe("Without `at`, the present obligations; with `at`, as of that time "
                    "(events that happened by then), and with `as_known` also ignoring what "
                    "was recorded after it. `summary` counts them by clause and state.")
          .Query({{"state",
                   "string",
                   "only obligations in this state",
                   {"open", "met", "met-late", "breached", "suspended", "superseded"}},
                  {"at", "string",
                   "as of: YYYY-MM-DD (the end of that London day) or an RFC 3339 instant"},
                  {"as_known", "boolean", "as known at `at`: also ignore events recorded later"},
                  {"summary", "boolean",
                   "count the present obligations by clause, kind and state instead"}})
          .Paginated()
          .Returns("obligations (or, with summary, {clause, key, title, state, "
                   "count} items)")
          .Errors({400}),
      [](RequestContext& ctx) {
        Result<PageRequest> page = ParsePage(ctx.req);
        if (!page.ok()) return api::Fail(page.status());
        app::StatusQuery q;
        if (std::optional<std::string> at = api::QueryText(ctx.req, "at")) {
          Result<Instant> t = api::ParseAt(*at, /*end_of_day=*/true, "at");
          if (!t.ok()) return api::Fail(t.status());
          q.at = *t;
        }
        Result<bool> as_known = api::QueryBool(ctx.req, "as_known");
        if (!as_known.ok()) return api::Fail(as_known.status());
        if (*as_known && !q.at) {
          return api::Fail(Status::InvalidArgument("as_known needs at: the time of the knowledge"));
        }
        q.as_known = *as_known;
        if (std::optional<std::string> s = api::QueryText(ctx.req, "state")) {
          Result<ObligationState> st = ParseObligationState(*s);
          if (!st.ok()) return api::Fail(st.status());
          q.state = *st;
        }
        Result<bool> summary = api::QueryBool(ctx.req, "summary");
        if (!summary.ok()) return api::Fail(summary.status());
        if (*summary) {
          if (q.at || q.state) {
            return api::Fail(Status::InvalidArgument(
                "summary counts the present obligations: it takes neither at nor state"));
          }
          Result<std::vector<app::StatusCount>> counts =
              ctx.services.ledger().Summary(ctx.contract);
          if (!counts.ok()) return api::Fail(counts.status());
          return api::SlicePage(*counts, *page, app::StatusCountJson);
        }
        // One more than the page, to know whether another follows.
        q.offset = page->offset;
        q.limit = page->limit + 1;
        Result<std::vector<Obligation>> list = ctx.services.ledger().StatusOf(ctx.contract, q);
        if (!list.ok()) return api::Fail(list.status());
        Json items = Json::array();
        for (size_t i = 0; i < list->size() && i < static_cast<size_t>(page->limit); ++i) {
          items.push_back(api::ObligationJson((*list)[i]));
        }
        return api::PageReply(std::move(items), *page,
                              list->size() > static_cast<size_t>(page->limit));
      });

  api::Add(
      app,
      {"GET", "/api/v1/contracts/{contract}/status/overview", RouteKind::kApi, RouteAuth::kUser,
       "contract.read", "What needs attention: counts, the most urgent breaches, what is due soon"},
      api::ApiDoc()
          .Describe("As `isms status` without --all: how many obligations are breached, open, "
                    "due soon, suspended and met late, the most urgent breached ones and those due "
                    "within the horizon, soonest first. Kept while the contract's data is "
                    "unchanged, for at most a minute: as_of says when it was computed.")
          .Query(
              {{"at", "string",
                "as of: YYYY-MM-DD (the end of that London day) or an RFC 3339 instant"},
               {"as_known", "boolean", "as known at `at`"},
               {"days", "integer", "the horizon of \"due soon\" in days (default 30)"},
               {"limit", "integer", "at most this many of each list (default 20, at most 1000)"}})
          .Returns("as_of, due_by, breached, open, due_soon, suspended, met_late, "
                   "most_urgent_breached (obligations), next_due (obligations)")
          .Errors({400}),
      [](RequestContext& ctx) {
        app::OverviewQuery q;
        if (std::optional<std::string> at = api::QueryText(ctx.req, "at")) {
          Result<Instant> t = api::ParseAt(*at, /*end_of_day=*/true, "at");
          if (!t.ok()) return api::Fail(t.status());
          q.at = *t;
        }
        Result<bool> as_known = api::QueryBool(ctx.req, "as_known");
        if (!as_known.ok()) return api::Fail(as_known.status());
        if (*as_known && !q.at) {
          return api::Fail(Status::InvalidArgument("as_known needs at: the time of the knowledge"));
        }
        q.as_known = *as_known;
        Result<std::optional<std::int64_t>> days = api::QueryInt(ctx.req, "days");
        Result<std::optional<std::int64_t>> limit = api::QueryInt(ctx.req, "limit");
        if (!days.ok()) return api::Fail(days.status());
        if (!limit.ok()) return api::Fail(limit.status());
        if (*days) {
          if (**days < 1 || **days > 3660) {
            return api::Fail(Status::InvalidArgument("days: give 1 to 3660"));
          }
          q.horizon = std::chrono::hours(24 * **days);
        }
        if (*limit) {
          if (**limit < 1 || **limit > 1000) {
            return api::Fail(Status::InvalidArgument("limit: give 1 to 1000"));
          }
          q.limit = **limit;
        }
        // Kept while the contract's data is unchanged, as the dashboard is (net/web_cache.h):
        // as_of says when it was computed, at most a minute ago.
        std::string kind = "api:overview\n" + (q.at ? FormatInstant(*q.at) : std::string()) + "\n" +
                           (q.as_known ? "known" : "") + "\n" + std::to_string(q.horizon.count()) +
                           "\n" + std::to_string(q.limit);
        Result<std::shared_ptr<const nlohmann::json>> text =
            web::Cached(ctx, ctx.contract, kind, [&]() -> Result<nlohmann::json> {
              ISMS_ASSIGN_OR_RETURN(app::StatusOverview o,
                                    ctx.services.ledger().Overview(ctx.contract, q));
              Json breached = Json::array(), due = Json::array();
              for (const Obligation& ob : o.most_urgent_breached) {
                breached.push_back(api::ObligationJson(ob));
              }
              for (const Obligation& ob : o.next_due) due.push_back(api::ObligationJson(ob));
              return nlohmann::json(api::Dump(Json{{"as_of", FormatInstant(o.as_of)},
                                                   {"due_by", FormatInstant(o.due_by)},
                                                   {"breached", o.breached},
                                                   {"open", o.open},
                                                   {"due_soon", o.due_soon},
                                                   {"suspended", o.suspended},
                                                   {"met_late", o.met_late},
                                                   {"most_urgent_breached", breached},
                                                   {"next_due", due}}));
            });
        if (!text.ok()) return api::Fail(text.status());
        return HttpResponse::Json(200, (*text)->get<std::string>() + "\n");
      });

  api::Add(app,
           {"GET", "/api/v1/contracts/{contract}/root-causes", RouteKind::kApi, RouteAuth::kUser,
            "contract.read", "Root-cause identifiers used by tests and retests so far (6.5)"},
           api::ApiDoc().Paginated().Returns("strings"), [](RequestContext& ctx) {
             Result<PageRequest> page = ParsePage(ctx.req);
             if (!page.ok()) return api::Fail(page.status());
             Result<std::vector<std::string>> r = ctx.services.ledger().RootCauses(ctx.contract);
             if (!r.ok()) return api::Fail(r.status());
             return api::SlicePage(*r, *page, [](const std::string& s) { return Json(s); });
           });
}

}  // namespace isms::net
