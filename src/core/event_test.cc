#include "core/event.h"

#include <gtest/gtest.h>

namespace isms {
namespace {

Event Sample() {
  Event e;
  e.id = 7;
  e.type = "isms.approved";
  e.at = ParseInstant("2026-03-02T09:00:00Z").value();
  e.recorded_at = ParseInstant("2026-03-02T10:00:00Z").value();
  e.actor = "alice";
  e.attrs = {{"evidence", "MSG-3"}, {"submission", "4"}};
  return e;
}

TEST(EventCanonical, IsTheDocumentedBytes) {
  Event e;
  e.id = 1;
  e.type = "a";
  e.actor = "b";
  const std::string expected = std::string("\x01", 1) +                // version
                               std::string("\0\0\0\0\0\0\0\x01", 8) +  // id
                               std::string(
                                   "\0\0\0\x01"
                                   "a",
                                   5) +                      // type
                               std::string("\0\0\0\0", 4) +  // subject
                               std::string(16, '\0') +       // at, recorded_at
                               std::string(
                                   "\0\0\0\x01"
                                   "b",
                                   5) +                      // actor
                               std::string("\0", 1) +        // by_buyer
                               std::string("\0\0\0\0", 4) +  // note
                               std::string("\0\0\0\0", 4) +  // no attributes
                               std::string("\0", 1);         // no supersedes
  EXPECT_EQ(EncodeEventCanonical(e), expected);
}

TEST(EventCanonical, SortsAttributesAndTellsEveryFieldApart) {
  Event a = Sample();
  Event b = Sample();
  std::swap(b.attrs[0], b.attrs[1]);
  EXPECT_EQ(EncodeEventCanonical(a), EncodeEventCanonical(b)) << "attribute order is not content";
  const std::string base = EncodeEventCanonical(a);
  Event c = Sample();
  c.note = "x";
  EXPECT_NE(EncodeEventCanonical(c), base);
  c = Sample();
  c.by_buyer = true;
  EXPECT_NE(EncodeEventCanonical(c), base);
  c = Sample();
  c.supersedes = 3;
  EXPECT_NE(EncodeEventCanonical(c), base);
  c = Sample();
  c.recorded_at += std::chrono::milliseconds(1);
  EXPECT_NE(EncodeEventCanonical(c), base);
  // Lengths keep fields apart: moving a byte from one string to the next changes the bytes.
  Event d1 = Sample(), d2 = Sample();
  d1.type = "ab";
  d1.subject = "c";
  d2.type = "a";
  d2.subject = "bc";
  EXPECT_NE(EncodeEventCanonical(d1), EncodeEventCanonical(d2));
}

}  // namespace
}  // namespace isms
