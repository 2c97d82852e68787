// The `isms` command line, runnable in-process: main() calls RunCli with the real streams and
// clock; tests call it with string streams and a FixedClock.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "core/time.h"

namespace isms::cli {

// Runs one command line (args[0] is the program name). Returns the process exit code:
// 0 success; 1 a value was refused (bad input, failed check); 2 a usage error.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const Clock& clock);

}  // namespace isms::cli
