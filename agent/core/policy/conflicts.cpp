// Cross-entry rules checked on the merged document (merge.hpp): they need every file at once.
#include <algorithm>
#include <cctype>
#include <optional>

#include "core/policy/domain_name.hpp"
#include "core/policy/merge.hpp"
#include "core/util/time.hpp"

namespace seatlock::policy_merge {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string opt(const json& e, const char* k) {
  return e.contains(k) ? e[k].get<std::string>() : std::string("*");
}

UnixMillis until_of(const json& e) {
  return parse_rfc3339(e["until"].get<std::string>()).value_or(0);
}

std::vector<std::string> sorted_names(const json& e, const char* k) {
  std::vector<std::string> v;
  if (e.contains(k))
    for (const auto& n : e[k]) v.push_back(n.get<std::string>());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void usb_exceptions(const Merged& m, const std::vector<FileDoc>& files,
                    std::vector<PolicyDiagnostic>& errors) {
  const json* list = m.doc.contains("usb") && m.doc["usb"].contains("exceptions")
                         ? &m.doc["usb"]["exceptions"]
                         : nullptr;
  if (!list) return;
  for (std::size_t j = 1; j < list->size(); ++j) {
    const json& b = (*list)[j];
    for (std::size_t i = 0; i < j; ++i) {
      const json& a = (*list)[i];
      bool same_device = lower(a["vid"].get<std::string>()) == lower(b["vid"].get<std::string>()) &&
                         lower(a["pid"].get<std::string>()) == lower(b["pid"].get<std::string>()) &&
                         opt(a, "serial") == opt(b, "serial") && opt(a, "port") == opt(b, "port");
      if (!same_device) continue;
      bool same_terms = until_of(a) == until_of(b) && a["ticket"] == b["ticket"] &&
                        a.value("read_only", false) == b.value("read_only", false);
      if (same_terms) continue;  // only comments differ: the same grant written twice
      std::string device =
          lower(b["vid"].get<std::string>()) + ":" + lower(b["pid"].get<std::string>());
      if (b.contains("serial")) device += " serial " + b["serial"].dump();
      if (b.contains("port")) device += " port " + b["port"].dump();
      std::string mp = "/usb/exceptions/" + std::to_string(j);
      errors.push_back(diagnostic_at(
          m, files, mp,
          "conflicts with " + describe_origin(m, files, "/usb/exceptions/" + std::to_string(i)) +
              ": device " + device +
              " has two exceptions with a different until, ticket or read_only"));
      break;
    }
  }
}

void net_exceptions(const Merged& m, const std::vector<FileDoc>& files,
                    std::vector<PolicyDiagnostic>& errors) {
  const json* list = m.doc.contains("network") && m.doc["network"].contains("exceptions")
                         ? &m.doc["network"]["exceptions"]
                         : nullptr;
  if (!list) return;
  for (std::size_t j = 1; j < list->size(); ++j) {
    const json& b = (*list)[j];
    for (std::size_t i = 0; i < j; ++i) {
      const json& a = (*list)[i];
      std::string why;
      if (a["ticket"] == b["ticket"] && until_of(a) != until_of(b)) {
        why = "ticket " + b["ticket"].dump() + " is given two different until times";
      } else if (sorted_names(a, "users") == sorted_names(b, "users") &&
                 sorted_names(a, "groups") == sorted_names(b, "groups") &&
                 a["allow"] == b["allow"] &&
                 (until_of(a) != until_of(b) || a["ticket"] != b["ticket"])) {
        why =
            "the same users, groups and allow entries are excepted twice with a different until or "
            "ticket";
      }
      if (why.empty()) continue;
      errors.push_back(diagnostic_at(
          m, files, "/network/exceptions/" + std::to_string(j),
          "conflicts with " +
              describe_origin(m, files, "/network/exceptions/" + std::to_string(i)) + ": " + why));
      break;
    }
  }
}

// Where the first domain name of an allow list is: (pointer of the entry in the merged
// document that has an origin, suffix down to the name), or nullopt.
struct NamePlace {
  std::string entry;   // "/network/allow/2" or "/network/exceptions/0"
  std::string suffix;  // "/to/1" or "/allow/0/to"
};

std::optional<NamePlace> first_domain(const json& list, const std::string& entry,
                                      const std::string& prefix, bool entry_is_item) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item = "/" + std::to_string(i);
    NamePlace at{entry_is_item ? entry + item : entry,
                 (entry_is_item ? "" : prefix + item) + "/to"};
    const json& to = list[i]["to"];
    if (to.is_string() && looks_like_domain(to.get<std::string>())) return at;
    if (to.is_array())
      for (std::size_t k = 0; k < to.size(); ++k)
        if (looks_like_domain(to[k].get<std::string>()))
          return NamePlace{at.entry, at.suffix + "/" + std::to_string(k)};
  }
  return std::nullopt;
}

// A domain name is only reachable through the DNS guard, which forwards to network.dns only.
void domains_need_resolvers(const Merged& m, const std::vector<FileDoc>& files,
                            std::vector<PolicyDiagnostic>& errors) {
  if (!m.doc.contains("network")) return;
  const json& n = m.doc["network"];
  if (n.contains("dns") && !n["dns"].empty()) return;
  std::optional<NamePlace> at;
  if (n.contains("allow")) at = first_domain(n["allow"], "/network/allow", "", true);
  for (std::size_t i = 0; !at && n.contains("exceptions") && i < n["exceptions"].size(); ++i)
    at = first_domain(n["exceptions"][i]["allow"], "/network/exceptions/" + std::to_string(i),
                      "/allow", false);
  if (!at) return;
  const std::string message =
      "a domain name needs resolvers: set \"network\": {\"dns\": [...]} in this or another "
      "file (the DNS guard forwards allowed names to those resolvers only)";
  auto origin = m.origins.find(at->entry);
  if (origin == m.origins.end()) {
    errors.push_back({"", 0, 0, at->entry + at->suffix, message});
    return;
  }
  const FileDoc& f = files[origin->second.file];
  const std::string ptr = origin->second.pointer + at->suffix;
  TextPos pos = f.locator->value(ptr).value_or(TextPos{});
  errors.push_back({f.name, pos.line, pos.column, ptr, message});
}

void report_pairs(const Merged& m, const std::vector<FileDoc>& files,
                  std::vector<PolicyDiagnostic>& errors) {
  if (!m.doc.contains("report")) return;
  const json& r = m.doc["report"];
  if (r.contains("cert") != r.contains("key")) {
    const char* have = r.contains("cert") ? "cert" : "key";
    const char* missing = r.contains("cert") ? "key" : "cert";
    errors.push_back(diagnostic_at(m, files, std::string("/report/") + have,
                                   std::string("a client ") + have + " needs its " + missing +
                                       " (set \"report\": {\"" + missing +
                                       "\": ...} in this or another file)"));
  }
}

}  // namespace

void check_conflicts(const Merged& merged, const std::vector<FileDoc>& files,
                     std::vector<PolicyDiagnostic>& errors) {
  usb_exceptions(merged, files, errors);
  net_exceptions(merged, files, errors);
  report_pairs(merged, files, errors);
  domains_need_resolvers(merged, files, errors);
}

}  // namespace seatlock::policy_merge
