// Trivy JSON: SchemaVersion 2 reports, the legacy top-level array, the literal `null`, and
// Kubernetes cluster reports (ClusterName with Resources, or with per-kind arrays).
// Mapping: docs/formats.md, "Trivy".
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/json_util.h"
#include "formats/scan_parsers.h"

namespace isms {
namespace {

using json::ForEachField;
using json::ForEachInOptArray;
using json::ForEachInOptObject;
using json::JsonReader;
namespace od = simdjson::ondemand;
using json::Path;

struct Header {
  std::string artifact_name;
  std::string artifact_type;
  std::string version;
  std::string created_at;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  std::string image_id;
  std::string cluster_name;
  bool is_cluster = false;
};

// Where findings of one Result go.
struct Context {
  std::vector<AssetName> asset;
  std::string target;      // Result.Target
  std::string namespace_;  // Kubernetes resource namespace, for misconfiguration components
};

std::string_view CvssSourceName(std::string_view key) {
  if (key == "nvd") return "NVD";
  if (key == "redhat") return "Red Hat";
  if (key == "ghsa") return "GitHub";
  return key;
}

std::string_view VendorSeverityWord(std::int64_t n) {
  switch (n) {
    case 0: return "UNKNOWN";
    case 1: return "LOW";
    case 2: return "MEDIUM";
    case 3: return "HIGH";
    case 4: return "CRITICAL";
    default: return "";
  }
}

void ApplyStatus(std::string_view status, RawFinding& f) {
  if (status == "fixed") {
    f.fix = FixState::kAvailable;
  } else if (status == "affected") {
    if (f.fix == FixState::kUnknown) f.fix = FixState::kNotAvailable;
    f.vex = VexState::kAffected;
  } else if (status == "under_investigation") {
    if (f.fix == FixState::kUnknown) f.fix = FixState::kNotAvailable;
    f.vex = VexState::kUnderInvestigation;
  } else if (status == "fix_deferred") {
    if (f.fix == FixState::kUnknown) f.fix = FixState::kNotAvailable;
  } else if (status == "will_not_fix" || status == "end_of_life") {
    if (f.fix == FixState::kUnknown) f.fix = FixState::kWontFix;
  } else if (status == "not_affected") {
    f.vex = VexState::kNotAffected;
    f.vex_justification = "vendor status not_affected";
  }
}

class TrivyParser {
 public:
  TrivyParser(std::string_view source, ScanSink& sink) : source_(source), sink_(sink) {}

  Status Run(std::string_view data) {
    ISMS_RETURN_IF_ERROR(r_.Open(data, source_));
    od::json_type type;
    if (auto e = r_.doc().type().get(type)) return r_.SyntaxError(e);
    switch (type) {
      case od::json_type::null: {
        bool null = false;
        if (auto e = r_.doc().is_null().get(null)) return r_.SyntaxError(e);
        ISMS_RETURN_IF_ERROR(Scan(ScanInfoFor("legacy", "")));
        return r_.CheckEnd();
      }
      case od::json_type::array: return RunLegacy();
      case od::json_type::object: return RunReport();
      default: return r_.Invalid(Path(), "expected a Trivy report (an object), an array or null");
    }
  }

 private:
  ScanInfo ScanInfoFor(std::string_view type, std::string_view created_at) {
    ScanInfo info;
    info.format = ScanFormat::kTrivy;
    info.scanner = "Trivy";
    info.scan_type = "trivy:" + std::string(type);
    info.scanned_at = json::InstantOf(created_at);
    return info;
  }

  Status Scan(const ScanInfo& info) {
    scanned_at_ = info.scanned_at;
    return sink_.OnScan(info);
  }

  Status Asset(const std::vector<AssetName>& names) {
    if (names.empty()) return Status::Ok();
    std::string key;
    for (const AssetName& n : names) key += n.kind + '\n' + n.value + '\n';
    if (!announced_.insert(std::move(key)).second) return Status::Ok();
    ScannedAsset asset;
    asset.names = names;
    asset.scanned_at = scanned_at_;
    return sink_.OnAsset(asset);
  }

