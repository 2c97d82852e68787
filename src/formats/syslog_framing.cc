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

void SyslogFrameDecoder::Append(std::string_view bytes) {
  // A line frame may hold one byte more than the limit: a CR that the LF will remove.
  const size_t limit = state_ == State::kLine ? max_frame_ + 1 : max_frame_;
  const size_t room = limit > frame_.data.size() ? limit - frame_.data.size() : 0;
  if (bytes.size() > room) overflow_ = true;
  frame_.data.append(bytes.substr(0, std::min(room, bytes.size())));
}

void SyslogFrameDecoder::Emit(std::vector<SyslogFrame>& out) {
  if (state_ == State::kLine && !frame_.data.empty() && frame_.data.back() == '\r') {
    frame_.data.pop_back();
  }
  if (frame_.data.size() > max_frame_) {
    frame_.data.resize(max_frame_);
    overflow_ = true;
  }
  if (overflow_) frame_.flags |= kAuditTruncated;
  out.push_back(std::move(frame_));
  frame_ = SyslogFrame();
  if (!pool_.empty()) {
    frame_.data.swap(pool_.back());
    pool_.pop_back();
  }
  digits_.clear();
  remaining_ = 0;
  overflow_ = false;
  state_ = State::kBetween;
}

void SyslogFrameDecoder::Feed(std::string_view chunk, std::vector<SyslogFrame>& out) {
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
          state_ = State::kLine;
        }
        break;
      }
      case State::kDigits: {
        const char c = chunk[i];
        if (c == ' ') {
          remaining_ = 0;
          for (char d : digits_) remaining_ = remaining_ * 10 + static_cast<size_t>(d - '0');
          digits_.clear();
          frame_.octet_counted = true;
          state_ = State::kCounted;
          ++i;
        } else if (IsDigit(c) && digits_.size() < kMaxLengthDigits) {
          digits_.push_back(c);
          ++i;
        } else {
          state_ = State::kLine;
          Append(digits_);
          digits_.clear();
        }
        break;
      }
      case State::kCounted: {
        const size_t take = std::min(remaining_, chunk.size() - i);
        Append(chunk.substr(i, take));
        remaining_ -= take;
        i += take;
        if (remaining_ == 0) Emit(out);
        break;
      }
      case State::kLine: {
        const size_t lf = chunk.find('\n', i);
        if (lf == std::string_view::npos) {
          Append(chunk.substr(i));
          i = chunk.size();
        } else {
          Append(chunk.substr(i, lf - i));
          i = lf + 1;
          Emit(out);
        }
        break;
      }
    }
  }
}

void SyslogFrameDecoder::Recycle(std::vector<SyslogFrame>& frames) {
  constexpr size_t kMaxPool = 4096;
  for (SyslogFrame& f : frames) {
    if (pool_.size() >= kMaxPool) break;
    if (f.data.capacity() > 4096) continue;  // a rare long frame's memory is let go
    f.data.clear();
    pool_.push_back(std::move(f.data));
  }
  frames.clear();
}

void SyslogFrameDecoder::Finish(std::vector<SyslogFrame>& out) {
  if (state_ == State::kDigits) {
    state_ = State::kLine;
    Append(digits_);
    digits_.clear();
  }
  if (state_ == State::kCounted || state_ == State::kLine) {
    frame_.flags |= kAuditIncomplete;
    Emit(out);
  }
  *this = SyslogFrameDecoder(max_frame_);
}

}  // namespace isms
