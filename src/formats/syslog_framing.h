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
// Thread-safety: one decoder per connection; not thread-safe. SyslogFrames is a value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/audit_record.h"

namespace isms {

// One frame, copied out (tests, and callers that keep a frame on its own).
struct SyslogFrame {
  std::string data;  // the message bytes, without the length prefix or the LF
  bool octet_counted = false;
  std::uint8_t flags = 0;  // kAuditTruncated, kAuditIncomplete (AuditFlag bits): OR them into
                           // the record's flags
  friend bool operator==(const SyslogFrame&, const SyslogFrame&) = default;
};

// Decoded frames, as places in one buffer that holds the stream's bytes as they were read (a
// listener's reads go straight into it: SyslogFrameDecoder::Room): no allocation or copy a
// frame, and a batch of frames moves (to another thread, say) as one value whose memory is used
// again after clear(). Bytes of the stream that are no frame's (length prefixes, line ends) lie
// between the frames.
class SyslogFrames {
 public:
  SyslogFrames() = default;
  // A value moved from is empty, without memory.
  SyslogFrames(SyslogFrames&& o) noexcept { *this = std::move(o); }
  SyslogFrames& operator=(SyslogFrames&& o) noexcept {
    bytes_ = std::move(o.bytes_);
    used_ = std::exchange(o.used_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    refs_ = std::move(o.refs_);
    o.refs_.clear();
    return *this;
  }

  size_t size() const { return refs_.size(); }
  bool empty() const { return refs_.empty(); }
  // Frame i's bytes (valid until the next change), flags and framing.
  std::string_view data(size_t i) const { return {bytes_.get() + refs_[i].offset, refs_[i].size}; }
  std::uint8_t flags(size_t i) const { return refs_[i].flags; }
  bool octet_counted(size_t i) const { return refs_[i].octet_counted; }

  // Appends a frame (a datagram's message, say).
  void Add(std::string_view data, std::uint8_t flags, bool octet_counted = false);
  // Forgets every frame; the memory stays for the next ones.
  void clear() {
    used_ = 0;
    refs_.clear();
  }
  // Copies of the frames (for tests).
  std::vector<SyslogFrame> Copy() const;

 private:
  friend class SyslogFrameDecoder;
  struct Ref {
    size_t offset = 0;
    size_t size = 0;
    std::uint8_t flags = 0;
    bool octet_counted = false;
  };
  // Room for `n` more bytes after the `used_` ones (which are kept), not zeroed; returns where
  // they go.
  char* Grow(size_t n);
  std::unique_ptr<char[]> bytes_;
  size_t used_ = 0, capacity_ = 0;
  std::vector<Ref> refs_;
};

class SyslogFrameDecoder {
 public:
  static constexpr size_t kDefaultMaxFrame = 64 * 1024;

  explicit SyslogFrameDecoder(size_t max_frame = kDefaultMaxFrame);

  // Decodes `chunk` and appends every frame it completes to `out`. A frame begun and not ended
  // is kept by the decoder until a later Feed (into any `out`) ends it.
  void Feed(std::string_view chunk, SyslogFrames& out);

  // The same without a copy: Room returns where up to `n` of the stream's next bytes go, at the
  // end of `out` (after the bytes of a frame begun earlier, which the decoder moves there
  // first); once they are there (a read into them), Filled decodes the first `k` of them (k may
  // be 0). Room must be followed by Filled, and `out` left alone in between.
  char* Room(SyslogFrames& out, size_t n);
  void Filled(SyslogFrames& out, size_t k);

  // The stream ended: appends the frame that was begun and not finished, if any, flagged
  // kAuditIncomplete (a counted frame shorter than its length, or a last line without LF), and
  // resets the decoder for a new stream.
  void Finish(SyslogFrames& out);

  // Bytes held for the current frame (at most max_frame + 10).
  size_t buffered() const { return carry_.size(); }

 private:
  enum class State { kBetween, kDigits, kCounted, kLine };

  // Inside a frame whose bytes are being read (counted or a line).
  bool InFrame() const { return state_ == State::kCounted || state_ == State::kLine; }
  // The most bytes of the current frame that are kept: a line frame may hold one byte more than
  // the limit, a CR that the LF will remove.
  size_t Limit() const { return state_ == State::kLine ? max_frame_ + 1 : max_frame_; }
  // Moves what is carried (the current frame's or length prefix's bytes so far) to the end of
  // `out`, where the stream's next bytes will follow.
  void Resume(SyslogFrames& out);
  // Decodes out's bytes from `from` to its end.
  void Decode(SyslogFrames& out, size_t from);
  // The length prefix read so far was no prefix: it begins a line frame.
  void DigitsAsLine() { state_ = State::kLine; }
  // Ends the current frame at `end` (in out's bytes) with `flags` (and kAuditTruncated when
  // bytes were dropped).
  void Emit(SyslogFrames& out, size_t end, std::uint8_t flags = 0);

  size_t max_frame_;
  State state_ = State::kBetween;
  size_t digits_ = 0;      // the length prefix's digits read so far (kDigits)
  size_t value_ = 0;       // and their value
  size_t remaining_ = 0;   // bytes of a counted frame still to read (kCounted)
  bool overflow_ = false;  // bytes of the current frame were dropped
  // Where the current frame (or length prefix) begins in the `out` being decoded.
  size_t start_ = 0;
  size_t scan_ = 0;    // Room to Filled: where the new bytes begin in `out`
  std::string carry_;  // the current frame's (or prefix's) bytes between two reads
};

}  // namespace isms
