#include "support/events.hpp"

#include <filesystem>
#include <sstream>

#include "support/process.hpp"

namespace seatlock::test {
namespace {

void add_lines(const std::string& text, std::vector<nlohmann::json>& out) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(j);
  }
}

}  // namespace

std::vector<nlohmann::json> all_events(const std::string& state_dir) {
  std::vector<nlohmann::json> out;
  if (std::filesystem::exists(state_dir + "/events.jsonl")) {
    add_lines(read_file(state_dir + "/events.jsonl"), out);
    return out;
  }
  RunResult r = run_command(
      {binary_path("agent/cli/seatlockctl"), "--state-dir", state_dir, "--json", "events"});
  auto whole = nlohmann::json::parse(r.out, nullptr, false);
  if (whole.is_array()) return whole.get<std::vector<nlohmann::json>>();
  add_lines(r.out, out);
  return out;
}

std::vector<nlohmann::json> events_of_kind(const std::string& state_dir, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (auto& e : all_events(state_dir))
    if (e.value("kind", "") == kind) out.push_back(e);
  return out;
}

}  // namespace seatlock::test
