// zstd frames, one a value with its content size in the frame's header: the audit log's blocks
// and tail batches (log_store.cc), and the issued monthly reports (app/report.cc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace isms::audit {

// One frame holding `raw`, at zstd level `level`. With `workers` > 0 the frame is made on that
// many more threads where the library has them (large values); with 0, on this thread, in
// memory kept per thread between calls (many small values).
std::string CompressFrame(std::string_view raw, int level, int workers = 0);

// The bytes of the frame `blob`; Corruption when it is not one frame of known size of at most
// `max_bytes`, or does not decompress.
Result<std::string> DecompressFrame(std::string_view blob, std::size_t max_bytes);

}  // namespace isms::audit
