#include "formats/policy_toml.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "formats/audit_classify.h"

namespace isms {
namespace {

std::string_view TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: return "nothing";
  }
  return "a value";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A period as written in a policy file; the error text is "problem; fix".
Result<Period> ParsePeriodText(std::string_view text) {
  const std::string_view t = Trim(text);
  const std::string fix =
      "; write \"<amount> <unit>\" with unit days, working_days, months or hours, e.g. \"60 "
      "working_days\", or \"immediate\"";
  if (t == "immediate") return Period{0, Period::Unit::kDays};
  const size_t space = t.find_first_of(" \t");
  if (space == std::string_view::npos) {
    return Status::InvalidArgument("period '" + std::string(text) + "' has no unit" + fix);
  }
  const std::string_view number = t.substr(0, space);
  const std::string_view unit = Trim(t.substr(space));
  if (!number.empty() && number.front() == '-') {
    return Status::InvalidArgument("negative period '" + std::string(text) +
                                   "'; use an amount of 0 or more");
  }
  long long amount = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), amount);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && end == number.data() + number.size() && amount > kMaxPeriodAmount)) {
    return Status::InvalidArgument("period '" + std::string(text) + "' is too long; use at most " +
                                   std::to_string(kMaxPeriodAmount) + " units");
  }
  if (ec != std::errc() || end != number.data() + number.size()) {
    return Status::InvalidArgument("period '" + std::string(text) +
                                   "' does not start with a whole number" + fix);
  }
  static constexpr std::pair<std::string_view, Period::Unit> kSingular[] = {
      {"day", Period::Unit::kDays},
      {"working_day", Period::Unit::kWorkingDays},
      {"month", Period::Unit::kMonths},
      {"hour", Period::Unit::kHours},
  };
  for (const auto& [name, u] : kSingular) {
    if (unit == name) return Period{static_cast<int>(amount), u};
  }
  Result<Period::Unit> u = ParseUnitKey(unit);
  if (!u.ok()) {
    return Status::InvalidArgument("unknown unit '" + std::string(unit) + "' in period '" +
                                   std::string(text) + "'" + fix);
  }
  return Period{static_cast<int>(amount), *u};
}

class Loader {
 public:
  explicit Loader(std::string_view name) : name_(name) {}
  bool has_audit() const { return has_audit_; }

