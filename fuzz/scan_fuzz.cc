// Fuzzes format detection, every scan parser (formats/scan.h) and the CSAF parser
// (formats/advisory.h) on untrusted bytes. The first byte picks the parser; the rest is the
// report. Properties: no crash, no sanitizer report, and a refusal always carries a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/advisory.h"
#include "formats/scan.h"

namespace {

class CountingSink final : public isms::ScanSink {
 public:
  isms::Status OnScan(const isms::ScanInfo&) override { return isms::Status::Ok(); }
  isms::Status OnAsset(const isms::ScannedAsset&) override { return isms::Status::Ok(); }
  isms::Status OnFinding(isms::RawFinding&&) override { return isms::Status::Ok(); }
};

constexpr isms::ScanFormat kFormats[] = {isms::ScanFormat::kNessus, isms::ScanFormat::kOpenVas,
                                         isms::ScanFormat::kTrivy,  isms::ScanFormat::kGrype,
                                         isms::ScanFormat::kOsv,    isms::ScanFormat::kCycloneDx,
                                         isms::ScanFormat::kSarif};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const unsigned pick = data[0] % 9;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  isms::Status s;
  if (pick < 7) {
    CountingSink sink;
    s = isms::ParseScan(body, kFormats[pick], "fuzz", sink);
  } else if (pick == 7) {
    s = isms::DetectScanFormat(body, "fuzz").status();
  } else {
    s = isms::ParseCsafAdvisory(body, "fuzz").status();
  }
  if (!s.ok() && s.message().empty()) std::abort();
  return 0;
}
