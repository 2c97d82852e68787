#include "formats/syslog_framing.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

std::vector<SyslogFrame> Decode(std::string_view stream, size_t max = 64 * 1024) {
  SyslogFrameDecoder d(max);
  SyslogFrames out;
  d.Feed(stream, out);
  d.Finish(out);
  return out.Copy();
}

SyslogFrame Counted(std::string data, std::uint8_t flags = 0) {
  return {std::move(data), true, flags};
}
SyslogFrame Line(std::string data, std::uint8_t flags = 0) {
  return {std::move(data), false, flags};
}

// A stream mixing both framings, as a relay that switches senders might produce.
const std::string kStream =
    "70 <38>1 2026-03-01T09:15:02Z bastion-01 sshd 4242 - - Accepted publickey"
    "<13>Mar  1 09:15:03 gw kernel: [UFW BLOCK] IN=eth0\r\n"
    "\n"
    "11 <13>1 - - -\n"
    "2026-03-01 starts with digits\n"
    "17 <13>1 - h a - - -"
    "<14>last line without LF";

const std::vector<SyslogFrame> kExpected = {
    Counted("<38>1 2026-03-01T09:15:02Z bastion-01 sshd 4242 - - Accepted publickey"),
    Line("<13>Mar  1 09:15:03 gw kernel: [UFW BLOCK] IN=eth0"),
    Counted("<13>1 - - -"),
    Line("2026-03-01 starts with digits"),
    Counted("<13>1 - h a - - -"),
    Line("<14>last line without LF", kAuditIncomplete),
};

TEST(SyslogFramingTest, MixedFramingInOneStream) {
  std::vector<SyslogFrame> got = Decode(kStream);
  ASSERT_EQ(got.size(), kExpected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], kExpected[i]) << i;
}

TEST(SyslogFramingTest, EveryTwoWaySplitGivesTheSameFrames) {
  const std::vector<SyslogFrame> whole = Decode(kStream);
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SyslogFrameDecoder d;
    SyslogFrames out;
    d.Feed(std::string_view(kStream).substr(0, cut), out);
    d.Feed(std::string_view(kStream).substr(cut), out);
    d.Finish(out);
    EXPECT_EQ(out.Copy(), whole) << "cut at " << cut;
  }
}

TEST(SyslogFramingTest, ByteByByteGivesTheSameFrames) {
  SyslogFrameDecoder d;
  SyslogFrames out;
  for (char c : kStream) d.Feed(std::string_view(&c, 1), out);
  d.Finish(out);
  EXPECT_EQ(out.Copy(), Decode(kStream));
}

TEST(SyslogFramingTest, EachPieceMayGoToAnotherFramesValue) {
  // As a listener does: each read's frames are handed on whole, and a frame that a read began
  // and did not end goes on in the decoder, into whichever value the next read fills (here two
  // in turn, cleared and used again).
  for (size_t piece : {1, 3, 7, 50}) {
    SyslogFrameDecoder d;
    std::vector<SyslogFrame> all;
    SyslogFrames values[2];
    size_t n = 0;
    for (size_t at = 0; at < kStream.size(); at += piece, ++n) {
      SyslogFrames& frames = values[n % 2];
      frames.clear();
      d.Feed(std::string_view(kStream).substr(at, piece), frames);
      for (const SyslogFrame& f : frames.Copy()) all.push_back(f);
    }
    SyslogFrames last;
    d.Finish(last);
    for (const SyslogFrame& f : last.Copy()) all.push_back(f);
    EXPECT_EQ(all, kExpected) << "pieces of " << piece;
  }
}

TEST(SyslogFramingTest, ReadsIntoTheFramesBufferGiveTheSameFrames) {
  // As a listener reads: straight into the room the decoder gives at the end of the value the
  // read's frames go to (after a frame an earlier read began), fewer bytes than there is room
  // for, none at all now and then, each read's value handed on and another filled next. (Feed is
  // Room, a copy and Filled: the frames are compared with those written out by hand.)
  for (size_t piece : {1, 2, 5, 13, 64, 1000}) {
    SyslogFrameDecoder d;
    std::vector<SyslogFrame> all;
    SyslogFrames values[2];
    size_t n = 0;
    for (size_t at = 0; at < kStream.size(); ++n) {
      SyslogFrames& frames = values[n % 2];
      frames.clear();
      const size_t k = n % 4 == 3 ? 0 : std::min(piece, kStream.size() - at);
      char* room = d.Room(frames, piece + 7);
      kStream.copy(room, k, at);
      d.Filled(frames, k);
      at += k;
      for (const SyslogFrame& f : frames.Copy()) all.push_back(f);
    }
    SyslogFrames last;
    d.Finish(last);
    for (const SyslogFrame& f : last.Copy()) all.push_back(f);
    EXPECT_EQ(all, kExpected) << "reads of " << piece;
  }
}

