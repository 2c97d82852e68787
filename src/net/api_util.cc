#include "net/api_util.h"

#include <exception>
#include <map>
#include <mutex>

#include "core/calendar.h"
#include "core/policy.h"

namespace isms::net::api {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, ApiDoc, std::less<>> docs;  // "METHOD pattern"
};

Registry& Docs() {
  static Registry r;
  return r;
}

std::string Key(std::string_view method, std::string_view pattern) {
  return std::string(method) + " " + std::string(pattern);
}

std::string KnownParams(const ApiDoc& doc) {
  std::string s;
  for (const ApiParam& p : doc.query) s += (s.empty() ? "" : ", ") + p.name;
  if (doc.paginated) s += std::string(s.empty() ? "" : ", ") + "limit, cursor";
  return s.empty() ? "none" : s;
}

const char* TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::binary: return "binary";
    case Json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

}  // namespace

void Add(WebApp& app, RouteSpec spec, ApiDoc doc, RouteHandler handler) {
  {
    Registry& r = Docs();
    std::lock_guard<std::mutex> lock(r.mu);
    r.docs[Key(spec.method, spec.pattern)] = doc;
  }
  auto wrapped = [doc = std::move(doc), handler = std::move(handler)](RequestContext& ctx) {
    for (const auto& [name, value] : ctx.req.query) {
      bool known = doc.paginated && (name == "limit" || name == "cursor");
      for (const ApiParam& p : doc.query) known = known || p.name == name;
      if (!known) {
        return HttpResponse::Error(
            400, "invalid_argument",
            "unknown query parameter '" + name + "': this route takes " + KnownParams(doc));
      }
    }
    try {
      return handler(ctx);
    } catch (const std::exception& e) {
      return HttpResponse::Error(500, "internal",
                                 std::string("the request failed unexpectedly: ") + e.what());
    }
  };
  app.Add(std::move(spec), std::move(wrapped));
}

const ApiDoc* DocOf(std::string_view method, std::string_view pattern) {
  Registry& r = Docs();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.docs.find(Key(method, pattern));
  return it == r.docs.end() ? nullptr : &it->second;
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

HttpResponse JsonReply(int status, const Json& j) {
  return HttpResponse::Json(status, Dump(j) + "\n");
}

HttpResponse PageReply(Json items, const PageRequest& p, bool more) {
  Json j;
  j["items"] = std::move(items);
  j["next_cursor"] = more ? Json(NextCursor(p.offset, p.limit)) : Json(nullptr);
  return JsonReply(200, j);
}

Result<Json> JsonBody(const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json j;
  try {
    j = Json::parse(req.body);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string what = e.what();
    size_t at = what.find("] ");
    return Status::InvalidArgument("the body is not JSON (" +
                                   (at == std::string::npos ? what : what.substr(at + 2)) +
                                   "); send one JSON object");
  }
  if (!j.is_object()) {
    return Status::InvalidArgument(std::string("the body is ") + TypeName(j) +
                                   "; send one JSON object");
  }
  return j;
}

Result<std::string> StringField(const Json& j, std::string_view key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) {
      return Status::InvalidArgument("field '" + std::string(key) + "' is missing; give a string");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return Status::InvalidArgument("field '" + std::string(key) + "' is " + TypeName(*it) +
                                   "; give a string");
  }
  return it->get<std::string>();
}

Result<std::optional<std::int64_t>> IntField(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) {
    return Status::InvalidArgument("field '" + std::string(key) + "' is " + TypeName(*it) +
                                   "; give a whole number");
  }
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

Result<bool> BoolField(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return Status::InvalidArgument("field '" + std::string(key) + "' is " + TypeName(*it) +
                                   "; give true or false");
  }
  return it->get<bool>();
}

Result<std::vector<std::string>> StringListField(const Json& j, std::string_view key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return Status::InvalidArgument("field '" + std::string(key) + "' is " + TypeName(*it) +
                                   "; give an array of strings");
  }
  for (const Json& v : *it) {
    if (!v.is_string()) {
      return Status::InvalidArgument("field '" + std::string(key) + "' holds " + TypeName(v) +
                                     "; give an array of strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status OnlyFields(const Json& j, std::initializer_list<std::string_view> known) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument("unknown field '" + it.key() + "': the body takes " + list);
    }
  }
  return Status::Ok();
}

std::optional<std::string> QueryText(const HttpRequest& req, std::string_view name) {
  std::optional<std::string> v = req.Query(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

Result<std::optional<std::int64_t>> QueryInt(const HttpRequest& req, std::string_view name) {
  std::optional<std::string> v = QueryText(req, name);
  if (!v) return std::optional<std::int64_t>();
  bool digits = v->size() <= 18;
  for (char c : *v) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return Status::InvalidArgument(std::string(name) + "=" + *v +
                                   ": give a whole number, 0 or more");
  }
  return std::optional<std::int64_t>(std::stoll(*v));
}

Result<bool> QueryBool(const HttpRequest& req, std::string_view name) {
  std::optional<std::string> v = req.Query(name);
  if (!v) return false;
  if (v->empty() || *v == "true" || *v == "1" || *v == "yes") return true;
  if (*v == "false" || *v == "0" || *v == "no") return false;
  return Status::InvalidArgument(std::string(name) + "=" + *v + ": give true or false");
}

Result<Instant> ParseAt(const std::string& text, bool end_of_day, std::string_view field) {
  if (text.size() == 10) {
    Result<Date> d = ParseDate(text);
    if (!d.ok()) return d.status().WithContext(std::string(field));
    return end_of_day ? EndOfLondonDay(*d) : StartOfLondonDay(*d);
  }
  Result<Instant> t = ParseInstant(text);
  if (!t.ok()) {
    return Status::InvalidArgument(std::string(field) + " '" + text +
                                   "' is neither a date YYYY-MM-DD nor an RFC 3339 instant such "
                                   "as 2026-03-31T14:05:00Z");
  }
  return t;
}

Json OptionalDate(const std::optional<Date>& d) {
  return d ? Json(FormatDate(*d)) : Json(nullptr);
}

Json OptionalInstant(const std::optional<Instant>& t) {
  return t ? Json(FormatInstant(*t)) : Json(nullptr);
}

Json ContractJson(const app::ContractRecord& c) {
  Json j;
  j["name"] = c.name;
  j["start"] = FormatDate(c.start);
  j["buyer"] = c.buyer;
  j["supplier"] = c.supplier;
  j["bespoke_isms"] = c.bespoke_isms;
  j["policy"] = c.policy_toml.empty() ? Json(nullptr) : Json(c.policy_toml);
  j["created_at"] = FormatInstant(c.created_at);
  j["created_by"] = c.created_by;
  return j;
}

}  // namespace isms::net::api
