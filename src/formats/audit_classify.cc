#include "formats/audit_classify.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <exception>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>

#include "core/ascii.h"
#include "core/bytes.h"
#include "formats/audit_regex.h"

namespace isms {
namespace {

// Regexes see at most this many bytes of a message: libstdc++'s std::regex recurses per input
// byte, and the records that rules look for are short.
constexpr size_t kMaxRegexInput = 2048;
constexpr int kMaxFieldIndex = 64;
// Limits on supplier regexes: std::regex compiles repeats by copying states.
constexpr size_t kMaxRepeat = 255;
constexpr size_t kMaxRegexLength = 1024;
// Longest lease length: a year.
constexpr std::int64_t kMaxLeaseSeconds = 366 * 86400;

// The built-in rules. Literal strings ('...') keep regex backslashes as written.
constexpr std::string_view kBuiltInRules = R"toml(
# 8.1.1 outbound requests: proxies and firewalls.

[[audit.rules]]
name = "squid-access"
category = "outbound-request"
app = ["squid", "squid3", "(squid-1)"]
numeric_tokens = [1, 2, 5]
fields = { src_ip = 3, result = 4, method = 6, dest = 7, user = 8, peer = 9 }

[[audit.rules]]
name = "netfilter"
category = "outbound-request"
contains = [" SRC=", " DST="]
kv = { src_ip = "SRC", dest = "DST", in_if = "IN", out_if = "OUT", proto = "PROTO", src_port = "SPT", dest_port = "DPT" }

# 8.1.1 which asset held an address: DHCP servers.

[[audit.rules]]
name = "dhcpd-ack"
category = "dhcp-lease"
app = ["dhcpd"]
contains = ["DHCPACK on "]
regex = '^DHCPACK on (?<src_ip>\S+) to (?<src_mac>[0-9A-Fa-f:]+)(?: \((?<src_host>[^)]*)\))? via (?<interface>\S+)'

[[audit.rules]]
name = "dnsmasq-dhcpack"
category = "dhcp-lease"
app = ["dnsmasq-dhcp", "dnsmasq"]
contains = ["DHCPACK("]
regex = 'DHCPACK\((?<interface>[^)]*)\) (?<src_ip>[0-9A-Fa-f.:]+) (?<src_mac>[0-9A-Fa-f:-]+)(?: (?<src_host>\S+))?'

[[audit.rules]]
name = "dhcpd-release"
category = "dhcp-lease"
app = ["dhcpd"]
contains = ["DHCPRELEASE of "]
regex = '^DHCPRELEASE of (?<src_ip>\S+) from (?<src_mac>[0-9A-Fa-f:]+)(?: \((?<src_host>[^)]*)\))? via (?<interface>\S+)'
set = { lease = "release" }

[[audit.rules]]
name = "dnsmasq-dhcprelease"
category = "dhcp-lease"
app = ["dnsmasq-dhcp", "dnsmasq"]
contains = ["DHCPRELEASE("]
regex = 'DHCPRELEASE\((?<interface>[^)]*)\) (?<src_ip>[0-9A-Fa-f.:]+) (?<src_mac>[0-9A-Fa-f:-]+)'
set = { lease = "release" }

# 8.1.2 privileged log-on and log-off: sudo and su.

[[audit.rules]]
name = "sudo-not-allowed"
category = "security-alert"
app = ["sudo"]
contains = ["NOT in sudoers"]
regex = '^\s*(?<user>\S+) : '

[[audit.rules]]
name = "sudo-bad-password"
category = "security-alert"
app = ["sudo"]
contains = ["incorrect password attempt"]
regex = '^\s*(?<user>\S+) : '

[[audit.rules]]
name = "sudo-command"
category = "privileged-logon"
app = ["sudo"]
contains = ["COMMAND="]
regex = '^\s*(?<user>\S+) : .*\bUSER=(?<target_user>[^ ;]+) ;.*\bCOMMAND=(?<command>.*)$'

[[audit.rules]]
name = "sudo-session-opened"
category = "privileged-logon"
app = ["sudo"]
contains = ["session opened for user "]
regex = 'session opened for user (?<target_user>[^\s(]+)(?:\(uid=\d+\))? by (?<user>[^\s(]*)'
session_from_procid = true

[[audit.rules]]
name = "sudo-session-closed"
category = "privileged-logoff"
app = ["sudo"]
contains = ["session closed for user "]
regex = 'session closed for user (?<target_user>[^\s(]+)'
session_from_procid = true

[[audit.rules]]
name = "su-session-opened"
category = "privileged-logon"
app = ["su"]
contains = ["session opened for user "]
regex = 'session opened for user (?<target_user>[^\s(]+)(?:\(uid=\d+\))? by (?<user>[^\s(]*)'
session_from_procid = true

[[audit.rules]]
name = "su-session-closed"
category = "privileged-logoff"
app = ["su"]
contains = ["session closed for user "]
regex = 'session closed for user (?<target_user>[^\s(]+)'
session_from_procid = true

[[audit.rules]]
name = "su-to"
category = "privileged-logon"
app = ["su"]
contains = ["(to "]
regex = '^\(to (?<target_user>[^)]+)\) (?<user>\S+) on (?<tty>\S+)'
session_from_procid = true

[[audit.rules]]
name = "su-successful"
category = "privileged-logon"
app = ["su"]
contains = ["Successful su for "]
regex = '^Successful su for (?<target_user>\S+) by (?<user>\S+)'
session_from_procid = true

[[audit.rules]]
name = "su-failed"
category = "security-alert"
app = ["su"]
contains = ["FAILED su for "]
regex = '^FAILED su for (?<target_user>\S+) by (?<user>\S+)'

# 8.1.2 start and end of remote access sessions: OpenSSH and OpenVPN.

[[audit.rules]]
name = "sshd-accepted"
category = "remote-session-start"
app = ["sshd", "sshd-session"]
contains = ["Accepted "]
regex = '^Accepted (?<method>\S+) for (?<user>\S+) from (?<src_ip>\S+) port (?<src_port>\d+)'
session_from_procid = true

[[audit.rules]]
name = "sshd-disconnected"
category = "remote-session-end"
app = ["sshd", "sshd-session"]
contains = ["Disconnected from user "]
regex = '^Disconnected from user (?<user>\S+) (?<src_ip>\S+) port (?<src_port>\d+)'
session_from_procid = true

[[audit.rules]]
name = "sshd-session-opened"
category = "remote-session-start"
app = ["sshd", "sshd-session"]
contains = ["session opened for user "]
regex = 'session opened for user (?<user>[^\s(]+)'
session_from_procid = true

[[audit.rules]]
name = "sshd-session-closed"
category = "remote-session-end"
app = ["sshd", "sshd-session"]
contains = ["session closed for user "]
regex = 'session closed for user (?<user>[^\s(]+)'
session_from_procid = true

[[audit.rules]]
name = "openvpn-connected"
category = "remote-session-start"
contains = [" Peer Connection Initiated with "]
regex = '^(?:(?<user>[^/\s\[]+)/)?(?:\[AF_INET6?\])?(?<session>(?<src_ip>[0-9A-Fa-f.:]+):(?<src_port>\d+)) (?:\[(?<user>[^\]]*)\] )?Peer Connection Initiated with'

[[audit.rules]]
name = "openvpn-exiting"
category = "remote-session-end"
contains = ["client-instance exiting"]
regex = '^(?:(?<user>[^/\s\[]+)/)?(?:\[AF_INET6?\])?(?<session>(?<src_ip>[0-9A-Fa-f.:]+):(?<src_port>\d+)) '

# 8.1.2 security alerts: the operating system (auditd) and security software (ClamAV, others).

[[audit.rules]]
name = "auditd-anomaly"
category = "security-alert"
contains = ["type=ANOM_"]
kv = { audit_type = "type", user = "acct", src_ip = "addr", result = "res", auid = "auid", exe = "exe" }

[[audit.rules]]
name = "auditd-user-login"
category = "security-alert"
contains = ["type=USER_LOGIN "]
kv = { audit_type = "type", user = "acct", src_ip = "addr", result = "res", auid = "auid", exe = "exe" }

[[audit.rules]]
name = "clamav-found"
category = "security-alert"
contains = [" FOUND"]
regex = '^(?<path>.*): (?<signature>\S+) FOUND$'

[[audit.rules]]
name = "malware-detected"
category = "security-alert"
contains = ["detected"]
icase = true
regex = '\b(?:virus|malware|trojan|ransomware|worm)\b.*\bdetected\b|\bdetected\b.*\b(?:virus|malware|trojan|ransomware|worm)\b'
)toml";

bool IsFieldName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// A pattern with (?<name>...) groups, translated to std::regex's ECMAScript (which has none).
struct Translated {
  std::string pattern;
  std::vector<std::pair<size_t, std::string>> groups;  // capture group index -> name
};

Result<Translated> TranslateNamedGroups(std::string_view p) {
  if (p.size() > kMaxRegexLength) {
    return Status::InvalidArgument("the regex is longer than " + std::to_string(kMaxRegexLength) +
                                   " bytes; write a shorter one");
  }
  Translated t;
  size_t group = 0;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9') {
        return Status::InvalidArgument(
            "backreferences (\\1 ...) are not supported; match the text again instead");
      }
      t.pattern.push_back(c);
      if (i + 1 < p.size()) t.pattern.push_back(p[++i]);
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      t.pattern.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      t.pattern.push_back(c);
      if (i + 1 < p.size() && p[i + 1] == '^') t.pattern.push_back(p[++i]);
      continue;
    }
    if (c == '{') {
      size_t j = i + 1;
      size_t value = 0;
      while (j < p.size() && ((p[j] >= '0' && p[j] <= '9') || p[j] == ',')) {
        value = p[j] == ',' ? 0 : std::min<size_t>(value * 10 + (p[j] - '0'), 1000000);
        if (value > kMaxRepeat) {
          return Status::InvalidArgument("a repeat count in {...} is above " +
                                         std::to_string(kMaxRepeat) + "; use a smaller one");
        }
        ++j;
      }
    }
    if (c == '(') {
      if (i + 1 < p.size() && p[i + 1] == '?') {
        if (i + 2 < p.size() && p[i + 2] == '<' && i + 3 < p.size() && p[i + 3] != '=' &&
            p[i + 3] != '!') {
          const size_t close = p.find('>', i + 3);
          if (close == std::string_view::npos) {
            return Status::InvalidArgument("a named group '(?<' is not closed by '>'");
          }
          const std::string name(p.substr(i + 3, close - i - 3));
          if (!IsFieldName(name)) {
            return Status::InvalidArgument("group name '" + name +
                                           "' is not a field name; use a-z, 0-9 and _");
          }
          t.groups.emplace_back(++group, name);
          t.pattern.push_back('(');
          i = close;
          continue;
        }
        t.pattern.push_back(c);
        continue;
      }
      ++group;
    }
    t.pattern.push_back(c);
  }
  return t;
}

