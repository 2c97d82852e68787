#include "audit/zstd_frame.h"

#include <zstd.h>

#include <cstdlib>
#include <memory>

namespace isms::audit {

using CctxPtr = std::unique_ptr<ZSTD_CCtx, std::size_t (*)(ZSTD_CCtx*)>;

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

Result<std::string> DecompressFrame(std::string_view blob, std::size_t max_bytes) {
  const unsigned long long n = ZSTD_getFrameContentSize(blob.data(), blob.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > max_bytes) {
    return Status::Corruption("not a zstd frame of known size");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(),
                                                                            ZSTD_freeDCtx);
  std::string out(static_cast<std::size_t>(n), '\0');
  const std::size_t got =
      ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), blob.data(), blob.size());
  if (ZSTD_isError(got) || got != n) {
    return Status::Corruption(std::string("zstd: ") +
                              (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame"));
  }
  return out;
}

}  // namespace isms::audit
