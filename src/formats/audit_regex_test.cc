#include "formats/audit_regex.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "formats/audit_classify.h"

namespace isms {
namespace {

using Spans = std::vector<std::pair<size_t, size_t>>;

// std::regex_search's answer in FastRegex's terms.
bool StdSearch(const std::string& pattern, bool icase, std::string_view text, Spans& spans) {
  auto flags = std::regex::ECMAScript;
  if (icase) flags |= std::regex::icase;
  const std::regex re(pattern, flags);
  std::cmatch m;
  if (!std::regex_search(text.data(), text.data() + text.size(), m, re)) return false;
  spans.assign(m.size(), {FastRegex::kUnset, FastRegex::kUnset});
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i].matched) {
      spans[i] = {static_cast<size_t>(m[i].first - text.data()),
                  static_cast<size_t>(m[i].second - text.data())};
    }
  }
  return true;
}

// Same match and same captures as std::regex_search, or a reason why not.
::testing::AssertionResult Agrees(const std::string& pattern, bool icase, std::string_view text) {
  std::optional<FastRegex> fast = FastRegex::Compile(pattern, icase);
  if (!fast) return ::testing::AssertionFailure() << "'" << pattern << "' is outside the subset";
  Spans want, got;
  const bool matched = StdSearch(pattern, icase, text, want);
  const FastRegex::Outcome o = fast->Search(text, got);
  if (o == FastRegex::Outcome::kGaveUp) return ::testing::AssertionSuccess();
  if ((o == FastRegex::Outcome::kMatch) != matched) {
    return ::testing::AssertionFailure()
           << "'" << pattern << "' on '" << text << "': std::regex " << (matched ? "matches" : "does not match");
  }
  if (matched && got != want) {
    std::string detail;
    for (size_t i = 0; i < want.size(); ++i) {
      detail += " [" + std::to_string(i) + ": std " + std::to_string(want[i].first) + "-" +
                std::to_string(want[i].second) + ", fast " +
                (i < got.size() ? std::to_string(got[i].first) + "-" + std::to_string(got[i].second)
                                : std::string("none")) +
                "]";
    }
    return ::testing::AssertionFailure() << "'" << pattern << "' on '" << text << "':" << detail;
  }
  return ::testing::AssertionSuccess();
}

// "(?<user>x)" -> "(x)": the classifier's translation of named groups.
std::string Unnamed(const std::string& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p.compare(i, 3, "(?<") == 0 && i + 3 < p.size() && p[i + 3] != '=' && p[i + 3] != '!') {
      out += '(';
      i = p.find('>', i);
      continue;
    }
    if (p[i] == '\\' && i + 1 < p.size()) out += p[i++];
    out += p[i];
  }
  return out;
}

TEST(FastRegex, TakesEveryBuiltInRuleRegex) {
  int regexes = 0;
  for (const AuditRule& r : BuiltInAuditRules()) {
    for (const std::string* re : {&r.regex, &r.app_regex}) {
      if (re->empty()) continue;
      ++regexes;
      EXPECT_TRUE(FastRegex::Compile(Unnamed(*re), r.icase).has_value()) << r.name << ": " << *re;
    }
  }
  EXPECT_GE(regexes, 20);
}

