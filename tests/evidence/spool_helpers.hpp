#pragma once
// Shared helpers for the spool tests: temp dirs, event drafts, chain checks.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "os/spool/spool.hpp"

namespace seatlock::test {

inline std::string temp_dir(const std::string& tag) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("sl-evidence-" + tag + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag) : path(temp_dir(tag)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline Event draft(const std::string& kind, const std::string& severity = "info", int n = 0) {
  Event e;
  e.seat_id = "seat-test";
  e.hostname = "host-test";
  e.kind = kind;
  e.severity = severity;
  e.outcome = severity == "info" ? "reported" : "blocked";
  e.details = {{"n", n}};
  return e;
}

// Checks that `rows` (ascending seq, possibly with gaps) chain: where two rows are adjacent
// in seq, the later one's prev is the chain hash of the earlier one. Returns "" or a problem.
inline std::string chain_problem(const std::vector<SpooledEvent>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    auto j = nlohmann::json::parse(rows[i].body);
    if (j.at("seq").get<std::uint64_t>() != rows[i].seq)
      return "seq column differs from body at " + std::to_string(rows[i].seq);
    if (canonical_bytes(j) != rows[i].body)
      return "body not canonical at " + std::to_string(rows[i].seq);
    if (rows[i].seq == 1 && j.at("prev") != kGenesisPrev) return "seq 1 does not chain to genesis";
    if (i > 0 && rows[i - 1].seq + 1 == rows[i].seq && j.at("prev") != sha256_hex(rows[i - 1].body))
      return "prev of seq " + std::to_string(rows[i].seq) + " does not match";
  }
  return "";
}

}  // namespace seatlock::test
