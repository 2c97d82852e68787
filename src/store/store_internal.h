// Helpers shared by the two engines of src/store. Not part of the store's interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace isms::store::internal {

// The first ~80 characters of `sql`, whitespace runs folded to one space, for messages.
std::string SqlSnippet(std::string_view sql);

// "<engine> store <url>: <message> (SQL: <snippet>)"; without the SQL part when `sql` is empty.
Status SqlError(StatusCode code, Engine engine, std::string_view display_url, std::string_view sql,
                std::string_view message);

// Text that both engines store unchanged: valid UTF-8 without NUL bytes (PostgreSQL's text
// cannot hold either). The error says what to do instead.
Status CheckText(std::string_view text);

// A table or column name usable unquoted in both dialects: [A-Za-z_][A-Za-z0-9_]*, optionally
// prefixed by one "schema.".
bool IsIdentifier(std::string_view name);

// The shortest text that reads back as exactly `v`; "Infinity", "-Infinity", "NaN" for the
// special values (PostgreSQL's spelling).
std::string FormatDouble(double v);
// Parses text written by FormatDouble or by PostgreSQL; 0 when it is not a number.
double ParseDouble(std::string_view text);
// Parses a decimal integer ("t"/"f" read as 1/0); 0 when it is not a number.
std::int64_t ParseInt(std::string_view text);

// True when a postgresql:// URL carries a password (user:password@ or password=...).
bool UrlHasPassword(std::string_view url);
// The URL with any password removed.
std::string RedactUrl(std::string_view url);

Result<std::unique_ptr<Connection>> OpenSqlite(std::string_view url);
Result<std::unique_ptr<Connection>> OpenPostgres(std::string_view url);

}  // namespace isms::store::internal
