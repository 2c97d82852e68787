// Scanner reports as domain records: what each supported format says about assets and
// findings, streamed to a sink, with errors that name the file and the position.
// No storage, no policy: CVSS vectors are carried as text (core/cvss.h scores them later) and
// severities as the scanner's own words. Formats and field mappings: docs/formats.md.
//
// Supported: Nessus v2 (.nessus XML), OpenVAS/Greenbone XML reports (GMP 9 and GVM 22),
// Trivy JSON (schema 2 and legacy), Grype JSON, OSV-Scanner JSON, CycloneDX JSON 1.2–1.6 with
// `vulnerabilities` (incl. VEX), SARIF 2.1.0.
//
// Thread-safety: parsers hold no shared state; one parse per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace isms {

enum class ScanFormat { kNessus, kOpenVas, kTrivy, kGrype, kOsv, kCycloneDx, kSarif };
std::string_view ScanFormatKey(ScanFormat f);  // "nessus", "openvas", "trivy", "grype", "osv",
                                               // "cyclonedx", "sarif"
Result<ScanFormat> ParseScanFormatKey(std::string_view key);

// One name of an asset. Kinds: "host" (short host name), "fqdn", "ip", "mac", "image"
// (container image reference), "repository", "path" (a scanned file-system path), "cluster".
struct AssetName {
  std::string kind;
  std::string value;
  friend bool operator==(const AssetName&, const AssetName&) = default;
};

// A CVSS vector as found, with who published it: "NVD", a vendor ("Red Hat", "GitHub", ...),
// or the scanner ("Tenable").
struct CvssVector {
  std::string vector;
  std::string source;
  bool nvd = false;
  friend bool operator==(const CvssVector&, const CvssVector&) = default;
};

// A severity word and who said it: the scanner ("Nessus", "Trivy", ...), or a vendor.
struct SeverityWord {
  std::string issuer;
  std::string value;
  friend bool operator==(const SeverityWord&, const SeverityWord&) = default;
};

enum class FixState {
  kUnknown,       // the report does not say
  kAvailable,     // a fixed version, patch or update exists
  kNotAvailable,  // no fix yet (affected, under investigation, fix deferred)
  kWontFix,       // the vendor will not fix (end of life, will_not_fix)
};
std::string_view FixStateKey(FixState s);  // "unknown", "available", "not-available", "wont-fix"

// A VEX-style statement carried by the report itself (CycloneDX analysis, Trivy status).
enum class VexState { kNone, kAffected, kNotAffected, kFixed, kUnderInvestigation };
std::string_view VexStateKey(VexState s);  // "", "affected", "not_affected", "fixed",
                                           // "under_investigation"

struct RawFinding {
  // Identity: (asset, check, component) is one finding.
  std::vector<AssetName> asset;  // the asset's names, most specific first
  std::string check_id;          // the scanner's check: Nessus plugin id, OpenVAS NVT OID,
                                 // Trivy/Grype/OSV vulnerability id, SARIF ruleId
  std::string component;         // "name version" of the affected package; "" for host-level
  std::string purl;              // package URL where given
  std::string cpe;               // CPE where given
  std::string port;              // "443/tcp" where given (Nessus, OpenVAS)
  std::string title;
  std::vector<std::string> cves;     // CVE ids, upper case, unique, in report order
  std::vector<std::string> aliases;  // other ids (GHSA-..., RHSA-..., OSV ids)
  std::vector<std::string> cwes;     // "CWE-79"

  // Severity as reported.
  std::vector<CvssVector> cvss;
  std::vector<SeverityWord> severities;  // the scanner's own word first
  bool informational = false;  // Nessus severity 0, OpenVAS Log, SARIF note/none: an observation
  bool own_code = false;       // a result about the supplier's own code (SARIF without a CVE)

  // Fix.
  FixState fix = FixState::kUnknown;
  std::string fixed_version;
  std::string solution;
  std::optional<Date> patch_published;  // Nessus patch_publication_date
  std::optional<Date> vuln_published;   // the vulnerability's publication (CVE), where given
  bool exploit_available = false;       // Nessus exploit_available, KEV flags, ...

  // Statements in the report.
  VexState vex = VexState::kNone;
  std::string vex_justification;

  std::uint64_t offset = 0;  // byte offset of the finding in the file (for messages)
};

struct ScanInfo {
  ScanFormat format = ScanFormat::kNessus;
  std::string scanner;    // "Nessus", "OpenVAS 22.4", "Trivy 0.45.0", ...
  std::string scan_type;  // what was scanned and how, e.g. "nessus:Basic Network Scan",
                          // "trivy:container_image", "sarif:CodeQL"
  std::optional<Instant> scanned_at;  // when the scan ran, where the report says
  // Nessus/OpenVAS: whether the scan logged in to the hosts (credentialed), where known.
  std::optional<bool> credentialed;
};

// A host or target that the scan covered, with or without findings (for remediation by
// absence, an asset must be known to have been scanned).
struct ScannedAsset {
  std::vector<AssetName> names;
  std::optional<Instant> scanned_at;
  std::optional<bool> credentialed;
};

class ScanSink {
 public:
  virtual ~ScanSink() = default;
  virtual Status OnScan(const ScanInfo& info) = 0;  // once, before any asset or finding
  virtual Status OnAsset(const ScannedAsset& asset) = 0;
  virtual Status OnFinding(RawFinding&& finding) = 0;
};

// The format of a report from its first bytes (up to 64 KiB); kInvalidArgument naming what was
// seen when it is none of the supported formats (e.g. "a CSAF advisory: use isms import
// advisory", "an empty file").
Result<ScanFormat> DetectScanFormat(std::string_view head, std::string_view source);

// Parses `data` (the whole file, e.g. memory-mapped) as `format`, calling `sink` in file order.
// `source` names the file in errors: "FILE: line L, column C: problem" (XML, JSON) or
// "FILE: byte N: problem". A sink error stops the parse and is returned as is.
Status ParseScan(std::string_view data, ScanFormat format, std::string_view source,
                 ScanSink& sink);

}  // namespace isms