Result<std::regex> CompileRegex(const std::string& pattern, bool icase) {
  try {
    auto flags = std::regex::ECMAScript | std::regex::optimize;
    if (icase) flags |= std::regex::icase;
    return std::regex(pattern, flags);
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument("regex does not compile (" + std::string(e.what()) +
                                   "); write an ECMAScript regular expression");
  }
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

char Upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

// How common a byte is in log text (higher: more common), to pick the byte a substring search
// looks for first: memchr for a rare byte of the needle, then a compare, instead of memchr for its
// first byte (often a space) and a compare at every hit.
int Commonness(char c) {
  if (c == ' ') return 100;
  if (c >= 'a' && c <= 'z') {
    constexpr std::string_view kByFrequency = "etaoinsrhldcumfpgwybvkxjqz";
    return 90 - static_cast<int>(kByFrequency.find(c));
  }
  if (c >= '0' && c <= '9') return 70;
  if (c == '.' || c == ':' || c == '-' || c == '/' || c == '=') return 60;
  if (c >= 'A' && c <= 'Z') return 30;
  return 10;
}

// A fixed substring of a rule, with the offset of its rarest byte.
struct Needle {
  std::string text;
  size_t rare = 0;
  bool icase = false;

  Needle(std::string t, bool ic) : text(std::move(t)), icase(ic) {
    for (size_t i = 1; i < text.size(); ++i) {
      const char a = ic ? Lower(text[i]) : text[i];
      const char b = ic ? Lower(text[rare]) : text[rare];
      if (Commonness(a) < Commonness(b)) rare = i;
    }
  }

  bool SameAt(const char* p) const {
    if (!icase) return EqualBytes(p, text.data(), text.size());
    for (size_t j = 0; j < text.size(); ++j) {
      if (Lower(p[j]) != Lower(text[j])) return false;
    }
    return true;
  }

  // Whether `hay` contains the text (ASCII case ignored when icase).
  bool In(std::string_view hay) const {
    if (text.empty()) return true;
    if (hay.size() < text.size()) return false;
    // Positions of the rare byte that leave room for the whole needle around them.
    const char* const first = hay.data() + rare;
    const size_t span = hay.size() - text.size() + 1;
    const char r = text[rare];
    const char variants[2] = {icase ? Lower(r) : r, icase ? Upper(r) : r};
    const int count = variants[0] == variants[1] ? 1 : 2;
    for (int v = 0; v < count; ++v) {
      const char* p = first;
      const char* const end = first + span;
      while (p < end) {
        const void* hit = std::memchr(p, variants[v], static_cast<size_t>(end - p));
        if (hit == nullptr) break;
        const char* at = static_cast<const char*>(hit);
        if (SameAt(at - rare)) return true;
        p = at + 1;
      }
    }
    return false;
  }
};

// The 1-based whitespace-separated tokens of `s`, up to `max` of them.
size_t Tokens(std::string_view s, size_t max, std::string_view* out) {
  size_t n = 0;
  size_t i = 0;
  while (n < max) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) break;
    const size_t start = i;
    i = SpaceOrTabAt(s, i);
    out[n++] = s.substr(start, i - start);
  }
  return n;
}

