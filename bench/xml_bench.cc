// Parse-only CPU of an XML scan report (docs/benchmarks.md, "XML parsing"):
//
//   xml_bench FILE [ROUNDS]
//
// reads FILE into memory once, then per round measures the CPU time of
//   - XmlStream alone, with handlers that do nothing (the tokenizer's own cost), once with the
//     default backend (the fast path where the file allows it) and once with expat (see
//     src/formats/xml_stream.h); the label is the backend that read the file, and
//   - the Nessus or OpenVAS reader (by the root element, default backend) into a sink that
//     drops the findings, i.e. everything `isms import scan` does on its parsing thread before
//     the store.
// Prints one line per measurement: CPU seconds and MB/s (10^6 bytes per CPU second).

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "cpu_time.h"
#include "formats/scan.h"
#include "formats/xml_stream.h"

namespace {

class Elements final : public isms::XmlStream {
 public:
  long count = 0;

 private:
  void OnStart(std::string_view, const isms::XmlAttributes&, int) override { ++count; }
  void OnEnd(std::string_view, int) override {}
};

class DropSink final : public isms::ScanSink {
 public:
  long findings = 0;
  isms::Status OnScan(const isms::ScanInfo&) override { return isms::Status::Ok(); }
  isms::Status OnAsset(const isms::ScannedAsset&) override { return isms::Status::Ok(); }
  isms::Status OnFinding(isms::RawFinding&&) override {
    ++findings;
    return isms::Status::Ok();
  }
};

void Report(const char* what, const char* backend, const isms::Status& s, long count, double cpu,
            std::size_t bytes) {
  std::printf("%-8s %-6s %-9s count=%ld cpu=%.3f s %.0f MB/s\n", what, backend,
              s.ok() ? "ok" : "REFUSED", count, cpu, static_cast<double>(bytes) / cpu / 1e6);
  if (!s.ok()) std::printf("  %s\n", s.ToString().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: xml_bench FILE [ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  auto format = isms::DetectScanFormat(data, argv[1]);
  if (!format.ok()) {
    std::fprintf(stderr, "%s\n", format.status().ToString().c_str());
    return 1;
  }
  std::printf("%s: %zu bytes\n", argv[1], data.size());
  for (int r = 0; r < rounds; ++r) {
    for (isms::XmlBackend backend : {isms::XmlBackend::kAuto, isms::XmlBackend::kExpat}) {
      Elements e;
      e.set_backend(backend);
      double t = isms::bench::CpuSeconds();
      isms::Status s = e.Parse(data, argv[1]);
      const char* label = e.backend_used() == isms::XmlBackend::kFast ? "fast" : "expat";
      Report("tokenize", label, s, e.count, isms::bench::CpuSeconds() - t, data.size());
    }
    DropSink sink;
    const double t = isms::bench::CpuSeconds();
    isms::Status s = isms::ParseScan(data, *format, argv[1], sink);
    Report("reader", "auto", s, sink.findings, isms::bench::CpuSeconds() - t, data.size());
  }
  return 0;
}
