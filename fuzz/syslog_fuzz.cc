// Fuzzes the audit ingest parsers on untrusted bytes: the syslog parsers (formats/syslog.h),
// the TCP framing decoder (formats/syslog_framing.h), the JSON-lines parser
// (formats/audit_jsonl.h), classification by the built-in rules (formats/audit_classify.h) and
// the canonical encoding (formats/audit_record.h). The first byte picks the target and, for the
// framing decoder, the chunk size and frame limit. Properties: no crash, no sanitizer report;
// the syslog parser never loses input (an unparsed record holds it verbatim); a message parsed
// and classified as a view (isms serve's way) is the record parsed and classified owning its
// bytes, and encodes to the same bytes; every record encodes, and decodes back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "formats/audit_classify.h"
#include "formats/audit_jsonl.h"
#include "formats/audit_record.h"
#include "formats/syslog.h"
#include "formats/syslog_framing.h"

namespace {

const isms::AuditClassifier& Classifier() {
  static const isms::AuditClassifier* c =
      new isms::AuditClassifier(isms::AuditClassifier::Create().value());
  return *c;
}

void CheckRecord(isms::AuditRecord& r) {
  Classifier().Classify(r);
  isms::Result<std::string> bytes = isms::EncodeAuditRecord(r);
  if (!bytes.ok()) std::abort();
  isms::Result<isms::AuditRecord> back = isms::DecodeAuditRecord(*bytes);
  if (!back.ok()) std::abort();
  isms::Result<std::string> again = isms::EncodeAuditRecord(*back);
  if (!again.ok() || *again != *bytes) std::abort();
  // Version 1, still read (logs written before version 2): the same record back.
  isms::Result<std::string> v1 = isms::EncodeAuditRecord(r, 1);
  if (!v1.ok()) std::abort();
  isms::Result<isms::AuditRecord> back1 = isms::DecodeAuditRecord(*v1);
  if (!back1.ok() || !(*back1 == *back)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  isms::SyslogOptions options;
  options.received = isms::Instant(std::chrono::milliseconds(1772356502000));
  if (pick & 1) options.bsd_zone = isms::SyslogOptions::BsdZone::kEuropeLondon;
  switch ((pick >> 1) % 5) {
    case 0: {
      isms::AuditRecord r = isms::ParseSyslogMessage(body, options);
      if (r.source == isms::AuditSource::kUnparsed && r.message != body) std::abort();
      isms::AuditRecordView view;
      isms::ParseSyslogMessageInto(body, options, view);
      if (!(isms::ToAuditRecord(view) == r)) std::abort();
      CheckRecord(r);
      Classifier().Classify(view);
      if (!(isms::ToAuditRecord(view) == r)) std::abort();
      std::string view_bytes;
      if (!isms::EncodeAuditRecordInto(view, view_bytes).ok()) std::abort();
      if (view_bytes != isms::EncodeAuditRecord(r).value()) std::abort();
      break;
    }
    case 1: {
      (void)isms::ParseRfc5424(body, options);
      (void)isms::ParseRfc3164(body, options);
      break;
    }
    case 2: {
      const size_t chunk = 1 + (pick >> 4);
      isms::SyslogFrameDecoder decoder(16 + (pick & 0x70));
      std::vector<isms::SyslogFrame> frames;
      // Each chunk into a value of its own: a frame may span them.
      for (size_t i = 0; i < body.size(); i += chunk) {
        isms::SyslogFrames part;
        decoder.Feed(body.substr(i, chunk), part);
        for (isms::SyslogFrame& f : part.Copy()) frames.push_back(std::move(f));
      }
      isms::SyslogFrames last;
      decoder.Finish(last);
      for (isms::SyslogFrame& f : last.Copy()) frames.push_back(std::move(f));
      isms::SyslogFrameDecoder whole(16 + (pick & 0x70));
      isms::SyslogFrames expected;
      whole.Feed(body, expected);
      whole.Finish(expected);
      if (frames != expected.Copy()) std::abort();
      for (const isms::SyslogFrame& f : frames) {
        isms::AuditRecord r = isms::ParseSyslogMessage(f.data, options);
        r.flags |= f.flags;
        CheckRecord(r);
      }
      break;
    }
    case 3: {
      isms::Status s =
          isms::ParseAuditJsonLines(body, "fuzz", options.received, [](isms::AuditRecord&& r) {
            CheckRecord(r);
            return isms::Status::Ok();
          });
      if (!s.ok() && s.message().empty()) std::abort();
      isms::AuditRecord r = isms::AuditJsonLineOrUnparsed(body, options.received);
      CheckRecord(r);
      break;
    }
    default: {
      (void)isms::DecodeAuditRecord(body);
      (void)isms::LoadAuditRulesToml(body, "fuzz");
      break;
    }
  }
  return 0;
}
