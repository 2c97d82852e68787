// Classification of audit records (formats/audit_record.h) into the categories of Annex 1
// paragraph 8.1, by rules held as data. Rule format, built-in rules: docs/audit-format.md.
//
// A rule is a category and matchers, all of which must hold:
//   app       = ["sshd", "sshd-session"]  the record's app is one of these (exact)
//   app_regex = "^openvpn"                 the record's app matches (needs `contains`)
//   contains  = ["Accepted "]              the message holds each of these substrings
//   regex     = '^Accepted (?<method>\S+) for (?<user>\S+) from (?<src_ip>\S+)'
//   icase     = false                      contains and regex ignore ASCII case
// and extractors that fill fields once the rule matched:
//   fields = { src_ip = 3, dest = 7 }      the N-th whitespace-separated token (1-based) of the
//                                          message; the rule matches only when every N exists
//   kv     = { src_ip = "SRC" }            the value of the first token KEY=VALUE (quotes around
//                                          the value dropped)
//   numeric_tokens = [1, 2]                these tokens must be numbers (digits and '.'): a
//                                          cheap shape check for `fields` rules
//   session_from_procid = true             session = the record's PROCID when not captured
//   set    = { lease = "release" }         constant values, set like captures (last)
// Named captures of the regex (?<name>...) and the names of `fields` and `kv` go to the record's
// fields user, src_ip, src_host, src_mac, dest, session; any other name becomes an extra field.
// Values "-" and "?" and "" set nothing. A field the sender already set is not overwritten.
//
// Speed: std::regex is slow, so a rule needs `app` or `contains`; records are dispatched by app
// (a map lookup) and each candidate rule's fixed substrings are checked before its regex runs.
// Most lines are decided without any regex; high-volume formats (proxy, firewall) use `fields`
// and `kv`, not regexes. Designed for well over 500k records/s per core on typical lines.
//
// Order: supplier rules first (in file order), then the built-in ones; the first rule that
// matches decides. A record with a non-empty `rule` (the sender classified it) is left alone; a
// record no rule matches is `other` with rule "".
//
// Thread-safety: an AuditClassifier is immutable after Create; Classify may be called from many
// threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "formats/audit_record.h"

namespace isms {

struct AuditRule {
  std::string name;  // unique; recorded in AuditRecord::rule
  AuditCategory category = AuditCategory::kOther;
  std::vector<std::string> apps;
  std::string app_regex;
  std::vector<std::string> contains;
  std::string regex;
  bool icase = false;
  std::vector<std::pair<std::string, int>> fields;
  std::vector<int> numeric_tokens;
  std::vector<std::pair<std::string, std::string>> kv;
  bool session_from_procid = false;
  std::vector<std::pair<std::string, std::string>> set;
  std::string origin;  // "FILE:LINE" of its definition, for messages
};

// The rules of the `[[audit.rules]]` array of a TOML document (other tables are ignored, so the
// whole policy file can be passed). `name` names the document in errors: "NAME:LINE:COL: problem;
// fix" — TOML syntax, unknown keys, wrong types, an unknown category, a rule without `app` or
// `contains`, a regex that does not compile, a duplicate rule name, a bad field name.
Result<std::vector<AuditRule>> LoadAuditRulesToml(std::string_view text, std::string_view name);

// The `[audit]` settings beside the rules.
struct AuditSettings {
  // The length assumed for a DHCP lease whose record states none (`audit.lease_seconds`): a lease
  // ends this long after its last grant unless renewed, re-granted or released. Default: a day,
  // ISC dhcpd's max-lease-time when unset.
  std::int64_t lease_seconds = 86400;
};

// The `[audit]` settings of a TOML document (defaults when it has none), after the same checks
// as LoadAuditRulesToml: an unknown key under [audit] or a lease length that is not 1 second to
// a year is refused, naming its position.
Result<AuditSettings> LoadAuditSettingsToml(std::string_view text, std::string_view name);

// The built-in rules (compiled from TOML embedded in audit_classify.cc).
const std::vector<AuditRule>& BuiltInAuditRules();

class AuditClassifier {
 public:
  // A classifier of `supplier_rules` followed by the built-in rules. kInvalidArgument (naming the
  // rule and its origin) for a duplicate name or a regex that does not compile.
  static Result<AuditClassifier> Create(std::vector<AuditRule> supplier_rules = {});

  // Sets r.category, r.rule and the captured fields. See the order above.
  void Classify(AuditRecord& r) const;
  // The same for a view: its fields then refer to its message's bytes and to this classifier's
  // rules (names and `set` values), which must outlive it.
  void Classify(AuditRecordView& r) const;

  AuditClassifier(AuditClassifier&&) noexcept;
  AuditClassifier& operator=(AuditClassifier&&) noexcept;
  ~AuditClassifier();

 private:
  struct Compiled;
  AuditClassifier();
  template <typename Text>
  void ClassifyAny(BasicAuditRecord<Text>& r) const;
  std::vector<std::unique_ptr<Compiled>> rules_;
  // App -> the indexes of its rules and of those without `app`, in rule order, looked up by the
  // record's view of its app (one look-up a record; a tree compared the app with several keys).
  // The table is open-addressed, a power of two in size and at most half full, so a hash picks
  // its slot by a mask: std::unordered_map's modulo by a prime, a division, cost as much as the
  // rest of the look-up.
  struct AppRules {
    std::string app;
    std::vector<size_t> rules;
  };
  void IndexApps(std::vector<AppRules> apps);
  const std::vector<size_t>& RulesOf(std::string_view app) const;
  std::vector<AppRules> apps_;            // the apps named by rules
  std::vector<std::uint32_t> app_slots_;  // 0: free; else 1 + an index into apps_
  std::vector<size_t> any_app_;  // rules without `app`: the list of an app without rules
};

}  // namespace isms
