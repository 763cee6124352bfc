#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

bool take_flag(Args& args, const std::string& name) {
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (*it == name) {
      args.erase(it);
      return true;
    }
  }
  return false;
}

std::string take_option(Args& args, const std::string& name, const std::string& fallback) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      std::string v = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      return v;
    }
    if (args[i].rfind(name + "=", 0) == 0) {
      std::string v = args[i].substr(name.size() + 1);
      args.erase(args.begin() + static_cast<long>(i));
      return v;
    }
  }
  return fallback;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "seatlockctl: %s\n(see 'seatlockctl help')\n", message.c_str());
  return 2;
}

}  // namespace seatlock::cli
