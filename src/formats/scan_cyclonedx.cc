// CycloneDX JSON 1.2–1.6 with `vulnerabilities` (scanner output and VEX documents): one
// finding per (vulnerability, affected component, affected version). Mapping: docs/formats.md,
// "CycloneDX and VEX".
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

constexpr int kMaxComponentDepth = 64;

struct BomComponent {
  std::string name, version, purl, cpe, type, group;
};

struct AffectedVersion {
  std::string version;  // versions[].version or .range
  std::string status;   // versions[].status
};

struct Affects {
  std::string ref;
  std::vector<AffectedVersion> versions;
};

struct Rating {
  std::string_view method, vector, severity, source;
};

std::string CvssPrefix(std::string_view method, std::string_view vector) {
  if (vector.starts_with("CVSS:")) return std::string(vector);
  if (vector.starts_with("(") && vector.ends_with(")")) {
    vector.remove_prefix(1);
    vector.remove_suffix(1);
  }
  if (method == "CVSSv3") return "CVSS:3.0/" + std::string(vector);
  if (method == "CVSSv31") return "CVSS:3.1/" + std::string(vector);
  if (method == "CVSSv4") return "CVSS:4.0/" + std::string(vector);
  return std::string(vector);
}

VexState StateOf(std::string_view state) {
  if (state == "resolved" || state == "resolved_with_pedigree") return VexState::kFixed;
  if (state == "exploitable") return VexState::kAffected;
  if (state == "not_affected" || state == "false_positive") return VexState::kNotAffected;
  if (state == "in_triage") return VexState::kUnderInvestigation;
  return VexState::kNone;
}

class CycloneDxParser {
 public:
  CycloneDxParser(std::string_view source, ScanSink& sink) : source_(source), sink_(sink) {}

