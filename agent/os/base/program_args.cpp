#include "os/base/program_args.hpp"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "seatlock/version.hpp"

namespace seatlock {

ArgParser parse_program_args(int argc, char** argv, const ProgramInfo& program,
                             const std::set<std::string>& valued) {
  std::vector<std::string> words(argv + 1, argv + argc);
  for (auto& w : words)
    if (w == "-h") w = "--help";
  try {
    ArgParser args(words, valued, {"help", "version"});
    if (args.has("help")) {
      std::fputs(program.usage, stdout);
      std::exit(0);
    }
    if (args.has("version")) {
      std::printf("%s %s\n", program.name, kVersion);
      std::exit(0);
    }
    return args;
  } catch (const UsageError& e) {
    exit_usage(program, e.what());
  }
}

void exit_usage(const ProgramInfo& program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n%s", program.name, message.c_str(), program.usage);
  std::exit(2);
}

}  // namespace seatlock
