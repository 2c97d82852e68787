// Whether a product of a CSAF advisory (formats/advisory.h) is the component of a finding.
//
// The most specific identifier that both sides carry decides, and a disagreement there is a
// non-match (a weaker identifier is not tried):
//   1. package URL: type, namespace, name and version equal (qualifiers and subpath ignored, as
//      the purl spec allows for identity); per the purl spec the type is case-insensitive, and
//      namespace and name are for the types that say so (github, bitbucket, pypi with '_' = '-',
//      npm, composer, deb, apk, hex); components are compared percent-decoded; versions as in 3,
//      and a purl without a version matches nothing.
//   2. CPE (2.3 formatted string or 2.2 URI, mixed freely): vendor, product and version, each
//      case-insensitive; ANY ("*" in 2.3, empty in 2.2) on either side matches anything, NA
//      ("-") only NA; '*' and '?' inside a 2.3 value are wildcards.
//   3. name and version: names equal after NormaliseProductName, versions after
//      NormaliseVersion; the advisory's name is its product (from the branch path), else its
//      full name. Both sides need a version: a product without one never matches by name.
// Version ranges (product_version_range) are not evaluated: they match only their own text.
// Field rules: docs/formats.md ("CSAF 2.0 advisories").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "formats/advisory.h"

namespace isms {

bool ProductMatches(const AdvisoryProduct& product, std::string_view purl, std::string_view cpe,
                    std::string_view name, std::string_view version);

// Lower case; '-', '_', '.' and blanks count as one separator: each run becomes one '-', and
// separators at either end are dropped ("Log4j_Core" and "log4j-core" are both "log4j-core").
std::string NormaliseProductName(std::string_view name);

// Blanks trimmed, a leading epoch ("1:") and then a leading 'v' or 'V' before a digit removed,
// lower case ("1:v2.4.1-RC1" is "2.4.1-rc1"). Dropping the epoch is deliberate: scanners and
// advisories disagree on whether to print it.
std::string NormaliseVersion(std::string_view version);

}  // namespace isms