bool IsNumber(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

// The value of the first token KEY=VALUE of `s`, quotes around it dropped; empty if none (as a
// value that is empty: Assign keeps neither). A view, not an optional: GCC returned the
// optional through memory, read back by the caller at once.
std::string_view KeyValue(std::string_view s, std::string_view key) {
  size_t from = 0;
  while (true) {
    const size_t at = s.find(key, from);
    if (at == std::string_view::npos) return {};
    from = at + 1;
    const size_t eq = at + key.size();
    const bool starts_token = at == 0 || IsSpace(s[at - 1]) || s[at - 1] == '\'';
    if (!starts_token || eq >= s.size() || s[eq] != '=') continue;
    std::string_view v = s.substr(eq + 1, SpaceOrTabAt(s, eq + 1) - eq - 1);
    while (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '"' || v.back() == '\'')) v.remove_suffix(1);
    return v;
  }
}

// The record's own field a capture name stands for; kExtra for any other name.
enum class Target : std::uint8_t { kUser, kSrcIp, kSrcHost, kSrcMac, kDest, kSession, kExtra };

Target TargetOf(std::string_view name) {
  if (name == "user") return Target::kUser;
  if (name == "src_ip") return Target::kSrcIp;
  if (name == "src_host") return Target::kSrcHost;
  if (name == "src_mac") return Target::kSrcMac;
  if (name == "dest") return Target::kDest;
  if (name == "session") return Target::kSession;
  return Target::kExtra;
}

