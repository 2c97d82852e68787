#include "formats/advisory.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace isms {
namespace {

using nlohmann::json;

constexpr int kMaxBranchDepth = 64;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Shown(std::string_view s) {
  if (s.size() > 60) return std::string(s.substr(0, 57)) + "...";
  return std::string(s);
}

// Reads fields of a parsed CSAF document; every error names the file and the JSON pointer.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status Error(const std::string& pointer, const std::string& what) const {
    return Status::InvalidArgument(source_ + ": " + pointer + ": " + what);
  }

  Status ExpectObject(const json& j, const std::string& pointer) const {
    if (j.is_object()) return Status::Ok();
    return Error(pointer, std::string("expected an object, found a JSON ") + j.type_name());
  }

  // The member `key` of `obj`, or nullptr when absent (null counts as absent).
  static const json* Member(const json& obj, std::string_view key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Result<std::string> String(const json& obj, std::string_view key,
                             const std::string& pointer) const {
    const json* v = Member(obj, key);
    if (v == nullptr) return std::string();
    if (!v->is_string()) {
      return Error(pointer + "/" + std::string(key),
                   std::string("expected a string, found a JSON ") + v->type_name());
    }
    return v->get<std::string>();
  }

  Result<std::optional<Instant>> Time(const json& obj, std::string_view key,
                                      const std::string& pointer) const {
    ISMS_ASSIGN_OR_RETURN(std::string text, String(obj, key, pointer));
    if (text.empty()) return std::optional<Instant>();
    Result<Instant> t = ParseInstant(text);
    if (!t.ok()) {
      return Error(pointer + "/" + std::string(key),
                   "'" + Shown(text) + "' is not an RFC 3339 date-time");
    }
    return std::optional<Instant>(*t);
  }

  // The array member `key`, or nullptr when absent.
  Result<const json*> Array(const json& obj, std::string_view key,
                            const std::string& pointer) const {
    const json* v = Member(obj, key);
    if (v == nullptr) return static_cast<const json*>(nullptr);
    if (!v->is_array()) {
      return Error(pointer + "/" + std::string(key),
                   std::string("expected an array, found a JSON ") + v->type_name());
    }
    return v;
  }

  Result<const json*> Object(const json& obj, std::string_view key,
                             const std::string& pointer) const {
    const json* v = Member(obj, key);
    if (v == nullptr) return static_cast<const json*>(nullptr);
    ISMS_RETURN_IF_ERROR(ExpectObject(*v, pointer + "/" + std::string(key)));
    return v;
  }

  Result<std::vector<std::string>> Strings(const json& obj, std::string_view key,
                                           const std::string& pointer) const {
    ISMS_ASSIGN_OR_RETURN(const json* arr, Array(obj, key, pointer));
    std::vector<std::string> out;
    if (arr == nullptr) return out;
    const std::string base = pointer + "/" + std::string(key);
    for (size_t i = 0; i < arr->size(); ++i) {
      const json& item = (*arr)[i];
      if (!item.is_string()) {
        return Error(base + "/" + std::to_string(i),
                     std::string("expected a string, found a JSON ") + item.type_name());
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

 private:
  std::string source_;
};

// What a JSON document without document.csaf_version looks like, for the refusal message.
std::string LooksLike(const json& root) {
  if (!root.is_object()) return std::string("a JSON ") + root.type_name() + ", not an object";
  auto str = [&](std::string_view key) {
    auto it = root.find(key);
    return it != root.end() && it->is_string() ? Lower(it->get<std::string>()) : std::string();
  };
  const std::string schema = str("$schema");
  if (!schema.empty() && schema.find("json-schema.org") != std::string::npos) {
    return "a JSON schema";
  }
  if (str("bomFormat") == "cyclonedx") {
    return "a CycloneDX BOM: use isms import scan";
  }
  if (schema.find("sarif") != std::string::npos ||
      (root.contains("runs") && root.contains("version"))) {
    return "a SARIF log: use isms import scan";
  }
  if (root.contains("SchemaVersion") &&
      (root.contains("ArtifactName") || root.contains("Results"))) {
    return "a Trivy report: use isms import scan";
  }
  if (root.contains("matches") && root.contains("descriptor")) {
    return "a Grype report: use isms import scan";
  }
  if (root.contains("results") && root.contains("experimental_config")) {
    return "an OSV-Scanner report: use isms import scan";
  }
  if (root.contains("Vulnerability") &&
      (root.contains("ProductTree") || root.contains("DocumentTitle"))) {
    return "a CVRF document, CSAF's predecessor: fetch the CSAF 2.0 edition of the advisory";
  }
  if (root.contains("document")) return "document.csaf_version is missing";
  return "no \"document\" with a csaf_version";
}

// Product ids plus the products of the named groups, each once, in order.
Result<std::vector<std::string>> ProductsAndGroups(
    const Reader& r, const json& obj, const std::string& pointer,
    const std::map<std::string, std::vector<std::string>, std::less<>>& groups) {
  ISMS_ASSIGN_OR_RETURN(std::vector<std::string> ids, r.Strings(obj, "product_ids", pointer));
  ISMS_ASSIGN_OR_RETURN(std::vector<std::string> group_ids, r.Strings(obj, "group_ids", pointer));
  std::set<std::string, std::less<>> seen(ids.begin(), ids.end());
  for (size_t i = 0; i < group_ids.size(); ++i) {
    auto it = groups.find(group_ids[i]);
    if (it == groups.end()) {
      return r.Error(pointer + "/group_ids/" + std::to_string(i),
                     "product group '" + Shown(group_ids[i]) +
                         "' is not defined in /product_tree/product_groups");
    }
    for (const std::string& id : it->second) {
      if (seen.insert(id).second) ids.push_back(id);
    }
  }
  return ids;
}

struct BranchPath {
  std::string vendor, product, version;
};

class ProductTreeReader {
 public:
  ProductTreeReader(const Reader& r, std::vector<AdvisoryProduct>& out) : r_(r), out_(out) {}

  Status FullProductName(const json& fpn, const std::string& pointer, const BranchPath& path) {
    ISMS_RETURN_IF_ERROR(r_.ExpectObject(fpn, pointer));
    AdvisoryProduct p;
    ISMS_ASSIGN_OR_RETURN(p.id, r_.String(fpn, "product_id", pointer));
    if (p.id.empty()) return r_.Error(pointer, "the product has no product_id");
    ISMS_ASSIGN_OR_RETURN(p.name, r_.String(fpn, "name", pointer));
    ISMS_ASSIGN_OR_RETURN(const json* helper,
                          r_.Object(fpn, "product_identification_helper", pointer));
    if (helper != nullptr) {
      const std::string hp = pointer + "/product_identification_helper";
      ISMS_ASSIGN_OR_RETURN(p.purl, r_.String(*helper, "purl", hp));
      ISMS_ASSIGN_OR_RETURN(p.cpe, r_.String(*helper, "cpe", hp));
    }
    p.vendor = path.vendor;
    p.product = path.product;
    p.version = path.version;
    if (!index_.emplace(p.id, out_.size()).second) {
      return r_.Error(pointer + "/product_id",
                      "product_id '" + Shown(p.id) +
                          "' is defined twice (CSAF 2.0 6.1.2); the advisory is ambiguous");
    }
    out_.push_back(std::move(p));
    return Status::Ok();
  }

  Status Branches(const json& branches, const std::string& pointer, const BranchPath& path,
                  int depth) {
    if (depth > kMaxBranchDepth) {
      return r_.Error(pointer,
                      "branches nested deeper than " + std::to_string(kMaxBranchDepth) + " levels");
    }
    for (size_t i = 0; i < branches.size(); ++i) {
      const std::string bp = pointer + "/" + std::to_string(i);
      const json& b = branches[i];
      ISMS_RETURN_IF_ERROR(r_.ExpectObject(b, bp));
      ISMS_ASSIGN_OR_RETURN(std::string category, r_.String(b, "category", bp));
      ISMS_ASSIGN_OR_RETURN(std::string name, r_.String(b, "name", bp));
      BranchPath here = path;
      if (category == "vendor") {
        here.vendor = name;
      } else if (category == "product_name") {
        here.product = name;
      } else if (category == "product_version" || category == "product_version_range" ||
                 category == "service_pack" || category == "patch_level") {
        here.version = name;
      }
      if (const json* product = Reader::Member(b, "product")) {
        ISMS_RETURN_IF_ERROR(FullProductName(*product, bp + "/product", here));
      }
      ISMS_ASSIGN_OR_RETURN(const json* sub, r_.Array(b, "branches", bp));
      if (sub != nullptr) ISMS_RETURN_IF_ERROR(Branches(*sub, bp + "/branches", here, depth + 1));
    }
    return Status::Ok();
  }

  // Relationships: the composed product takes vendor, product, version, purl and cpe from its
  // product_reference (its own identification helper, where given, wins).
  Status Relationships(const json& rels, const std::string& pointer) {
    struct Pending {
      size_t product;
      std::string reference;
    };
    std::vector<Pending> pending;
    for (size_t i = 0; i < rels.size(); ++i) {
      const std::string rp = pointer + "/" + std::to_string(i);
      const json& rel = rels[i];
      ISMS_RETURN_IF_ERROR(r_.ExpectObject(rel, rp));
      ISMS_ASSIGN_OR_RETURN(std::string reference, r_.String(rel, "product_reference", rp));
      const json* fpn = Reader::Member(rel, "full_product_name");
      if (fpn == nullptr) return r_.Error(rp, "the relationship has no full_product_name");
      ISMS_RETURN_IF_ERROR(FullProductName(*fpn, rp + "/full_product_name", BranchPath{}));
      pending.push_back({out_.size() - 1, std::move(reference)});
    }
    // A reference may name a composed product defined later: resolve in rounds, each product
    // only once its reference is final. An undefined reference leaves the product its own name.
    std::map<size_t, size_t> pending_of;  // product index -> pending index
    for (size_t i = 0; i < pending.size(); ++i) pending_of[pending[i].product] = i;
    std::vector<bool> done(pending.size(), false);
    for (bool progress = true; progress;) {
      progress = false;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (done[i]) continue;
        auto it = index_.find(pending[i].reference);
        if (it != index_.end()) {
          auto dep = pending_of.find(it->second);
          if (dep != pending_of.end() && dep->second != i && !done[dep->second]) continue;
          const AdvisoryProduct ref = out_[it->second];
          AdvisoryProduct& p = out_[pending[i].product];
          p.vendor = ref.vendor;
          p.product = ref.product.empty() ? ref.name : ref.product;
          p.version = ref.version;
          if (p.purl.empty()) p.purl = ref.purl;
          if (p.cpe.empty()) p.cpe = ref.cpe;
        }
        done[i] = true;
        progress = true;
      }
    }
    return Status::Ok();
  }

 private:
  const Reader& r_;
  std::vector<AdvisoryProduct>& out_;
  std::map<std::string, size_t, std::less<>> index_;
};

bool IsNvd(std::string_view publisher) {
  const std::string p = Lower(Trim(publisher));
  return p == "nvd" || p == "national vulnerability database" || p == "nist nvd";
}

Result<AdvisoryVulnerability> ParseVulnerability(
    const Reader& r, const json& v, const std::string& vp, const Advisory& advisory,
    const std::map<std::string, std::vector<std::string>, std::less<>>& groups) {
  ISMS_RETURN_IF_ERROR(r.ExpectObject(v, vp));
  AdvisoryVulnerability out;
  ISMS_ASSIGN_OR_RETURN(out.cve, r.String(v, "cve", vp));
  ISMS_ASSIGN_OR_RETURN(out.title, r.String(v, "title", vp));
  ISMS_ASSIGN_OR_RETURN(out.release_date, r.Time(v, "release_date", vp));
  ISMS_ASSIGN_OR_RETURN(out.discovery_date, r.Time(v, "discovery_date", vp));

  ISMS_ASSIGN_OR_RETURN(const json* ids, r.Array(v, "ids", vp));
  for (size_t i = 0; ids != nullptr && i < ids->size(); ++i) {
    const std::string ip = vp + "/ids/" + std::to_string(i);
    ISMS_RETURN_IF_ERROR(r.ExpectObject((*ids)[i], ip));
    ISMS_ASSIGN_OR_RETURN(std::string system, r.String((*ids)[i], "system_name", ip));
    ISMS_ASSIGN_OR_RETURN(std::string text, r.String((*ids)[i], "text", ip));
    out.ids.push_back(system + ":" + text);
  }

  ISMS_ASSIGN_OR_RETURN(const json* status, r.Object(v, "product_status", vp));
  if (status != nullptr) {
    const std::string sp = vp + "/product_status";
    const std::array<std::pair<std::string_view, std::vector<std::string>*>, 8> lists = {{
        {"fixed", &out.fixed},
        {"first_fixed", &out.first_fixed},
        {"known_affected", &out.known_affected},
        {"known_not_affected", &out.known_not_affected},
        {"under_investigation", &out.under_investigation},
        {"recommended", &out.recommended},
        {"last_affected", &out.last_affected},
        {"first_affected", &out.first_affected},
    }};
    for (const auto& [key, list] : lists) {
      ISMS_ASSIGN_OR_RETURN(*list, r.Strings(*status, key, sp));
    }
  }

  ISMS_ASSIGN_OR_RETURN(const json* rems, r.Array(v, "remediations", vp));
  for (size_t i = 0; rems != nullptr && i < rems->size(); ++i) {
    const std::string rp = vp + "/remediations/" + std::to_string(i);
    const json& rem = (*rems)[i];
    ISMS_RETURN_IF_ERROR(r.ExpectObject(rem, rp));
    AdvisoryRemediation m;
    ISMS_ASSIGN_OR_RETURN(m.category, r.String(rem, "category", rp));
    ISMS_ASSIGN_OR_RETURN(m.date, r.Time(rem, "date", rp));
    ISMS_ASSIGN_OR_RETURN(m.product_ids, ProductsAndGroups(r, rem, rp, groups));
    ISMS_ASSIGN_OR_RETURN(m.details, r.String(rem, "details", rp));
    ISMS_ASSIGN_OR_RETURN(m.url, r.String(rem, "url", rp));
    out.remediations.push_back(std::move(m));
  }

  ISMS_ASSIGN_OR_RETURN(const json* scores, r.Array(v, "scores", vp));
  for (size_t i = 0; scores != nullptr && i < scores->size(); ++i) {
    const std::string sp = vp + "/scores/" + std::to_string(i);
    const json& score = (*scores)[i];
    ISMS_RETURN_IF_ERROR(r.ExpectObject(score, sp));
    ISMS_ASSIGN_OR_RETURN(std::vector<std::string> products, r.Strings(score, "products", sp));
    for (std::string_view key : {"cvss_v3", "cvss_v2"}) {
      ISMS_ASSIGN_OR_RETURN(const json* cvss, r.Object(score, key, sp));
      if (cvss == nullptr) continue;
      const std::string cp = sp + "/" + std::string(key);
      ISMS_ASSIGN_OR_RETURN(std::string vector, r.String(*cvss, "vectorString", cp));
      if (vector.empty()) return r.Error(cp, "the CVSS object has no vectorString");
      AdvisoryVulnerability::Score s;
      s.cvss = CvssVector{std::move(vector), advisory.publisher, IsNvd(advisory.publisher)};
      s.product_ids = products;
      out.scores.push_back(std::move(s));
    }
  }

  ISMS_ASSIGN_OR_RETURN(const json* threats, r.Array(v, "threats", vp));
  for (size_t i = 0; threats != nullptr && i < threats->size(); ++i) {
    const std::string tp = vp + "/threats/" + std::to_string(i);
    const json& threat = (*threats)[i];
    ISMS_RETURN_IF_ERROR(r.ExpectObject(threat, tp));
    AdvisoryVulnerability::Threat t;
    ISMS_ASSIGN_OR_RETURN(t.category, r.String(threat, "category", tp));
    ISMS_ASSIGN_OR_RETURN(t.details, r.String(threat, "details", tp));
    ISMS_ASSIGN_OR_RETURN(t.product_ids, ProductsAndGroups(r, threat, tp, groups));
    out.threats.push_back(std::move(t));
  }

  ISMS_ASSIGN_OR_RETURN(const json* flags, r.Array(v, "flags", vp));
  for (size_t i = 0; flags != nullptr && i < flags->size(); ++i) {
    const std::string fp = vp + "/flags/" + std::to_string(i);
    const json& flag = (*flags)[i];
    ISMS_RETURN_IF_ERROR(r.ExpectObject(flag, fp));
    AdvisoryVulnerability::Flag f;
    ISMS_ASSIGN_OR_RETURN(f.label, r.String(flag, "label", fp));
    ISMS_ASSIGN_OR_RETURN(f.product_ids, ProductsAndGroups(r, flag, fp, groups));
    out.flags.push_back(std::move(f));
  }
  return out;
}

Result<Advisory> ParseDocument(const json& root, const Reader& r) {
  Advisory a;
  const json& doc = *root.find("document");
  ISMS_RETURN_IF_ERROR(r.ExpectObject(doc, "/document"));
  ISMS_ASSIGN_OR_RETURN(std::string version, r.String(doc, "csaf_version", "/document"));
  if (version != "2.0") {
    return r.Error("/document/csaf_version",
                   "CSAF version '" + Shown(version) + "' is not supported (only 2.0 is)");
  }
  ISMS_ASSIGN_OR_RETURN(a.category, r.String(doc, "category", "/document"));
  ISMS_ASSIGN_OR_RETURN(a.title, r.String(doc, "title", "/document"));
  ISMS_ASSIGN_OR_RETURN(const json* publisher, r.Object(doc, "publisher", "/document"));
  if (publisher != nullptr) {
    ISMS_ASSIGN_OR_RETURN(a.publisher, r.String(*publisher, "name", "/document/publisher"));
    ISMS_ASSIGN_OR_RETURN(a.publisher_category,
                          r.String(*publisher, "category", "/document/publisher"));
  }
  ISMS_ASSIGN_OR_RETURN(const json* tracking, r.Object(doc, "tracking", "/document"));
  if (tracking != nullptr) {
    const std::string tp = "/document/tracking";
    ISMS_ASSIGN_OR_RETURN(a.id, r.String(*tracking, "id", tp));
    ISMS_ASSIGN_OR_RETURN(a.initial_release_date, r.Time(*tracking, "initial_release_date", tp));
    ISMS_ASSIGN_OR_RETURN(a.current_release_date, r.Time(*tracking, "current_release_date", tp));
  }

  std::map<std::string, std::vector<std::string>, std::less<>> groups;
  ISMS_ASSIGN_OR_RETURN(const json* tree, r.Object(root, "product_tree", ""));
  if (tree != nullptr) {
    const std::string pp = "/product_tree";
    ProductTreeReader products(r, a.products);
    ISMS_ASSIGN_OR_RETURN(const json* branches, r.Array(*tree, "branches", pp));
    if (branches != nullptr) {
      ISMS_RETURN_IF_ERROR(products.Branches(*branches, pp + "/branches", BranchPath{}, 1));
    }
    ISMS_ASSIGN_OR_RETURN(const json* names, r.Array(*tree, "full_product_names", pp));
    for (size_t i = 0; names != nullptr && i < names->size(); ++i) {
      ISMS_RETURN_IF_ERROR(products.FullProductName(
          (*names)[i], pp + "/full_product_names/" + std::to_string(i), BranchPath{}));
    }
    ISMS_ASSIGN_OR_RETURN(const json* rels, r.Array(*tree, "relationships", pp));
    if (rels != nullptr) ISMS_RETURN_IF_ERROR(products.Relationships(*rels, pp + "/relationships"));
    ISMS_ASSIGN_OR_RETURN(const json* gs, r.Array(*tree, "product_groups", pp));
    for (size_t i = 0; gs != nullptr && i < gs->size(); ++i) {
      const std::string gp = pp + "/product_groups/" + std::to_string(i);
      ISMS_RETURN_IF_ERROR(r.ExpectObject((*gs)[i], gp));
      ISMS_ASSIGN_OR_RETURN(std::string group_id, r.String((*gs)[i], "group_id", gp));
      ISMS_ASSIGN_OR_RETURN(std::vector<std::string> ids, r.Strings((*gs)[i], "product_ids", gp));
      groups[group_id] = std::move(ids);
    }
  }

  ISMS_ASSIGN_OR_RETURN(const json* vulns, r.Array(root, "vulnerabilities", ""));
  for (size_t i = 0; vulns != nullptr && i < vulns->size(); ++i) {
    ISMS_ASSIGN_OR_RETURN(
        AdvisoryVulnerability v,
        ParseVulnerability(r, (*vulns)[i], "/vulnerabilities/" + std::to_string(i), a, groups));
    a.vulnerabilities.push_back(std::move(v));
  }
  return a;
}

// nlohmann's parse_error text without its "[json.exception...] parse error at ...: " prefix.
std::string SyntaxProblem(const json::parse_error& e) {
  std::string what = e.what();
  const size_t at = what.find("parse error");
  if (at != std::string::npos) {
    const size_t colon = what.find(": ", at);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

std::string AdvisoryVulnerability::ImpactRating(std::string_view product_id) const {
  static constexpr std::array<std::string_view, 4> kWords = {"Critical", "Important", "Moderate",
                                                             "Low"};
  std::string general;
  for (const Threat& t : threats) {
    if (t.category != "impact") continue;
    const std::string word = Lower(Trim(t.details));
    auto it = std::find_if(kWords.begin(), kWords.end(),
                           [&](std::string_view w) { return Lower(w) == word; });
    if (it == kWords.end()) continue;
    if (t.product_ids.empty()) {
      if (general.empty()) general = std::string(*it);
    } else if (std::find(t.product_ids.begin(), t.product_ids.end(), product_id) !=
               t.product_ids.end()) {
      return std::string(*it);
    }
  }
  return general;
}

const AdvisoryProduct* Advisory::FindProduct(std::string_view id) const {
  for (const AdvisoryProduct& p : products) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

bool Advisory::FromMicrosoft() const {
  const std::string name = Lower(Trim(publisher));
  return (name == "microsoft" || name == "microsoft security response center") &&
         Lower(Trim(publisher_category)) == "vendor";
}

Result<Advisory> ParseCsafAdvisory(std::string_view json_text, std::string_view source) {
  const std::string src(source);
  if (Trim(json_text).empty()) {
    return Status::InvalidArgument(src + ": an empty file, not a CSAF document");
  }
  try {
    json root;
    try {
      root = json::parse(json_text.begin(), json_text.end());
    } catch (const json::parse_error& e) {
      return Status::InvalidArgument(src + ": byte " + std::to_string(e.byte) + ": " +
                                     SyntaxProblem(e) + "; the file is damaged or truncated");
    }
    auto doc = root.is_object() ? root.find("document") : root.end();
    const bool csaf = doc != root.end() && doc->is_object() && doc->contains("csaf_version");
    if (!csaf) {
      return Status::InvalidArgument(src + ": not a CSAF document (" + LooksLike(root) + ")");
    }
    return ParseDocument(root, Reader(source));
  } catch (const json::exception& e) {
    return Status::InvalidArgument(src + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::InvalidArgument(src + ": the document is too large to read into memory");
  }
}

}  // namespace isms
