// SARIF 2.1.0: one finding per result of every run. Mapping: docs/formats.md, "SARIF".
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "formats/json_util.h"
#include "formats/scan_parsers.h"

namespace isms {
namespace {

namespace od = simdjson::ondemand;
using json::ForEachField;
using json::ForEachInOptArray;
using json::ForEachInOptObject;
using json::JsonReader;
using json::Path;

struct Rule {
  std::string id, title, level, security_severity, severity;
  std::vector<std::string> cwes, cves;
};

bool Digit(char c) {
  return c >= '0' && c <= '9';
}

// Every "CVE-YYYY-NNNN..." in `text`.
template <typename Add>
void FindCves(std::string_view text, Add&& add) {
  for (std::size_t i = text.find("CVE-"); i != std::string_view::npos;
       i = text.find("CVE-", i + 4)) {
    std::size_t j = i + 4;
    std::size_t year = j;
    while (j < text.size() && Digit(text[j])) ++j;
    if (j - year != 4 || j >= text.size() || text[j] != '-') continue;
    std::size_t num = ++j;
    while (j < text.size() && Digit(text[j])) ++j;
    if (j - num >= 4) add(text.substr(i, j - i));
  }
}

// GitHub's bands for "security-severity" (a CVSS-like score).
std::string_view SecuritySeverityWord(std::string_view score) {
  double value = 0;
  bool seen = false;
  double scale = 0;
  for (char c : score) {
    if (Digit(c)) {
      seen = true;
      if (scale == 0) {
        value = value * 10 + (c - '0');
      } else {
        value += (c - '0') * scale;
        scale /= 10;
      }
    } else if (c == '.' && scale == 0) {
      scale = 0.1;
    } else {
      return "";
    }
  }
  if (!seen) return "";
  if (value >= 9.0) return "Critical";
  if (value >= 7.0) return "High";
  if (value >= 4.0) return "Medium";
  if (value > 0.0) return "Low";
  return "None";
}

class SarifParser {
 public:
  SarifParser(std::string_view source, ScanSink& sink) : source_(source), sink_(sink) {}