// Sets field `name` (whose target is `target`, TargetOf(name), worked out once per rule). A
// view's field refers to `value` (the message's bytes or the rule's).
template <typename Text>
void Assign(BasicAuditRecord<Text>& r, Target target, std::string_view name,
            std::string_view value) {
  if (value.empty() || value == "-" || value == "?") return;
  Text* field = nullptr;
  switch (target) {
    case Target::kUser: field = &r.user; break;
    case Target::kSrcIp: field = &r.src_ip; break;
    case Target::kSrcHost: field = &r.src_host; break;
    case Target::kSrcMac: field = &r.src_mac; break;
    case Target::kDest: field = &r.dest; break;
    case Target::kSession: field = &r.session; break;
    case Target::kExtra: break;
  }
  if (field != nullptr) {
    if (field->empty()) *field = value;
    return;
  }
  // As `if (r.Extra(name).empty()) r.SetExtra(name, std::string(value))`, in one pass over the
  // fields and without a temporary string: calling those two cost about a tenth of classify's
  // time in `audit_bench prepare`.
  for (auto& [k, v] : r.extra) {
    if (k == name) {
      if (v.empty()) v = value;
      return;
    }
  }
  r.extra.emplace_back(std::piecewise_construct, std::forward_as_tuple(name),
                       std::forward_as_tuple(value));
}

// Reads a rule table; errors carry the node's position.
class RuleLoader {
 public:
  explicit RuleLoader(std::string_view name) : name_(name) {}

  Status Error(const toml::source_region& where, const std::string& message) const {
    if (where.begin.line == 0) return Status::InvalidArgument(name_ + ": " + message);
    return Status::InvalidArgument(name_ + ":" + std::to_string(where.begin.line) + ":" +
                                   std::to_string(where.begin.column) + ": " + message);
  }

