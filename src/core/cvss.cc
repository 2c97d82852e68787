#include "core/cvss.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/cvss_internal.h"

namespace isms {

namespace cvss_internal {

std::span<const MetricDef> MetricsOf(CvssVersion version) {
  switch (version) {
    case CvssVersion::kV2: return v2::kMetrics;
    case CvssVersion::kV30:
    case CvssVersion::kV31: return v3::kMetrics;
    case CvssVersion::kV40: return v4::kMetrics;
  }
  return v3::kMetrics;
}

}  // namespace cvss_internal

namespace {

using cvss_internal::MetricDef;
using cvss_internal::ParsedVector;

constexpr std::string_view kPrefix = "CVSS:";

// `text` as it is shown in error messages: at most `max` bytes, control bytes and bytes outside
// ASCII as '?', so that a log line stays one readable line.
std::string Printable(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string Quoted(std::string_view vector) {
  return "CVSS vector '" + Printable(vector, 160) + "'";
}

Status Invalid(std::string_view vector, std::string_view what) {
  return Status::InvalidArgument(Quoted(vector) + ": " + std::string(what));
}

std::string AllowedValues(const MetricDef& m) {
  std::string s;
  for (int i = 0; i < m.value_count; ++i) {
    if (i > 0) s += ", ";
    s += m.values[i];
  }
  return s;
}

// Splits off the version prefix. On success `body` holds the metrics ("AV:N/AC:L/...") and
// `prefixed` tells whether the vector named its version.
Status SplitVersion(std::string_view vector, CvssVersion& version, std::string_view& body,
                    bool& prefixed) {
  prefixed = vector.starts_with(kPrefix);
  if (!prefixed) {
    version = CvssVersion::kV2;
    body = vector;
    if (vector.starts_with('(')) {
      if (!vector.ends_with(')') || vector.size() < 2) {
        return Invalid(vector, "opening '(' without a closing ')'");
      }
      body = vector.substr(1, vector.size() - 2);
    }
    return Status::Ok();
  }
  const std::size_t slash = vector.find('/');
  const std::string_view number =
      vector.substr(kPrefix.size(), slash == std::string_view::npos ? std::string_view::npos
                                                                    : slash - kPrefix.size());
  if (number == "3.1") {
    version = CvssVersion::kV31;
  } else if (number == "4.0") {
    version = CvssVersion::kV40;
  } else if (number == "3.0") {
    version = CvssVersion::kV30;
  } else if (number == "2.0") {
    version = CvssVersion::kV2;
  } else {
    std::string what = "unsupported version prefix 'CVSS:";
    what += Printable(number, 16);
    what += "' (expected CVSS:2.0/, CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/)";
    return Invalid(vector, what);
  }
  if (slash == std::string_view::npos) {
    return Invalid(vector, "no metrics after the version prefix");
  }
  body = vector.substr(slash + 1);
  return Status::Ok();
}

// The metric names and values of a version as packed keys, in the order of its table.
struct Keys {
  std::array<std::uint64_t, cvss_internal::kMaxMetrics> name{};
  std::array<std::array<std::uint64_t, cvss_internal::kMaxValues>, cvss_internal::kMaxMetrics>
      value{};
  int count = 0;
};

template <std::size_t N>
constexpr Keys KeysOf(const std::array<MetricDef, N>& metrics) {
  Keys k;
  for (std::size_t i = 0; i < N; ++i) {
    k.name[i] = cvss_internal::PackKey(metrics[i].name);
    for (int v = 0; v < metrics[i].value_count; ++v) {
      k.value[i][v] = cvss_internal::PackKey(metrics[i].values[v]);
    }
  }
  k.count = static_cast<int>(N);
  return k;
}

constexpr Keys kV2Keys = KeysOf(cvss_internal::v2::kMetrics);
constexpr Keys kV3Keys = KeysOf(cvss_internal::v3::kMetrics);
constexpr Keys kV4Keys = KeysOf(cvss_internal::v4::kMetrics);

const Keys& KeysFor(CvssVersion version) {
  switch (version) {
    case CvssVersion::kV2: return kV2Keys;
    case CvssVersion::kV30:
    case CvssVersion::kV31: return kV3Keys;
    case CvssVersion::kV40: return kV4Keys;
  }
  return kV3Keys;
}

int FindMetric(const Keys& keys, std::string_view name) {
  const std::uint64_t key = cvss_internal::PackKey(name);
  for (int i = 0; i < keys.count; ++i) {
    if (keys.name[i] == key) return i;
  }
  return -1;
}

int FindValue(const Keys& keys, int metric, int value_count, std::string_view value) {
  const std::uint64_t key = cvss_internal::PackKey(value);
  for (int i = 0; i < value_count; ++i) {
    if (keys.value[metric][i] == key) return i;
  }
  return -1;
}

// Parses `vector` into `out`. Allocates only to build an error.
Status Parse(std::string_view vector, ParsedVector& out) {
  if (vector.empty()) return Status::InvalidArgument("CVSS vector is empty");
  std::string_view body;
  bool prefixed = false;
  ISMS_RETURN_IF_ERROR(SplitVersion(vector, out.version, body, prefixed));
  if (body.empty()) return Invalid(vector, "no metrics");
  if (body.back() == '/') return Invalid(vector, "trailing '/'");

  const std::span<const MetricDef> metrics = cvss_internal::MetricsOf(out.version);
  const Keys& keys = KeysFor(out.version);
  out.value.fill(-1);
  std::uint64_t seen = 0;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = pos;
    std::size_t colon = std::string_view::npos;
    for (; end < body.size() && body[end] != '/'; ++end) {
      if (body[end] == ':' && colon == std::string_view::npos) colon = end - pos;
    }
    const std::string_view component = body.substr(pos, end - pos);
    pos = end + 1;
    if (component.empty()) {
      return Invalid(vector, "empty component (a '/' at the start or two in a row)");
    }
    if (colon == std::string_view::npos) {
      return Invalid(vector, "component '" + Printable(component, 32) + "' is not METRIC:VALUE");
    }
    const std::string_view name = component.substr(0, colon);
    const std::string_view value = component.substr(colon + 1);
    const int index = FindMetric(keys, name);
    if (index < 0) {
      std::string what = "unknown metric '" + Printable(name, 32) + "' for CVSS " +
                         std::string(CvssVersionName(out.version));
      if (!prefixed) {
        what +=
            " (a vector without prefix is read as CVSS 2.0; CVSS 3.x and 4.0 vectors start "
            "with 'CVSS:3.1/', 'CVSS:4.0/', ...)";
      }
      return Invalid(vector, what);
    }
    const MetricDef& metric = metrics[index];
    const std::uint64_t bit = std::uint64_t{1} << index;
    if (seen & bit) {
      return Invalid(vector, "metric " + std::string(metric.name) + " appears more than once");
    }
    seen |= bit;
    const int value_index = FindValue(keys, index, metric.value_count, value);
    if (value_index < 0) {
      return Invalid(vector, "metric " + std::string(metric.name) + " has no value '" +
                                 Printable(value, 32) + "' (allowed: " + AllowedValues(metric) +
                                 ")");
    }
    out.value[index] =
        static_cast<std::int8_t>(value_index == metric.not_defined ? -1 : value_index);
  }

  std::string missing;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].mandatory && !(seen & (std::uint64_t{1} << i))) {
      if (!missing.empty()) missing += ", ";
      missing += metrics[i].name;
    }
  }
  if (!missing.empty()) {
    return Invalid(vector, "missing base metric" +
                               std::string(missing.find(',') == std::string::npos ? " " : "s ") +
                               missing);
  }
  return Status::Ok();
}

}  // namespace