// Real lines of the formats the built-in rules read, and near misses.
const char* const kLines[] = {
    "Accepted publickey for alice from 10.0.0.9 port 51234 ssh2: ED25519 SHA256:abc",
    "Accepted password for root from 2001:db8::7 port 22 ssh2",
    "Accepted keyboard-interactive/pam for bob from 10.0.0.9 port x ssh2",
    "Disconnected from user alice 10.0.0.9 port 51234",
    "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
    "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
    "pam_unix(su-l:session): session closed for user root",
    "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    "alice : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
    "mallory : user NOT in sudoers ; TTY=pts/3 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
    "(to root) alice on pts/2",
    "Successful su for root by alice",
    "FAILED su for root by mallory",
    "DHCPACK on 10.0.0.5 to aa:bb:cc:dd:ee:ff (laptop-042) via eth0",
    "DHCPACK on 10.0.0.6 to 00:16:3e:12:34:56 via eth0",
    "DHCPRELEASE of 10.0.0.5 from aa:bb:cc:dd:ee:ff (laptop-042) via eth0 (found)",
    "DHCPACK(br-lan) 192.168.1.100 00:11:22:33:44:55 printer-2",
    "3858437658 DHCPACK(eth0) 10.1.1.9 00:11:22:33:44:66",
    "DHCPRELEASE(br-lan) 192.168.1.100 00:11:22:33:44:55",
    "203.0.113.7:51234 [alice] Peer Connection Initiated with [AF_INET]203.0.113.7:51234",
    "alice/203.0.113.7:51234 Peer Connection Initiated with [AF_INET]203.0.113.7:51234",
    "alice/[AF_INET6]2001:db8::1:443 SIGTERM[soft,remote-exit] received, client-instance exiting",
    "type=ANOM_PROMISCUOUS msg=audit(1700000000.123:42): dev=eth0 prom=256 old_prom=0 auid=1000",
    "type=USER_LOGIN msg=audit(1700000000.1:7): pid=1 uid=0 auid=4294967295 ses=4294967295 "
    "msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.9 terminal=ssh "
    "res=failed'",
    "/home/alice/x.exe: Win.Trojan.Agent-123 FOUND",
    "Trojan detected in C:\\Users\\bob\\a.dll; MALWARE removed",
    "",
    "Accepted ",
    "  ",
};

TEST(FastRegex, AgreesWithStdRegexOnTheBuiltInRulesAndRealLines) {
  for (const AuditRule& r : BuiltInAuditRules()) {
    if (r.regex.empty()) continue;
    const std::string p = Unnamed(r.regex);
    for (const char* line : kLines) EXPECT_TRUE(Agrees(p, r.icase, line)) << r.name;
  }
}

TEST(FastRegex, AgreesWithStdRegexOnTheFeaturesItTakes) {
  struct Case {
    const char* pattern;
    bool icase;
    std::vector<std::string> texts;
  };
  const std::vector<Case> cases = {
      {"a|ab|abc", false, {"abc", "xab", "b"}},
      {"(a|ab)(c|bcd)(d*)", false, {"abcd", "abcdd", "acd"}},
      {"a*?b", false, {"aaab", "b", "aaa"}},
      {"(a+?)(a*)", false, {"aaaa"}},
      {"x{2,3}y", false, {"xy", "xxy", "xxxxy"}},
      {"x{2,3}?", false, {"xxxx"}},
      {"x{2,}", false, {"x", "xxxxx"}},
      {"(x){3}", false, {"xxxx"}},
      {"^ab$", false, {"ab", "abc", "cab"}},
      {"\\bfoo\\b", false, {"foo", "a foo b", "foobar", "_foo"}},
      {"\\Boo\\B", false, {"foo", "fooo", "oo"}},
      {"[a-c-]+", false, {"-ab-cd"}},
      {"[^\\s(]+\\(", false, {"root(uid=0)", "a b("}},
      {"[\\d.:]+", false, {"ip 10.0.0.1:80 x"}},
      {"[\\]\\\\]", false, {"a]b", "a\\b"}},
      {"\\W+\\w", false, {"!!a", "a"}},
      {"\\S+\\s\\D", false, {"ab\tc", "ab 1"}},
      {"hello", true, {"HeLLo world", "help"}},
      {"[a-f]+z", true, {"ABFz", "ABGz"}},
      {"[^a]", true, {"Aa", "Ab"}},
      {"(?:(a)|b)+", false, {"ab", "ba"}},
      {"((a)|b)+c", false, {"abc", "bac"}},
      {"(z)?(?:(a)|b)*c", false, {"abc"}},
      {"(a(b)?)+", false, {"aba", "aab"}},
      {".+", false, {"a\nb", "\r"}},
      {"a.c",
       false,
       {"a\rc",
        "a\xff"
        "c"}},
      {"\\t\\(x\\)", false, {"\t(x)"}},
      {"(?:ab)*c", false, {"ababc", "c", "abab"}},
      {"(a|b)*?c", false, {"abbac"}},
      {"\\d+$", false, {"abc 123", "123 abc"}},
      {"(\\d+)(?:\\(uid=\\d+\\))? by ([^\\s(]*)", false, {"root(uid=0) by alice(uid=1)", "7 by "}},
      // Runs of plain bytes (matched as one literal), after a star and at the end of the text.
      {"ab*cde|abx", false, {"abbcde", "abx", "abcd", "acdeabx"}},
      {"(?:xyz)+q", false, {"xyzxyzq", "xyzq", "xyxyzq", "xyz"}},
      {"a.*foo bar", false, {"a foo bar foo bar", "afoo ba", "foo bar"}},
      {"USER=([^ ;]+) ;.*COMMAND=(.*)$",
       false,
       {"x : USER=root ; COMMAND=/bin/ls -l", "USER=root"}},
      {"Hello World", true, {"hello world", "HELLO WORLD!", "Hello Worl"}},
      {"foo bar$", false, {"foo ba", "a foo bar", "foo bar "}},
      // Runs that cannot take the byte after them (tried at their end only), with captures
      // before and after a backtracking point.
      {"^Accepted (\\S+) for (\\S+) from (\\S+) port (\\d+)",
       false,
       {"Accepted publickey for alice from 10.0.0.9 port 51234 ssh2",
        "Accepted  for x from y port z", "Accepted a for b from c port"}},
      {"(a|ab)([^c]*)c", false, {"abxc", "ac", "abab", "xabc"}},
      {"(\\S+) (\\S+)x|(\\S+) (\\S+)", false, {"ab cd", "ab cdx", "a  b"}},
      {"(a*)b", false, {"aaab", "aaa", "b"}},
      {"([^)]*)\\)(?: \\((\\S+)\\))?", false, {"x) (y)", "x) (y", ")"}},
  };
  for (const Case& c : cases) {
    for (const std::string& t : c.texts) EXPECT_TRUE(Agrees(c.pattern, c.icase, t));
  }
}