  Status Load(const toml::table& root, Policy& policy) {
    for (const auto& [key, node] : root) {
      const std::string_view k = key.str();
      if (k == "policy") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return PolicySection(sk, n, policy);
        }));
      } else if (k == "severity") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return SeveritySection(sk, n, policy);
        }));
      } else if (k == "calendar") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return CalendarSection(sk, n, policy);
        }));
      } else if (k == "status") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return StatusSection(sk, n, policy);
        }));
      } else if (k == "vulnerabilities") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return VulnerabilitiesSection(sk, n, policy);
        }));
      } else if (k == "timescales") {
        ISMS_RETURN_IF_ERROR(Section(key, node, [&](const toml::key& sk, const toml::node& n) {
          return TimescaleEntry(sk, n, policy);
        }));
      } else if (k == "audit") {
        // The supplier's audit classification rules: checked by LoadAuditRulesToml below.
        has_audit_ = true;
      } else {
        return Error(key.source(), "unknown section '" + std::string(k) +
                                       "'; use policy, severity, calendar, status, "
                                       "vulnerabilities, timescales or audit (docs/policy.md)");
      }
    }
    const Status valid = policy.Validate();
    if (!valid.ok()) return Status::InvalidArgument(name_ + ": " + valid.message());
    return Status::Ok();
  }

  Status Error(const toml::source_region& where, const std::string& message) const {
    if (where.begin.line == 0) return Status::InvalidArgument(name_ + ": " + message);
    return Status::InvalidArgument(name_ + ":" + std::to_string(where.begin.line) + ":" +
                                   std::to_string(where.begin.column) + ": " + message);
  }

 private:
  template <typename F>
  Status Section(const toml::key& key, const toml::node& node, F&& entry) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Error(node.source(), "'" + std::string(key.str()) + "' is " +
                                      std::string(TypeName(node)) + ", not a table; write it as [" +
                                      std::string(key.str()) + "] with keys below it");
    }
    section_ = std::string(key.str());
    for (const auto& [k, n] : *table) ISMS_RETURN_IF_ERROR(entry(k, n));
    return Status::Ok();
  }

  std::string Where(const toml::key& key) const { return section_ + "." + std::string(key.str()); }

  Status UnknownKey(const toml::key& key, std::string_view allowed) const {
    return Error(key.source(), "unknown key '" + std::string(key.str()) + "' in [" + section_ +
                                   "]; use " + std::string(allowed) + " (docs/policy.md)");
  }

  Result<std::string> String(const toml::key& key, const toml::node& node,
                             std::string_view example) const {
    if (const auto* s = node.as_string()) return s->get();
    return Error(node.source(), "'" + Where(key) + "' is " + std::string(TypeName(node)) +
                                    ", not a string; write it in quotes, e.g. " +
                                    std::string(key.str()) + " = \"" + std::string(example) + "\"");
  }

  Result<Period> PeriodValue(const toml::key& key, const toml::node& node,
                             std::string_view where) const {
    ISMS_ASSIGN_OR_RETURN(std::string text, String(key, node, "60 working_days"));
    Result<Period> p = ParsePeriodText(text);
    if (!p.ok()) return Error(node.source(), std::string(where) + ": " + p.status().message());
    return p;
  }

  template <typename T>
  Status Choice(const toml::key& key, const toml::node& node, Result<T> (*parse)(std::string_view),
                std::string_view choices, T& out) const {
    ISMS_ASSIGN_OR_RETURN(std::string text,
                          String(key, node, choices.substr(0, choices.find(' '))));
    Result<T> v = parse(text);
    if (!v.ok()) {
      return Error(node.source(), "unknown value '" + text + "' for '" + Where(key) + "'; use " +
                                      std::string(choices));
    }
    out = *v;
    return Status::Ok();
  }

  Status PolicySection(const toml::key& key, const toml::node& node, Policy& policy) {
    if (key.str() != "effective") return UnknownKey(key, "effective");
    if (const auto* d = node.as_date()) {
      const toml::date v = d->get();
      const Date date{std::chrono::year{v.year}, std::chrono::month{v.month},
                      std::chrono::day{v.day}};
      if (!date.ok()) {
        return Error(node.source(), "'policy.effective' is not a valid date; use YYYY-MM-DD");
      }
      policy.effective = date;
      return Status::Ok();
    }
    if (const auto* s = node.as_string()) {
      Result<Date> date = ParseDate(s->get());
      if (!date.ok()) {
        return Error(node.source(), "'policy.effective' is not a date (" + date.status().message() +
                                        "); use YYYY-MM-DD");
      }
      policy.effective = *date;
      return Status::Ok();
    }
    return Error(node.source(), "'policy.effective' is " + std::string(TypeName(node)) +
                                    ", not a date; write e.g. effective = 2026-04-01");
  }

  Status SeveritySection(const toml::key& key, const toml::node& node, Policy& policy) {
    if (key.str() == "method") {
      return Choice(key, node, &ParseSeverityMethod, "microsoft-else-nvd or most-severe",
                    policy.severity_method);
    }
    if (key.str() == "basis") {
      return Choice(key, node, &ParseScoreBasis, "base or environmental", policy.score_basis);
    }
    return UnknownKey(key, "method or basis");
  }

  Status CalendarSection(const toml::key& key, const toml::node& node, Policy& policy) {
    if (key.str() != "holidays") return UnknownKey(key, "holidays");
    ISMS_ASSIGN_OR_RETURN(std::string path, String(key, node, "bank-holidays.json"));
    if (Trim(path).empty()) {
      return Error(node.source(),
                   "'calendar.holidays' is empty; give the path of a GOV.UK bank-holidays.json "
                   "or remove the key");
    }
    policy.holidays_file = path;
    return Status::Ok();
  }

  Status StatusSection(const toml::key& key, const toml::node& node, Policy& policy) {
    if (key.str() == "at_risk_percent") {
      const auto* i = node.as_integer();
      if (i == nullptr) {
        return Error(node.source(), "'status.at_risk_percent' is " + std::string(TypeName(node)) +
                                        ", not an integer; write e.g. at_risk_percent = 75");
      }
      const std::int64_t v = i->get();
      if (v < 1 || v > 100) {
        return Error(node.source(), "'status.at_risk_percent' is " + std::to_string(v) +
                                        ", outside 1-100; use a percentage from 1 to 100");
      }
      policy.at_risk_percent = static_cast<int>(v);
      return Status::Ok();
    }
    if (key.str() == "backdated_threshold") {
      ISMS_ASSIGN_OR_RETURN(policy.backdated_threshold,
                            PeriodValue(key, node, "'status.backdated_threshold'"));
      return Status::Ok();
    }
    return UnknownKey(key, "at_risk_percent or backdated_threshold");
  }

  Status VulnerabilitiesSection(const toml::key& key, const toml::node& node, Policy& policy) {
    if (key.str() == "scan_recency") {
      ISMS_ASSIGN_OR_RETURN(policy.scan_recency,
                            PeriodValue(key, node, "'vulnerabilities.scan_recency'"));
      return Status::Ok();
    }
    if (key.str() == "patch_release") {
      return Choice(key, node, &ParsePatchReleaseRule,
                    "earlier-of-publication-and-first-seen or first-seen", policy.patch_release);
    }
    if (key.str() == "resume_after_exploitable") {
      return Choice(key, node, &ParseResumeRule,
                    "full-timescale-from-exploitable or from-original-release",
                    policy.resume_after_exploitable);
    }
    return UnknownKey(key, "scan_recency, patch_release or resume_after_exploitable");
  }

  Status TimescaleEntry(const toml::key& key, const toml::node& node, Policy& policy) {
    const std::string k(key.str());
    const Timescale* t = policy.Find(k);
    if (t == nullptr) {
      return Error(key.source(),
                   "unknown timescale '" + k + "'; use a key of docs/policy.md, e.g. patch_other");
    }
    if (!t->period) {
      return Error(key.source(), "timescale '" + k + "' (" + t->clause + ") has no clock (" +
                                     t->wording + "); remove it");
    }
    const std::string where = "'timescales." + k + "'";
    Period period;
    std::string reference;
    if (node.is_string()) {
      ISMS_ASSIGN_OR_RETURN(period, PeriodValue(key, node, where));
    } else if (const toml::table* table = node.as_table()) {
      const toml::node* period_node = nullptr;
      for (const auto& [ek, en] : *table) {
        if (ek.str() == "period") {
          period_node = &en;
        } else if (ek.str() == "reference") {
          const auto* s = en.as_string();
          if (s == nullptr) {
            return Error(en.source(), where + ".reference is " + std::string(TypeName(en)) +
                                          ", not a string; write e.g. reference = \"CCN-0042\"");
          }
          reference = s->get();
        } else {
          return Error(ek.source(), "unknown key '" + std::string(ek.str()) + "' in " + where +
                                        "; use period or reference (docs/policy.md)");
        }
      }
      if (period_node == nullptr) {
        return Error(node.source(), where + " has no period; add period = \"<amount> <unit>\"");
      }
      ISMS_ASSIGN_OR_RETURN(period, PeriodValue(key, *period_node, where));
    } else {
      return Error(node.source(), where + " is " + std::string(TypeName(node)) +
                                      ", not a period; write e.g. " + k + " = \"" +
                                      FormatPeriodKey(*t->period) + "\"");
    }
    const Status set = policy.SetPeriod(k, period, std::move(reference));
    if (!set.ok()) return Error(node.source(), set.message());
    return Status::Ok();
  }

  static std::string FormatPeriodKey(const Period& p) {
    return std::to_string(p.amount) + " " + std::string(UnitKey(p.unit));
  }

  bool has_audit_ = false;
  std::string name_;
  std::string section_;
};

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

