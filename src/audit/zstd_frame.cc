#include "audit/zstd_frame.h"

#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace isms::audit {

using CctxPtr = std::unique_ptr<ZSTD_CCtx, std::size_t (*)(ZSTD_CCtx*)>;
using DctxPtr = std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)>;

std::string CompressFrame(std::string_view raw, int level, int workers) {
  const std::size_t bound = ZSTD_compressBound(raw.size());
  if (workers > 0) {
    // A context of its own: its worker threads' memory goes with it.
    CctxPtr cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!cctx) std::abort();
    (void)ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
    (void)ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, workers);  // ignored without
    (void)ZSTD_CCtx_setPledgedSrcSize(cctx.get(), raw.size());            // threads
    std::string out(bound, '\0');
    const std::size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), raw.data(), raw.size());
    if (ZSTD_isError(n)) std::abort();  // cannot happen with a buffer of the bound's size
    out.resize(n);
    return out;
  }
  thread_local CctxPtr cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  // The bound is several MB for a tail batch: a buffer kept per thread spares zeroing (and
  // page-faulting) that much for each call; the result is only the compressed bytes.
  thread_local std::string buffer;
  if (buffer.size() < bound) buffer.resize(bound);
  const std::size_t n =
      ZSTD_compressCCtx(cctx.get(), buffer.data(), bound, raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) std::abort();
  return std::string(buffer.data(), n);
}

namespace {

// The content size the frame `blob`'s header gives; Corruption when it is not a frame of known
// size of at most `max_bytes`.
Result<unsigned long long> ContentSize(std::string_view blob, std::size_t max_bytes) {
  const unsigned long long n = ZSTD_getFrameContentSize(blob.data(), blob.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > max_bytes) {
    return Status::Corruption("not a zstd frame of known size");
  }
  return n;
}

}  // namespace

Result<std::string> DecompressFrame(std::string_view blob, std::size_t max_bytes) {
  ISMS_ASSIGN_OR_RETURN(const unsigned long long n, ContentSize(blob, max_bytes));
  thread_local DctxPtr dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  std::string out(static_cast<std::size_t>(n), '\0');
  const std::size_t got =
      ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), blob.data(), blob.size());
  if (ZSTD_isError(got) || got != n) {
    return Status::Corruption(std::string("zstd: ") +
                              (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame"));
  }
  return out;
}

FrameReader::FrameReader() : dctx_(ZSTD_createDCtx(), ZSTD_freeDCtx) {}

Status FrameReader::Open(std::string_view blob, std::size_t max_bytes) {
  ISMS_ASSIGN_OR_RETURN(const unsigned long long n, ContentSize(blob, max_bytes));
  if (!dctx_) std::abort();
  (void)ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
  blob_ = blob;
  in_ = 0;
  left_ = n;
  begin_ = end_ = 0;
  ended_ = false;
  return Status::Ok();
}

Result<std::string_view> FrameReader::Fill(std::size_t want) {
  while (end_ - begin_ < want && !ended_) {
    // Room for the rest of `want` and at least one block: the unconsumed bytes move to the front.
    const std::size_t piece = ZSTD_DStreamOutSize();
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    const std::size_t need = std::max(want, end_ + piece);
    if (buf_.size() < need) buf_.resize(std::max(need, 2 * buf_.size()));
    ZSTD_outBuffer out{buf_.data(), buf_.size(), end_};
    ZSTD_inBuffer in{blob_.data(), blob_.size(), in_};
    const std::size_t r = ZSTD_decompressStream(dctx_.get(), &out, &in);
    if (ZSTD_isError(r)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(r));
    const std::size_t got = out.pos - end_;
    if (got > left_) return Status::Corruption("zstd: the frame holds more than its header says");
    left_ -= got;
    end_ = out.pos;
    in_ = in.pos;
    if (r == 0) {
      if (left_ != 0) return Status::Corruption("zstd: short frame");
      if (in_ != blob_.size()) return Status::Corruption("zstd: bytes after the frame");
      ended_ = true;
    } else if (got == 0 && in_ == blob_.size()) {
      return Status::Corruption("zstd: the frame is cut short");
    }
  }
  return std::string_view(buf_.data() + begin_, end_ - begin_);
}

}  // namespace isms::audit
