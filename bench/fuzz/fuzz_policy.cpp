// Policy loading (agent/core/policy/loader.hpp load_policy) with the position locator
// (agent/core/json/locator.hpp): one to three policy files, split on "\n--\n". Policy files come
// from IT, but a malformed one must produce diagnostics, never a crash. Invariants: a result is
// either a policy or errors; every diagnostic names one of the files and a place inside it; the
// locator's positions are inside the text; a loaded policy loads again from its own effective
// document with the same sha256.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/json/locator.hpp"
#include "core/policy/loader.hpp"
#include "fuzz_support.hpp"

namespace {

int line_count(const std::string& text) {
  int n = 1;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++n;
  return n;
}

void check_diagnostics(const std::vector<seatlock::PolicyDiagnostic>& ds,
                       const std::vector<seatlock::PolicyFile>& files) {
  for (const auto& d : ds) {
    const seatlock::PolicyFile* file = nullptr;
    for (const auto& f : files)
      if (f.name == d.file) file = &f;
    FUZZ_CHECK(file || d.line == 0, "diagnostic with a place in an unknown file: " + d.text());
    FUZZ_CHECK(!d.message.empty(), "diagnostic without a message: " + d.text());
    if (file) {
      FUZZ_CHECK(d.line >= 0 && d.line <= line_count(file->text) && d.column >= 0,
                 "diagnostic outside its file: " + d.text());
    }
    (void)d.text();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  seatlock::fuzz::Pieces pieces(data, size);
  std::vector<seatlock::PolicyFile> files;
  for (int i = 0; i < 3 && (i == 0 || !pieces.empty()); ++i)
    files.push_back({"policy.d/" + std::to_string(10 * (i + 1)) + "-fuzz.json", pieces.next()});

  for (const auto& f : files) {
    seatlock::JsonLocator loc(f.text);
    for (std::size_t off : {std::size_t{0}, f.text.size() / 2, f.text.size()}) {
      auto pos = loc.position_of(off);
      FUZZ_CHECK(pos.line >= 1 && pos.line <= line_count(f.text) && pos.column >= 1,
                 "position_of(" + std::to_string(off) + ") = " + std::to_string(pos.line) + ":" +
                     std::to_string(pos.column));
    }
    (void)loc.value("");
    (void)loc.value("/usb/exceptions/0/until");
    (void)loc.key("/network");
  }

  seatlock::PolicyLoadOptions opts;
  opts.now = 1'750'000'000'000;  // 2025-06: the example exceptions are still valid
  for (bool strict : {true, false}) {
    opts.expired_is_error = strict;
    seatlock::PolicyLoadResult r;
    try {
      r = seatlock::load_policy(files, opts);
    } catch (const nlohmann::json::out_of_range& e) {  // 1e400: no diagnostic, an exception
      FUZZ_CHECK(seatlock::fuzz::tolerated("json-number-overflow"),
                 std::string("load_policy throws: ") + e.what());
      return 0;
    }
    FUZZ_CHECK(r.policy.has_value() == r.errors.empty(), "policy and errors disagree");
    check_diagnostics(r.errors, files);
    check_diagnostics(r.warnings, files);
    if (!r.policy) continue;
    // The merged document is itself a valid one-file policy with the same hash.
    auto again = seatlock::load_policy({{"effective.json", r.policy->effective.dump(2)}}, opts);
    FUZZ_CHECK(again.policy.has_value(),
               "effective policy does not load again: " +
                   (again.errors.empty() ? std::string() : again.errors.front().text()) + "\n" +
                   r.policy->effective.dump(2));
    FUZZ_CHECK(again.policy->sha256 == r.policy->sha256,
               "effective policy loads with another sha256\n" + r.policy->effective.dump(2));
  }
  return 0;
}
