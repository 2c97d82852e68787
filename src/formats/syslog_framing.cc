#include "formats/syslog_framing.h"

#include <algorithm>

namespace isms {
namespace {

constexpr size_t kMaxLengthDigits = 9;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

SyslogFrameDecoder::SyslogFrameDecoder(size_t max_frame)
    : max_frame_(std::max<size_t>(max_frame, 1)) {}

void SyslogFrames::Add(std::string_view data, std::uint8_t flags, bool octet_counted) {
  refs_.push_back({bytes_.size(), data.size(), flags, octet_counted});
  bytes_.append(data);
}

std::vector<SyslogFrame> SyslogFrames::Copy() const {
  std::vector<SyslogFrame> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) {
    out.push_back({std::string(data(i)), octet_counted(i), flags(i)});
  }
  return out;
}

void SyslogFrameDecoder::Begin(SyslogFrames& out, State state) {
  state_ = state;
  start_ = out.bytes_.size();
}

void SyslogFrameDecoder::Resume(SyslogFrames& out) {
  start_ = out.bytes_.size();
  out.bytes_.append(carry_);
  carry_.clear();
}

void SyslogFrameDecoder::DigitsAsLine(SyslogFrames& out) {
  Begin(out, State::kLine);
  Append(out, digits_);
  digits_.clear();
}

void SyslogFrameDecoder::Append(SyslogFrames& out, std::string_view bytes) {
  // A line frame may hold one byte more than the limit: a CR that the LF will remove.
  const size_t limit = state_ == State::kLine ? max_frame_ + 1 : max_frame_;
  const size_t have = out.bytes_.size() - start_;
  const size_t room = limit > have ? limit - have : 0;
  if (bytes.size() > room) overflow_ = true;
  out.bytes_.append(bytes.data(), std::min(room, bytes.size()));
}

void SyslogFrameDecoder::Emit(SyslogFrames& out, std::uint8_t flags) {
  std::string& b = out.bytes_;
  if (state_ == State::kLine && b.size() > start_ && b.back() == '\r') b.pop_back();
  if (b.size() - start_ > max_frame_) {
    b.resize(start_ + max_frame_);
    overflow_ = true;
  }
  if (overflow_) flags |= kAuditTruncated;
  out.refs_.push_back({start_, b.size() - start_, flags, state_ == State::kCounted});
  digits_.clear();
  remaining_ = 0;
  overflow_ = false;
  state_ = State::kBetween;
  start_ = b.size();
}

void SyslogFrameDecoder::Feed(std::string_view chunk, SyslogFrames& out) {
  if (InFrame()) Resume(out);  // a frame begun in an earlier chunk goes on here
  size_t i = 0;
  while (i < chunk.size()) {
    switch (state_) {
      case State::kBetween: {
        const char c = chunk[i];
        if (c == '\n' || c == '\r' || c == '\0') {
          ++i;
        } else if (c >= '1' && c <= '9') {
          state_ = State::kDigits;
          digits_.push_back(c);
          ++i;
        } else {
          Begin(out, State::kLine);
        }
        break;
      }
      case State::kDigits: {
        const char c = chunk[i];
        if (c == ' ') {
          remaining_ = 0;
          for (char d : digits_) remaining_ = remaining_ * 10 + static_cast<size_t>(d - '0');
          digits_.clear();
          Begin(out, State::kCounted);
          ++i;
        } else if (IsDigit(c) && digits_.size() < kMaxLengthDigits) {
          digits_.push_back(c);
          ++i;
        } else {
          DigitsAsLine(out);
        }
        break;
      }
      case State::kCounted: {
        const size_t take = std::min(remaining_, chunk.size() - i);
        Append(out, chunk.substr(i, take));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) Emit(out);
        break;
      }
      case State::kLine: {
        const size_t lf = chunk.find('\n', i);
        if (lf == std::string_view::npos) {
          Append(out, chunk.substr(i));
          i = chunk.size();
        } else {
          Append(out, chunk.substr(i, lf - i));
          i = lf + 1;
          Emit(out);
        }
        break;
      }
    }
  }
  // A frame not ended waits for the next chunk in the decoder, not in `out`.
  if (InFrame()) {
    carry_.assign(out.bytes_, start_);
    out.bytes_.resize(start_);
  }
}

void SyslogFrameDecoder::Finish(SyslogFrames& out) {
  if (state_ == State::kDigits) {
    DigitsAsLine(out);
  } else if (InFrame()) {
    Resume(out);
  }
  if (InFrame()) Emit(out, kAuditIncomplete);
  *this = SyslogFrameDecoder(max_frame_);
}

}  // namespace isms
