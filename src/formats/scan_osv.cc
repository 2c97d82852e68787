// OSV-Scanner JSON (`osv-scanner --format json`): one finding per (source, package,
// vulnerability record). Mapping: docs/formats.md, "OSV-Scanner".
#include <string>
#include <string_view>
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

// Compares versions by their runs of digits (numerically) and other characters (as text);
// enough to place an installed version within the ranges of its own record.
int CompareVersions(std::string_view a, std::string_view b) {
  if (!a.empty() && (a[0] == 'v' || a[0] == 'V')) a.remove_prefix(1);
  if (!b.empty() && (b[0] == 'v' || b[0] == 'V')) b.remove_prefix(1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == '0') ++i0;
      while (j0 < b.size() && b[j0] == '0') ++j0;
      i = i0;
      j = j0;
      while (i < a.size() && digit(a[i])) ++i;
      while (j < b.size() && digit(b[j])) ++j;
      if (i - i0 != j - j0) return (i - i0) < (j - j0) ? -1 : 1;
      int c = a.substr(i0, i - i0).compare(b.substr(j0, j - j0));
      if (c != 0) return c < 0 ? -1 : 1;
    } else {
      if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
      ++i;
      ++j;
    }
  }
  if (i == a.size() && j == b.size()) return 0;
  return i == a.size() ? -1 : 1;
}

struct Range {
  std::string_view introduced;
  std::string_view fixed;  // empty: no fix in this range
};

struct Affected {
  std::string_view name, ecosystem, purl;
  std::vector<Range> ranges;
};

struct Pending {
  RawFinding finding;
  std::vector<Affected> affected;
};

struct Package {
  std::string_view name, version, ecosystem, commit, purl;
};

void ApplyFix(const Package& pkg, const std::vector<Affected>& affected, RawFinding& f) {
  std::vector<std::string_view> all_fixed;
  bool has_range = false;
  for (const Affected& a : affected) {
    if (!a.name.empty() && a.name != pkg.name) continue;
    if (!a.ecosystem.empty() && !pkg.ecosystem.empty() && a.ecosystem != pkg.ecosystem) continue;
    for (const Range& r : a.ranges) {
      has_range = true;
      if (!r.fixed.empty()) all_fixed.push_back(r.fixed);
      if (pkg.version.empty()) continue;
      bool after_start = r.introduced.empty() || r.introduced == "0" ||
                         CompareVersions(r.introduced, pkg.version) <= 0;
      if (!after_start) continue;
      if (r.fixed.empty()) {
        f.fix = FixState::kNotAvailable;
        f.fixed_version.clear();
        return;
      }
      if (CompareVersions(pkg.version, r.fixed) < 0) {
        f.fix = FixState::kAvailable;
        f.fixed_version = std::string(r.fixed);
        return;
      }
    }
  }
  if (!all_fixed.empty()) {
    f.fix = FixState::kAvailable;
    for (std::string_view v : all_fixed) {
      if (f.fixed_version.find(v) != std::string::npos) continue;
      if (!f.fixed_version.empty()) f.fixed_version += ", ";
      f.fixed_version += v;
    }
  } else if (has_range) {
    f.fix = FixState::kNotAvailable;
  }
}

class OsvParser {
 public:
  OsvParser(std::string_view source, ScanSink& sink) : source_(source), sink_(sink) {}

