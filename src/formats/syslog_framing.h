// A streaming decoder of syslog over a TCP (or TLS) byte stream: octet counting ("LEN SP MSG",
// RFC 6587 §3.4.1, RFC 5425 §4.3) and LF-terminated frames (RFC 6587 §3.4.2, "non-transparent
// framing"), mixed freely on one connection, decided frame by frame. Details:
// docs/audit-format.md.
//
// The first byte of each frame decides: a digit 1-9 followed by digits (at most 9 in all) and an
// SP is octet counting; anything else is a frame up to the next LF (a CR before the LF is
// dropped). Bytes CR, LF and NUL between frames are skipped, so an empty line is no frame.
//
// A frame longer than `max_frame` bytes is truncated to `max_frame` bytes and flagged
// kAuditTruncated; the rest of it is read and dropped, and the next frame is decoded normally:
// never fatal. Finish() returns what is buffered when the stream ends: a partial frame flagged
// kAuditIncomplete.
//
// Chunk boundaries are arbitrary: feeding a stream in any split yields the same frames.
//
// Thread-safety: one decoder per connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/audit_record.h"

namespace isms {

struct SyslogFrame {
  std::string data;  // the message bytes, without the length prefix or the LF
  bool octet_counted = false;
  std::uint8_t flags = 0;  // kAuditTruncated, kAuditIncomplete (AuditFlag bits): OR them into
                           // the record's flags
  friend bool operator==(const SyslogFrame&, const SyslogFrame&) = default;
};

class SyslogFrameDecoder {
 public:
  static constexpr size_t kDefaultMaxFrame = 64 * 1024;

  explicit SyslogFrameDecoder(size_t max_frame = kDefaultMaxFrame);

  // Decodes `chunk` and appends every frame it completes to `out`.
  void Feed(std::string_view chunk, std::vector<SyslogFrame>& out);

  // The stream ended: appends the frame that was begun and not finished, if any, flagged
  // kAuditIncomplete (a counted frame shorter than its length, or a last line without LF), and
  // resets the decoder for a new stream.
  void Finish(std::vector<SyslogFrame>& out);

  // Takes back the memory of frames the caller is done with and clears `frames`: later frames
  // are read into it instead of new allocations (a listener recycles each read's frames).
  void Recycle(std::vector<SyslogFrame>& frames);

  // Bytes held for the current frame (at most max_frame + 10).
  size_t buffered() const { return frame_.data.size() + digits_.size(); }

 private:
  enum class State { kBetween, kDigits, kCounted, kLine };

  void Emit(std::vector<SyslogFrame>& out);
  void Append(std::string_view bytes);

  size_t max_frame_;
  State state_ = State::kBetween;
  std::string digits_;     // the length prefix read so far (kDigits)
  size_t remaining_ = 0;   // bytes of a counted frame still to read (kCounted)
  bool overflow_ = false;  // bytes of the current frame were dropped
  SyslogFrame frame_;
  std::vector<std::string> pool_;  // empty buffers with capacity (Recycle)
};

}  // namespace isms
