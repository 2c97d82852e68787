#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv, argv + argc);
  isms::SystemClock clock;
  int code = isms::cli::RunCli(args, std::cin, std::cout, std::cerr, clock);
  std::cout.flush();
  return code;
}
