// The one table of event kinds (core/event/kinds.cpp) against what the docs promise and what the
// producers write: docs/events.md lists exactly the table's kinds (with the same severity and
// class), and no source under agent/ writes a kind string by hand.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/event/kinds.hpp"

using namespace seatlock;
namespace fs = std::filesystem;

namespace {

// The source tree checked: SEATLOCK_SOURCE_DIR from the environment (ctest sets it; pointing it
// at another checkout checks that one), else this build's.
fs::path source_dir() {
  const char* env = std::getenv("SEATLOCK_SOURCE_DIR");
  return env && *env ? fs::path(env) : fs::path(SEATLOCK_SOURCE_DIR);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct DocRow {
  std::string severity;
  std::string cls;
};

// The rows of the table in docs/events.md's "## Kinds" section (up to the next "## " heading):
// | `usb.blocked` | high | violation | ... |
std::map<std::string, DocRow> documented_kinds() {
  std::istringstream doc(read_file(source_dir() / "docs/events.md"));
  static const std::regex kRow(R"(^\| `([a-z_]+\.[a-z_]+)` \| ([a-z]+) \| ([a-z]+) \|)");
  std::map<std::string, DocRow> out;
  bool in_section = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("## ", 0) == 0) {
      in_section = line == "## Kinds";
      continue;
    }
    std::smatch m;
    if (in_section && std::regex_search(line, m, kRow)) {
      INFO("docs/events.md lists " << m[1] << " twice");
      CHECK(out.emplace(m[1], DocRow{m[2], m[3]}).second);
    }
  }
  return out;
}

const char* class_name(KindClass c) {
  return c == KindClass::Housekeeping ? "housekeeping" : "violation";
}

}  // namespace

TEST_CASE("docs/events.md lists exactly the kinds of the table, with severity and class",
          "[event][kinds]") {
  auto doc = documented_kinds();
  REQUIRE(!doc.empty());
  std::set<std::string> in_table;
  for (const auto& k : event_kind_table()) {
    in_table.insert(k.name);
    auto it = doc.find(k.name);
    INFO(k.name);
    if (it == doc.end()) {
      FAIL_CHECK(k.name << " is recorded by the seat but missing from docs/events.md ## Kinds");
      continue;
    }
    CHECK(it->second.severity == to_string(k.severity));
    CHECK(it->second.cls == class_name(k.cls));
  }
  for (const auto& [name, row] : doc) {
    INFO(name << " is in docs/events.md ## Kinds but not in core/event/kinds.cpp");
    CHECK(in_table.count(name) == 1);
  }
}

TEST_CASE("no source under agent/ writes an event kind by hand", "[event][kinds]") {
  // Kinds come from EventKind (an unknown one does not compile). A kind literal anywhere else
  // (assigned to `kind`, passed to a helper, compared) bypasses the table: list each one.
  std::set<std::string> names;
  for (const auto& k : event_kind_table()) names.insert(k.name);
  static const std::regex kLiteral(R"re("([a-z_]+\.[a-z_]+)")re");
  static const std::regex kAssigned(R"re((\bkind\s*=|\{"kind",)\s*"[^"]*")re");
  const fs::path root = source_dir() / "agent";
  std::vector<std::string> found;
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || (p.extension() != ".cpp" && p.extension() != ".hpp")) continue;
    if (p.filename() == "kinds.cpp") continue;  // the table itself
    ++files;
    std::istringstream in(read_file(p));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      // Comments may name kinds: drop whole-line and trailing ones (" // ", not "http://").
      const auto code = line.find_first_not_of(' ');
      if (code != std::string::npos && line.compare(code, 2, "//") == 0) continue;
      if (auto c = line.find(" // "); c != std::string::npos) line.resize(c);
      const std::string where = fs::relative(p, root).string() + ":" + std::to_string(n) + ": ";
      bool by_hand = std::regex_search(line, kAssigned);
      // Rule names may equal a kind ("firmware.attestation" is both): a line naming a rule is
      // not a kind.
      if (line.find("rule") == std::string::npos)
        for (std::sregex_iterator it(line.begin(), line.end(), kLiteral), end; it != end; ++it)
          by_hand = by_hand || names.count((*it)[1]) > 0;
      if (by_hand) found.push_back(where + line);
    }
  }
  CHECK(files > 100);  // the walk really saw the sources
  std::string report;
  for (const auto& f : found) report += f + "\n";
  INFO("kind strings written by hand (use make_event(EventKind::...)):\n" << report);
  CHECK(found.empty());
}

TEST_CASE("make_event fills kind, severity, outcome and mode from the enums", "[event][kinds]") {
  Event e = make_event(EventKind::UsbBlocked, Outcome::Blocked, EventMode::Enforce);
  CHECK(e.kind == "usb.blocked");
  CHECK(e.severity == "high");  // the table's default for usb.blocked
  CHECK(e.outcome == "blocked");
  CHECK(e.mode == "enforce");

  Event low =
      make_event(EventKind::NetEgressDenied, Severity::Low, Outcome::Reported, EventMode::Audit);
  CHECK(low.kind == "net.egress_denied");
  CHECK(low.severity == "low");
  CHECK(low.outcome == "reported");
  CHECK(low.mode == "audit");

  // No mode: the field stays empty, so the event's JSON has no "mode" (as before the table).
  Event plain = make_event(EventKind::AgentStarted, Outcome::Reported);
  CHECK(plain.mode.empty());
  CHECK_FALSE(to_json(plain).contains("mode"));
  CHECK(to_string(Outcome::PartiallyApplied) == std::string("partially-applied"));
}

TEST_CASE("every kind is found by its name, and its class decides what is a violation",
          "[event][kinds]") {
  for (const auto& k : event_kind_table()) {
    INFO(k.name);
    REQUIRE(event_kind_from_string(k.name) == k.kind);
    CHECK(std::string(k.name).find('.') != std::string::npos);
    Event e = make_event(k.kind, Severity::High, Outcome::Reported);
    CHECK(is_violation(e) == (k.cls == KindClass::Violation));
  }
  CHECK_FALSE(event_kind_from_string("usb.nonesuch"));
  // Kinds outside the seat's table (collector, test injection) are judged by severity alone.
  Event other;
  other.kind = "test.synthetic";
  other.severity = "medium";
  CHECK(is_violation(other));
  other.severity = "info";
  CHECK_FALSE(is_violation(other));
  CHECK(severity_from_string("critical") == Severity::Critical);
  CHECK_FALSE(severity_from_string("severe"));
}
