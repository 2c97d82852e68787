// What every web page shares (docs/web.md): templates rendered from the embedded files with
// data given as JSON, the layout around each page (navigation, the user, the log-out form), the
// Content-Security-Policy, refusal pages, form parsing, and how times and paths are written.
//
// Templates are Mustache (kainjow, kept out of this header): {{x}} is HTML-escaped, {{{x}}} is
// not and is used only for HTML the server rendered itself. JSON data: objects and arrays map to
// Mustache sections, strings and numbers to text, true/false/null to shown or hidden sections;
// an empty string hides a section too. A name missing from an item is looked up in the
// enclosing data (Mustache's rule), so views set every optional key, to null when absent.
//
// Thread-safety: every function may be called from any thread (templates are parsed once per
// thread).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "net/http.h"
#include "net/web_app.h"

namespace isms::net::web {

// Pages load scripts and styles from this server only: no inline script, no inline style.
inline constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

std::string HtmlEscape(std::string_view s);

// templates/NAME.mustache rendered with `data`. A missing or malformed template is a bug
// (std::logic_error), caught by the tests that render every page.
std::string Render(std::string_view name, const nlohmann::json& data);

// A whole page: templates/TMPL.mustache rendered with `data`, inside the layout. The layout
// reads from `data`: "section" (the contract tab to mark current: "dashboard", "vulns",
// "events", "reports", "audit"). The contract's navigation is shown when ctx.contract is set.
HttpResponse Page(RequestContext& ctx, std::string_view tmpl, const std::string& title,
                  nlohmann::json data, int status = 200);

// The page of a refusal or failure: the HTTP status of the Status's code and its message.
HttpResponse StatusPage(RequestContext& ctx, const Status& s);

// A download: the bytes with their type, as an attachment named `filename`.
HttpResponse Download(std::string body, std::string content_type, const std::string& filename);

// The fields of a form body (application/x-www-form-urlencoded, or multipart/form-data's text
// parts), in order.
class Form {
 public:
  Form() = default;
  explicit Form(std::vector<std::pair<std::string, std::string>> fields)
      : fields_(std::move(fields)) {}
  // The first value of `name` with surrounding white space removed; "" when absent.
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};
// InvalidArgument for a body that is neither form encoding, or a malformed one.
Result<Form> ParseForm(const HttpRequest& req);

// "2026-03-02 10:00" in London time (with the offset's name: "GMT" or "BST").
std::string LondonTime(Instant t);
// "2026-03-02".
std::string LondonDay(Instant t);

// A path of this site to go to after logging in: "/..." but not "//..." or "/\...", without
// control characters; anything else gives "/".
std::string LocalPath(std::string_view next);

// "/c/NAME" + rest, the name percent-encoded.
std::string ContractPath(std::string_view contract, std::string_view rest = "");

// An --at style value from a form: a date (the start of that London day) or an RFC 3339
// instant; InvalidArgument naming `field` otherwise.
Result<Instant> ParseWhen(std::string_view field, std::string_view text, bool end_of_day);

}  // namespace isms::net::web