  // Legacy: [{Target, Type, Vulnerabilities}]. The image is named by the OS target,
  // "NAME (DISTRO VERSION)"; other targets (lock files) belong to the same image.
  Status RunLegacy() {
    Path root;
    std::string image;
    {
      od::array arr;
      if (auto e = r_.doc().get_array().get(arr)) return r_.SyntaxError(e);
      ISMS_RETURN_IF_ERROR(json::ForEachElement(r_, arr, root, [&](std::size_t i, od::value& v) {
        Path p = root.Index(i);
        od::object obj;
        ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
        return ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
          if (key != "Target" || !image.empty()) return Status::Ok();
          std::string_view target;
          ISMS_RETURN_IF_ERROR(r_.String(value, p.Key(key), target));
          std::size_t paren = target.rfind(" (");
          if (paren != std::string_view::npos && target.back() == ')') {
            image = std::string(target.substr(0, paren));
          }
          return Status::Ok();
        });
      }));
    }
    ISMS_RETURN_IF_ERROR(r_.Rewind());
    ISMS_RETURN_IF_ERROR(Scan(ScanInfoFor("legacy", "")));
    Context ctx;
    if (!image.empty()) ctx.asset.push_back({"image", image});
    ISMS_RETURN_IF_ERROR(Asset(ctx.asset));
    od::array arr;
    if (auto e = r_.doc().get_array().get(arr)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(json::ForEachElement(r_, arr, root, [&](std::size_t i, od::value& v) {
      return ParseResult(v, root.Index(i), ctx);
    }));
    return r_.CheckEnd();
  }

