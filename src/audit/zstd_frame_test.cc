#include "audit/zstd_frame.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace isms::audit {
namespace {

// Content that compresses, as a tail batch of records does, and is longer than the decoder's
// window and its pieces (several MB), with bytes that repeat only in part.
std::string Content(std::size_t n) {
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < n) {
    out += "record " + std::to_string(out.size()) + " host-" + std::to_string(rng() % 1000) + " ";
    for (int i = 0; i < 20; ++i) out.push_back(static_cast<char>('a' + rng() % 26));
  }
  out.resize(n);
  return out;
}

// Reads the frame `r` was opened on to its end or its first error, asking for `want` bytes at a
// time and consuming `take` of what each Fill returns; what was read goes to `got`.
Status ReadToEnd(FrameReader& r, std::string& got, std::size_t want = 1 << 20,
                 std::size_t take = std::string::npos) {
  while (!r.done()) {
    Result<std::string_view> avail = r.Fill(want);
    if (!avail.ok()) return avail.status();
    const std::size_t n = std::min(take, avail->size());
    got.append(avail->substr(0, n));
    r.Consume(n);
  }
  return Status::Ok();
}

TEST(FrameReaderTest, ReadsAFrameAPieceAtATimeAsDecompressFrameReadsItWhole) {
  const std::string content = Content(5'000'000);
  const std::string frame = CompressFrame(content, -1);
  ASSERT_EQ(*DecompressFrame(frame, content.size()), content);
  FrameReader r;  // one reader, used again for each frame
  for (auto [want, take] : {std::pair<std::size_t, std::size_t>{1, 1000},
                            {1, 7},
                            {100'000, 100'000},
                            {300'000, 1},
                            {6'000'000, 6'000'000}}) {
    ASSERT_TRUE(r.Open(frame, content.size()).ok());
    std::string got;
    EXPECT_TRUE(ReadToEnd(r, got, want, take).ok()) << want << " " << take;
    EXPECT_EQ(got, content) << want << " " << take;
  }
}

TEST(FrameReaderTest, AFillOfMoreThanIsLeftGivesWhatIsLeft) {
  const std::string content = Content(1000);
  const std::string frame = CompressFrame(content, -1);
  FrameReader r;
  ASSERT_TRUE(r.Open(frame, 1000).ok());
  Result<std::string_view> all = r.Fill(5000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, content);
  EXPECT_FALSE(r.done()) << "not yet consumed";
  r.Consume(all->size());
  EXPECT_TRUE(r.done());
}

TEST(FrameReaderTest, AnEmptyFrameEndsAtOnce) {
  const std::string frame = CompressFrame("", -1);
  FrameReader r;
  ASSERT_TRUE(r.Open(frame, 10).ok());
  Result<std::string_view> avail = r.Fill(1);
  ASSERT_TRUE(avail.ok());
  EXPECT_TRUE(avail->empty());
  EXPECT_TRUE(r.done());
}

TEST(FrameReaderTest, RefusesWhatIsNotOneWholeFrameOfKnownSize) {
  const std::string content = Content(2'000'000);
  const std::string frame = CompressFrame(content, -1);
  FrameReader r;
  EXPECT_FALSE(r.Open("not a frame", 100).ok());
  EXPECT_FALSE(r.Open(frame, content.size() - 1).ok()) << "larger than allowed";
  // Cut short: the error comes when the reading reaches the cut.
  for (std::size_t keep : {frame.size() / 2, frame.size() - 1}) {
    ASSERT_TRUE(r.Open(std::string_view(frame).substr(0, keep), content.size()).ok());
    std::string got;
    EXPECT_EQ(ReadToEnd(r, got).code(), StatusCode::kCorruption) << keep;
  }
  // Bytes after the frame, and a second frame after it.
  for (const std::string& after : {std::string("x"), CompressFrame("more", -1)}) {
    const std::string longer = frame + after;
    ASSERT_TRUE(r.Open(longer, content.size()).ok());
    std::string got;
    EXPECT_EQ(ReadToEnd(r, got).code(), StatusCode::kCorruption);
  }
  // A changed byte inside the compressed data.
  std::string flipped = frame;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  ASSERT_TRUE(r.Open(flipped, content.size()).ok());
  std::string got;
  const Status s = ReadToEnd(r, got);
  EXPECT_TRUE(!s.ok() || got != content) << "a damaged frame does not read as the original";
}

}  // namespace
}  // namespace isms::audit
