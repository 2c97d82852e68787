// zstd frames, one a value with its content size in the frame's header: the audit log's blocks
// and tail batches (log_store.cc), and the issued monthly reports (app/report.cc).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct ZSTD_DCtx_s;  // zstd.h's ZSTD_DCtx

namespace isms::audit {

// One frame holding `raw`, at zstd level `level`. With `workers` > 0 the frame is made on that
// many more threads where the library has them (large values); with 0, on this thread, in
// memory kept per thread between calls (many small values).
std::string CompressFrame(std::string_view raw, int level, int workers = 0);

// The bytes of the frame `blob`; Corruption when it is not one frame of known size of at most
// `max_bytes`, or does not decompress.
Result<std::string> DecompressFrame(std::string_view blob, std::size_t max_bytes);

// One frame's content read a piece at a time, in memory that stays about the size of the frame's
// window and the longest piece asked for, not the whole content: for scans that look at each
// entry once (a tail batch of tens of thousands of records) instead of keeping them.
class FrameReader {
 public:
  FrameReader();

  // Begins reading the frame `blob` (which must outlive the reading); Corruption when it is not
  // a frame of known size of at most `max_bytes`.
  Status Open(std::string_view blob, std::size_t max_bytes);
  // The content read and not yet consumed: at least `want` bytes, unless the frame ends first
  // (then what is left, possibly less). Corruption when the frame does not decompress, holds
  // other bytes than its header says, or is followed by more bytes.
  Result<std::string_view> Fill(std::size_t want);
  // Marks the first `n` bytes of what Fill returned as consumed.
  void Consume(std::size_t n) { begin_ += n; }
  // The frame's whole content was read and consumed.
  bool done() const { return ended_ && begin_ == end_; }

 private:
  std::unique_ptr<ZSTD_DCtx_s, std::size_t (*)(ZSTD_DCtx_s*)> dctx_;
  std::string_view blob_;
  std::size_t in_ = 0;           // bytes of blob_ read
  unsigned long long left_ = 0;  // content bytes still to come, as the header says
  std::string buf_;
  std::size_t begin_ = 0, end_ = 0;  // buf_[begin_, end_): read, not consumed
  bool ended_ = false;
};

}  // namespace isms::audit