  Result<std::vector<AuditRule>> Load(const toml::table& root) {
    std::vector<AuditRule> rules;
    const toml::node* audit = root.get("audit");
    if (audit == nullptr) return rules;
    const toml::table* audit_table = audit->as_table();
    if (audit_table == nullptr) {
      return Error(audit->source(), "'audit' is not a table; write [[audit.rules]] sections");
    }
    for (const auto& [key, node] : *audit_table) {
      if (key.str() != "rules" && key.str() != "lease_seconds") {
        return Error(key.source(), "unknown key 'audit." + std::string(key.str()) +
                                       "'; use [[audit.rules]] or audit.lease_seconds");
      }
    }
    if (const toml::node* lease = audit_table->get("lease_seconds")) {
      const auto* n = lease->as_integer();
      if (n == nullptr || n->get() < 1 || n->get() > kMaxLeaseSeconds) {
        return Error(lease->source(),
                     "'audit.lease_seconds' is not a lease length; write a whole number of "
                     "seconds from 1 to " +
                         std::to_string(kMaxLeaseSeconds) + " (e.g. 86400 for a day)");
      }
      settings_.lease_seconds = n->get();
    }
    const toml::node* list = audit_table->get("rules");
    if (list == nullptr) return rules;
    const toml::array* array = list->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Error(list->source(),
                   "'audit.rules' is not an array of tables; write each rule as [[audit.rules]]");
    }
    std::set<std::string, std::less<>> names;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& t = *array->get(i)->as_table();
      ISMS_ASSIGN_OR_RETURN(AuditRule rule, Rule(t, i));
      if (!names.insert(rule.name).second) {
        return Error(t.source(), "audit rule '" + rule.name +
                                     "' is defined twice; give each rule its own name");
      }
      rules.push_back(std::move(rule));
    }
    return rules;
  }

  const AuditSettings& settings() const { return settings_; }

 private:
  Result<AuditRule> Rule(const toml::table& t, size_t index) {
    AuditRule rule;
    rule.origin = name_ + ":" + std::to_string(t.source().begin.line);
    std::string label = "audit rule " + std::to_string(index + 1);
    const toml::node* name = t.get("name");
    if (name == nullptr || !name->is_string() || name->as_string()->get().empty()) {
      return Error(name ? name->source() : t.source(),
                   label + " has no name; add name = \"...\" (a unique word)");
    }
    rule.name = name->as_string()->get();
    label = "audit rule '" + rule.name + "'";
    const toml::node* category = t.get("category");
    if (category == nullptr || !category->is_string()) {
      return Error(category ? category->source() : t.source(),
                   label +
                       " has no category; add category = \"outbound-request\" (or another "
                       "category of docs/audit-format.md)");
    }
    Result<AuditCategory> cat = ParseAuditCategoryKey(category->as_string()->get());
    if (!cat.ok()) return Error(category->source(), label + ": " + cat.status().message());
    rule.category = *cat;

    for (const auto& [key, node] : t) {
      const std::string_view k = key.str();
      if (k == "name" || k == "category") continue;
      if (k == "app" || k == "contains") {
        ISMS_ASSIGN_OR_RETURN(std::vector<std::string> list, Strings(node, label, k));
        (k == "app" ? rule.apps : rule.contains) = std::move(list);
      } else if (k == "app_regex" || k == "regex") {
        if (!node.is_string()) {
          return Error(node.source(), label + ": '" + std::string(k) +
                                          "' is not a string; write it as a literal string "
                                          "'...' so that backslashes stay as written");
        }
        (k == "app_regex" ? rule.app_regex : rule.regex) = node.as_string()->get();
      } else if (k == "icase" || k == "session_from_procid") {
        if (!node.is_boolean()) {
          return Error(node.source(),
                       label + ": '" + std::string(k) + "' is not a boolean; write true or false");
        }
        (k == "icase" ? rule.icase : rule.session_from_procid) = node.as_boolean()->get();
      } else if (k == "fields") {
        const toml::table* ft = node.as_table();
        if (ft == nullptr) {
          return Error(node.source(), label +
                                          ": 'fields' is not a table; write fields = "
                                          "{ src_ip = 3 } (field = token number)");
        }
        for (const auto& [fk, fn] : *ft) {
          ISMS_RETURN_IF_ERROR(FieldName(fk, label));
          const auto* n = fn.as_integer();
          if (n == nullptr || n->get() < 1 || n->get() > kMaxFieldIndex) {
            return Error(fn.source(), label + ": fields." + std::string(fk.str()) +
                                          " is not a token number; use 1 to 64");
          }
          rule.fields.emplace_back(std::string(fk.str()), static_cast<int>(n->get()));
        }
      } else if (k == "numeric_tokens") {
        const toml::array* a = node.as_array();
        bool ok = a != nullptr;
        if (ok) {
          for (const toml::node& e : *a) {
            const auto* n = e.as_integer();
            ok = ok && n != nullptr && n->get() >= 1 && n->get() <= kMaxFieldIndex;
            if (ok) rule.numeric_tokens.push_back(static_cast<int>(n->get()));
          }
        }
        if (!ok) {
          return Error(node.source(), label +
                                          ": 'numeric_tokens' is not a list of token "
                                          "numbers; write e.g. [1, 2] (1 to 64)");
        }
      } else if (k == "kv") {
        const toml::table* kt = node.as_table();
        if (kt == nullptr) {
          return Error(node.source(), label +
                                          ": 'kv' is not a table; write kv = { src_ip = "
                                          "\"SRC\" } (field = key in the message)");
        }
        for (const auto& [kk, kn] : *kt) {
          ISMS_RETURN_IF_ERROR(FieldName(kk, label));
          if (!kn.is_string() || kn.as_string()->get().empty()) {
            return Error(kn.source(), label + ": kv." + std::string(kk.str()) +
                                          " is not a key; write the KEY of KEY=VALUE as a string");
          }
          rule.kv.emplace_back(std::string(kk.str()), kn.as_string()->get());
        }
      } else if (k == "set") {
        const toml::table* st = node.as_table();
        if (st == nullptr) {
          return Error(node.source(), label +
                                          ": 'set' is not a table; write set = { lease = "
                                          "\"release\" } (field = value)");
        }
        for (const auto& [sk, sn] : *st) {
          ISMS_RETURN_IF_ERROR(FieldName(sk, label));
          if (!sn.is_string() || sn.as_string()->get().empty()) {
            return Error(sn.source(), label + ": set." + std::string(sk.str()) +
                                          " is not a value; write a non-empty string");
          }
          rule.set.emplace_back(std::string(sk.str()), sn.as_string()->get());
        }
      } else {
        return Error(key.source(), label + ": unknown key '" + std::string(k) +
                                       "'; use name, category, app, app_regex, contains, regex, "
                                       "icase, fields, numeric_tokens, kv, set or "
                                       "session_from_procid");
      }
    }
    if (rule.apps.empty() && rule.contains.empty()) {
      return Error(t.source(), label +
                                   " has neither 'app' nor 'contains'; add app = [\"...\"] or "
                                   "contains = [\"...\"] so records are filtered before any regex");
    }
    if (!rule.app_regex.empty() && rule.contains.empty()) {
      return Error(t.get("app_regex")->source(),
                   label +
                       ": 'app_regex' needs 'contains' as well; add contains = [\"...\"], or "
                       "list the apps in app = [...]");
    }
    for (const std::string* re : {&rule.app_regex, &rule.regex}) {
      if (re->empty()) continue;
      const toml::node* at = t.get(re == &rule.regex ? "regex" : "app_regex");
      Result<Translated> tr = TranslateNamedGroups(*re);
      if (!tr.ok()) return Error(at->source(), label + ": " + tr.status().message());
      Result<std::regex> compiled = CompileRegex(tr->pattern, rule.icase);
      if (!compiled.ok()) return Error(at->source(), label + ": " + compiled.status().message());
    }
    return rule;
  }

  Result<std::vector<std::string>> Strings(const toml::node& node, const std::string& label,
                                           std::string_view key) {
    std::vector<std::string> out;
    if (node.is_string()) {
      out.push_back(node.as_string()->get());
    } else if (const toml::array* a = node.as_array()) {
      for (const toml::node& e : *a) {
        if (!e.is_string()) {
          return Error(e.source(), label + ": '" + std::string(key) +
                                       "' holds a value that is not a string; list strings");
        }
        out.push_back(e.as_string()->get());
      }
    } else {
      return Error(node.source(),
                   label + ": '" + std::string(key) + "' is not a string or a list of strings");
    }
    for (const std::string& s : out) {
      if (s.empty()) {
        return Error(node.source(),
                     label + ": '" + std::string(key) + "' holds an empty string; remove it");
      }
    }
    return out;
  }

  Status FieldName(const toml::key& key, const std::string& label) {
    if (IsFieldName(key.str())) return Status::Ok();
    return Error(key.source(), label + ": '" + std::string(key.str()) +
                                   "' is not a field name; use a-z, 0-9 and _ (user, src_ip, "
                                   "src_host, src_mac, dest, session, or a name of your own)");
  }

  std::string name_;
  AuditSettings settings_;
};

}  // namespace