Result<Policy> LoadPolicyString(std::string_view text, std::string_view name) {
  Loader loader(name);
  Policy policy = Policy::Defaults();
  try {
    toml::table root = toml::parse(text, name);
    ISMS_RETURN_IF_ERROR(loader.Load(root, policy));
    if (loader.has_audit()) {
      ISMS_RETURN_IF_ERROR(LoadAuditRulesToml(text, name).status());
    }
  } catch (const toml::parse_error& e) {
    return loader.Error(e.source(), std::string(e.description()) + "; fix the TOML syntax");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(name) + ": cannot read the policy (" + e.what() +
                                   "); fix the file");
  }
  return policy;
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::IoError(path + ": cannot open the policy file; check the path and permissions");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": cannot read the policy file; check the disk");
  ISMS_ASSIGN_OR_RETURN(Policy policy, LoadPolicyString(buffer.str(), path));
  if (policy.holidays_file) {
    const std::filesystem::path holidays(*policy.holidays_file);
    if (holidays.is_relative()) {
      policy.holidays_file =
          (std::filesystem::path(path).parent_path() / holidays).lexically_normal().string();
    }
  }
  return policy;
}

std::string RenderPolicy(const Policy& policy) {
  const Policy defaults = Policy::Defaults();
  std::string out = "Policy ";
  out += policy.effective ? "effective from " + FormatDate(*policy.effective)
                          : std::string("in force from the Start Date");
  out += "\n\nTimescales\n";

  struct Row {
    std::string clause, key, period, source, title;
  };
  std::vector<Row> rows;
  rows.push_back({"clause", "key", "period", "source", "what"});
  for (const Timescale& t : policy.timescales) {
    std::string title = t.title;
    if (t.source == TimescaleSource::kVaried && !t.reference.empty()) {
      title += " [agreed: " + t.reference + "]";
    } else if (!t.period) {
      title += " [" + t.wording + "]";
    } else if (!t.wording.empty()) {
      title += " [schedule: \"" + t.wording + "\"]";
    }
    rows.push_back({t.clause, t.key, DescribeTimescalePeriod(t),
                    std::string(TimescaleSourceKey(t.source)), std::move(title)});
  }
  size_t w[4] = {0, 0, 0, 0};
  for (const Row& r : rows) {
    w[0] = std::max(w[0], r.clause.size());
    w[1] = std::max(w[1], r.key.size());
    w[2] = std::max(w[2], r.period.size());
    w[3] = std::max(w[3], r.source.size());
  }
  for (const Row& r : rows) {
    out += "  " + Pad(r.clause, w[0]) + "  " + Pad(r.key, w[1]) + "  " + Pad(r.period, w[2]) +
           "  " + Pad(r.source, w[3]) + "  " + r.title + "\n";
  }

  auto source = [](bool is_default) {
    return std::string(is_default ? "policy-default" : "varied");
  };
  std::vector<Row> settings;
  settings.push_back({"clause", "setting", "value", "source", ""});
  settings.push_back({"9.2", "severity.method",
                      std::string(SeverityMethodKey(policy.severity_method)),
                      source(policy.severity_method == defaults.severity_method), ""});
  settings.push_back({"9.2", "severity.basis", std::string(ScoreBasisKey(policy.score_basis)),
                      source(policy.score_basis == defaults.score_basis), ""});
  settings.push_back({"", "calendar.holidays",
                      policy.holidays_file ? *policy.holidays_file : "(rules only)",
                      source(!policy.holidays_file), ""});
  settings.push_back({"", "status.at_risk_percent", std::to_string(policy.at_risk_percent) + " %",
                      source(policy.at_risk_percent == defaults.at_risk_percent), ""});
  settings.push_back({"", "status.backdated_threshold", FormatPeriod(policy.backdated_threshold),
                      source(policy.backdated_threshold == defaults.backdated_threshold), ""});
  settings.push_back({"9.5.4", "vulnerabilities.scan_recency", FormatPeriod(policy.scan_recency),
                      source(policy.scan_recency == defaults.scan_recency), ""});
  settings.push_back({"9.3", "vulnerabilities.patch_release",
                      std::string(PatchReleaseRuleKey(policy.patch_release)),
                      source(policy.patch_release == defaults.patch_release), ""});
  settings.push_back({"9.3.1", "vulnerabilities.resume_after_exploitable",
                      std::string(ResumeRuleKey(policy.resume_after_exploitable)),
                      source(policy.resume_after_exploitable == defaults.resume_after_exploitable),
                      ""});
  size_t s[3] = {0, 0, 0};
  for (const Row& r : settings) {
    s[0] = std::max(s[0], r.clause.size());
    s[1] = std::max(s[1], r.key.size());
    s[2] = std::max(s[2], r.period.size());
  }
  out += "\nSettings\n";
  for (const Row& r : settings) {
    out += "  " + Pad(r.clause, s[0]) + "  " + Pad(r.key, s[1]) + "  " + Pad(r.period, s[2]) +
           "  " + r.source + "\n";
  }
  return out;
}

}  // namespace isms
