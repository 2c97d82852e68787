// CSAF 2.0 security advisories (OASIS CSAF 2.0: the csaf_security_advisory, csaf_vex,
// csaf_informational_advisory and csaf_base profiles, and any other document category) as domain
// records: who published it, when it was first released, which products are fixed or affected
// for which CVE, vendor fixes with their dates, scores and ratings.
// Field mapping: docs/formats.md ("CSAF 2.0 advisories").
//
// Ratings. CSAF 2.0 has no field for a vendor's severity word; publishers put it in
// /vulnerabilities[]/threats[] with category "impact" and the word as `details` (Red Hat does,
// see the OASIS example rhsa-2021_5186.json; Microsoft's CSAF is converted from its CVRF, where
// the rating is a per-product Threat of type "Severity", and CSAF 2.0 allows only the threat
// categories impact, exploit_status and target_set, so it lands in "impact"). The same category
// also carries impact types ("Remote Code Execution") and VEX justifications, so the rule is:
// the rating of a product is the `details` of an "impact" threat listing that product (or
// listing none) whose `details` is exactly "Critical", "Important", "Moderate" or "Low"
// (case-insensitive, blanks ignored); see ImpactRating(). Remediations never carry a rating.
// It is a Microsoft rating only when FromMicrosoft() is true. The MSRC layout is inferred (no
// original MSRC CSAF file was at hand): the evidence and the caveat are in docs/formats.md.
//
// Thread-safety: values; the parser holds no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "formats/scan.h"

namespace isms {

struct AdvisoryProduct {
  std::string id;       // product_id within the advisory
  std::string name;     // full product name
  std::string vendor;   // from the branch path, where given
  std::string product;  // product name from the branch path
  std::string version;  // product version from the branch path
  std::string purl;     // product_identification_helper.purl
  std::string cpe;      // product_identification_helper.cpe
};

struct AdvisoryRemediation {
  std::string category;  // "vendor_fix", "workaround", "mitigation", "no_fix_planned",
                         // "none_available"
  std::optional<Instant> date;
  std::vector<std::string> product_ids;
  std::string details;
  std::string url;
};

struct AdvisoryVulnerability {
  std::string cve;  // may be empty (then ids holds the vendor's id)
  std::vector<std::string> ids;
  std::string title;
  std::optional<Instant> release_date;  // the vulnerability's disclosure (NOT the patch)
  std::optional<Instant> discovery_date;
  // product_status
  std::vector<std::string> fixed, first_fixed, known_affected, known_not_affected,
      under_investigation, recommended, last_affected, first_affected;
  std::vector<AdvisoryRemediation> remediations;
  // scores: CVSS vectors with the products they apply to (source = the publisher).
  struct Score {
    CvssVector cvss;
    std::vector<std::string> product_ids;
  };
  std::vector<Score> scores;
  // threats: category "impact" carries Microsoft's severity word in MSRC advisories
  // ("Critical", "Important", ...); "exploit_status" whether exploited.
  struct Threat {
    std::string category;
    std::string details;
    std::vector<std::string> product_ids;
  };
  std::vector<Threat> threats;
  // flags (VEX justifications for known_not_affected), with their products.
  struct Flag {
    std::string label;
    std::vector<std::string> product_ids;
  };
  std::vector<Flag> flags;

  // The severity word ("Critical", "Important", "Moderate" or "Low", capitalised so) that an
  // "impact" threat gives for `product_id`; a threat naming the product wins over one naming no
  // product; "" when there is none. Other impact texts are not ratings. See the file comment.
  std::string ImpactRating(std::string_view product_id) const;
};

struct Advisory {
  std::string id;  // document.tracking.id
  std::string title;
  std::string category;            // document.category
  std::string publisher;           // document.publisher.name
  std::string publisher_category;  // "vendor", "coordinator", ...
  std::optional<Instant> initial_release_date;
  std::optional<Instant> current_release_date;
  std::vector<AdvisoryProduct> products;  // the product tree flattened (branches and relationships)
  std::vector<AdvisoryVulnerability> vulnerabilities;

  // The product with that product_id; nullptr when the advisory defines none. Valid while this
  // Advisory lives and `products` is not modified.
  const AdvisoryProduct* FindProduct(std::string_view id) const;
  // True when the publisher is Microsoft (the only issuer whose ratings are Microsoft ratings):
  // document.publisher.name is "Microsoft" or "Microsoft Security Response Center"
  // (case-insensitive, surrounding blanks ignored) and document.publisher.category is "vendor".
  bool FromMicrosoft() const;
};

// Parses one CSAF 2.0 document (the whole file). Errors are kInvalidArgument and name `source`
// and the byte offset ("FILE: byte 812: syntax error ...; the file is damaged or truncated") or
// the JSON pointer of the field ("FILE: /vulnerabilities/0/remediations/1/date: '2022-13-01' is
// not an RFC 3339 date-time"); a JSON document that is not CSAF (no document.csaf_version) is
// refused with what it looks like ("not a CSAF document (a CycloneDX BOM): use isms import
// scan", "not a CSAF document (a JSON schema)"). No exception escapes.
Result<Advisory> ParseCsafAdvisory(std::string_view json, std::string_view source);

}  // namespace isms
