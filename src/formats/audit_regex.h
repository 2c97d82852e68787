// A fast matcher for the subset of ECMAScript regular expressions that audit rules use
// (formats/audit_classify.h), with std::regex's results: std::regex (libstdc++) spends
// microseconds a search on locale look-ups, and classification runs on every received record.
//
// The subset: literal bytes and escaped punctuation; `.`; \d \D \s \S \w \W (ASCII, as
// libstdc++'s "C" locale has them); bracket classes with ranges, negation and those escapes;
// groups (...) and (?:...); alternation; the quantifiers * + ? {n} {n,} {n,m}, greedy or lazy
// (`?` after them); the assertions ^ $ \b \B (not multi-line); \t \n \r \f \v; ASCII case
// folding. Compile() gives nullopt for anything else (look-ahead, \x and \u escapes, POSIX
// classes, an unbounded repeat of something that can match empty, ...): the caller keeps
// std::regex for that pattern. Named groups are translated to numbered ones before.
//
// Matching is a backtracking machine in ECMAScript order (leftmost match; alternatives and
// repeats tried in priority order), so it gives the same match and captures as libstdc++'s
// std::regex_search — which, unlike ECMAScript, keeps a repeated group's capture from an earlier
// iteration. Its work per search is bounded:
// past the bound it answers kGaveUp and the caller asks std::regex.
//
// Thread-safety: a compiled FastRegex is immutable; Search may run on many threads at once.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isms {

class FastRegex {
 public:
  // `pattern` uses numbered groups only (TranslateNamedGroups). nullopt: outside the subset.
  static std::optional<FastRegex> Compile(std::string_view pattern, bool icase);

  enum class Outcome { kNoMatch, kMatch, kGaveUp };
  static constexpr std::size_t kUnset = static_cast<std::size_t>(-1);

  // The leftmost match in `text`, as std::regex_search. On kMatch, `groups[i]` is the [begin,
  // end) offset range of group i (0: the whole match), {kUnset, kUnset} when it took no part.
  Outcome Search(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& groups) const;

  std::size_t group_count() const { return groups_; }  // including group 0

 private:
  enum class Op : std::uint8_t { kByte, kAny, kClass, kStar, kSplit, kJmp, kSave, kBol, kEol,
                                 kWordB, kNotWordB, kMatch, kLiteral };
  // kStar: a repeat, without bound, of one byte, `.` or one class (`what` 0, 1, 2), greedy or
  // lazy: one backtracking frame for all its lengths.
  struct Inst {
    Op op;
    std::uint8_t byte = 0;
    std::uint8_t what = 0;
    bool greedy = true;
    std::int16_t next = -1;  // kStar: the byte that must follow it, -1 when not known
    std::uint32_t x = 0;  // class index, jump or preferred split target, save slot
    std::uint32_t y = 0;  // the other split target
    // kStar whose `next` byte it cannot take: the run's end is the only length to try (no
    // backtracking frame)
    bool possessive = false;
  };
  // The longest (greedy) or shortest (lazy) length of kStar `in` in [lo, hi] after which its
  // `next` byte follows; npos when none.
  static std::size_t Candidate(const Inst& in, const unsigned char* data, std::size_t n,
                               std::size_t lo, std::size_t hi, bool greedy);
  friend class FastRegexCompiler;

  std::vector<Inst> prog_;
  std::vector<std::bitset<256>> classes_;
  std::string literals_;  // kLiteral: bytes [x, x + y) of this, compared at once
  std::size_t groups_ = 1;
  bool anchored_ = false;       // starts with ^: only offset 0 can match
  int first_byte_ = -1;         // every match starts with this byte (memchr for candidates)
};

}  // namespace isms