std::string_view CvssVersionName(CvssVersion v) {
  switch (v) {
    case CvssVersion::kV2: return "2.0";
    case CvssVersion::kV30: return "3.0";
    case CvssVersion::kV31: return "3.1";
    case CvssVersion::kV40: return "4.0";
  }
  return "?";
}

std::string_view NvdRatingName(NvdRating r) {
  switch (r) {
    case NvdRating::kNone: return "None";
    case NvdRating::kLow: return "Low";
    case NvdRating::kMedium: return "Medium";
    case NvdRating::kHigh: return "High";
    case NvdRating::kCritical: return "Critical";
  }
  return "?";
}

NvdRating NvdRatingFor(CvssVersion version, double score) {
  const double tenths = std::floor(score * 10.0 + 0.5);
  if (version == CvssVersion::kV2) {
    if (tenths <= 39) return NvdRating::kLow;
    if (tenths <= 69) return NvdRating::kMedium;
    return NvdRating::kHigh;
  }
  if (tenths <= 0) return NvdRating::kNone;
  if (tenths <= 39) return NvdRating::kLow;
  if (tenths <= 69) return NvdRating::kMedium;
  if (tenths <= 89) return NvdRating::kHigh;
  return NvdRating::kCritical;
}

Result<CvssScore> ScoreCvss(std::string_view vector) {
  ParsedVector parsed;
  Status status = Parse(vector, parsed);
  if (!status.ok()) return status;
  CvssScore score;
  score.version = parsed.version;
  switch (parsed.version) {
    case CvssVersion::kV2: cvss_internal::v2::Score(parsed, score); break;
    case CvssVersion::kV30:
    case CvssVersion::kV31: cvss_internal::v3::Score(parsed, score); break;
    case CvssVersion::kV40: cvss_internal::v4::Score(parsed, score); break;
  }
  score.base_rating = NvdRatingFor(score.version, score.base_score);
  return score;
}

Result<std::string> CanonicalCvss(std::string_view vector) {
  ParsedVector parsed;
  Status status = Parse(vector, parsed);
  if (!status.ok()) return status;
  std::string out;
  out.reserve(vector.size() + 16);
  if (parsed.version != CvssVersion::kV2) {
    out += kPrefix;
    out += CvssVersionName(parsed.version);
  }
  const std::span<const MetricDef> metrics = cvss_internal::MetricsOf(parsed.version);
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const int value = parsed.value[i];
    if (value < 0) continue;
    if (!out.empty()) out += '/';
    out += metrics[i].name;
    out += ':';
    out += metrics[i].values[value];
  }
  return out;
}

}  // namespace isms
