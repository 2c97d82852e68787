#include "cli/allocator.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace isms::cli {
namespace {

using Args = std::vector<std::string>;

TEST(BulkCommandTest, TheCommandsThatAllocateInBulkAreBulk) {
  for (const Args& a :
       {Args{"isms", "serve", "--syslog-tcp", "127.0.0.1:6514"},
        Args{"isms", "import", "scan", "x.nessus", "--contract", "c"},
        Args{"isms", "import", "advisory", "a.json"}, Args{"isms", "report", "monthly"},
        Args{"isms", "recompute", "--contract", "c"},
        Args{"isms", "audit", "ingest", "-", "--contract", "c"},
        Args{"isms", "audit", "export", "--contract", "c", "--from", "2026-11-01"}}) {
    EXPECT_TRUE(IsBulkCommand(a)) << a[1];
  }
}

// The list names commands the command line has: a renamed command would otherwise silently fall
// back to glibc's malloc.
TEST(BulkCommandTest, EveryBulkCommandIsACommandOfTheBinary) {
  for (std::string_view command : kBulkCommands) {
    Args args{"isms"};
    std::istringstream words{std::string(command)};
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    std::istringstream in;
    std::ostringstream out, err;
    SystemClock clock;  // --help reads no time
    EXPECT_EQ(RunCli(args, in, out, err, clock), 0) << command << ": " << err.str();
    EXPECT_NE(out.str().find("Usage:"), std::string::npos) << command;
    EXPECT_TRUE(IsBulkCommand(args)) << command;
  }
}

TEST(BulkCommandTest, QueriesAndShortCommandsAreNot) {
  for (const Args& a :
       {Args{"isms"}, Args{"isms", "--version"}, Args{"isms", "--help"}, Args{"isms", "audit"},
        Args{"isms", "audit", "search", "--host", "h"}, Args{"isms", "audit", "verify"},
        Args{"isms", "audit", "checkpoint"}, Args{"isms", "calendar", "add", "2026-12-24", "2"},
        Args{"isms", "vuln", "list"}, Args{"isms", "event", "record", "incident.reported"},
        // options before the command: run as they are (only ever slower)
        Args{"isms", "--store", "sqlite:x.db", "import", "scan", "x.nessus"},
        // a command's name elsewhere on the line is not the command
        Args{"isms", "vuln", "show", "serve"}, Args{"isms", "auditingest"},
        Args{"isms", "audit", "search", "--text", "export"}}) {
    EXPECT_FALSE(IsBulkCommand(a)) << (a.size() > 1 ? a[1] : "(none)");
  }
}

TEST(ChooseAllocatorTest, ABulkCommandStartsAgainOnTheBulkAllocator) {
  const Args import{"isms", "import", "scan", "x.nessus"};
  EXPECT_EQ(ChooseAllocator(import, nullptr, nullptr, true), AllocatorStep::kPreload);
  EXPECT_EQ(ChooseAllocator(import, "auto", nullptr, true), AllocatorStep::kPreload);
  EXPECT_EQ(ChooseAllocator(import, "", "", true), AllocatorStep::kPreload);  // empty: unset
}

TEST(ChooseAllocatorTest, OtherCommandsStayOnTheSystemAllocator) {
  EXPECT_EQ(ChooseAllocator({"isms", "audit", "search"}, nullptr, nullptr, true),
            AllocatorStep::kStay);
  EXPECT_EQ(ChooseAllocator({"isms", "--version"}, "auto", nullptr, true), AllocatorStep::kStay);
}

TEST(ChooseAllocatorTest, StaysWhenTheLibraryIsMissingOrTheUserChoseOtherwise) {
  const Args serve{"isms", "serve"};
  EXPECT_EQ(ChooseAllocator(serve, nullptr, nullptr, false), AllocatorStep::kStay);
  EXPECT_EQ(ChooseAllocator(serve, "system", nullptr, true), AllocatorStep::kStay);
  // A preload of the user's own (a debugging library, another allocator) is left alone.
  EXPECT_EQ(ChooseAllocator(serve, nullptr, "/usr/lib/libfoo.so", true), AllocatorStep::kStay);
}

TEST(ChooseAllocatorTest, TheSecondStartIsRecognisedAndNeverStartsAgain) {
  // LD_PRELOAD names the library then: not a preload of the user's, and no loop.
  EXPECT_EQ(ChooseAllocator({"isms", "serve"}, kPreloadedMarker, "/usr/lib/libtcmalloc.so.4", true),
            AllocatorStep::kPreloaded);
  EXPECT_EQ(ChooseAllocator({"isms", "serve"}, kPreloadedMarker, nullptr, false),
            AllocatorStep::kPreloaded);
}

TEST(ChooseAllocatorTest, AnUnknownChoiceIsReportedAndNothingIsPreloaded) {
  EXPECT_EQ(ChooseAllocator({"isms", "serve"}, "tcmalloc", nullptr, true), AllocatorStep::kUnknown);
  EXPECT_EQ(ChooseAllocator({"isms", "--version"}, "glibc", nullptr, true),
            AllocatorStep::kUnknown);
}

}  // namespace
}  // namespace isms::cli
