// XmlStream's two backends: the in-house tokenizer (the fast path) must give exactly the events
// expat gives for every document it takes, refuse every document expat refuses, at the same
// position, and leave to expat every document it does not take.
#include "formats/xml_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "isms_test_paths.h"

namespace isms {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Which elements capture their text: all, none, or every other one (so that captured and
// skipped text alternate, as in the scan readers).
enum class Capture { kAll, kNone, kAlternate };

// Records every event as one line: name, depth, attributes, the text handed over, the byte
// offset and the position ErrorHere gives for it.
class Recorder final : public XmlStream {
 public:
  explicit Recorder(Capture capture) : capture_(capture) {}

  std::vector<std::string> events;
  // When set, the handler stops the parse at the start of the element with this name.
  std::string stop_at;

 private:
  void OnStart(std::string_view name, const XmlAttributes& attrs, int depth) override {
    std::string e = "start " + std::string(name) + " depth=" + std::to_string(depth);
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      e += " [" + std::string(attrs[i].first) + "=" + std::string(attrs[i].second) + "]";
      EXPECT_EQ(attrs.Get(attrs[i].first), attrs[i].second);
    }
    e += " text=[" + text() + "] " + Where();
    events.push_back(std::move(e));
    if (name == stop_at) Stop(ErrorHere("stopped by the handler"));
    ++starts_;
    if (capture_ == Capture::kAll || (capture_ == Capture::kAlternate && starts_ % 2 == 1)) {
      CaptureText();
    }
  }
  void OnEnd(std::string_view name, int depth) override {
    events.push_back("end " + std::string(name) + " depth=" + std::to_string(depth) + " text=[" +
                     text() + "] " + Where());
  }
  void OnDocumentEnd() override { events.push_back("document end"); }

  std::string Where() const {
    return "offset=" + std::to_string(ByteOffset()) + " " + ErrorHere("here").message();
  }

  Capture capture_;
  int starts_ = 0;
};

struct Outcome {
  Status status;
  std::vector<std::string> events;
  XmlBackend used;
};

Outcome ParseWith(std::string_view data, XmlBackend backend, Capture capture = Capture::kAll,
                  const std::string& stop_at = "") {
  Recorder r(capture);
  r.stop_at = stop_at;
  r.set_backend(backend);
  Status s = r.Parse(data, "doc.xml");
  return Outcome{s, r.events, r.backend_used()};
}

// Both backends, every capture mode: the same status and the same events.
void ExpectSameEvents(std::string_view data, const std::string& what) {
  if (data.empty()) return;  // refused before any backend runs
  for (Capture capture : {Capture::kAll, Capture::kNone, Capture::kAlternate}) {
    SCOPED_TRACE(what + " capture mode " + std::to_string(static_cast<int>(capture)));
    const Outcome expat = ParseWith(data, XmlBackend::kExpat, capture);
    const Outcome fast = ParseWith(data, XmlBackend::kFast, capture);
    EXPECT_EQ(expat.used, XmlBackend::kExpat);
    EXPECT_EQ(fast.used, XmlBackend::kFast);
    EXPECT_EQ(fast.status, expat.status);
    ASSERT_EQ(fast.events.size(), expat.events.size());
    for (std::size_t i = 0; i < fast.events.size(); ++i) {
      ASSERT_EQ(fast.events[i], expat.events[i]) << "event " << i;
    }
  }
}

std::vector<std::filesystem::path> XmlFilesUnder(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string();
    if (ext == ".xml" || ext == ".nessus") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(XmlStreamTest, SharedTestDataGivesTheSameEventsFromBothBackends) {
  const std::filesystem::path dir = ISMS_SHARED_TESTDATA;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "shared test data absent: " << dir;
  const auto files = XmlFilesUnder(dir);
  ASSERT_FALSE(files.empty());
  int nessus = 0;
  int openvas = 0;
  for (const auto& path : files) {
    const std::string data = ReadFile(path);
    ExpectSameEvents(data, path.string());
    const Outcome fast = ParseWith(data, XmlBackend::kAuto);
    EXPECT_TRUE(fast.status.ok()) << path << ": " << fast.status.ToString();
    EXPECT_EQ(fast.used, XmlBackend::kFast) << path;
    EXPECT_GT(fast.events.size(), 2u) << path;
    if (path.string().find("tenable/nessus") != std::string::npos) ++nessus;
    if (path.string().find("defectdojo/openvas") != std::string::npos) ++openvas;
  }
  EXPECT_EQ(nessus, 5);
  EXPECT_EQ(openvas, 4);
}

TEST(XmlStreamTest, InTreeFixturesGiveTheSameEventsFromBothBackends) {
  const auto files = XmlFilesUnder(std::filesystem::path(ISMS_SOURCE_DIR) / "tests/fixtures");
  ASSERT_GE(files.size(), 5u);
  for (const auto& path : files) {
    const std::string data = ReadFile(path);
    ExpectSameEvents(data, path.string());
    // Every truncation of a fixture at a tenth of its length: refused alike, with the same
    // events up to the refusal.
    for (int tenth = 1; tenth < 10; ++tenth) {
      const std::string_view cut = std::string_view(data).substr(0, data.size() * tenth / 10);
      ExpectSameEvents(cut, path.string() + " cut at " + std::to_string(tenth) + "/10");
      EXPECT_FALSE(ParseWith(cut, XmlBackend::kFast).status.ok());
    }
  }
}

TEST(XmlStreamTest, WellFormedCornersGiveTheSameEvents) {
  const char* docs[] = {
      "<a/>",
      "\xEF\xBB\xBF<a/>",
      "<?xml version=\"1.0\"?><a/>",
      "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<a/>",
      "<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>x</a>",
      "<?xml version=\"1.0\" encoding=\"UtF-8\"?><a>\xC3\xA9</a>",
      "<!-- c --><?pi data?>\n<a><!----><?p?><b/>x<![CDATA[<&>]]>y</a><!-- after -->\n<?q?> \n",
      "<a b=\"1\" c='2'  d = \"x'y\" e='x\"y'><b/><c></c ></a>",
      "<a b='&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x10FFFF;&#9;&#10;&#13;'/>",
      "<a b='\t1\r\n2\r3\n4'>\r\n\r x \r</a>",
      "<a>&lt;&#x20AC;&#8364;\xE2\x82\xAC&amp;amp;</a>",
      "<a>x<b>y</b>z<c/>w</a>",
      "<a>]</a>",
      "<a>]]</a>",
      "<a>]>]]&gt;</a>",
      "<a><![CDATA[x\r\ny\rz]]]]></a>",
      "<\xC3\xA9l\xC3\xA9ment "
      "\xC3\xA9=\"\xE2\x82\xAC\">&#x1F600;\xF0\x9F\x98\x80</\xC3\xA9l\xC3\xA9ment>",
      "<ns:a xmlns:ns='u' ns:b='1'><ns:c/></ns:a>",
      "<a>\n<b>\n  <c>deep</c>\n</b>\n</a>",
      "<a\n b\n =\n '1'\n/>",
      "<_.-:a1 _x='' />",
  };
  for (const char* doc : docs) ExpectSameEvents(doc, doc);
}

TEST(XmlStreamTest, TextIsDecodedAsExpatDecodesIt) {
  // References expanded, CR LF and lone CR turned into LF, CDATA content kept as it is.
  Outcome o = ParseWith("<a>1&lt;2&#x41;&#66;\r\n3\r4<![CDATA[&amp;\r\n]]></a>", XmlBackend::kFast);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.events.size(), 3u);
  EXPECT_THAT(o.events[1], HasSubstr("end a depth=1 text=[1<2AB\n3\n4&amp;\n]"));
  // Attribute values: a literal TAB, LF, CR or CR LF becomes one space; a character reference
  // gives its character as it is.
  o = ParseWith("<a v='x\ty\nz\r\nw\rv&#9;&#10;&#13;.'/>", XmlBackend::kFast);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_THAT(o.events[0], HasSubstr("[v=x y z w v\t\n\r.]"));
  // Only the element's own text up to its first child; none after a child.
  o = ParseWith("<a>x<b/>y</a>", XmlBackend::kFast);
  EXPECT_THAT(o.events[1], HasSubstr("start b depth=2 text=[x]"));
  EXPECT_THAT(o.events[3], HasSubstr("end a depth=1 text=[]"));
}

TEST(XmlStreamTest, OffsetsAndPositionsOfEvents) {
  const std::string doc = "<a>\n  <b k='1'/>\r\n\t<c>\xC3\xA9</c></a>";
  const Outcome o = ParseWith(doc, XmlBackend::kFast);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_THAT(o.events[1], HasSubstr("start b depth=2 [k=1] text=[\n  ] offset=6 doc.xml: line 2, "
                                     "column 3: here"));
  EXPECT_THAT(o.events[3], HasSubstr("offset=19 doc.xml: line 3, column 2: here"));
  // The column counts characters: \xC3\xA9 is one.
  EXPECT_THAT(o.events[4], HasSubstr("end c depth=2 text=[\xC3\xA9] offset=24 doc.xml: line 3, "
                                     "column 6: here"));
}

struct Malformed {
  const char* doc;
  int line;
  int column;
  const char* message;  // expat's; the fast path gives the same
};

// Documents both backends refuse after the root's start tag (before it, the fast path hands
// the document to expat): the position and message of each.
const Malformed kMalformed[] = {
    {"<a>", 1, 4, "no element found"},
    {"<a>text", 1, 8, "no element found"},
    {"<a></b>", 1, 6, "mismatched tag"},
    {"<a\n\n  ><b>\n  </c></a>", 4, 5, "mismatched tag"},
    {"<a>\xC3\xA9\xC3\xA9</b>", 1, 8, "mismatched tag"},
    {"<a></ab>", 1, 6, "mismatched tag"},
    {"<ab></a>", 1, 7, "mismatched tag"},
    {"<a></a b>", 1, 8, "not well-formed (invalid token)"},
    {"<a></ a>", 1, 6, "not well-formed (invalid token)"},
    {"<a>x</a>y", 1, 9, "junk after document element"},
    {"<a/><b/>", 1, 5, "junk after document element"},
    {"<a>x</a>\n\n<b", 3, 1, "junk after document element"},
    {"<a/><?xml x?>", 1, 5, "junk after document element"},
    {"<a/></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a/>&amp;", 1, 5, "not well-formed (invalid token)"},
    {"<a/><!x>", 1, 8, "not well-formed (invalid token)"},
    {"<a/><!-x-->", 1, 8, "not well-formed (invalid token)"},
    {"<a/><?XML?>", 1, 10, "not well-formed (invalid token)"},
    {"<a/><?1?>", 1, 7, "not well-formed (invalid token)"},
    {"<a/><!-- x -- -->", 1, 14, "not well-formed (invalid token)"},
    {"<a/><?pi", 1, 5, "unclosed token"},
    {"<a><b/></a><!--", 1, 12, "unclosed token"},
    {"<a>&foo;</a>", 1, 4, "undefined entity"},
    {"<a>&\xC3\xA9;</a>", 1, 4, "undefined entity"},
    {"<a>&#0;</a>", 1, 4, "reference to invalid character number"},
    {"<a>&#x110000;</a>", 1, 4, "reference to invalid character number"},
    {"<a>&#99999999999999;</a>", 1, 4, "reference to invalid character number"},
    {"<a>&#xD800;</a>", 1, 4, "reference to invalid character number"},
    {"<a>&#xFFFE;</a>", 1, 4, "reference to invalid character number"},
    {"<a>& </a>", 1, 5, "not well-formed (invalid token)"},
    {"<a>&#X41;</a>", 1, 6, "not well-formed (invalid token)"},
    {"<a>&#x;</a>", 1, 7, "not well-formed (invalid token)"},
    {"<a>&#;</a>", 1, 6, "not well-formed (invalid token)"},
    {"<a>&#12a;</a>", 1, 8, "not well-formed (invalid token)"},
    {"<a>&lt</a>", 1, 7, "not well-formed (invalid token)"},
    {"<a>&#x41</a>", 1, 9, "not well-formed (invalid token)"},
    {"<a>&am", 1, 4, "unclosed token"},
    {"<a>&", 1, 4, "unclosed token"},
    {"<a>]]></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a>x]]>y</a>", 1, 7, "not well-formed (invalid token)"},
    {"<a>]]", 1, 6, "no element found"},
    {"<a>\r", 1, 4, "no element found"},
    {"<a>x\r\r", 2, 1, "no element found"},
    {"<a><!x></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a/><1", 1, 6, "not well-formed (invalid token)"},
    {"<a/><!", 1, 5, "unclosed token"},
    {"<a/><!-- \r", 1, 5, "unclosed token"},
    {"<a><![CDATA[x]", 1, 14, "unclosed CDATA section"},
    {"<a><![CDATA[x\r", 1, 14, "unclosed CDATA section"},
    {"<a><![CDATA[x]]]", 1, 15, "unclosed CDATA section"},
    {"<a><![CDATA[x\r]]", 2, 1, "unclosed CDATA section"},
    {"<a><![CDATA[x]\r", 1, 15, "unclosed CDATA section"},
    {"<a><![CDATA[", 1, 13, "unclosed CDATA section"},
    {"<a><![CDATA[\r\n", 2, 1, "unclosed CDATA section"},
    {"<a><b c='<'/></a>", 1, 10, "not well-formed (invalid token)"},
    {"<a><b c='1' c='2'/></a>", 1, 13, "duplicate attribute"},
    {"<a><b c='1' d='2' c='3'/></a>", 1, 19, "duplicate attribute"},
    {"<a><b c='1'd='2'/></a>", 1, 12, "not well-formed (invalid token)"},
    {"<a><b c='&foo;'/></a>", 1, 4, "undefined entity"},
    {"<a><b c='&amp'/></a>", 1, 14, "not well-formed (invalid token)"},
    {"<a><b c='&#0;'/></a>", 1, 10, "reference to invalid character number"},
    {"<a><b c=x/></a>", 1, 9, "not well-formed (invalid token)"},
    {"<a><b c/></a>", 1, 8, "not well-formed (invalid token)"},
    {"<a><b/ ></a>", 1, 7, "not well-formed (invalid token)"},
    {"<a><b / ></a>", 1, 8, "not well-formed (invalid token)"},
    {"<a><1/></a>", 1, 5, "not well-formed (invalid token)"},
    {"<a><b 1='x'/></a>", 1, 7, "not well-formed (invalid token)"},
    {"<a><b\xC2\xA0"
     "c/></a>",
     1, 6, "not well-formed (invalid token)"},
    {"<a><b c='x", 1, 4, "unclosed token"},
    {"<a><b c='x&am", 1, 4, "unclosed token"},
    {"<a><b c='x<\x01", 1, 11, "not well-formed (invalid token)"},
    {"<a><b c='x&am\x01", 1, 14, "not well-formed (invalid token)"},
    {"<a><thre", 1, 4, "unclosed token"},
    {"<a></", 1, 4, "unclosed token"},
    {"<a></a", 1, 4, "unclosed token"},
    {"<a><!", 1, 4, "unclosed token"},
    {"<a><!-", 1, 4, "unclosed token"},
    {"<a><![CDA", 1, 4, "unclosed token"},
    {"<a><![CDA\n", 1, 4, "unclosed token"},
    {"<a><![CDA\x01\n\n", 1, 10, "not well-formed (invalid token)"},
    {"<a>\r\n\r</a", 3, 1, "unclosed token"},
    {"<a><!-- a -- b --></a>", 1, 13, "not well-formed (invalid token)"},
    {"<a><!-- x ---></a>", 1, 13, "not well-formed (invalid token)"},
    {"<a><!---></a>", 1, 4, "unclosed token"},
    {"<a><!-- x </a>", 1, 4, "unclosed token"},
    {"<a><!-x--></a>", 1, 7, "not well-formed (invalid token)"},
    {"<a><![CDATX[x]]></a>", 1, 11, "not well-formed (invalid token)"},
    {"<a><![CDATA[ x </a>", 1, 20, "unclosed CDATA section"},
    {"<a><![CDATA[x]]", 1, 14, "unclosed CDATA section"},
    {"<a><?pi x </a>", 1, 4, "unclosed token"},
    {"<a><?pi$x?></a>", 1, 8, "not well-formed (invalid token)"},
    {"<a><?pi?x?></a>", 1, 9, "not well-formed (invalid token)"},
    {"<a><?1?></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a><? x?></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a><?XML x?></a>", 1, 9, "not well-formed (invalid token)"},
    {"<a><?xml x?></a>", 1, 4, "XML or text declaration not at start of entity"},
    {"<a><?xml?></a>", 1, 4, "XML or text declaration not at start of entity"},
    {"<a><?xml x\x01?></a>", 1, 11, "not well-formed (invalid token)"},
    {"<a><?xml", 1, 4, "unclosed token"},
    // Characters: control characters, invalid UTF-8, U+FFFE/U+FFFF, wherever they are.
    {"<a>\x01</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>x\x01y</a>", 1, 5, "not well-formed (invalid token)"},
    {"<a><!-- \x01 --></a>", 1, 9, "not well-formed (invalid token)"},
    {"<a><b c='x\x01'/></a>", 1, 11, "not well-formed (invalid token)"},
    {"<a><b\x01/></a>", 1, 6, "not well-formed (invalid token)"},
    {"<a></a\x01>", 1, 7, "not well-formed (invalid token)"},
    {"<a><![CDATA[\x01]]></a>", 1, 13, "not well-formed (invalid token)"},
    {"<a/>\x01", 1, 5, "not well-formed (invalid token)"},
    {"<a>\xFF</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xC3</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xC0\x80</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xE0\x80\x80</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xED\xA0\x80</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xF4\x90\x80\x80</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xEF\xBF\xBE</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xEF\xBF\xBF</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xC3\xA9\xFF</a>", 1, 5, "not well-formed (invalid token)"},
    {"<a>\xE2\x82</a>", 1, 4, "not well-formed (invalid token)"},
    {"<a>x\xC3", 1, 5, "partial character"},
    {"<a/>\xC3", 1, 5, "partial character"},
    {"<a>\xF4", 1, 4, "partial character"},
    {"<a>x\r\r\xCD", 3, 1, "partial character"},
    {"<a><![CDATA[x]\xCD", 1, 15, "partial character"},
    {"<a><![CDATA[x\r\xCD", 2, 1, "partial character"},
    {"<a>x\r\r\x01", 3, 1, "not well-formed (invalid token)"},
    {"<a/>ta_<v", 1, 8, "not well-formed (invalid token)"},
    {"<a/>ta_ x", 1, 5, "junk after document element"},
    {"<a/>12<", 1, 7, "not well-formed (invalid token)"},
    {"<a/>a=b", 1, 6, "not well-formed (invalid token)"},
    {"<a/>a\x01", 1, 6, "not well-formed (invalid token)"},
    {"<a>\xF5", 1, 4, "not well-formed (invalid token)"},
    {"<a>\xC0", 1, 4, "partial character"},
    {"<a>\xED\xA0", 1, 4, "partial character"},
    {"<a>\xF4\x90", 1, 4, "partial character"},
    {"<a><b c=\xCA", 1, 9, "not well-formed (invalid token)"},
    {"<a><b c\xCA", 1, 4, "partial character"},
    {"<a><b c \xCA", 1, 9, "not well-formed (invalid token)"},
    {"<a><b/\xCA", 1, 7, "not well-formed (invalid token)"},
    {"<a></a \xCA", 1, 8, "not well-formed (invalid token)"},
    {"<a></b\xCA", 1, 4, "partial character"},
    {"<a><!\xCA", 1, 6, "not well-formed (invalid token)"},
    {"<a>&#\xCA", 1, 6, "not well-formed (invalid token)"},
    {"<a>&\xCA", 1, 4, "partial character"},
    {"<a>&a\xCA", 1, 4, "partial character"},
    {"<a><b c='1'\xCA", 1, 12, "not well-formed (invalid token)"},
    {"<a><?p\xCA", 1, 4, "partial character"},
    {"<a><?p?\xCA", 1, 8, "not well-formed (invalid token)"},
    {"<?xml version='1.0' encoding='us-ascii'?><a>\xC3\xA9</a>", 1, 45,
     "not well-formed (invalid token)"},
};

TEST(XmlStreamTest, MalformedDocumentsAreRefusedByBothAtTheSamePlace) {
  for (const Malformed& m : kMalformed) {
    SCOPED_TRACE(m.doc);
    const std::string want = "doc.xml: line " + std::to_string(m.line) + ", column " +
                             std::to_string(m.column) + ": " + m.message +
                             "; the file is damaged or truncated";
    const Outcome expat = ParseWith(m.doc, XmlBackend::kExpat);
    EXPECT_EQ(expat.status.message(), want) << "expat";
    const Outcome fast = ParseWith(m.doc, XmlBackend::kFast);
    EXPECT_EQ(fast.status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(fast.status.message(), want) << "fast path";
    const Outcome automatic = ParseWith(m.doc, XmlBackend::kAuto);
    EXPECT_EQ(automatic.status.message(), want) << "auto";
  }
}

TEST(XmlStreamTest, ManyAttributesAndLongNamesAreCheckedAsExpatChecksThem) {
  // A tag of 5,000 attributes, the last a duplicate of the 1,000th; and without it.
  std::string tag = "<r><e";
  for (int i = 0; i < 5000; ++i) tag += " a" + std::to_string(i) + "='" + std::to_string(i) + "'";
  const std::string good = tag + "/></r>";
  const std::string twice = tag + " a999='x'/></r>";
  ExpectSameEvents(good, "5,000 attributes");
  ExpectSameEvents(twice, "a duplicate 5,001st attribute");
  EXPECT_THAT(ParseWith(twice, XmlBackend::kFast).status.message(),
              HasSubstr("duplicate attribute"));
  // A name of 20,000 non-ASCII characters with one that is not a name character at the end
  // (U+00D7, the multiplication sign), and the same name without it.
  std::string name;
  for (int i = 0; i < 20000; ++i) name += "\xC3\xA9";
  ExpectSameEvents("<r><" + name + "/></r>", "a long name");
  const std::string bad = "<r><" + name + "\xC3\x97/></r>";
  ExpectSameEvents(bad, "a long name, bad at the end");
  EXPECT_EQ(ParseWith(bad, XmlBackend::kFast).status.message(),
            "doc.xml: line 1, column 20005: not well-formed (invalid token); the file is damaged "
            "or truncated");
}

TEST(XmlStreamTest, ErrorsBeforeTheFirstEventAreLeftToExpat) {
  // The fast path refuses these too, but before any event, so expat reads them again and its
  // own message is the one returned.
  const char* docs[] = {"",
                        " ",
                        "x<a/>",
                        "abc<a/>",
                        "<!FOO><a/>",
                        "<a b='1' b='2'/>",
                        "<a b='&foo;'/>",
                        "<1/>",
                        "<a",
                        "<",
                        " <?xml version='1.0'?><a/>",
                        "<?xml version='1.0'?><?xml version='1.0'?><a/>",
                        "<!-- x --",
                        "\x01<a/>",
                        "<a\x01/>"};
  for (const char* doc : docs) {
    SCOPED_TRACE(doc);
    const Outcome expat = ParseWith(doc, XmlBackend::kExpat);
    const Outcome automatic = ParseWith(doc, XmlBackend::kAuto);
    EXPECT_FALSE(expat.status.ok());
    EXPECT_EQ(automatic.status, expat.status);
    if (*doc != '\0') {
      EXPECT_EQ(automatic.used, XmlBackend::kExpat);
      EXPECT_FALSE(ParseWith(doc, XmlBackend::kFast).status.ok());
    }
  }
}

TEST(XmlStreamTest, OtherEncodingsAndDoctypesGoToExpat) {
  const std::string utf16le("\xFF\xFE<\0a\0/\0>\0", 10);
  const std::string utf16be("\xFE\xFF\0<\0a\0/\0>", 10);
  const std::string utf16_no_bom("<\0a\0/\0>\0", 8);
  const std::string latin1 = "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE9</a>";
  const std::string doctype = "<!DOCTYPE a><a>x</a>";
  const std::string version11 = "<?xml version='1.1'?><a/>";
  const std::string odd_declaration = "<?xml version='1.0' encoding='UTF-8' foo='1'?><a/>";
  for (const std::string* doc :
       {&utf16le, &utf16be, &utf16_no_bom, &latin1, &doctype, &version11, &odd_declaration}) {
    SCOPED_TRACE(*doc);
    const Outcome expat = ParseWith(*doc, XmlBackend::kExpat);
    const Outcome automatic = ParseWith(*doc, XmlBackend::kAuto);
    EXPECT_EQ(automatic.used, XmlBackend::kExpat);
    EXPECT_EQ(automatic.status, expat.status);
    EXPECT_EQ(automatic.events, expat.events);
    const Outcome fast = ParseWith(*doc, XmlBackend::kFast);
    EXPECT_EQ(fast.status.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(fast.status.message(), HasSubstr("not read by the fast XML path"));
    EXPECT_TRUE(fast.events.empty());
  }
  // The Latin-1 document is read, é decoded to UTF-8, as today.
  EXPECT_THAT(ParseWith(latin1, XmlBackend::kAuto).events[1], HasSubstr("text=[\xC3\xA9]"));
  // Entity declarations are still refused (on the expat path).
  const Outcome bomb =
      ParseWith("<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">]>\n<d>&a;</d>", XmlBackend::kAuto);
  EXPECT_THAT(bomb.status.message(), HasSubstr("declares an XML entity (\"a\")"));
}

TEST(XmlStreamTest, AHandlerStopEndsTheParseWithItsStatus) {
  const std::string doc = "<a><b/><c><d/></c></a";  // damaged after the stop: not reached
  for (XmlBackend backend : {XmlBackend::kExpat, XmlBackend::kFast}) {
    const Outcome o = ParseWith(doc, backend, Capture::kAll, "c");
    EXPECT_EQ(o.status.message(), "doc.xml: line 1, column 8: stopped by the handler");
    ASSERT_EQ(o.events.size(), 4u);
    EXPECT_THAT(o.events.back(), HasSubstr("start c depth=2"));
  }
}

TEST(XmlStreamTest, AnEmptyDocumentIsNotAReport) {
  for (XmlBackend backend : {XmlBackend::kAuto, XmlBackend::kExpat, XmlBackend::kFast}) {
    EXPECT_EQ(ParseWith("", backend).status.message(),
              "doc.xml is empty (0 bytes): not a scan report");
  }
}

}  // namespace
}  // namespace isms