  Status ReadMetadata(od::value& v, const Path& p, Header& h) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& value) {
      Path kp = p.Key(key);
      if (key == "ImageID") return r_.StringTo(value, kp, h.image_id);
      std::vector<std::string>* list = key == "RepoTags"      ? &h.repo_tags
                                       : key == "RepoDigests" ? &h.repo_digests
                                                              : nullptr;
      if (list == nullptr) return Status::Ok();
      return ForEachInOptArray(r_, value, kp, [&](std::size_t i, od::value& e) {
        std::string_view s;
        ISMS_RETURN_IF_ERROR(r_.String(e, kp.Index(i), s));
        if (!s.empty()) list->emplace_back(s);
        return Status::Ok();
      });
    });
  }

  static void AddImageNames(const Header& h, std::vector<AssetName>& names) {
    auto add = [&](const std::string& value) {
      if (value.empty()) return;
      for (const AssetName& n : names) {
        if (n.kind == "image" && n.value == value) return;
      }
      names.push_back({"image", value});
    };
    add(h.artifact_name);
    for (const std::string& t : h.repo_tags) add(t);
    for (const std::string& d : h.repo_digests) add(d);
    add(h.image_id);
  }

  Status RunReport() {
    Path root;
    Header h;
    od::object obj;
    if (auto e = r_.doc().get_object().get(obj)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      Path p = root.Key(key);
      if (key == "ArtifactName") return r_.StringTo(v, p, h.artifact_name);
      if (key == "ArtifactType") return r_.StringTo(v, p, h.artifact_type);
      if (key == "CreatedAt") return r_.StringTo(v, p, h.created_at);
      if (key == "ClusterName") {
        h.is_cluster = true;
        return r_.StringTo(v, p, h.cluster_name);
      }
      if (key == "Metadata") return ReadMetadata(v, p, h);
      if (key == "Trivy") {
        return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& value) {
          return k == "Version" ? r_.StringTo(value, p.Key(k), h.version) : Status::Ok();
        });
      }
      return Status::Ok();
    }));
    ISMS_RETURN_IF_ERROR(r_.Rewind());

    ScanInfo info = ScanInfoFor(h.is_cluster              ? std::string_view("kubernetes")
                                : h.artifact_type.empty() ? std::string_view("unknown")
                                                          : std::string_view(h.artifact_type),
                                h.created_at);
    if (!h.version.empty()) info.scanner += " " + h.version;
    ISMS_RETURN_IF_ERROR(Scan(info));

    Context ctx;
    if (h.is_cluster) {
      if (!h.cluster_name.empty()) ctx.asset.push_back({"cluster", h.cluster_name});
    } else if (h.artifact_type == "container_image" || h.artifact_type == "vm") {
      AddImageNames(h, ctx.asset);
      if (h.artifact_type == "vm") {
        for (AssetName& n : ctx.asset) n.kind = "host";
      }
    } else if (h.artifact_type == "repository") {
      if (!h.artifact_name.empty()) ctx.asset.push_back({"repository", h.artifact_name});
    } else if (!h.artifact_name.empty()) {
      ctx.asset.push_back({"path", h.artifact_name});
    }
    ISMS_RETURN_IF_ERROR(Asset(ctx.asset));

    if (auto e = r_.doc().get_object().get(obj)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      Path p = root.Key(key);
      if (key == "Results") {
        return ForEachInOptArray(
            r_, v, p, [&](std::size_t i, od::value& e) { return ParseResult(e, p.Index(i), ctx); });
      }
      if (h.is_cluster && (key == "Resources" || key == "Vulnerabilities" ||
                           key == "Misconfigurations" || key == "Findings")) {
        return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& e) {
          return ParseResource(e, p.Index(i), ctx);
        });
      }
      return Status::Ok();
    }));
    return r_.CheckEnd();
  }

  // A Kubernetes resource: {Namespace, Kind, Name, Metadata, Results}.
  Status ParseResource(od::value& v, const Path& p, const Context& cluster) {
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    Header h;
    std::string ns;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      if (key == "Namespace") return r_.StringTo(value, p.Key(key), ns);
      if (key == "Metadata") return ReadMetadata(value, p.Key(key), h);
      return Status::Ok();
    }));
    bool empty = false;
    if (auto e = obj.reset().get(empty)) return r_.SyntaxError(e);
    Context ctx;
    AddImageNames(h, ctx.asset);
    ctx.asset.insert(ctx.asset.end(), cluster.asset.begin(), cluster.asset.end());
    ctx.namespace_ = ns;
    bool announced = false;
    return ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      if (key != "Results") return Status::Ok();
      Path rp = p.Key(key);
      return ForEachInOptArray(r_, value, rp, [&](std::size_t i, od::value& e) {
        if (!announced && !h.repo_tags.empty()) {
          announced = true;
          ISMS_RETURN_IF_ERROR(Asset(ctx.asset));
        }
        return ParseResult(e, rp.Index(i), ctx);
      });
    });
  }

  // One Result: {Target, Class, Type, Vulnerabilities, Misconfigurations, Secrets}.
  Status ParseResult(od::value& v, const Path& p, Context& ctx) {
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    ctx.target.clear();
    od::value target;
    auto found = obj.find_field_unordered("Target");
    if (found.error() == simdjson::SUCCESS) {
      if (auto e = std::move(found).get(target)) return r_.SyntaxError(e);
      ISMS_RETURN_IF_ERROR(r_.StringTo(target, p.Key("Target"), ctx.target));
    } else if (found.error() != simdjson::NO_SUCH_FIELD) {
      return r_.Error(found.error(), p, "an object");
    }
    bool empty = false;
    if (auto e = obj.reset().get(empty)) return r_.SyntaxError(e);
    return ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      Path kp = p.Key(key);
      if (key == "Vulnerabilities") {
        return ForEachInOptArray(r_, value, kp, [&](std::size_t i, od::value& e) {
          return ParseVulnerability(e, kp.Index(i), ctx);
        });
      }
      if (key == "Misconfigurations") {
        return ForEachInOptArray(r_, value, kp, [&](std::size_t i, od::value& e) {
          return ParseMisconfiguration(e, kp.Index(i), ctx);
        });
      }
      if (key == "Secrets") {
        return ForEachInOptArray(r_, value, kp, [&](std::size_t i, od::value& e) {
          return ParseSecret(e, kp.Index(i), ctx);
        });
      }
      return Status::Ok();
    });
  }

  Status ParseVulnerability(od::value& v, const Path& p, const Context& ctx) {
    RawFinding f;
    f.offset = r_.OffsetOf(v);
    f.asset = ctx.asset;
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::string_view name, version, severity, status;
    std::vector<std::string_view> ids;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      Path kp = p.Key(key);
      if (key == "VulnerabilityID") return r_.StringTo(value, kp, f.check_id);
      if (key == "PkgName") return r_.String(value, kp, name);
      if (key == "InstalledVersion") return r_.String(value, kp, version);
      if (key == "Title") return r_.StringTo(value, kp, f.title);
      if (key == "Severity") return r_.String(value, kp, severity);
      if (key == "Status") return r_.String(value, kp, status);
      if (key == "FixedVersion") return r_.StringTo(value, kp, f.fixed_version);
      if (key == "PublishedDate") {
        std::string_view s;
        ISMS_RETURN_IF_ERROR(r_.String(value, kp, s));
        f.vuln_published = json::DateOf(s);
        return Status::Ok();
      }
      if (key == "PkgIdentifier") {
        return ForEachInOptObject(r_, value, kp, [&](std::string_view k, od::value& x) {
          return k == "PURL" ? r_.StringTo(x, kp.Key(k), f.purl) : Status::Ok();
        });
      }
      if (key == "VendorIDs" || key == "CweIDs") {
        bool cwe = key == "CweIDs";
        return ForEachInOptArray(r_, value, kp, [&](std::size_t i, od::value& x) {
          std::string_view s;
          ISMS_RETURN_IF_ERROR(r_.String(x, kp.Index(i), s));
          if (cwe) {
            json::AddCwe(f, s);
          } else {
            ids.push_back(s);
          }
          return Status::Ok();
        });
      }
      if (key == "CVSS") return ParseCvss(value, kp, f);
      if (key == "VendorSeverity") {
        return ForEachInOptObject(r_, value, kp, [&](std::string_view k, od::value& x) {
          std::optional<std::int64_t> n;
          ISMS_RETURN_IF_ERROR(r_.OptInt(x, kp.Key(k), n));
          if (n) json::AddSeverity(f, CvssSourceName(k), VendorSeverityWord(*n));
          return Status::Ok();
        });
      }
      return Status::Ok();
    }));
    if (f.check_id.empty()) return r_.Invalid(p, "a vulnerability without VulnerabilityID");
    json::AddId(f, f.check_id);
    for (std::string_view id : ids) json::AddId(f, id);
    f.component = json::Component(name, version);
    if (!severity.empty()) {
      f.severities.insert(f.severities.begin(), SeverityWord{"Trivy", std::string(severity)});
    }
    if (!f.fixed_version.empty()) f.fix = FixState::kAvailable;
    ApplyStatus(status, f);
    return sink_.OnFinding(std::move(f));
  }

  Status ParseCvss(od::value& v, const Path& p, RawFinding& f) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view source, od::value& entry) {
      Path sp = p.Key(source);
      bool nvd = source == "nvd";
      std::string_view name = CvssSourceName(source);
      return ForEachInOptObject(r_, entry, sp, [&](std::string_view key, od::value& x) {
        if (key != "V2Vector" && key != "V3Vector" && key != "V40Vector") return Status::Ok();
        std::string_view vector;
        ISMS_RETURN_IF_ERROR(r_.String(x, sp.Key(key), vector));
        json::AddCvss(f, vector, name, nvd);
        return Status::Ok();
      });
    });
  }

  std::string ResourceComponent(const Context& ctx) const {
    if (ctx.namespace_.empty()) return ctx.target;
    return ctx.namespace_ + "/" + ctx.target;
  }

  // A failed configuration check: the supplier's own configuration, no CVE, no 9.3 clock.
  Status ParseMisconfiguration(od::value& v, const Path& p, const Context& ctx) {
    RawFinding f;
    f.offset = r_.OffsetOf(v);
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::string_view avd_id, severity, status;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      Path kp = p.Key(key);
      if (key == "ID") return r_.StringTo(value, kp, f.check_id);
      if (key == "AVDID") return r_.String(value, kp, avd_id);
      if (key == "Title") return r_.StringTo(value, kp, f.title);
      if (key == "Severity") return r_.String(value, kp, severity);
      if (key == "Status") return r_.String(value, kp, status);
      if (key == "Resolution") return r_.StringTo(value, kp, f.solution);
      return Status::Ok();
    }));
    if (!status.empty() && status != "FAIL") return Status::Ok();
    if (f.check_id.empty()) f.check_id = std::string(avd_id);
    if (f.check_id.empty()) return r_.Invalid(p, "a misconfiguration without ID");
    json::AddId(f, avd_id);
    f.asset = ctx.asset;
    f.component = ResourceComponent(ctx);
    f.own_code = true;
    json::AddSeverity(f, "Trivy", severity);
    return sink_.OnFinding(std::move(f));
  }

  // A secret found in the artifact: the supplier's own data, no CVE, no 9.3 clock.
  Status ParseSecret(od::value& v, const Path& p, const Context& ctx) {
    RawFinding f;
    f.offset = r_.OffsetOf(v);
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::string_view severity, line;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& value) {
      Path kp = p.Key(key);
      if (key == "RuleID") return r_.StringTo(value, kp, f.check_id);
      if (key == "Title") return r_.StringTo(value, kp, f.title);
      if (key == "Severity") return r_.String(value, kp, severity);
      if (key == "StartLine") return r_.String(value, kp, line);
      return Status::Ok();
    }));
    if (f.check_id.empty()) return r_.Invalid(p, "a secret without RuleID");
    f.asset = ctx.asset;
    f.component = ResourceComponent(ctx);
    if (!line.empty()) f.component += ":" + std::string(line);
    f.own_code = true;
    json::AddSeverity(f, "Trivy", severity);
    return sink_.OnFinding(std::move(f));
  }

  std::string_view source_;
  ScanSink& sink_;
  JsonReader r_;
  std::optional<Instant> scanned_at_;
  std::set<std::string> announced_;
};

}  // namespace

Status ParseTrivy(std::string_view data, std::string_view source, ScanSink& sink) {
  TrivyParser parser(source, sink);
  return parser.Run(data);
}

}  // namespace isms