struct AuditClassifier::Compiled {
  AuditRule rule;
  std::optional<std::regex> app_re;
  std::optional<FastRegex> app_fast;  // app_re's pattern, when FastRegex takes it
  std::optional<std::regex> re;
  std::optional<FastRegex> fast;  // re's pattern, when FastRegex takes it
  std::vector<std::pair<size_t, std::string>> groups;
  size_t tokens_needed = 0;
  std::vector<Needle> contains;  // rule.contains, each searched by its rarest byte
  // TargetOf each name of groups, rule.fields, rule.kv and rule.set, in their order.
  std::vector<Target> group_targets, field_targets, kv_targets, set_targets;

  template <typename Text>
  bool Apply(BasicAuditRecord<Text>& r) const {
    const std::string_view msg = r.message;
    for (const Needle& c : contains) {
      if (!c.In(msg)) return false;
    }
    if (app_re && !AppMatches(r.app)) return false;
    if (tokens_needed == 0) return Match(r, nullptr);
    // The thread's own, not a local: a local array of 64 views was zeroed (1 KiB) at every call,
    // a fifth of this function's time on a proxy line.
    thread_local std::string_view tokens[kMaxFieldIndex];
    if (Tokens(msg, tokens_needed, tokens) < tokens_needed) return false;
    for (int n : rule.numeric_tokens) {
      if (!IsNumber(tokens[n - 1])) return false;
    }
    return Match(r, tokens);
  }

  bool AppMatches(std::string_view app) const {
    thread_local std::vector<std::pair<size_t, size_t>> spans;
    if (app_fast) {
      const FastRegex::Outcome o = app_fast->Search(app, spans);
      if (o != FastRegex::Outcome::kGaveUp) return o == FastRegex::Outcome::kMatch;
    }
    return std::regex_search(app.begin(), app.end(), *app_re);
  }

