// The ledger's events:
//   GET  /c/{contract}/events            every event, newest first (paginated; ?type= filters)
//   GET  /c/{contract}/events/new        the event types the user may record; with ?type=T, the
//                                        form for T (its subject and attributes, from the
//                                        vocabulary of core/event_types.h)
//   POST /c/{contract}/events            records it with Ledger::RecordEvent: the same checks
//                                        and messages as `isms event record`
// A finding's events (vuln.*) are recorded on the finding's page (web_vulns.cc).
#include <algorithm>
#include <set>

#include "app/access.h"
#include "app/audit.h"
#include "app/report.h"
#include "core/event_types.h"
#include "net/multipart.h"
#include "net/web_event_form.h"
#include "net/web_pages.h"
#include "net/web_render.h"
#include "net/web_views.h"

namespace isms::net {

namespace {

std::string_view FamilyLabel(StreamFamily f) {
  switch (f) {
    case StreamFamily::kContract: return "The contract: ISMS, SMP, reviews, changes, tests, reports";
    case StreamFamily::kPerson: return "People (staff joining, training, leaving, access)";
    case StreamFamily::kIncident: return "Incidents";
    case StreamFamily::kData: return "The Buyer's data demands";
    case StreamFamily::kErasure: return "Erasure requests";
    case StreamFamily::kThreat: return "Threats";
    case StreamFamily::kVuln: return "Findings";
    case StreamFamily::kOfTarget: return "Corrections";
  }
  return "Other";
}

// The types of the form page: every type but a finding's (recorded on the finding's page).
bool OnEventForm(const EventType& t) { return t.stream != StreamFamily::kVuln; }

// Whether `p` may record `t` on its contract (the role part of Access::Check).
bool MayRecord(const app::Principal& p, const EventType& t) {
  return app::Allowed(p.role, app::EventAction(p.role, t));
}

nlohmann::json Option(const std::string& value, const std::string& label, const std::string& cur) {
  return {{"value", value}, {"label", label}, {"selected", value == cur}};
}

}  // namespace

namespace web {

HttpResponse EventFormPage(RequestContext& ctx, const EventType& t, const EventFormTarget& target,
                           const EventFormValues& v, const std::string& error, int status) {
  const app::Principal& p = *ctx.principal;
  bool buyer_self = p.role == app::Role::kBuyer;
  Result<std::vector<app::EventView>> events = ctx.services.ledger().ListEvents(ctx.contract);
  std::vector<app::EventView> history = events.ok() ? std::move(*events) : std::vector<app::EventView>{};

  nlohmann::json fields = nlohmann::json::array();
  for (const AttrSpec& a : t.attrs) {
    std::string key(a.key);
    auto it = v.attrs.find(key);
    std::string value = it == v.attrs.end() ? "" : it->second;
    nlohmann::json f = {{"key", key},
                        {"id", "attr-" + key},
                        {"name", "attr." + key},
                        {"help", std::string(a.help)},
                        {"syntax", std::string(AttrSyntaxHelp(a.syntax))},
                        {"required", a.required},
                        {"value", value}};
    switch (a.syntax) {
      case AttrSyntax::kText: f["textarea"] = true; break;
      case AttrSyntax::kYesNo:
      case AttrSyntax::kDocKind:
      case AttrSyntax::kTestScope: {
        nlohmann::json opts = nlohmann::json::array();
        if (!a.required) opts.push_back(Option("", "(not given)", value));
        std::vector<std::string> values = a.syntax == AttrSyntax::kYesNo     ? std::vector<std::string>{"yes", "no"}
                                          : a.syntax == AttrSyntax::kDocKind ? std::vector<std::string>{"isms", "smp"}
                                                                             : std::vector<std::string>{"full", "change"};
        if (a.required && value.empty()) opts.push_back(Option("", "(choose)", value));
        for (const std::string& o : values) opts.push_back(Option(o, o, value));
        f["select"] = {{"options", opts}};
        break;
      }
      case AttrSyntax::kDate: f["input"] = {{"type", "date"}}; break;
      case AttrSyntax::kMonth: f["input"] = {{"type", "month"}, {"placeholder", "YYYY-MM"}}; break;
      case AttrSyntax::kEventId: {
        nlohmann::json list = nlohmann::json::array();
        for (auto e = history.rbegin(); e != history.rend() && list.size() < 50; ++e) {
          if (e->event.type.size() > 10 &&
              e->event.type.compare(e->event.type.size() - 10, 10, ".submitted") == 0) {
            list.push_back({{"value", std::to_string(e->event.id)},
                            {"label", e->event.type + " " + web::LondonDay(e->event.at)}});
          }
        }
        f["input"] = {{"type", "text"}, {"inputmode", "numeric"}};
        if (!list.empty()) f["datalist"] = {{"id", "list-" + key}, {"options", list}};
        break;
      }
      case AttrSyntax::kDocVersion:
        f["input"] = {{"type", "text"}, {"placeholder", "sha256:..."}};
        f["file"] = {{"name", "file." + key}, {"id", "file-" + key}};
        break;
      default: f["input"] = {{"type", "text"}}; break;
    }
    fields.push_back(std::move(f));
  }

  nlohmann::json d;
  d["section"] = "events";
  d["type"] = std::string(t.name);
  d["description"] = std::string(t.description);
  d["buyer_act"] = t.buyer_act;
  d["evidence_required"] = t.buyer_act && !buyer_self;
  d["buyer_self"] = t.buyer_act && buyer_self;
  auto ev = v.attrs.find(std::string(kEvidenceAttr));
  d["evidence"] = ev == v.attrs.end() ? "" : ev->second;
  d["action"] = target.action;
  d["back"] = {{"href", target.back_href}, {"label", target.back_label}};
  if (!target.fixed_subject.empty()) {
    d["fixed_subject"] = target.fixed_subject;
  } else if (t.subject != SubjectRule::kForbidden) {
    std::set<std::string> seen;
    nlohmann::json subjects = nlohmann::json::array();
    for (auto e = history.rbegin(); e != history.rend() && subjects.size() < 50; ++e) {
      const EventType* et = FindEventType(e->event.type);
      if (et && et->stream == t.stream && !e->event.subject.empty() &&
          seen.insert(e->event.subject).second) {
        subjects.push_back(e->event.subject);
      }
    }
    d["subject"] = {{"required", t.subject == SubjectRule::kRequired},
                    {"help", std::string(t.subject_help)},
                    {"value", v.subject},
                    {"known", subjects},
                    {"has_known", !subjects.empty()}};
  }
  d["fields"] = fields;
  d["has_fields"] = !fields.empty();
  d["at"] = v.at;
  d["note"] = v.note;
  d["supersedes"] = v.supersedes;
  d["error"] = error;
  return web::Page(ctx, "event-form", "Record " + std::string(t.name), d, status);
}

EventFormValues ReadEventForm(const RequestContext& ctx, const Form& form, const EventType& t) {
  EventFormValues v;
  v.subject = form.Get("subject");
  v.at = form.Get("at");
  v.note = form.Get("note");
  v.supersedes = form.Get("supersedes");
  for (const AttrSpec& a : t.attrs) {
    std::string value = form.Get("attr." + std::string(a.key));
    if (!value.empty()) v.attrs[std::string(a.key)] = value;
  }
  std::string evidence = form.Get("evidence");
  if (!evidence.empty()) v.attrs[std::string(kEvidenceAttr)] = evidence;
  // A document's version from the file chosen, when no hash was typed: the file is hashed here
  // and not kept.
  if (std::optional<std::string> boundary = MultipartBoundary(ctx.req.Header("content-type"))) {
    Result<std::vector<MultipartPart>> parts = ParseMultipart(*boundary, ctx.req.body);
    if (parts.ok()) {
      for (const MultipartPart& part : *parts) {
        if (part.filename.empty() || part.name.rfind("file.", 0) != 0) continue;
        std::string key = part.name.substr(5);
        const AttrSpec* spec = FindAttrSpec(t, key);
        if (spec == nullptr || spec->syntax != AttrSyntax::kDocVersion) continue;
        if (v.attrs.count(key) == 0) v.attrs[key] = "sha256:" + app::Sha256Hex(part.data);
      }
    }
  }
  return v;
}

Result<app::NewEvent> ToNewEvent(const std::string& contract, const EventType& t,
                                 const EventFormValues& v) {
  app::NewEvent e;
  e.contract = contract;
  e.type = std::string(t.name);
  e.subject = v.subject;
  e.note = v.note;
  for (const auto& [k, val] : v.attrs) e.attrs.emplace_back(k, val);
  if (!v.supersedes.empty()) e.attrs.emplace_back("supersedes", v.supersedes);
  if (!v.at.empty()) {
    ISMS_ASSIGN_OR_RETURN(e.at, ParseWhen("when it happened", v.at, /*end_of_day=*/false));
  }
  return e;
}

void SealLedger(RequestContext& ctx, const Event& recorded) {
  std::string note = "recorded event " + std::to_string(recorded.id) + ": " + recorded.type;
  Result<std::uint64_t> sealed = ctx.services.audit->SyncLedgerLog(ctx.contract);
  if (!sealed.ok()) {
    note += "; the ledger log was not brought up to date (" + sealed.status().message() +
            "); the next recorded event seals it";
  }
  ctx.Note(note);
}

}  // namespace web

namespace {

web::EventFormTarget LedgerTarget(const RequestContext& ctx) {
  return {web::ContractPath(ctx.contract, "/events"), "",
          web::ContractPath(ctx.contract, "/events/new"), "Choose another type"};
}

HttpResponse ChooseType(RequestContext& ctx) {
  const app::Principal& p = *ctx.principal;
  std::map<StreamFamily, nlohmann::json> by_family;
  std::vector<StreamFamily> order;
  for (const EventType& t : EventTypes()) {
    if (!OnEventForm(t) || !MayRecord(p, t)) continue;
    if (!by_family.count(t.stream)) {
      order.push_back(t.stream);
      by_family[t.stream] = nlohmann::json::array();
    }
    by_family[t.stream].push_back(
        {{"name", std::string(t.name)},
         {"href", web::ContractPath(ctx.contract, "/events/new?type=" + std::string(t.name))},
         {"description", std::string(t.description)},
         {"buyer_act", t.buyer_act}});
  }
  nlohmann::json families = nlohmann::json::array();
  for (StreamFamily f : order) {
    families.push_back({{"label", std::string(FamilyLabel(f))}, {"types", by_family[f]}});
  }
  nlohmann::json d = {{"section", "events"},
                      {"families", families},
                      {"none", families.empty()},
                      {"buyer", p.role == app::Role::kBuyer},
                      {"findings", app::Allowed(p.role, app::Action::kVulnRecord)}};
  return web::Page(ctx, "event-types", "Record an event", d);
}

const EventType* FormType(RequestContext& ctx, const std::string& name, Status* refusal) {
  if (Status held = ctx.Check(app::Action::kContractRead, ctx.contract); !held.ok()) {
    *refusal = held;
    return nullptr;
  }
  const EventType* t = FindEventType(name);
  if (t == nullptr || !OnEventForm(*t)) {
    *refusal = Status::NotFound("no event type '" + name +
                                "' is recorded here; choose one from the list of event types");
    return nullptr;
  }
  Status st = ctx.Check(app::EventAction(ctx.principal->role, *t), ctx.contract);
  if (!st.ok()) {
    *refusal = st;
    return nullptr;
  }
  return t;
}

HttpResponse NewEventPage(RequestContext& ctx) {
  std::optional<std::string> type = ctx.req.Query("type");
  if (!type || type->empty()) return ChooseType(ctx);
  Status refusal;
  const EventType* t = FormType(ctx, *type, &refusal);
  if (t == nullptr) return web::StatusPage(ctx, refusal);
  return web::EventFormPage(ctx, *t, LedgerTarget(ctx), web::EventFormValues{}, "", 200);
}

HttpResponse RecordEvent(RequestContext& ctx) {
  Result<web::Form> form = web::ParseForm(ctx.req);
  if (!form.ok()) return web::StatusPage(ctx, form.status());
  Status refusal;
  const EventType* t = FormType(ctx, form->Get("type"), &refusal);
  if (t == nullptr) return web::StatusPage(ctx, refusal);

  web::EventFormValues v = web::ReadEventForm(ctx, *form, *t);
  Result<app::NewEvent> e = web::ToNewEvent(ctx.contract, *t, v);
  if (!e.ok()) return web::EventFormPage(ctx, *t, LedgerTarget(ctx), v, e.status().message(), 400);
  Result<Event> r = ctx.services.ledger().RecordEvent(*e, ctx.Actor());
  if (!r.ok()) {
    return web::EventFormPage(ctx, *t, LedgerTarget(ctx), v, r.status().message(),
                              HttpStatusOf(r.status().code()));
  }
  web::SealLedger(ctx, *r);
  return HttpResponse::Redirect(web::ContractPath(ctx.contract, "?recorded=" + std::to_string(r->id)));
}

HttpResponse EventList(RequestContext& ctx) {
  Result<PageRequest> page = ParsePage(ctx.req);
  if (!page.ok()) return web::StatusPage(ctx, page.status());
  Result<std::vector<app::EventView>> events = ctx.services.ledger().ListEvents(ctx.contract);
  if (!events.ok()) return web::StatusPage(ctx, events.status());
  std::string type = ctx.req.Query("type").value_or("");
  std::vector<const app::EventView*> shown;
  std::set<std::string> types;
  for (auto it = events->rbegin(); it != events->rend(); ++it) {
    types.insert(it->event.type);
    if (type.empty() || it->event.type == type) shown.push_back(&*it);
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (std::int64_t i = page->offset;
       i < static_cast<std::int64_t>(shown.size()) && i < page->offset + page->limit; ++i) {
    timeline.push_back(web::EventView(*shown[static_cast<size_t>(i)]));
  }
  nlohmann::json type_options = nlohmann::json::array();
  type_options.push_back(Option("", "every type", type));
  for (const std::string& t : types) type_options.push_back(Option(t, t, type));
  nlohmann::json d = {{"section", "events"},
                      {"timeline", timeline},
                      {"has_timeline", !timeline.empty()},
                      {"total", shown.size()},
                      {"types", type_options},
                      {"from", page->offset + 1},
                      {"to", page->offset + static_cast<std::int64_t>(timeline.size())}};
  if (page->offset + page->limit < static_cast<std::int64_t>(shown.size())) {
    std::string q = "?limit=" + std::to_string(page->limit) +
                    "&cursor=" + NextCursor(page->offset, page->limit);
    if (!type.empty()) q += "&type=" + PercentEncode(type);
    d["next"] = web::ContractPath(ctx.contract, "/events" + q);
  }
  const app::Principal& p = *ctx.principal;
  d["can_record"] = app::Allowed(p.role, app::Action::kEventRecord) ||
                    app::Allowed(p.role, app::Action::kBuyerAct);
  return web::Page(ctx, "events", "Events", d);
}

}  // namespace

void AddWebEventRoutes(WebApp& app) {
  app.Add({"GET", "/c/{contract}/events", RouteKind::kPage, RouteAuth::kUser, "contract.read",
           "The contract's events, newest first"},
          EventList);
  app.Add({"GET", "/c/{contract}/events/new", RouteKind::kPage, RouteAuth::kUser,
           "contract.read", "The event types the user may record, and the form of one"},
          NewEventPage);
  app.Add({"POST", "/c/{contract}/events", RouteKind::kPage, RouteAuth::kUser, "",
           "Record an event of the ledger (the action depends on its type)"},
          RecordEvent);
}

}  // namespace isms::net