  Status Run(std::string_view data) {
    ISMS_RETURN_IF_ERROR(r_.Open(data, source_));
    Path root;
    od::object obj;
    if (auto e = r_.doc().get_object().get(obj))
      return r_.Error(e, root, "a SARIF log (an object)");
    std::string version, first_tool;
    bool has_runs = false;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      Path p = root.Key(key);
      if (key == "version") return r_.StringTo(v, p, version);
      if (key != "runs") return Status::Ok();
      has_runs = true;
      return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& run) {
        if (i > 0) return Status::Ok();
        return ForEachInOptObject(r_, run, p.Index(i), [&](std::string_view k, od::value& x) {
          if (k != "tool") return Status::Ok();
          std::string name, tool_version;
          ISMS_RETURN_IF_ERROR(ReadDriver(x, p.Index(i).Key(k), name, tool_version, nullptr));
          first_tool = name;
          if (!tool_version.empty()) first_tool_version_ = tool_version;
          return Status::Ok();
        });
      });
    }));
    if (!has_runs) return r_.Invalid(root, "not a SARIF log: no \"runs\"");
    if (!version.empty() && version != "2.1.0") {
      return r_.Invalid(root.Key("version"),
                        "SARIF " + version + " is not supported: save the log as SARIF 2.1.0");
    }
    ISMS_RETURN_IF_ERROR(r_.Rewind());
    ScanInfo info;
    info.format = ScanFormat::kSarif;
    info.scanner = first_tool.empty() ? "SARIF" : first_tool;
    if (!first_tool_version_.empty()) info.scanner += " " + first_tool_version_;
    info.scan_type = "sarif:" + (first_tool.empty() ? std::string("unknown") : first_tool);
    ISMS_RETURN_IF_ERROR(sink_.OnScan(info));

    if (auto e = r_.doc().get_object().get(obj)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      if (key != "runs") return Status::Ok();
      Path p = root.Key(key);
      return ForEachInOptArray(
          r_, v, p, [&](std::size_t i, od::value& run) { return ParseRun(run, p.Index(i)); });
    }));
    return r_.CheckEnd();
  }

 private:
  // tool.driver: name, version (or semanticVersion) and, when `rules` is given, its rules.
  Status ReadDriver(od::value& v, const Path& p, std::string& name, std::string& version,
                    std::vector<Rule>* rules) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& x) {
      if (key != "driver") return Status::Ok();
      Path dp = p.Key(key);
      std::string semantic;
      ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, x, dp, [&](std::string_view k, od::value& y) {
        Path kp = dp.Key(k);
        if (k == "name") return r_.StringTo(y, kp, name);
        if (k == "version") return r_.StringTo(y, kp, version);
        if (k == "semanticVersion") return r_.StringTo(y, kp, semantic);
        if (k != "rules" || rules == nullptr) return Status::Ok();
        return ForEachInOptArray(r_, y, kp, [&](std::size_t i, od::value& rule) {
          rules->emplace_back();
          return ReadRule(rule, kp.Index(i), rules->back());
        });
      }));
      if (version.empty()) version = semantic;
      return Status::Ok();
    });
  }

  Status ReadText(od::value& v, const Path& p, std::string& out) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
      return k == "text" ? r_.StringTo(x, p.Key(k), out) : Status::Ok();
    });
  }

  // Properties of a rule or a result: security-severity, severity words, CWE tags.
  Status ReadProperties(od::value& v, const Path& p, Rule& out) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
      Path kp = p.Key(k);
      if (k == "security-severity") return r_.StringTo(x, kp, out.security_severity);
      if (k == "problem.severity" || k == "severity") return r_.StringTo(x, kp, out.severity);
      if (k == "cve" || k == "cves") {
        std::string_view s;
        od::json_type type;
        if (auto e = x.type().get(type)) return r_.SyntaxError(e);
        if (type != od::json_type::array) {
          ISMS_RETURN_IF_ERROR(r_.String(x, kp, s));
          FindCves(s, [&](std::string_view c) { out.cves.emplace_back(c); });
          return Status::Ok();
        }
      }
      if (k != "tags" && k != "cves") return Status::Ok();
      return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& t) {
        std::string_view tag;
        ISMS_RETURN_IF_ERROR(r_.String(t, kp.Index(i), tag));
        constexpr std::string_view kCwe = "external/cwe/cwe-";
        if (tag.starts_with(kCwe)) out.cwes.emplace_back(tag.substr(kCwe.size()));
        FindCves(tag, [&](std::string_view c) { out.cves.emplace_back(c); });
        return Status::Ok();
      });
    });
  }

  Status ReadRule(od::value& v, const Path& p, Rule& rule) {
    std::string name;
    ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
      Path kp = p.Key(k);
      if (k == "id") return r_.StringTo(x, kp, rule.id);
      if (k == "name") return r_.StringTo(x, kp, name);
      if (k == "shortDescription") return ReadText(x, kp, rule.title);
      if (k == "properties") return ReadProperties(x, kp, rule);
      if (k != "defaultConfiguration") return Status::Ok();
      return ForEachInOptObject(r_, x, kp, [&](std::string_view n, od::value& y) {
        return n == "level" ? r_.StringTo(y, kp.Key(n), rule.level) : Status::Ok();
      });
    }));
    if (rule.title.empty()) rule.title = name;
    return Status::Ok();
  }

  Status ParseRun(od::value& v, const Path& p) {
    od::object run;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, run));
    std::string tool, version;
    std::vector<Rule> rules;
    std::vector<AssetName> asset;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, run, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "tool") return ReadDriver(x, kp, tool, version, &rules);
      if (key != "versionControlProvenance") return Status::Ok();
      return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
        return ForEachInOptObject(r_, e, kp.Index(i), [&](std::string_view k, od::value& y) {
          if (k != "repositoryUri" || !asset.empty()) return Status::Ok();
          std::string uri;
          ISMS_RETURN_IF_ERROR(r_.StringTo(y, kp.Index(i).Key(k), uri));
          if (!uri.empty()) asset.push_back({"repository", std::move(uri)});
          return Status::Ok();
        });
      });
    }));
    if (!asset.empty()) {
      ScannedAsset scanned;
      scanned.names = asset;
      ISMS_RETURN_IF_ERROR(sink_.OnAsset(scanned));
    }
    std::unordered_map<std::string_view, const Rule*> by_id;
    for (const Rule& rule : rules) by_id.emplace(rule.id, &rule);
    if (tool.empty()) tool = "SARIF";
    bool empty = false;
    if (auto e = run.reset().get(empty)) return r_.SyntaxError(e);
    return ForEachField(r_, run, p, [&](std::string_view key, od::value& x) {
      if (key != "results") return Status::Ok();
      Path rp = p.Key(key);
      return ForEachInOptArray(r_, x, rp, [&](std::size_t i, od::value& e) {
        return ParseResult(e, rp.Index(i), tool, rules, by_id, asset);
      });
    });
  }

  Status ReadLocation(od::value& v, const Path& p, std::string& uri, std::string& line) {
    return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& loc) {
      if (i > 0) return Status::Ok();
      Path lp = p.Index(i);
      return ForEachInOptObject(r_, loc, lp, [&](std::string_view k, od::value& x) {
        if (k != "physicalLocation") return Status::Ok();
        Path pp = lp.Key(k);
        return ForEachInOptObject(r_, x, pp, [&](std::string_view n, od::value& y) {
          Path np = pp.Key(n);
          if (n == "artifactLocation") {
            return ForEachInOptObject(r_, y, np, [&](std::string_view m, od::value& z) {
              return m == "uri" ? r_.StringTo(z, np.Key(m), uri) : Status::Ok();
            });
          }
          if (n != "region") return Status::Ok();
          return ForEachInOptObject(r_, y, np, [&](std::string_view m, od::value& z) {
            return m == "startLine" ? r_.StringTo(z, np.Key(m), line) : Status::Ok();
          });
        });
      });
    });
  }

  Status ParseResult(od::value& v, const Path& p, const std::string& tool,
                     const std::vector<Rule>& rules,
                     const std::unordered_map<std::string_view, const Rule*>& by_id,
                     const std::vector<AssetName>& asset) {
    RawFinding f;
    f.offset = r_.OffsetOf(v);
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::string level, message, uri, line, baseline, suppression;
    std::optional<std::int64_t> rule_index;
    bool suppressed = false;
    Rule props;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "ruleId") return r_.StringTo(x, kp, f.check_id);
      if (key == "ruleIndex") return r_.OptInt(x, kp, rule_index);
      if (key == "rule") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          if (k == "index") return r_.OptInt(y, kp.Key(k), rule_index);
          if (k == "id" && f.check_id.empty()) return r_.StringTo(y, kp.Key(k), f.check_id);
          return Status::Ok();
        });
      }
      if (key == "level") return r_.StringTo(x, kp, level);
      if (key == "message") return ReadText(x, kp, message);
      if (key == "locations") return ReadLocation(x, kp, uri, line);
      if (key == "properties") return ReadProperties(x, kp, props);
      if (key == "baselineState") return r_.StringTo(x, kp, baseline);
      if (key != "suppressions") return Status::Ok();
      return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& s) {
        std::string kind, status, justification;
        ISMS_RETURN_IF_ERROR(
            ForEachInOptObject(r_, s, kp.Index(i), [&](std::string_view k, od::value& y) {
              if (k == "kind") return r_.StringTo(y, kp.Index(i).Key(k), kind);
              if (k == "status") return r_.StringTo(y, kp.Index(i).Key(k), status);
              if (k == "justification") return r_.StringTo(y, kp.Index(i).Key(k), justification);
              return Status::Ok();
            }));
        if (status.empty() || status == "accepted") {
          suppressed = true;
          suppression = "suppressed (" + (kind.empty() ? std::string("unspecified") : kind) + ")";
          if (!justification.empty()) suppression += ": " + justification;
        }
        return Status::Ok();
      });
    }));
    if (baseline == "absent") return Status::Ok();
    const Rule* rule = nullptr;
    if (!f.check_id.empty()) {
      auto it = by_id.find(f.check_id);
      if (it != by_id.end()) rule = it->second;
    }
    if (rule == nullptr && rule_index && *rule_index >= 0 &&
        static_cast<std::size_t>(*rule_index) < rules.size()) {
      rule = &rules[static_cast<std::size_t>(*rule_index)];
    }
    if (f.check_id.empty() && rule != nullptr) f.check_id = rule->id;
    if (f.check_id.empty()) return r_.Invalid(p, "a result without ruleId");

    f.asset = asset;
    f.component = uri;
    if (!uri.empty() && !line.empty()) f.component += ":" + line;
    f.title = message.empty() && rule != nullptr ? rule->title : message;
    if (level.empty() && rule != nullptr) level = rule->level;
    f.informational = level == "note" || level == "none";

    auto add_cve = [&](std::string_view c) { json::AddCve(f, c); };
    FindCves(f.check_id, add_cve);
    for (const Rule* source : {rule, static_cast<const Rule*>(&props)}) {
      if (source == nullptr) continue;
      for (const std::string& c : source->cves) json::AddCve(f, c);
      for (const std::string& c : source->cwes) json::AddCwe(f, c);
    }
    FindCves(message, add_cve);
    constexpr std::size_t kGhsaLength = 19;
    if (f.check_id.starts_with("GHSA-") && f.check_id.size() >= kGhsaLength) {
      json::AddId(f, std::string_view(f.check_id).substr(0, kGhsaLength));
    }
    f.own_code = f.cves.empty() && f.aliases.empty();

    std::string_view sec = !props.security_severity.empty() ? props.security_severity
                           : rule != nullptr                ? rule->security_severity
                                                            : std::string_view();
    json::AddSeverity(f, tool, SecuritySeverityWord(sec));
    json::AddSeverity(f, tool, props.severity);
    if (rule != nullptr) json::AddSeverity(f, tool, rule->severity);
    if (suppressed) {
      f.vex = VexState::kNotAffected;
      f.vex_justification = suppression;
    }
    return sink_.OnFinding(std::move(f));
  }

  std::string_view source_;
  ScanSink& sink_;
  JsonReader r_;
  std::string first_tool_version_;
};

}  // namespace

Status ParseSarif(std::string_view data, std::string_view source, ScanSink& sink) {
  SarifParser parser(source, sink);
  return parser.Run(data);
}

}  // namespace isms