  Status Run(std::string_view data) {
    ISMS_RETURN_IF_ERROR(r_.Open(data, source_));
    Path root;
    od::object obj;
    if (auto e = r_.doc().get_object().get(obj)) {
      return r_.Error(e, root, "an OSV-Scanner report (an object)");
    }
    ScanInfo info;
    info.format = ScanFormat::kOsv;
    info.scanner = "OSV-Scanner";
    info.scan_type = "osv:scanner";
    ISMS_RETURN_IF_ERROR(sink_.OnScan(info));
    bool has_results = false;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      if (key != "results") return Status::Ok();
      has_results = true;
      Path p = root.Key(key);
      return ForEachInOptArray(
          r_, v, p, [&](std::size_t i, od::value& e) { return ParseResult(e, p.Index(i)); });
    }));
    if (!has_results) return r_.Invalid(root, "not an OSV-Scanner report: no \"results\"");
    return r_.CheckEnd();
  }

 private:
  Status ParseResult(od::value& v, const Path& p) {
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::vector<AssetName> asset;
    od::value source;
    auto found = obj.find_field_unordered("source");
    if (found.error() == simdjson::SUCCESS) {
      if (auto e = std::move(found).get(source)) return r_.SyntaxError(e);
      Path sp = p.Key("source");
      ISMS_RETURN_IF_ERROR(
          ForEachInOptObject(r_, source, sp, [&](std::string_view k, od::value& x) {
            if (k != "path") return Status::Ok();
            std::string_view path;
            ISMS_RETURN_IF_ERROR(r_.String(x, sp.Key(k), path));
            if (!path.empty()) asset.push_back({"path", std::string(path)});
            return Status::Ok();
          }));
    } else if (found.error() != simdjson::NO_SUCH_FIELD) {
      return r_.Error(found.error(), p, "an object");
    }
    if (!asset.empty()) {
      ScannedAsset scanned;
      scanned.names = asset;
      ISMS_RETURN_IF_ERROR(sink_.OnAsset(scanned));
    }
    bool empty = false;
    if (auto e = obj.reset().get(empty)) return r_.SyntaxError(e);
    return ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      if (key != "packages") return Status::Ok();
      Path pp = p.Key(key);
      return ForEachInOptArray(r_, x, pp, [&](std::size_t i, od::value& e) {
        return ParsePackage(e, pp.Index(i), asset);
      });
    });
  }

  Status ParsePackage(od::value& v, const Path& p, const std::vector<AssetName>& asset) {
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    Package pkg;
    std::vector<Pending> pending;
    std::vector<std::vector<std::string_view>> groups;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "package") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          Path ip = kp.Key(k);
          if (k == "name") return r_.String(y, ip, pkg.name);
          if (k == "version") return r_.String(y, ip, pkg.version);
          if (k == "ecosystem") return r_.String(y, ip, pkg.ecosystem);
          if (k == "commit") return r_.String(y, ip, pkg.commit);
          if (k == "purl") return r_.String(y, ip, pkg.purl);
          return Status::Ok();
        });
      }
      if (key == "vulnerabilities") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          pending.emplace_back();
          return ParseVulnerability(e, kp.Index(i), pending.back());
        });
      }
      if (key == "groups") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          Path gp = kp.Index(i);
          std::vector<std::string_view>& group = groups.emplace_back();
          return ForEachInOptObject(r_, e, gp, [&](std::string_view k, od::value& y) {
            if (k != "ids" && k != "aliases") return Status::Ok();
            return ForEachInOptArray(r_, y, gp.Key(k), [&](std::size_t j, od::value& z) {
              std::string_view id;
              ISMS_RETURN_IF_ERROR(r_.String(z, gp.Key(k).Index(j), id));
              group.push_back(id);
              return Status::Ok();
            });
          });
        });
      }
      return Status::Ok();
    }));
    for (Pending& item : pending) {
      RawFinding& f = item.finding;
      f.asset = asset;
      f.component = json::Component(pkg.name, pkg.version);
      if (f.component.empty()) f.component = std::string(pkg.commit);
      f.purl = std::string(pkg.purl);
      if (f.purl.empty()) {
        for (const Affected& a : item.affected) {
          if (a.name == pkg.name && !a.purl.empty()) {
            f.purl = std::string(a.purl);
            if (!pkg.version.empty()) f.purl += "@" + std::string(pkg.version);
            break;
          }
        }
      }
      ApplyFix(pkg, item.affected, f);
      for (const auto& group : groups) {
        bool member = false;
        for (std::string_view id : group) member = member || id == f.check_id;
        if (!member) continue;
        for (std::string_view id : group) json::AddId(f, id);
      }
      ISMS_RETURN_IF_ERROR(sink_.OnFinding(std::move(f)));
    }
    return Status::Ok();
  }

  Status ParseAffected(od::value& v, const Path& p, Affected& a, RawFinding& f) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "package") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          if (k == "name") return r_.String(y, kp.Key(k), a.name);
          if (k == "ecosystem") return r_.String(y, kp.Key(k), a.ecosystem);
          if (k == "purl") return r_.String(y, kp.Key(k), a.purl);
          return Status::Ok();
        });
      }
      if (key == "database_specific") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          if (k != "cwes") return Status::Ok();
          Path cp = kp.Key(k);
          return ForEachInOptArray(r_, y, cp, [&](std::size_t i, od::value& z) {
            return ForEachInOptObject(r_, z, cp.Index(i), [&](std::string_view n, od::value& w) {
              if (n != "cweId") return Status::Ok();
              std::string_view cwe;
              ISMS_RETURN_IF_ERROR(r_.String(w, cp.Index(i).Key(n), cwe));
              json::AddCwe(f, cwe);
              return Status::Ok();
            });
          });
        });
      }
      if (key != "ranges") return Status::Ok();
      return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
        Path rp = kp.Index(i);
        std::string_view type;
        std::vector<Range> ranges;
        ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, e, rp, [&](std::string_view k, od::value& y) {
          if (k == "type") return r_.String(y, rp.Key(k), type);
          if (k != "events") return Status::Ok();
          Path ep = rp.Key(k);
          return ForEachInOptArray(r_, y, ep, [&](std::size_t j, od::value& z) {
            return ForEachInOptObject(r_, z, ep.Index(j), [&](std::string_view n, od::value& w) {
              std::string_view s;
              if (n != "introduced" && n != "fixed") return Status::Ok();
              ISMS_RETURN_IF_ERROR(r_.String(w, ep.Index(j).Key(n), s));
              if (n == "introduced") {
                ranges.push_back(Range{s, {}});
              } else if (!ranges.empty() && ranges.back().fixed.empty()) {
                ranges.back().fixed = s;
              } else {
                ranges.push_back(Range{{}, s});
              }
              return Status::Ok();
            });
          });
        }));
        if (type != "GIT") a.ranges.insert(a.ranges.end(), ranges.begin(), ranges.end());
        return Status::Ok();
      });
    });
  }

  Status ParseVulnerability(od::value& v, const Path& p, Pending& item) {
    RawFinding& f = item.finding;
    f.offset = r_.OffsetOf(v);
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::vector<std::string_view> aliases;
    std::string_view details;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "id") return r_.StringTo(x, kp, f.check_id);
      if (key == "summary") return r_.StringTo(x, kp, f.title);
      if (key == "details") return r_.String(x, kp, details);
      if (key == "published") {
        std::string_view s;
        ISMS_RETURN_IF_ERROR(r_.String(x, kp, s));
        f.vuln_published = json::DateOf(s);
        return Status::Ok();
      }
      if (key == "aliases") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          std::string_view s;
          ISMS_RETURN_IF_ERROR(r_.String(e, kp.Index(i), s));
          aliases.push_back(s);
          return Status::Ok();
        });
      }
      if (key == "severity") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          Path sp = kp.Index(i);
          std::string_view type, score;
          ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, e, sp, [&](std::string_view k, od::value& y) {
            if (k == "type") return r_.String(y, sp.Key(k), type);
            if (k == "score") return r_.String(y, sp.Key(k), score);
            return Status::Ok();
          }));
          if (type.starts_with("CVSS_")) json::AddCvss(f, score, "OSV", false);
          return Status::Ok();
        });
      }
      if (key == "database_specific") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          Path dp = kp.Key(k);
          if (k == "severity") {
            std::string_view word;
            ISMS_RETURN_IF_ERROR(r_.String(y, dp, word));
            json::AddSeverity(f, "OSV", word);
            return Status::Ok();
          }
          if (k != "cwe_ids") return Status::Ok();
          return ForEachInOptArray(r_, y, dp, [&](std::size_t i, od::value& z) {
            std::string_view cwe;
            ISMS_RETURN_IF_ERROR(r_.String(z, dp.Index(i), cwe));
            json::AddCwe(f, cwe);
            return Status::Ok();
          });
        });
      }
      if (key == "affected") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          item.affected.emplace_back();
          return ParseAffected(e, kp.Index(i), item.affected.back(), f);
        });
      }
      return Status::Ok();
    }));
    if (f.check_id.empty()) return r_.Invalid(p, "a vulnerability without an id");
    json::AddId(f, f.check_id);
    for (std::string_view alias : aliases) json::AddId(f, alias);
    if (f.title.empty()) {
      std::string_view first = details.substr(0, details.find('\n'));
      f.title = std::string(first.substr(0, 200));
    }
    return Status::Ok();
  }

  std::string_view source_;
  ScanSink& sink_;
  JsonReader r_;
};

}  // namespace

Status ParseOsv(std::string_view data, std::string_view source, ScanSink& sink) {
  OsvParser parser(source, sink);
  return parser.Run(data);
}

}  // namespace isms
