// Reading policy directories and command-line paths from disk (agent/os/base/policy_files).
#include "os/base/policy_files.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace seatlock;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sl-policy-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
};

std::vector<std::string> names(const std::vector<PolicyFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.name);
  return out;
}

}  // namespace

TEST_CASE("a policy directory yields its *.json files in name order", "[policy][files]") {
  TempDir t;
  t.write("policy.d/90-seat.json", "{\"b\":1}");
  t.write("policy.d/00-default.json", "{}");
  t.write("policy.d/50-site.json", "{\"a\":1}");
  t.write("policy.d/50-site.json~", "editor backup");
  t.write("policy.d/.50-site.json.swp", "swap");
  t.write("policy.d/.hidden.json", "{}");
  t.write("policy.d/README", "notes");
  t.write("policy.d/sub.json/inner.json", "{}");  // a directory named *.json is not a file
  auto files = read_policy_dir((t.path / "policy.d").string());
  CHECK(names(files) == std::vector<std::string>{"policy.d/00-default.json",
                                                 "policy.d/50-site.json", "policy.d/90-seat.json"});
  CHECK(files[1].text == "{\"a\":1}");
  // A trailing slash names the same directory.
  CHECK(names(read_policy_dir((t.path / "policy.d").string() + "/")) == names(files));
}

TEST_CASE("command-line paths merge by file name as if in one directory", "[policy][files]") {
  TempDir t;
  t.write("default/00-default.json", "{}");
  t.write("examples/50-site.json", "{}");
  t.write("examples/90-seat.json", "{}");
  t.write("extra/70-team.json", "{}");
  std::string seat = (t.path / "examples/90-seat.json").string();
  auto files = read_policy_paths({seat, (t.path / "extra").string(), (t.path / "default").string(),
                                  (t.path / "examples/50-site.json").string()});
  CHECK(names(files) == std::vector<std::string>{"default/00-default.json",
                                                 (t.path / "examples/50-site.json").string(),
                                                 "extra/70-team.json", seat});
}

TEST_CASE("unreadable paths are reported, not skipped", "[policy][files]") {
  TempDir t;
  CHECK_THROWS_WITH(read_policy_dir((t.path / "missing").string()),
                    Catch::Contains("cannot read policy directory") && Catch::Contains("missing"));
  CHECK_THROWS_WITH(read_policy_paths({(t.path / "nope.json").string()}),
                    Catch::Contains("cannot read") && Catch::Contains("nope.json"));
}
