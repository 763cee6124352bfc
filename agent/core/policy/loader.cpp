// load_policy: parse every file, validate each where it was written, merge in name order,
// check cross-file conflicts, then build the Policy. Nothing is returned unless all of it holds.
#include "core/policy/loader.hpp"

#include <algorithm>
#include <memory>

#include "core/json/bounded_parse.hpp"
#include "core/policy/build.hpp"
#include "core/policy/validate.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxPolicyDepth = 64;

// nlohmann's what(): "[json.exception.parse_error.101] parse error at line 3, column 5: <detail>".
// The place is given separately (ours counts CRLF and characters), and so is the "last read"
// token, which nlohmann prints unescaped and which only confuses in a one-line message.
std::string parse_error_detail(const std::string& what) {
  std::size_t at = what.find(": ");
  std::size_t col = what.find("column ");
  if (col != std::string::npos) at = what.find(": ", col);
  std::string detail = at == std::string::npos ? what : what.substr(at + 2);
  std::size_t last = detail.find("; last read: ");
  if (last != std::string::npos) {
    std::size_t expected = detail.rfind("; expected ");
    detail.erase(last, expected != std::string::npos && expected > last ? expected - last
                                                                        : std::string::npos);
  }
  return detail.rfind("syntax error", 0) == 0 ? detail : "syntax error: " + detail;
}

// nlohmann reports the byte after the offending token; an unexpected string should be shown
// where it starts ("token_file" after a missing comma), anything else where reading stopped.
std::size_t error_offset(const json::parse_error& e, const std::string& text) {
  std::size_t end = e.byte > 0 ? std::min<std::size_t>(e.byte, text.size()) : 0;
  if (end > 0 && text[end - 1] == '"') {
    std::size_t start = end - 1;
    while (start > 0) {  // back to the opening quote, skipping escaped quotes
      std::size_t q = text.rfind('"', start - 1);
      if (q == std::string::npos) break;
      std::size_t backslashes = 0;
      while (q >= 1 + backslashes && text[q - 1 - backslashes] == '\\') ++backslashes;
      start = q;
      if (backslashes % 2 == 0) return start;
    }
  }
  return e.byte > 0 ? e.byte - 1 : 0;  // may equal text.size(): the end of input
}

void sort_by_place(std::vector<PolicyDiagnostic>& v, const std::vector<PolicyFile>& files) {
  auto index = [&](const std::string& name) {
    for (std::size_t i = 0; i < files.size(); ++i)
      if (files[i].name == name) return i;
    return files.size();
  };
  std::stable_sort(v.begin(), v.end(), [&](const PolicyDiagnostic& a, const PolicyDiagnostic& b) {
    auto ia = index(a.file), ib = index(b.file);
    if (ia != ib) return ia < ib;
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
}

}  // namespace

PolicyLoadResult load_policy(const std::vector<PolicyFile>& files,
                             const PolicyLoadOptions& options) {
  PolicyLoadResult result;
  if (files.empty()) {
    result.errors.push_back({"", 0, 0, "", "no policy files to load"});
    return result;
  }
  std::vector<std::unique_ptr<JsonLocator>> locators;
  std::vector<policy_merge::FileDoc> docs;
  for (const auto& f : files) {
    locators.push_back(std::make_unique<JsonLocator>(f.text));
    const JsonLocator& loc = *locators.back();
    json doc;
    // Nesting is refused before a tree exists: merge and build copy documents recursively.
    if (auto at = json_depth_exceeded(f.text, kMaxPolicyDepth, /*allow_comments=*/true)) {
      TextPos pos = loc.position_of(*at);
      result.errors.push_back({f.name, pos.line, pos.column, "",
                               "nested deeper than " + std::to_string(kMaxPolicyDepth) +
                                   " levels; no policy needs more"});
      continue;
    }
    try {
      doc = json::parse(f.text, nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      TextPos pos = loc.position_of(error_offset(e, f.text));
      result.errors.push_back({f.name, pos.line, pos.column, "", parse_error_detail(e.what())});
      continue;
    } catch (const json::exception& e) {  // out_of_range: a number like 1e400
      result.errors.push_back({f.name, 1, 1, "", parse_error_detail(e.what())});
      continue;
    }
    policy_check::Checker checker(f.name, loc, result.errors, result.warnings);
    policy_check::validate_document(doc, checker, options);
    docs.push_back({f.name, std::move(doc), &loc, std::move(checker.dropped())});
  }
  if (result.errors.empty()) {
    policy_merge::Merged merged = policy_merge::merge_documents(docs, result.errors);
    policy_merge::check_conflicts(merged, docs, result.errors);
    if (result.errors.empty()) {
      json effective = policy_build::effective_document(merged.doc);
      result.policy = policy_build::build_policy(effective, merged, docs);
    }
  }
  sort_by_place(result.errors, files);
  sort_by_place(result.warnings, files);
  return result;
}

}  // namespace seatlock