  // The regex, then the extractors.
  template <typename Text>
  bool Match(BasicAuditRecord<Text>& r, const std::string_view* tokens) const {
    const std::string_view msg = r.message;
    thread_local std::vector<std::pair<size_t, size_t>> spans;
    spans.clear();
    if (re) {
      const std::string_view head = msg.substr(0, kMaxRegexInput);
      FastRegex::Outcome o = FastRegex::Outcome::kGaveUp;
      if (fast) o = fast->Search(head, spans);
      if (o == FastRegex::Outcome::kNoMatch) return false;
      if (o == FastRegex::Outcome::kGaveUp) {
        std::cmatch m;
        if (!std::regex_search(head.data(), head.data() + head.size(), m, *re)) return false;
        spans.assign(m.size(), {FastRegex::kUnset, FastRegex::kUnset});
        for (size_t i = 0; i < m.size(); ++i) {
          if (m[i].matched) {
            spans[i] = {static_cast<size_t>(m[i].first - head.data()),
                        static_cast<size_t>(m[i].second - head.data())};
          }
        }
      }
    }
    r.category = rule.category;
    r.rule = rule.name;
    r.extra.reserve(r.extra.size() + groups.size() + rule.fields.size() + rule.kv.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const auto& [index, name] = groups[i];
      if (index < spans.size() && spans[index].first != FastRegex::kUnset) {
        Assign(r, group_targets[i], name,
               msg.substr(spans[index].first, spans[index].second - spans[index].first));
      }
    }
    for (std::size_t i = 0; i < rule.fields.size(); ++i) {
      Assign(r, field_targets[i], rule.fields[i].first, tokens[rule.fields[i].second - 1]);
    }
    for (std::size_t i = 0; i < rule.kv.size(); ++i) {
      Assign(r, kv_targets[i], rule.kv[i].first, KeyValue(msg, rule.kv[i].second));
    }
    if (rule.session_from_procid) Assign(r, Target::kSession, "session", r.procid);
    for (std::size_t i = 0; i < rule.set.size(); ++i) {
      Assign(r, set_targets[i], rule.set[i].first, rule.set[i].second);
    }
    return true;
  }
};

AuditClassifier::AuditClassifier() = default;
AuditClassifier::AuditClassifier(AuditClassifier&&) noexcept = default;
AuditClassifier& AuditClassifier::operator=(AuditClassifier&&) noexcept = default;
AuditClassifier::~AuditClassifier() = default;

Result<std::vector<AuditRule>> LoadAuditRulesToml(std::string_view text, std::string_view name) {
  RuleLoader loader(name);
  try {
    const toml::table root = toml::parse(text, name);
    return loader.Load(root);
  } catch (const toml::parse_error& e) {
    return loader.Error(e.source(), std::string(e.description()) + "; fix the TOML syntax");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(name) + ": cannot read the audit rules (" +
                                   e.what() + "); fix the file");
  }
}

Result<AuditSettings> LoadAuditSettingsToml(std::string_view text, std::string_view name) {
  RuleLoader loader(name);
  try {
    const toml::table root = toml::parse(text, name);
    ISMS_RETURN_IF_ERROR(loader.Load(root).status());
    return loader.settings();
  } catch (const toml::parse_error& e) {
    return loader.Error(e.source(), std::string(e.description()) + "; fix the TOML syntax");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(name) + ": cannot read the audit settings (" +
                                   e.what() + "); fix the file");
  }
}

const std::vector<AuditRule>& BuiltInAuditRules() {
  static const std::vector<AuditRule>* rules = [] {
    Result<std::vector<AuditRule>> r = LoadAuditRulesToml(kBuiltInRules, "built-in audit rules");
    assert(r.ok() && "the built-in audit rules do not load");
    return new std::vector<AuditRule>(r.ok() ? std::move(r).value() : std::vector<AuditRule>());
  }();
  return *rules;
}

