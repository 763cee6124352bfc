#pragma once
// The one command-line flag style of seatlock's programs (seatlockd, seatlock-collector,
// seatlockctl and their subcommands): "--name value", "--name=value" and "--switch". Every flag
// is declared; anything else is a usage error that says exactly what was wrong.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace seatlock {

// A command line that cannot be run as given (the caller prints it and exits 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a command accepts, for commands that also take positional arguments.
struct ArgSpec {
  static constexpr std::size_t kAny = std::numeric_limits<std::size_t>::max();
  std::set<std::string> valued;    // flags that take a value (names without "--")
  std::set<std::string> switches;  // flags that do not
  // Positional arguments allowed, in any place among the flags; "--" ends the flags, so a
  // file named "--x" can still be given. More than this many is a UsageError.
  std::size_t max_positional = 0;
  // For a command that dispatches to subcommands: parsing stops at the first argument that is
  // not a flag, and that argument and everything after it are positional() unparsed.
  bool stop_at_positional = false;
};

class ArgParser {
 public:
  // `valued`: flags that take a value; `switches`: flags that do not (names without "--").
  // No positional arguments. A repeated valued flag keeps its last value. Throws UsageError.
  ArgParser(const std::vector<std::string>& argv, const std::set<std::string>& valued,
            const std::set<std::string>& switches);
  explicit ArgParser(const std::vector<std::string>& argv, const ArgSpec& spec);

  std::optional<std::string> get(const std::string& name) const;  // the last value given
  // Sets `into` to the last value given; leaves it (the default) when the flag is absent.
  void take(const std::string& name, std::string& into) const {
    if (auto v = get(name)) into = *v;
  }
  // Every value of a flag given more than once, in command-line order (none: empty).
  std::vector<std::string> all(const std::string& name) const;
  // The value; a missing or empty one is a UsageError ("--name is required").
  std::string require(const std::string& name) const;
  bool has(const std::string& name) const { return switches_.count(name) > 0; }
  // A time bound: RFC 3339, or a date "2026-11-28" (midnight UTC). Throws a UsageError.
  std::optional<std::int64_t> time(const std::string& name) const;
  std::optional<std::uint64_t> number(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> switches_;
  std::vector<std::string> positional_;
};

}  // namespace seatlock