TEST(FastRegex, AgreesWithStdRegexOnRandomTexts) {
  const std::vector<std::string> patterns = {
      "a(b|bc)*c",      "(a|b)+?b(c)?",      "^(ab|a)(bc|c)?$",   "x[ab]{1,3}y|xy", "\\ba+\\b",
      "(a*)b(a*)",      "(?:a|(b))+c",       "[^a ]+ a",          "a?b?c?$",        "(ab?){2}",
      "(abc|ab)c+",     "xy(ab)*xy",         "a.*ab c",           "(?:ab)+?ab",     "([^a]*)a(b)?",
      "(a|ab)(\\S+) b", "(?:(a)|b)([^ ]*) ", "(x)?([^y]+?)y(c*)",
  };
  std::mt19937 rng(20261129);
  const std::string alphabet = "abcxy ";
  for (const std::string& p : patterns) {
    for (int i = 0; i < 400; ++i) {
      std::string t;
      const int len = static_cast<int>(rng() % 12);
      for (int k = 0; k < len; ++k) t += alphabet[rng() % alphabet.size()];
      ASSERT_TRUE(Agrees(p, false, t));
    }
  }
}

TEST(FastRegex, LeavesTheRestToStdRegex) {
  for (const char* p : {"(?=a)", "(?!a)b", "\\x41", "\\u0041", "[[:alpha:]]", "[]a]", "[^]",
                        "(a*)*", "(a?)+", "(a|)*", "(a*){2,3}", "a{3,2}", "a**", "\\q", "*a",
                        "a{", "(a", "a)", "[a", "[\\b]", "\\cJ", "\\0"}) {
    EXPECT_FALSE(FastRegex::Compile(p, false).has_value()) << p;
  }
  // A repeat of something that matches empty a fixed number of times is fine.
  EXPECT_TRUE(FastRegex::Compile("(a?){2}", false).has_value());
}

TEST(FastRegex, GivesUpRatherThanRunForever) {
  std::optional<FastRegex> re = FastRegex::Compile("(a+)+b", false);
  ASSERT_TRUE(re.has_value());
  Spans spans;
  EXPECT_EQ(re->Search(std::string(40, 'a'), spans), FastRegex::Outcome::kGaveUp);
  EXPECT_EQ(re->Search("aab", spans), FastRegex::Outcome::kMatch);
}

}  // namespace
}  // namespace isms
