#include "formats/audit_jsonl.h"

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/syslog.h"

namespace isms {
namespace {

using json = nlohmann::json;

// A problem in one line: the 1-based byte column and the text "problem; fix".
struct LineError {
  size_t column = 1;
  std::string text;
};

std::string SyntaxProblem(const json::exception& e) {
  std::string what = e.what();
  const size_t at = what.find("parse error");
  if (at != std::string::npos) {
    const size_t colon = what.find(": ", at);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

// The 1-based column of the value of top-level field `key` in `line`, found by text (the first
// occurrence of "key" followed by ':'); 1 when not found.
size_t ValueColumn(std::string_view line, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  size_t from = 0;
  while (true) {
    const size_t at = line.find(quoted, from);
    if (at == std::string_view::npos) return 1;
    size_t p = at + quoted.size();
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
    if (p < line.size() && line[p] == ':') {
      ++p;
      while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
      return p + 1;
    }
    from = at + 1;
  }
}

struct StringField {
  std::string_view key;
  std::string AuditRecord::*member;
  bool required;
};

constexpr std::array<StringField, 9> kStringFields = {{
    {"host", &AuditRecord::host, true},
    {"message", &AuditRecord::message, true},
    {"app", &AuditRecord::app, false},
    {"user", &AuditRecord::user, false},
    {"src_ip", &AuditRecord::src_ip, false},
    {"src_host", &AuditRecord::src_host, false},
    {"src_mac", &AuditRecord::src_mac, false},
    {"dest", &AuditRecord::dest, false},
    {"session", &AuditRecord::session, false},
}};

std::string_view JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

Result<AuditRecord> ParseLine(std::string_view line, Instant received, LineError& err) {
  AuditRecord r;
  r.source = AuditSource::kJsonLines;
  r.received = received;
  std::vector<std::string> keys;
  std::string duplicate;
  const json::parser_callback_t track = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()) {
      const std::string& k = parsed.get_ref<const std::string&>();
      for (const std::string& seen : keys) {
        if (seen == k) duplicate = k;
      }
      keys.push_back(k);
    }
    return true;
  };
  json root;
  try {
    root = json::parse(line.begin(), line.end(), track);
  } catch (const json::parse_error& e) {
    err = {e.byte == 0 ? 1 : e.byte,
           "not valid JSON (" + SyntaxProblem(e) + "); write one JSON object per line"};
    return Status::InvalidArgument("");
  } catch (const json::exception& e) {
    err = {1, "not valid JSON (" + SyntaxProblem(e) + "); write one JSON object per line"};
    return Status::InvalidArgument("");
  }
  if (!root.is_object()) {
    err = {1, "the line is " + std::string(JsonTypeName(root)) +
                  ", not a JSON object; write one object per line"};
    return Status::InvalidArgument("");
  }
  if (!duplicate.empty()) {
    err = {ValueColumn(line, duplicate),
           "field '" + duplicate + "' appears twice; keep one value per field"};
    return Status::InvalidArgument("");
  }
  auto field_error = [&](std::string_view key, std::string text) {
    err = {ValueColumn(line, key), "field '" + std::string(key) + "' " + std::move(text)};
    return Status::InvalidArgument("");
  };

  const auto time = root.find("time");
  if (time == root.end() || time->is_null()) {
    err = {1, "field 'time' is missing; add \"time\": \"<RFC 3339 instant>\""};
    return Status::InvalidArgument("");
  }
  if (!time->is_string()) {
    return field_error("time", "is " + std::string(JsonTypeName(*time)) +
                                   "; write an RFC 3339 string, e.g. \"2026-03-01T09:15:02Z\"");
  }
  Result<Instant> t = ParseInstant(time->get_ref<const std::string&>());
  if (!t.ok()) {
    return field_error("time", "is not an RFC 3339 date-time ('" +
                                   time->get_ref<const std::string&>() +
                                   "'); write e.g. \"2026-03-01T09:15:02Z\" or with an offset");
  }
  r.time = *t;

  for (const StringField& f : kStringFields) {
    const auto it = root.find(f.key);
    if (it == root.end() || it->is_null()) {
      if (f.required) {
        err = {1, "field '" + std::string(f.key) + "' is missing; add \"" + std::string(f.key) +
                      "\": \"...\""};
        return Status::InvalidArgument("");
      }
      continue;
    }
    if (!it->is_string()) {
      return field_error(f.key, "is " + std::string(JsonTypeName(*it)) + "; write a string");
    }
    r.*f.member = it->get_ref<const std::string&>();
  }
  if (r.host.empty()) return field_error("host", "is empty; name the host that sent the record");

  const auto category = root.find("category");
  if (category != root.end() && !category->is_null()) {
    if (!category->is_string()) {
      return field_error("category",
                         "is " + std::string(JsonTypeName(*category)) + "; write a string");
    }
    Result<AuditCategory> c = ParseAuditCategoryKey(category->get_ref<const std::string&>());
    if (!c.ok()) return field_error("category", "is invalid: " + c.status().message());
    r.category = *c;
    r.rule = "sender";
  }

  for (const auto& [key, value] : root.items()) {
    if (key == "time" || key == "category") continue;
    bool known = false;
    for (const StringField& f : kStringFields) known = known || f.key == key;
    if (known) continue;
    r.extra.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return r;
}

}  // namespace

Result<AuditRecord> ParseAuditJsonLine(std::string_view line, Instant received,
                                       std::string_view source, size_t line_no) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  LineError err;
  Result<AuditRecord> r = ParseLine(line, received, err);
  if (r.ok()) return r;
  return Status::InvalidArgument(std::string(source) + ":" + std::to_string(line_no) + ":" +
                                 std::to_string(err.column) + ": " + err.text);
}

Status ParseAuditJsonLines(std::string_view data, std::string_view source, Instant received,
                           const std::function<Status(AuditRecord&&)>& sink) {
  if (data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    ++line_no;
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    const std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ISMS_ASSIGN_OR_RETURN(AuditRecord r, ParseAuditJsonLine(line, received, source, line_no));
    ISMS_RETURN_IF_ERROR(sink(std::move(r)));
  }
  return Status::Ok();
}

AuditRecord AuditJsonLineOrUnparsed(std::string_view line, Instant received) {
  LineError err;
  std::string_view trimmed = line;
  if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
  Result<AuditRecord> r = ParseLine(trimmed, received, err);
  if (r.ok()) return std::move(r).value();
  return UnparsedAuditRecord(line, received);
}

}  // namespace isms