Result<AuditClassifier> AuditClassifier::Create(std::vector<AuditRule> supplier_rules) {
  std::vector<AuditRule> all = std::move(supplier_rules);
  for (const AuditRule& r : BuiltInAuditRules()) all.push_back(r);
  AuditClassifier c;
  std::set<std::string, std::less<>> names;
  std::map<std::string, std::vector<size_t>> by_app;  // app -> its rules, in rule order
  for (AuditRule& rule : all) {
    const std::string where = rule.origin.empty() ? std::string() : rule.origin + ": ";
    if (!names.insert(rule.name).second) {
      return Status::InvalidArgument(where + "audit rule '" + rule.name +
                                     "' has the name of another rule (built-in rules: "
                                     "docs/audit-format.md); rename it");
    }
    if (rule.apps.empty() && rule.contains.empty()) {
      return Status::InvalidArgument(where + "audit rule '" + rule.name +
                                     "' has neither app nor contains; add one");
    }
    auto compiled = std::make_unique<Compiled>();
    if (!rule.app_regex.empty()) {
      ISMS_ASSIGN_OR_RETURN(Translated t, TranslateNamedGroups(rule.app_regex));
      Result<std::regex> re = CompileRegex(t.pattern, rule.icase);
      if (!re.ok()) return re.status().WithContext(where + "audit rule '" + rule.name + "'");
      compiled->app_re = std::move(re).value();
      compiled->app_fast = FastRegex::Compile(t.pattern, rule.icase);
      if (compiled->app_fast && compiled->app_fast->group_count() != compiled->app_re->mark_count() + 1) {
        compiled->app_fast.reset();
      }
    }
    if (!rule.regex.empty()) {
      Result<Translated> t = TranslateNamedGroups(rule.regex);
      if (!t.ok()) return t.status().WithContext(where + "audit rule '" + rule.name + "'");
      Result<std::regex> re = CompileRegex(t->pattern, rule.icase);
      if (!re.ok()) return re.status().WithContext(where + "audit rule '" + rule.name + "'");
      compiled->re = std::move(re).value();
      compiled->fast = FastRegex::Compile(t->pattern, rule.icase);
      if (compiled->fast && compiled->fast->group_count() != compiled->re->mark_count() + 1) {
        compiled->fast.reset();
      }
      compiled->groups = std::move(t->groups);
    }
    for (const auto& [name, n] : rule.fields) {
      if (n < 1 || n > kMaxFieldIndex) {
        return Status::InvalidArgument(where + "audit rule '" + rule.name +
                                       "': token number out of range; use 1 to 64");
      }
      compiled->tokens_needed = std::max(compiled->tokens_needed, static_cast<size_t>(n));
    }
    for (int n : rule.numeric_tokens) {
      if (n < 1 || n > kMaxFieldIndex) {
        return Status::InvalidArgument(where + "audit rule '" + rule.name +
                                       "': token number out of range; use 1 to 64");
      }
      compiled->tokens_needed = std::max(compiled->tokens_needed, static_cast<size_t>(n));
    }
    for (const std::string& text : rule.contains) compiled->contains.emplace_back(text, rule.icase);
    const size_t index = c.rules_.size();
    if (rule.apps.empty()) {
      c.any_app_.push_back(index);
    } else {
      for (const std::string& app : rule.apps) by_app[app].push_back(index);
    }
    for (const auto& g : compiled->groups) compiled->group_targets.push_back(TargetOf(g.second));
    for (const auto& f : rule.fields) compiled->field_targets.push_back(TargetOf(f.first));
    for (const auto& k : rule.kv) compiled->kv_targets.push_back(TargetOf(k.first));
    for (const auto& v : rule.set) compiled->set_targets.push_back(TargetOf(v.first));
    compiled->rule = std::move(rule);
    c.rules_.push_back(std::move(compiled));
  }
  // Each app's list holds the rules without `app` too, in rule order: one list a record.
  std::vector<AppRules> apps;
  for (auto& [app, indexes] : by_app) {
    std::vector<size_t> merged;
    std::merge(indexes.begin(), indexes.end(), c.any_app_.begin(), c.any_app_.end(),
               std::back_inserter(merged));
    apps.push_back({app, std::move(merged)});
  }
  c.IndexApps(std::move(apps));
  return c;
}

void AuditClassifier::IndexApps(std::vector<AppRules> apps) {
  apps_ = std::move(apps);
  size_t size = 8;
  while (size < 2 * apps_.size()) size *= 2;
  app_slots_.assign(size, 0);
  for (size_t i = 0; i < apps_.size(); ++i) {
    size_t slot = std::hash<std::string_view>{}(apps_[i].app) & (size - 1);
    while (app_slots_[slot] != 0) slot = (slot + 1) & (size - 1);
    app_slots_[slot] = static_cast<std::uint32_t>(i + 1);
  }
}

const std::vector<size_t>& AuditClassifier::RulesOf(std::string_view app) const {
  const size_t mask = app_slots_.size() - 1;
  const size_t hash = std::hash<std::string_view>{}(app);
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t at = app_slots_[slot];
    if (at == 0) return any_app_;
    if (apps_[at - 1].app == app) return apps_[at - 1].rules;
  }
}

template <typename Text>
void AuditClassifier::ClassifyAny(BasicAuditRecord<Text>& r) const {
  if (!r.rule.empty()) return;
  for (const size_t index : RulesOf(std::string_view(r.app))) {
    if (rules_[index]->Apply(r)) return;
  }
}

void AuditClassifier::Classify(AuditRecord& r) const {
  ClassifyAny(r);
}

void AuditClassifier::Classify(AuditRecordView& r) const {
  ClassifyAny(r);
}

}  // namespace isms
