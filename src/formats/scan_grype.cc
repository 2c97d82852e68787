// Grype JSON (`grype -o json`): one finding per match. Mapping: docs/formats.md, "Grype".
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

struct CvssEntry {
  std::string_view vector;
  std::string_view source;
};

// Who published a CVSS entry: its `source` (an e-mail-like CNA name), else the namespace of
// the record it belongs to ("nvd:cpe", "debian:10", "github:language:java").
std::pair<std::string, bool> CvssSource(std::string_view source, std::string_view ns) {
  if (source == "nvd@nist.gov" || source == "nvd") return {"NVD", true};
  if (source == "security-advisories@github.com") return {"GitHub", false};
  if (!source.empty()) return {std::string(source), false};
  if (ns == "nvd" || ns.starts_with("nvd:")) return {"NVD", true};
  if (ns.starts_with("github:")) return {"GitHub", false};
  if (ns.empty()) return {"Grype", false};
  return {std::string(ns), false};
}

class GrypeParser {
 public:
  GrypeParser(std::string_view source, ScanSink& sink) : source_(source), sink_(sink) {}

  Status Run(std::string_view data) {
    ISMS_RETURN_IF_ERROR(r_.Open(data, source_));
    Path root;
    od::object obj;
    if (auto e = r_.doc().get_object().get(obj))
      return r_.Error(e, root, "a Grype report (an object)");
    ScanInfo info;
    info.format = ScanFormat::kGrype;
    info.scanner = "Grype";
    std::string source_type;
    std::vector<AssetName> asset;
    bool has_matches = false;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      Path p = root.Key(key);
      if (key == "matches") has_matches = true;
      if (key == "descriptor") {
        return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
          std::string_view s;
          if (k != "version" && k != "timestamp") return Status::Ok();
          ISMS_RETURN_IF_ERROR(r_.String(x, p.Key(k), s));
          if (k == "version" && !s.empty()) info.scanner = "Grype " + std::string(s);
          if (k == "timestamp") info.scanned_at = json::InstantOf(s);
          return Status::Ok();
        });
      }
      if (key == "source") return ReadSource(v, p, source_type, asset);
      return Status::Ok();
    }));
    if (!has_matches) return r_.Invalid(root, "not a Grype report: no \"matches\"");
    info.scan_type = "grype:" + (source_type.empty() ? std::string("unknown") : source_type);
    ISMS_RETURN_IF_ERROR(sink_.OnScan(info));
    if (!asset.empty()) {
      ScannedAsset scanned;
      scanned.names = asset;
      scanned.scanned_at = info.scanned_at;
      ISMS_RETURN_IF_ERROR(sink_.OnAsset(scanned));
    }
    ISMS_RETURN_IF_ERROR(r_.Rewind());
    if (auto e = r_.doc().get_object().get(obj)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      if (key != "matches") return Status::Ok();
      Path p = root.Key(key);
      return ForEachInOptArray(
          r_, v, p, [&](std::size_t i, od::value& m) { return ParseMatch(m, p.Index(i), asset); });
    }));
    return r_.CheckEnd();
  }

 private:
  Status ReadSource(od::value& v, const Path& p, std::string& type, std::vector<AssetName>& asset) {
    std::vector<std::string> image_names;
    std::string path;
    ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "type") return r_.StringTo(x, kp, type);
      if (key != "target") return Status::Ok();
      od::json_type t;
      if (auto e = x.type().get(t)) return r_.SyntaxError(e);
      if (t != od::json_type::object) return r_.StringTo(x, kp, path);
      return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
        Path tp = kp.Key(k);
        std::string_view s;
        if (k == "userInput" || k == "imageID") {
          ISMS_RETURN_IF_ERROR(r_.String(y, tp, s));
          if (!s.empty()) image_names.emplace_back(s);
          return Status::Ok();
        }
        if (k == "tags") {
          return ForEachInOptArray(r_, y, tp, [&](std::size_t i, od::value& z) {
            ISMS_RETURN_IF_ERROR(r_.String(z, tp.Index(i), s));
            if (!s.empty()) image_names.emplace_back(s);
            return Status::Ok();
          });
        }
        return Status::Ok();
      });
    }));
    if (type == "image") {
      for (std::string& name : image_names) {
        bool seen = false;
        for (const AssetName& a : asset) seen = seen || a.value == name;
        if (!seen) asset.push_back({"image", std::move(name)});
      }
    } else if (!path.empty()) {
      asset.push_back({"path", path});
    }
    return Status::Ok();
  }

  Status ReadCvss(od::value& v, const Path& p, std::vector<CvssEntry>& out) {
    return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& e) {
      Path ep = p.Index(i);
      CvssEntry entry;
      ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, e, ep, [&](std::string_view k, od::value& x) {
        if (k == "vector") return r_.String(x, ep.Key(k), entry.vector);
        if (k == "source") return r_.String(x, ep.Key(k), entry.source);
        return Status::Ok();
      }));
      if (!entry.vector.empty()) out.push_back(entry);
      return Status::Ok();
    });
  }

  // The vulnerability record or one related record: {id, namespace, severity, cvss, ...}.
  struct Record {
    std::string_view id, ns, severity, description;
    std::vector<CvssEntry> cvss;
  };

  Status ReadRecord(od::value& v, const Path& p, Record& rec, RawFinding& f) {
    return ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "id") return r_.String(x, kp, rec.id);
      if (key == "namespace") return r_.String(x, kp, rec.ns);
      if (key == "severity") return r_.String(x, kp, rec.severity);
      if (key == "description") return r_.String(x, kp, rec.description);
      if (key == "cvss") return ReadCvss(x, kp, rec.cvss);
      if (key == "cvssV2" || key == "cvssV3") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          if (k != "vector") return Status::Ok();
          CvssEntry entry;
          ISMS_RETURN_IF_ERROR(r_.String(y, kp.Key(k), entry.vector));
          if (!entry.vector.empty()) rec.cvss.push_back(entry);
          return Status::Ok();
        });
      }
      if (key == "fix") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          Path fp = kp.Key(k);
          if (k == "state") {
            std::string_view state;
            ISMS_RETURN_IF_ERROR(r_.String(y, fp, state));
            if (state == "fixed") f.fix = FixState::kAvailable;
            if (state == "not-fixed") f.fix = FixState::kNotAvailable;
            if (state == "wont-fix") f.fix = FixState::kWontFix;
            return Status::Ok();
          }
          if (k != "versions") return Status::Ok();
          return ForEachInOptArray(r_, y, fp, [&](std::size_t i, od::value& z) {
            std::string_view s;
            ISMS_RETURN_IF_ERROR(r_.String(z, fp.Index(i), s));
            if (s.empty()) return Status::Ok();
            if (!f.fixed_version.empty()) f.fixed_version += ", ";
            f.fixed_version += s;
            return Status::Ok();
          });
        });
      }
      return Status::Ok();
    });
  }

  void ApplyRecord(const Record& rec, RawFinding& f, std::string_view severity_issuer) {
    json::AddId(f, rec.id);
    for (const CvssEntry& c : rec.cvss) {
      auto [source, nvd] = CvssSource(c.source, rec.ns);
      json::AddCvss(f, c.vector, source, nvd);
    }
    json::AddSeverity(f, severity_issuer, rec.severity);
    if (f.title.empty() && !rec.description.empty()) {
      std::string_view d = rec.description;
      if (d.size() > 200) d = d.substr(0, 200);
      f.title = std::string(d);
    }
  }

  Status ParseMatch(od::value& v, const Path& p, const std::vector<AssetName>& asset) {
    RawFinding f;
    f.offset = r_.OffsetOf(v);
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    Record vuln;
    std::vector<Record> related;
    std::string_view name, version;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "vulnerability") return ReadRecord(x, kp, vuln, f);
      if (key == "relatedVulnerabilities") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          related.emplace_back();
          RawFinding ignored_fix;
          return ReadRecord(e, kp.Index(i), related.back(), ignored_fix);
        });
      }
      if (key == "artifact") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          Path ap = kp.Key(k);
          if (k == "name") return r_.String(y, ap, name);
          if (k == "version") return r_.String(y, ap, version);
          if (k == "purl") return r_.StringTo(y, ap, f.purl);
          if (k != "cpes") return Status::Ok();
          return ForEachInOptArray(r_, y, ap, [&](std::size_t i, od::value& z) {
            od::json_type t;
            if (auto e = z.type().get(t)) return r_.SyntaxError(e);
            if (!f.cpe.empty() || t != od::json_type::string) return Status::Ok();
            return r_.StringTo(z, ap.Index(i), f.cpe);
          });
        });
      }
      return Status::Ok();
    }));
    if (vuln.id.empty()) return r_.Invalid(p.Key("vulnerability"), "a match without an id");
    f.check_id = std::string(vuln.id);
    f.asset = asset;
    f.component = json::Component(name, version);
    ApplyRecord(vuln, f, "Grype");
    for (const Record& rec : related) {
      auto [issuer, nvd] = CvssSource("", rec.ns);
      ApplyRecord(rec, f, issuer);
    }
    return sink_.OnFinding(std::move(f));
  }

  std::string_view source_;
  ScanSink& sink_;
  JsonReader r_;
};

}  // namespace

Status ParseGrype(std::string_view data, std::string_view source, ScanSink& sink) {
  GrypeParser parser(source, sink);
  return parser.Run(data);
}

}  // namespace isms
