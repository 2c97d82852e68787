// Loads GOV.UK's official list of UK bank holidays (https://www.gov.uk/bank-holidays.json) into
// the England and Wales days off a Calendar uses (core/calendar.h). Format and authority:
// docs/calendar.md.
//
// The feed is an object of divisions ("england-and-wales", "scotland", "northern-ireland"), each
// {"division": "...", "events": [{"title", "date" (YYYY-MM-DD), "notes", "bunting"}, ...]}.
// Only "england-and-wales" is read; the other divisions are ignored. Each event becomes a
// Holiday named by its title, followed by " (<notes>)" when the notes are not empty (e.g.
// "Boxing Day (Substitute day)"); titles are kept as GOV.UK writes them (UTF-8, with U+2019 in
// "New Year’s Day"). The result holds one entry per year that has at least one event, sorted
// by date: exactly the years the feed is authoritative for.
//
// Errors (InvalidArgument; IoError when the file cannot be read) start with the source name and
// say what is wrong and what to do: JSON syntax errors give the byte offset as nlohmann::json
// reports it (counting from 1: the offending byte) with its line and column; a bad event names
// its index in "events" and the offending value. Duplicate dates and an empty event list are
// errors.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/calendar.h"
#include "core/status.h"

namespace isms {

// Parses the feed from `json`; `source` names it in error messages (e.g. a path or a URL).
Result<OfficialHolidays> ParseBankHolidaysJson(std::string_view json,
                                               std::string_view source = "bank-holidays.json");

// Reads and parses the feed from the file at `path`.
Result<OfficialHolidays> LoadBankHolidaysJsonFile(const std::string& path);

}  // namespace isms
