#include "formats/bank_holidays_json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

namespace isms {
namespace {

using nlohmann::json;

constexpr std::string_view kDivision = "england-and-wales";
constexpr std::string_view kFeedUrl = "https://www.gov.uk/bank-holidays.json";

std::string TypeName(const json& j) {
  return j.type_name();
}

// `value` as compact JSON, shortened for an error message.
std::string Shown(const json& value) {
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string DivisionNames(const json& root) {
  std::string names;
  for (const auto& [key, value] : root.items()) {
    if (!names.empty()) names += ", ";
    names += "\"" + key + "\"";
  }
  return names.empty() ? "none" : names;
}

Status Invalid(std::string_view source, const std::string& what) {
  return Status::InvalidArgument(std::string(source) + ": " + what);
}

Result<Holiday> ParseEvent(const json& event, size_t index, std::string_view source) {
  const std::string where = std::string(kDivision) + " event " + std::to_string(index) +
                            " (events[" + std::to_string(index) + "])";
  if (!event.is_object()) {
    return Invalid(source, where + " is a JSON " + TypeName(event) +
                               ", not an object; each event must be {\"title\": ..., \"date\": "
                               "\"YYYY-MM-DD\", \"notes\": ..., \"bunting\": ...}");
  }
  auto date_it = event.find("date");
  if (date_it == event.end()) {
    return Invalid(source, where + " has no \"date\"; add \"date\": \"YYYY-MM-DD\"");
  }
  if (!date_it->is_string()) {
    return Invalid(source, where + " has \"date\": " + Shown(*date_it) +
                               ", not a string; write it as \"YYYY-MM-DD\"");
  }
  const std::string date_text = date_it->get<std::string>();
  Result<Date> date = ParseDate(date_text);
  if (!date.ok()) {
    return Invalid(source, where + " has a malformed \"date\" \"" + date_text +
                               "\": " + date.status().message() +
                               "; correct it, or download the feed again from " +
                               std::string(kFeedUrl));
  }
  auto title_it = event.find("title");
  if (title_it == event.end() || !title_it->is_string()) {
    return Invalid(source, where + " (" + date_text +
                               ") has no \"title\" string; add the holiday's name, e.g. "
                               "\"title\": \"Boxing Day\"");
  }
  std::string name = title_it->get<std::string>();
  auto notes_it = event.find("notes");
  if (notes_it != event.end() && !notes_it->is_null()) {
    if (!notes_it->is_string()) {
      return Invalid(source, where + " (" + date_text + ") has \"notes\": " + Shown(*notes_it) +
                                 ", not a string; use \"\" when there are none");
    }
    const std::string notes = notes_it->get<std::string>();
    if (!notes.empty()) name += " (" + notes + ")";
  }
  return Holiday{*date, std::move(name)};
}

}  // namespace

Result<OfficialHolidays> ParseBankHolidaysJson(std::string_view text, std::string_view source) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string detail = e.what();
    const size_t bracket = detail.find("] ");
    if (detail.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos) {
      detail = detail.substr(bracket + 2);
    }
    return Invalid(source, "JSON syntax error at byte " + std::to_string(e.byte) + " (" + detail +
                               "); the file is not valid JSON: download it again from " +
                               std::string(kFeedUrl));
  }
  if (!root.is_object()) {
    return Invalid(source, "the top level is a JSON " + TypeName(root) +
                               ", not an object of divisions; expected {\"" +
                               std::string(kDivision) +
                               "\": {\"division\": ..., \"events\": "
                               "[...]}, ...} as served by " +
                               std::string(kFeedUrl));
  }
  auto division_it = root.find(kDivision);
  if (division_it == root.end()) {
    return Invalid(source,
                   "no \"" + std::string(kDivision) + "\" division (found " + DivisionNames(root) +
                       "); load the GOV.UK feed for the whole UK from " + std::string(kFeedUrl));
  }
  const json& division = *division_it;
  if (!division.is_object()) {
    return Invalid(source, "\"" + std::string(kDivision) + "\" is a JSON " + TypeName(division) +
                               ", not an object; expected {\"division\": \"" +
                               std::string(kDivision) + "\", \"events\": [...]}");
  }
  auto name_it = division.find("division");
  if (name_it != division.end() &&
      !(name_it->is_string() && name_it->get<std::string>() == kDivision)) {
    return Invalid(source, "the \"" + std::string(kDivision) + "\" division says \"division\": " +
                               Shown(*name_it) + "; it must be \"" + std::string(kDivision) +
                               "\" (is the file edited by hand?)");
  }
  auto events_it = division.find("events");
  if (events_it == division.end() || !events_it->is_array()) {
    return Invalid(source, "the \"" + std::string(kDivision) +
                               "\" division has no \"events\" array; expected \"events\": "
                               "[{\"title\": ..., \"date\": \"YYYY-MM-DD\", ...}, ...]");
  }
  if (events_it->empty()) {
    return Invalid(source, "the \"" + std::string(kDivision) +
                               "\" division lists no events, so it covers no year; download "
                               "the feed again from " +
                               std::string(kFeedUrl));
  }
  std::vector<std::pair<Holiday, size_t>> events;
  events.reserve(events_it->size());
  for (size_t i = 0; i < events_it->size(); ++i) {
    ISMS_ASSIGN_OR_RETURN(Holiday h, ParseEvent((*events_it)[i], i, source));
    events.emplace_back(std::move(h), i);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first.date < b.first.date; });
  OfficialHolidays out;
  for (size_t k = 0; k < events.size(); ++k) {
    if (k > 0 && events[k].first.date == events[k - 1].first.date) {
      return Invalid(source, std::string(kDivision) + " events " +
                                 std::to_string(events[k - 1].second) + " and " +
                                 std::to_string(events[k].second) + " have the same date " +
                                 FormatDate(events[k].first.date) + "; remove one of them");
    }
    const int year = static_cast<int>(events[k].first.date.year());
    out[year].push_back(std::move(events[k].first));
  }
  return out;
}

Result<OfficialHolidays> LoadBankHolidaysJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IoError(path + ": cannot open the bank holidays file (" + std::strerror(errno) +
                           "); check the path, or download the file from " + std::string(kFeedUrl));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return Status::IoError(path + ": cannot read the bank holidays file (" + std::strerror(errno) +
                           "); check the file and its permissions");
  }
  return ParseBankHolidaysJson(buffer.str(), path);
}

}  // namespace isms