  Status Run(std::string_view data) {
    ISMS_RETURN_IF_ERROR(r_.Open(data, source_));
    Path root;
    od::object obj;
    if (auto e = r_.doc().get_object().get(obj))
      return r_.Error(e, root, "a CycloneDX BOM (an object)");
    std::string bom_format, spec_version, timestamp, tool;
    BomComponent subject;
    bool has_subject = false;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      Path p = root.Key(key);
      if (key == "bomFormat") return r_.StringTo(v, p, bom_format);
      if (key == "specVersion") return r_.StringTo(v, p, spec_version);
      if (key == "components") return ReadComponents(v, p, 0);
      if (key != "metadata") return Status::Ok();
      return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
        Path mp = p.Key(k);
        if (k == "timestamp") return r_.StringTo(x, mp, timestamp);
        if (k == "tools") return ReadTools(x, mp, tool);
        if (k != "component") return Status::Ok();
        has_subject = true;
        return ReadComponent(x, mp, 0, &subject);
      });
    }));
    if (bom_format != "CycloneDX") {
      return r_.Invalid(root.Key("bomFormat"), "expected \"CycloneDX\": not a CycloneDX BOM");
    }
    ISMS_RETURN_IF_ERROR(r_.Rewind());

    ScanInfo info;
    info.format = ScanFormat::kCycloneDx;
    if (!tool.empty()) scanner_ = tool;
    info.scanner = scanner_;
    info.scan_type = "cyclonedx:" + (spec_version.empty() ? std::string("unknown") : spec_version);
    info.scanned_at = json::InstantOf(timestamp);
    ISMS_RETURN_IF_ERROR(sink_.OnScan(info));
    if (has_subject && !subject.name.empty()) {
      asset_.push_back(AssetOf(subject));
      ScannedAsset scanned;
      scanned.names = asset_;
      scanned.scanned_at = info.scanned_at;
      ISMS_RETURN_IF_ERROR(sink_.OnAsset(scanned));
    }

    if (auto e = r_.doc().get_object().get(obj)) return r_.SyntaxError(e);
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, root, [&](std::string_view key, od::value& v) {
      if (key != "vulnerabilities") return Status::Ok();
      Path p = root.Key(key);
      return ForEachInOptArray(
          r_, v, p, [&](std::size_t i, od::value& e) { return ParseVulnerability(e, p.Index(i)); });
    }));
    return r_.CheckEnd();
  }

 private:
  // The asset a BOM describes: a container image by its reference, a device or operating
  // system as a host, anything else (application, firmware, library, ...) by its name as
  // the repository it is built from.
  static AssetName AssetOf(const BomComponent& c) {
    if (c.type == "container") {
      std::string image = c.group.empty() ? c.name : c.group + "/" + c.name;
      if (!c.version.empty()) image += ":" + c.version;
      return {"image", image};
    }
    if (c.type == "device" || c.type == "operating-system") return {"host", c.name};
    if (c.type == "file") return {"path", c.name};
    return {"repository", c.group.empty() ? c.name : c.group + "/" + c.name};
  }

  Status ReadTools(od::value& v, const Path& p, std::string& tool) {
    auto take = [&](od::value& t, const Path& tp) {
      std::string name, version;
      ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, t, tp, [&](std::string_view k, od::value& x) {
        if (k == "name") return r_.StringTo(x, tp.Key(k), name);
        if (k == "version") return r_.StringTo(x, tp.Key(k), version);
        return Status::Ok();
      }));
      if (tool.empty() && !name.empty()) tool = json::Component(name, version);
      return Status::Ok();
    };
    od::json_type type;
    if (auto e = v.type().get(type)) return r_.SyntaxError(e);
    if (type == od::json_type::array) {
      return ForEachInOptArray(r_, v, p,
                               [&](std::size_t i, od::value& t) { return take(t, p.Index(i)); });
    }
    return ForEachInOptObject(r_, v, p, [&](std::string_view k, od::value& x) {
      if (k != "components") return Status::Ok();
      return ForEachInOptArray(
          r_, x, p.Key(k), [&](std::size_t i, od::value& t) { return take(t, p.Key(k).Index(i)); });
    });
  }

  Status ReadComponents(od::value& v, const Path& p, int depth) {
    return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& e) {
      return ReadComponent(e, p.Index(i), depth, nullptr);
    });
  }

  // Records the component under its bom-ref (and its nested components); copies it to `out`.
  Status ReadComponent(od::value& v, const Path& p, int depth, BomComponent* out) {
    if (depth > kMaxComponentDepth) return r_.Invalid(p, "components nested too deeply");
    BomComponent c;
    std::string ref;
    ISMS_RETURN_IF_ERROR(ForEachInOptObject(r_, v, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "bom-ref") return r_.StringTo(x, kp, ref);
      if (key == "name") return r_.StringTo(x, kp, c.name);
      if (key == "version") return r_.StringTo(x, kp, c.version);
      if (key == "group") return r_.StringTo(x, kp, c.group);
      if (key == "type") return r_.StringTo(x, kp, c.type);
      if (key == "purl") return r_.StringTo(x, kp, c.purl);
      if (key == "cpe") return r_.StringTo(x, kp, c.cpe);
      if (key == "components") return ReadComponents(x, kp, depth + 1);
      return Status::Ok();
    }));
    if (out != nullptr) *out = c;
    if (!ref.empty()) components_.emplace(std::move(ref), std::move(c));
    return Status::Ok();
  }

  Status ReadRatings(od::value& v, const Path& p, std::vector<Rating>& ratings) {
    return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& e) {
      Path rp = p.Index(i);
      Rating& r = ratings.emplace_back();
      return ForEachInOptObject(r_, e, rp, [&](std::string_view k, od::value& x) {
        if (k == "method") return r_.String(x, rp.Key(k), r.method);
        if (k == "vector") return r_.String(x, rp.Key(k), r.vector);
        if (k == "severity") return r_.String(x, rp.Key(k), r.severity);
        if (k != "source") return Status::Ok();
        return ForEachInOptObject(r_, x, rp.Key(k), [&](std::string_view n, od::value& y) {
          return n == "name" ? r_.String(y, rp.Key(k).Key(n), r.source) : Status::Ok();
        });
      });
    });
  }

  // A rating without a source is taken as the vulnerability source's (else the tool's).
  void ApplyRatings(const std::vector<Rating>& ratings, std::string_view vuln_source,
                    RawFinding& f) {
    for (const Rating& r : ratings) {
      std::string issuer(!r.source.empty()      ? r.source
                         : !vuln_source.empty() ? vuln_source
                                                : std::string_view(scanner_));
      bool nvd = issuer == "NVD";
      if (!r.vector.empty() && (r.method.starts_with("CVSS") || r.vector.starts_with("CVSS:"))) {
        json::AddCvss(f, CvssPrefix(r.method, r.vector), issuer, nvd);
      }
      if (r.severity != "unknown") json::AddSeverity(f, issuer, r.severity);
    }
  }

  Status ReadAffects(od::value& v, const Path& p, std::vector<Affects>& affects) {
    return ForEachInOptArray(r_, v, p, [&](std::size_t i, od::value& e) {
      Path ap = p.Index(i);
      Affects& a = affects.emplace_back();
      return ForEachInOptObject(r_, e, ap, [&](std::string_view k, od::value& x) {
        if (k == "ref") return r_.StringTo(x, ap.Key(k), a.ref);
        if (k != "versions") return Status::Ok();
        Path vp = ap.Key(k);
        return ForEachInOptArray(r_, x, vp, [&](std::size_t j, od::value& y) {
          AffectedVersion& t = a.versions.emplace_back();
          return ForEachInOptObject(r_, y, vp.Index(j), [&](std::string_view n, od::value& z) {
            if (n == "version" || n == "range") {
              return r_.StringTo(z, vp.Index(j).Key(n), t.version);
            }
            if (n == "status") return r_.StringTo(z, vp.Index(j).Key(n), t.status);
            return Status::Ok();
          });
        });
      });
    });
  }

  Status ParseVulnerability(od::value& v, const Path& p) {
    RawFinding base;
    base.offset = r_.OffsetOf(v);
    base.asset = asset_;
    od::object obj;
    ISMS_RETURN_IF_ERROR(r_.Object(v, p, obj));
    std::vector<Affects> affects;
    std::vector<Rating> ratings;
    std::vector<std::string_view> references;
    std::string_view state, description, vuln_source;
    bool update = false, will_not_fix = false;
    ISMS_RETURN_IF_ERROR(ForEachField(r_, obj, p, [&](std::string_view key, od::value& x) {
      Path kp = p.Key(key);
      if (key == "id") return r_.StringTo(x, kp, base.check_id);
      if (key == "description") return r_.String(x, kp, description);
      if (key == "recommendation") return r_.StringTo(x, kp, base.solution);
      if (key == "ratings") return ReadRatings(x, kp, ratings);
      if (key == "affects") return ReadAffects(x, kp, affects);
      if (key == "source") {
        return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
          return k == "name" ? r_.String(y, kp.Key(k), vuln_source) : Status::Ok();
        });
      }
      if (key == "published") {
        std::string_view s;
        ISMS_RETURN_IF_ERROR(r_.String(x, kp, s));
        base.vuln_published = json::DateOf(s);
        return Status::Ok();
      }
      if (key == "cwes") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          std::string_view s;
          ISMS_RETURN_IF_ERROR(r_.String(e, kp.Index(i), s));
          json::AddCwe(base, s);
          return Status::Ok();
        });
      }
      if (key == "references") {
        return ForEachInOptArray(r_, x, kp, [&](std::size_t i, od::value& e) {
          return ForEachInOptObject(r_, e, kp.Index(i), [&](std::string_view k, od::value& y) {
            if (k != "id") return Status::Ok();
            std::string_view id;
            ISMS_RETURN_IF_ERROR(r_.String(y, kp.Index(i).Key(k), id));
            references.push_back(id);
            return Status::Ok();
          });
        });
      }
      if (key != "analysis") return Status::Ok();
      return ForEachInOptObject(r_, x, kp, [&](std::string_view k, od::value& y) {
        Path ap = kp.Key(k);
        if (k == "state") return r_.String(y, ap, state);
        if (k == "justification") return r_.StringTo(y, ap, base.vex_justification);
        if (k != "response") return Status::Ok();
        return ForEachInOptArray(r_, y, ap, [&](std::size_t i, od::value& z) {
          std::string_view s;
          ISMS_RETURN_IF_ERROR(r_.String(z, ap.Index(i), s));
          update = update || s == "update";
          will_not_fix = will_not_fix || s == "will_not_fix";
          return Status::Ok();
        });
      });
    }));
    if (base.check_id.empty()) return r_.Invalid(p, "a vulnerability without an id");
    json::AddId(base, base.check_id);
    for (std::string_view id : references) json::AddId(base, id);
    if (!description.empty()) {
      base.title =
          std::string(description.substr(0, std::min<std::size_t>(description.find('\n'), 200)));
    }
    ApplyRatings(ratings, vuln_source, base);
    base.vex = StateOf(state);
    if (base.vex != VexState::kNotAffected && base.vex != VexState::kFixed) {
      if (update) {
        base.fix = FixState::kAvailable;
      } else if (will_not_fix) {
        base.fix = FixState::kWontFix;
      }
    }
    if (affects.empty()) return sink_.OnFinding(std::move(base));
    for (const Affects& a : affects) {
      auto it = components_.find(a.ref);
      const BomComponent* c = it == components_.end() ? nullptr : &it->second;
      if (a.versions.empty() || (c != nullptr && !c->version.empty())) {
        RawFinding f = base;
        ApplyTarget(a, c, nullptr, f);
        ISMS_RETURN_IF_ERROR(sink_.OnFinding(std::move(f)));
        continue;
      }
      for (const AffectedVersion& version : a.versions) {
        RawFinding f = base;
        ApplyTarget(a, c, &version, f);
        ISMS_RETURN_IF_ERROR(sink_.OnFinding(std::move(f)));
      }
    }
    return Status::Ok();
  }

  // The affected component by bom-ref (or by BOM-Link "urn:cdx:SERIAL/VERSION#REF" to a
  // component of another BOM: the REF). A component of this BOM with a version is one finding,
  // whose state a versions[] entry of exactly that version refines. A product without a
  // version (a VEX about product versions) is one finding per versions[] entry, named
  // "NAME VERSION-OR-RANGE". A version status "unaffected" makes the statement
  // not_affected; "affected" without an analysis state makes it affected.
  void ApplyTarget(const Affects& a, const BomComponent* c, const AffectedVersion* version,
                   RawFinding& f) {
    std::string_view status;
    if (version != nullptr) status = version->status;
    if (c != nullptr) {
      std::string name = c->group.empty() ? c->name : c->group + "/" + c->name;
      f.component = json::Component(name, version != nullptr ? version->version : c->version);
      f.purl = c->purl;
      f.cpe = c->cpe;
      if (version == nullptr) {
        for (const AffectedVersion& v : a.versions) {
          if (v.version == c->version) status = v.status;
        }
      }
    } else {
      std::string_view ref = a.ref;
      if (ref.starts_with("urn:cdx:") && ref.find('#') != std::string_view::npos) {
        ref = ref.substr(ref.find('#') + 1);
      }
      f.component = json::Component(ref, version != nullptr ? version->version : "");
    }
    if (status == "unaffected") {
      f.vex = VexState::kNotAffected;
    } else if (status == "affected" && f.vex == VexState::kNone) {
      f.vex = VexState::kAffected;
    }
  }

  std::string_view source_;
  ScanSink& sink_;
  JsonReader r_;
  std::unordered_map<std::string, BomComponent> components_;
  std::vector<AssetName> asset_;
  std::string scanner_ = "CycloneDX";
};

}  // namespace

Status ParseCycloneDx(std::string_view data, std::string_view source, ScanSink& sink) {
  std::string_view head = data.substr(0, 512);
  std::size_t first = head.find_first_not_of(" \t\r\n");
  if (head.starts_with("\xEF\xBB\xBF")) first = head.find_first_not_of(" \t\r\n", 3);
  if (first != std::string_view::npos && head[first] == '<') {
    return Status::InvalidArgument(
        std::string(source) +
        " is CycloneDX XML: only CycloneDX JSON is supported; convert it with "
        "`cyclonedx convert --input-file FILE --output-format json` and import the JSON");
  }
  CycloneDxParser parser(source, sink);
  return parser.Run(data);
}

}  // namespace isms
