#include "net/web_render.h"

#include <kainjow/mustache.hpp>
#include <map>
#include <memory>
#include <stdexcept>

#include "app/access.h"
#include "core/calendar.h"
#include "net/multipart.h"
#include "net/web_assets.h"

namespace isms::net::web {

namespace {

using Data = kainjow::mustache::data;

Data ToData(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      Data d(Data::type::object);
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), ToData(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      Data d(Data::type::list);
      for (const auto& v : j) d.push_back(ToData(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      // An empty string hides a section, as null and false do (Mustache shows it otherwise).
      if (j.get_ref<const std::string&>().empty()) return Data(false);
      return Data(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return Data(j.get<bool>());
    case nlohmann::json::value_t::null:
      return Data(false);
    default:
      return Data(j.dump());
  }
}

kainjow::mustache::mustache& Template(std::string_view name) {
  thread_local std::map<std::string, std::unique_ptr<kainjow::mustache::mustache>, std::less<>>
      cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  std::string path = "templates/" + std::string(name) + ".mustache";
  std::optional<std::string_view> text = FindWebAsset(path);
  if (!text) throw std::logic_error("no web template " + path);
  auto t = std::make_unique<kainjow::mustache::mustache>(std::string(*text));
  if (!t->is_valid()) {
    throw std::logic_error("web template " + path + ": " + t->error_message());
  }
  return *cache.emplace(std::string(name), std::move(t)).first->second;
}

struct NavItem {
  const char* section;
  const char* label;
  const char* rest;
};
constexpr NavItem kContractNav[] = {
    {"dashboard", "Dashboard", ""},        {"vulns", "Vulnerabilities", "/vulns"},
    {"events", "Events", "/events"},       {"reports", "Reports", "/reports"},
    {"audit", "Audit records", "/audit"},
};

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Render(std::string_view name, const nlohmann::json& data) {
  kainjow::mustache::mustache& t = Template(name);
  Data d = ToData(data);
  // Partials: {{> part-NAME}} includes templates/part-NAME.mustache.
  constexpr std::string_view kPartPrefix = "templates/part-";
  for (const WebAsset& a : WebAssets()) {
    if (a.name.rfind(kPartPrefix, 0) != 0) continue;
    std::string_view key = a.name.substr(std::string_view("templates/").size());
    key.remove_suffix(std::string_view(".mustache").size());
    d.set(std::string(key), Data(std::string(a.data)));
  }
  std::string out = t.render(d);
  if (!t.is_valid()) {
    throw std::logic_error("web template " + std::string(name) + ": " + t.error_message());
  }
  return out;
}

HttpResponse Page(RequestContext& ctx, std::string_view tmpl, const std::string& title,
                  nlohmann::json data, int status) {
  nlohmann::json layout = nlohmann::json::object();
  layout["title"] = title;
  std::string section = data.value("section", "");
  bool contract_nav = !ctx.contract.empty() && !data.value("no_contract_nav", false);
  if (ctx.principal) {
    const app::Principal& p = *ctx.principal;
    layout["user"] = {{"name", p.name}, {"role", std::string(app::RoleKey(p.role))}};
    layout["admin"] = p.role == app::Role::kAdmin;
    if (ctx.session) layout["csrf"] = ctx.session->csrf_token;
  }
  if (contract_nav) {
    nlohmann::json nav = nlohmann::json::array();
    for (const NavItem& n : kContractNav) {
      nav.push_back({{"label", n.label},
                     {"href", ContractPath(ctx.contract, n.rest)},
                     {"current", section == n.section}});
    }
    layout["contract"] = {{"name", ctx.contract}, {"nav", nav}};
  }
  if (ctx.session) data["csrf"] = ctx.session->csrf_token;
  if (!ctx.contract.empty()) data["contract_path"] = ContractPath(ctx.contract);
  layout["body"] = Render(tmpl, data);
  HttpResponse r = HttpResponse::Text(status, Render("layout", layout), "text/html; charset=utf-8");
  r.With("Content-Security-Policy", kPageCsp);
  return r;
}

HttpResponse StatusPage(RequestContext& ctx, const Status& s) {
  int status = HttpStatusOf(s.code());
  nlohmann::json d = {{"status", status},
                      {"reason", std::string(ReasonPhrase(status))},
                      {"message", s.message()},
                      {"no_contract_nav", true}};
  return Page(ctx, "error", std::to_string(status) + " " + std::string(ReasonPhrase(status)), d,
              status);
}

HttpResponse Download(std::string body, std::string content_type, const std::string& filename) {
  HttpResponse r = HttpResponse::Text(200, std::move(body), std::move(content_type));
  r.With("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  r.With("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                    "img-src data:; frame-ancestors 'none'; sandbox");
  return r;
}

std::string Form::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (k == name) return Trim(v);
  }
  return {};
}

bool Form::Has(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (k == name) return true;
  }
  return false;
}

Result<Form> ParseForm(const HttpRequest& req) {
  std::string_view type = req.Header("content-type");
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0 ||
      (type.empty() && req.body.empty())) {
    auto fields = ParseFormEncoded(req.body);
    if (!fields) {
      return Status::InvalidArgument("the form's body holds a malformed %-escape; send it again");
    }
    return Form(std::move(*fields));
  }
  if (std::optional<std::string> boundary = MultipartBoundary(type)) {
    ISMS_ASSIGN_OR_RETURN(std::vector<MultipartPart> parts, ParseMultipart(*boundary, req.body));
    std::vector<std::pair<std::string, std::string>> fields;
    for (const MultipartPart& p : parts) {
      if (p.filename.empty()) fields.emplace_back(p.name, std::string(p.data));
    }
    return Form(std::move(fields));
  }
  return Status::InvalidArgument(
      "a form is sent as application/x-www-form-urlencoded or multipart/form-data, not '" +
      std::string(type) + "'");
}

std::string LondonTime(Instant t) {
  auto local = ToLondonLocal(t);
  auto day = std::chrono::floor<std::chrono::days>(local);
  std::chrono::hh_mm_ss hms(std::chrono::floor<std::chrono::minutes>(local - day));
  char buf[16];
  std::snprintf(buf, sizeof buf, " %02d:%02d", static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()));
  Date d{std::chrono::sys_days(day.time_since_epoch())};
  return FormatDate(d) + buf + (LondonUtcOffset(t).count() == 0 ? " GMT" : " BST");
}

std::string LondonDay(Instant t) { return FormatDate(LondonDate(t)); }

std::string LocalPath(std::string_view next) {
  if (next.empty() || next[0] != '/' || next.size() > 2000) return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return std::string(next);
}

std::string ContractPath(std::string_view contract, std::string_view rest) {
  return "/c/" + PercentEncode(contract) + std::string(rest);
}

Result<Instant> ParseWhen(std::string_view field, std::string_view text, bool end_of_day) {
  if (text.size() == 10) {
    Result<Date> d = ParseDate(text);
    if (!d.ok()) return d.status().WithContext(std::string(field));
    return end_of_day ? EndOfLondonDay(*d) : StartOfLondonDay(*d);
  }
  Result<Instant> t = ParseInstant(text);
  if (!t.ok()) {
    return Status::InvalidArgument(std::string(field) + " '" + std::string(text) +
                                   "' is neither a date YYYY-MM-DD nor an RFC 3339 instant such "
                                   "as 2026-03-31T14:05:00Z");
  }
  return t;
}

}  // namespace isms::net::web