TEST(SyslogFramingTest, AnOversizeFrameReadInPiecesIsTruncatedAndTheBufferStaysBounded) {
  SyslogFrameDecoder d(16);
  SyslogFrames out;
  const std::string big(1000, 'y');
  for (int i = 0; i < 50; ++i) {
    big.copy(d.Room(out, big.size()), big.size());
    d.Filled(out, big.size());
    EXPECT_LE(d.buffered(), 17u);
    EXPECT_TRUE(out.empty());
  }
  *d.Room(out, 1) = '\n';
  d.Filled(out, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.data(0), std::string(16, 'y'));
  EXPECT_EQ(out.flags(0), kAuditTruncated);
}

TEST(SyslogFramingTest, AValueMovedFromIsEmptyAndFillsAgain) {
  SyslogFrameDecoder d;
  SyslogFrames a;
  d.Feed("<13>one\n<13>tw", a);
  SyslogFrames b = std::move(a);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.data(0), "<13>one");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from values are reused
  d.Feed("o\n", a);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.data(0), "<13>two");
  SyslogFrames c;
  c = std::move(a);
  d.Feed("<13>three\n", a);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.data(0), "<13>three");
  EXPECT_EQ(c.data(0), "<13>two");
}

TEST(SyslogFramingTest, FramesAddedByHandKeepTheirBytesAndFlags) {
  SyslogFrames f;
  f.Add("<13>one", 0);
  f.Add("", kAuditTruncated, true);
  f.Add("<14>three", kAuditIncomplete);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f.data(0), "<13>one");
  EXPECT_EQ(f.data(1), "");
  EXPECT_TRUE(f.octet_counted(1));
  EXPECT_EQ(f.flags(1), kAuditTruncated);
  EXPECT_EQ(f.data(2), "<14>three");
  EXPECT_EQ(f.flags(2), kAuditIncomplete);
  f.clear();
  EXPECT_TRUE(f.empty());
}

TEST(SyslogFramingTest, EveryThreeWaySplitGivesTheSameFrames) {
  const std::string s = "12 <13>1 - - -\nab\r\n3 xyz10 0123456789";
  const std::vector<SyslogFrame> whole = Decode(s);
  ASSERT_EQ(whole.size(), 4u);
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); ++j) {
      SyslogFrameDecoder d;
      SyslogFrames out;
      d.Feed(std::string_view(s).substr(0, i), out);
      d.Feed(std::string_view(s).substr(i, j - i), out);
      d.Feed(std::string_view(s).substr(j), out);
      d.Finish(out);
      ASSERT_EQ(out.Copy(), whole) << i << "," << j;
    }
  }
}

TEST(SyslogFramingTest, OversizeCountedFrameIsTruncatedAndTheNextIsFine) {
  const std::string s = "20 0123456789abcdefghij5 hello";
  const std::vector<SyslogFrame> got = Decode(s, 8);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Counted("01234567", kAuditTruncated));
  EXPECT_EQ(got[1], Counted("hello"));
}

TEST(SyslogFramingTest, OversizeLineIsTruncatedAndTheNextIsFine) {
  const std::vector<SyslogFrame> got = Decode("<13>abcdefghijkl\n<13>ok\n", 8);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Line("<13>abcd", kAuditTruncated));
  EXPECT_EQ(got[1], Line("<13>ok"));
}

TEST(SyslogFramingTest, LineOfExactlyTheLimitWithCrlfIsNotTruncated) {
  const std::vector<SyslogFrame> got = Decode("<13>abcd\r\n", 8);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Line("<13>abcd"));
}

TEST(SyslogFramingTest, DigitsWithoutSpaceAreALine) {
  const std::vector<SyslogFrame> got = Decode("1234567890123 x\n42\n");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Line("1234567890123 x"));
  EXPECT_EQ(got[1], Line("42"));
}

TEST(SyslogFramingTest, LeadingZeroIsALine) {
  const std::vector<SyslogFrame> got = Decode("0 x\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Line("0 x"));
}

TEST(SyslogFramingTest, StreamEndingInsideACountedFrame) {
  const std::vector<SyslogFrame> got = Decode("10 abc");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Counted("abc", kAuditIncomplete));
}

TEST(SyslogFramingTest, EmptyStreamAndBlankLinesGiveNoFrames) {
  EXPECT_TRUE(Decode("").empty());
  EXPECT_TRUE(Decode("\n\r\n\n").empty());
}

TEST(SyslogFramingTest, CountedFrameMayHoldLf) {
  const std::vector<SyslogFrame> got = Decode("7 a\nb\nc\n\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Counted("a\nb\nc\n\n"));
}

TEST(SyslogFramingTest, BufferStaysBounded) {
  SyslogFrameDecoder d(16);
  SyslogFrames out;
  const std::string big(1000, 'x');
  for (int i = 0; i < 100; ++i) {
    d.Feed(big, out);
    EXPECT_LE(d.buffered(), 17u);
    EXPECT_TRUE(out.empty());
  }
  d.Feed("\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.data(0).size(), 16u);
  EXPECT_EQ(out.flags(0), kAuditTruncated);
}

}  // namespace
}  // namespace isms
