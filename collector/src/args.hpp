#pragma once
// Command-line flags for the collector's subcommands: "--name value", "--name=value", "--flag".
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace seatlock::collector {

class Args {
 public:
  // `valued`: flags that take a value; `switches`: flags that do not. Anything else is an error.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& switches);
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  bool has(const std::string& name) const { return switches_.count(name) > 0; }
  // A time bound: RFC 3339, or a date "2026-11-28" (midnight UTC). Throws a usage error.
  std::optional<std::int64_t> time(const std::string& name) const;
  std::optional<std::uint64_t> number(const std::string& name) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace seatlock::collector
