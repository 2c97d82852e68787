#include "formats/syslog_framing.h"

#include <algorithm>
#include <cstring>

namespace isms {
namespace {

constexpr size_t kMaxLengthDigits = 9;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

SyslogFrameDecoder::SyslogFrameDecoder(size_t max_frame)
    : max_frame_(std::max<size_t>(max_frame, 1)) {}

char* SyslogFrames::Grow(size_t n) {
  if (capacity_ - used_ < n) {
    const size_t want = std::max({size_t{4096}, 2 * capacity_, used_ + n});
    auto bigger = std::make_unique_for_overwrite<char[]>(want);
    if (used_ > 0) std::memcpy(bigger.get(), bytes_.get(), used_);
    bytes_ = std::move(bigger);
    capacity_ = want;
  }
  return bytes_.get() + used_;
}

void SyslogFrames::Add(std::string_view data, std::uint8_t flags, bool octet_counted) {
  if (!data.empty()) std::memcpy(Grow(data.size()), data.data(), data.size());
  refs_.push_back({used_, data.size(), flags, octet_counted});
  used_ += data.size();
}

std::vector<SyslogFrame> SyslogFrames::Copy() const {
  std::vector<SyslogFrame> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) {
    out.push_back({std::string(data(i)), octet_counted(i), flags(i)});
  }
  return out;
}

void SyslogFrameDecoder::Resume(SyslogFrames& out) {
  if (state_ == State::kBetween) return;
  start_ = out.used_;
  if (!carry_.empty()) std::memcpy(out.Grow(carry_.size()), carry_.data(), carry_.size());
  out.used_ += carry_.size();
  carry_.clear();
}

char* SyslogFrameDecoder::Room(SyslogFrames& out, size_t n) {
  Resume(out);
  scan_ = out.used_;
  return out.Grow(n);
}

void SyslogFrameDecoder::Filled(SyslogFrames& out, size_t k) {
  out.used_ += k;
  Decode(out, scan_);
}

void SyslogFrameDecoder::Feed(std::string_view chunk, SyslogFrames& out) {
  char* const p = Room(out, chunk.size());
  if (!chunk.empty()) std::memcpy(p, chunk.data(), chunk.size());
  Filled(out, chunk.size());
}

void SyslogFrameDecoder::Emit(SyslogFrames& out, size_t end, std::uint8_t flags) {
  const char* const b = out.bytes_.get();
  // The first Limit() bytes are kept; a line's CR before its LF is dropped; what is then still
  // over the limit is dropped too.
  size_t n = end - start_;
  if (n > Limit()) {
    n = Limit();
    overflow_ = true;
  }
  if (state_ == State::kLine && n > 0 && b[start_ + n - 1] == '\r') --n;
  if (n > max_frame_) {
    n = max_frame_;
    overflow_ = true;
  }
  if (overflow_) flags |= kAuditTruncated;
  out.refs_.push_back({start_, n, flags, state_ == State::kCounted});
  digits_ = 0;
  value_ = 0;
  remaining_ = 0;
  overflow_ = false;
  state_ = State::kBetween;
}

void SyslogFrameDecoder::Decode(SyslogFrames& out, size_t from) {
  const char* const b = out.bytes_.get();
  const size_t end = out.used_;
  size_t i = from;
  while (i < end) {
    switch (state_) {
      case State::kBetween: {
        const char c = b[i];
        if (c == '\n' || c == '\r' || c == '\0') {
          ++i;
        } else if (c >= '1' && c <= '9') {
          state_ = State::kDigits;
          start_ = i;
          digits_ = 1;
          value_ = static_cast<size_t>(c - '0');
          ++i;
        } else {
          state_ = State::kLine;
          start_ = i;
        }
        break;
      }
      case State::kDigits: {
        const char c = b[i];
        if (c == ' ') {
          remaining_ = value_;
          state_ = State::kCounted;
          start_ = i + 1;
          ++i;
        } else if (IsDigit(c) && digits_ < kMaxLengthDigits) {
          value_ = value_ * 10 + static_cast<size_t>(c - '0');
          ++digits_;
          ++i;
        } else {
          DigitsAsLine();  // the line begins with the digits, at start_
        }
        break;
      }
      case State::kCounted: {
        const size_t take = std::min(remaining_, end - i);
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) Emit(out, i);
        break;
      }
      case State::kLine: {
        const void* lf = std::memchr(b + i, '\n', end - i);
        if (lf == nullptr) {
          i = end;
        } else {
          const size_t at = static_cast<size_t>(static_cast<const char*>(lf) - b);
          Emit(out, at);
          i = at + 1;
        }
        break;
      }
    }
  }
  // A frame (or length prefix) not ended waits for the next bytes in the decoder, not in `out`:
  // at most Limit() bytes of it.
  if (state_ != State::kBetween) {
    size_t keep = end - start_;
    if (InFrame() && keep > Limit()) {
      keep = Limit();
      overflow_ = true;
    }
    carry_.assign(b + start_, keep);
    out.used_ = start_;
  }
}

void SyslogFrameDecoder::Finish(SyslogFrames& out) {
  Resume(out);
  if (state_ == State::kDigits) DigitsAsLine();
  if (InFrame()) Emit(out, out.used_, kAuditIncomplete);
  *this = SyslogFrameDecoder(max_frame_);
}

}  // namespace isms
