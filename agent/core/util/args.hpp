#pragma once
// The one command-line flag style of seatlock's programs (seatlockd, seatlock-collector and its
// subcommands): "--name value", "--name=value" and "--switch". Every flag is declared; anything
// else is a usage error that says exactly what was wrong.
#include <cstdint>
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

class ArgParser {
 public:
  // `valued`: flags that take a value; `switches`: flags that do not (names without "--").
  // A repeated valued flag keeps its last value. Throws UsageError.
  ArgParser(const std::vector<std::string>& argv, const std::set<std::string>& valued,
            const std::set<std::string>& switches);
  std::optional<std::string> get(const std::string& name) const;
  // The value; a missing or empty one is a UsageError ("--name is required").
  std::string require(const std::string& name) const;
  bool has(const std::string& name) const { return switches_.count(name) > 0; }
  // A time bound: RFC 3339, or a date "2026-11-28" (midnight UTC). Throws a UsageError.
  std::optional<std::int64_t> time(const std::string& name) const;
  std::optional<std::uint64_t> number(const std::string& name) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

}  // namespace seatlock
