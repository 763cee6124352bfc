#include "core/policy/merge.hpp"

#include <unordered_set>

#include "core/policy/cidr.hpp"

namespace seatlock::policy_merge {
namespace {

enum class Rule { Accumulate, Set, PerKey, Replace, Closure };

Rule rule_for(const std::string& merged_ptr) {
  static const std::map<std::string, Rule> kRules = {
      {"/usb/exceptions", Rule::Accumulate},
      {"/network/allow", Rule::Accumulate},
      {"/network/inbound", Rule::Accumulate},
      {"/network/exceptions", Rule::Accumulate},
      {"/network/dns", Rule::Set},
      {"/network/ntp", Rule::Set},
      {"/firmware/trusted_keys", Rule::Set},
      {"/report/fleet_keys", Rule::Set},
      {"/network/addresses", Rule::PerKey},
      {"/network/closed", Rule::Closure},
  };
  auto it = kRules.find(merged_ptr);
  return it == kRules.end() ? Rule::Replace : it->second;
}

// Set members compare by meaning: "fd00::0053" and "fd00::53" are one resolver.
std::string set_key(const json& v) {
  if (!v.is_string()) return v.dump();
  if (auto ip = parse_ip(v.get<std::string>())) return ip->text();
  return v.get<std::string>();
}

class Merger {
 public:
  Merger(const std::vector<FileDoc>& files, Merged& out, std::vector<PolicyDiagnostic>& errors)
      : files_(files), out_(out), errors_(errors) {}

  void file(std::size_t index) {
    file_ = index;
    const json& doc = files_[index].doc;
    for (const auto& [key, value] : doc.items()) {
      if (key == "$schema" || key == "comment") continue;
      std::string p = "/" + json_pointer_escape(key);
      object_member(out_.doc, key, value, p, p);
    }
  }

 private:
  const std::vector<FileDoc>& files_;
  Merged& out_;
  std::vector<PolicyDiagnostic>& errors_;
  std::size_t file_ = 0;

  void record(const std::string& merged_ptr, const std::string& file_ptr) {
    out_.origins[merged_ptr] = {file_, file_ptr};
  }

  // Sets dst[key] from src (a member of the current file at file_ptr).
  void object_member(json& dst, const std::string& key, const json& src,
                     const std::string& merged_ptr, const std::string& file_ptr) {
    Rule rule = rule_for(merged_ptr);
    if (rule == Rule::Closure) {
      // One closure object, never merged key by key (a later file without `until` must not
      // inherit an earlier one's). The one in force the longest wins: a seat closed for the
      // whole fleet stays closed when its group's closure with an earlier `until` ends.
      if (files_[file_].dropped.count(file_ptr) || !src.is_object()) return;
      if (dst.contains(key) && lasts_longer(dst[key], src)) return;
      dst[key] = src;
      record(merged_ptr, file_ptr);
      return;
    }
    if (rule == Rule::Accumulate || rule == Rule::Set) {
      json& list = dst[key];
      if (!list.is_array()) list = json::array();
      record(merged_ptr, file_ptr);
      // What the list holds, by meaning (Set) or by text: comparing each item with every one
      // before it took seconds at 10,000 allow entries (and a daemon start loads twice).
      auto key_of = [&](const json& v) { return rule == Rule::Set ? set_key(v) : v.dump(); };
      std::unordered_set<std::string> held;
      for (const auto& have : list) held.insert(key_of(have));
      for (std::size_t i = 0; i < src.size(); ++i) {
        std::string item_ptr = file_ptr + "/" + std::to_string(i);
        if (files_[file_].dropped.count(item_ptr)) continue;
        if (!held.insert(key_of(src[i])).second) continue;  // a duplicate
        list.push_back(src[i]);
        record(merged_ptr + "/" + std::to_string(list.size() - 1), item_ptr);
      }
    } else if (rule == Rule::PerKey) {
      json& map = dst[key];
      if (!map.is_object()) map = json::object();
      record(merged_ptr, file_ptr);
      for (const auto& [name, value] : src.items()) {
        std::string mp = merged_ptr + "/" + json_pointer_escape(name);
        std::string fp = file_ptr + "/" + json_pointer_escape(name);
        if (map.contains(name) && !same_address(map[name], value)) {
          TextPos pos = files_[file_].locator->value(fp).value_or(TextPos{});
          errors_.push_back(
              {files_[file_].name, pos.line, pos.column, fp,
               "conflicts with " + describe_origin(out_, files_, mp) + ": interface \"" + name +
                   "\" is planned with two different addresses (" + map[name].get<std::string>() +
                   " and " + value.get<std::string>() + ")"});
          continue;
        }
        map[name] = value;
        record(mp, fp);
      }
    } else if (src.is_object()) {
      if (!dst.contains(key) || !dst[key].is_object()) dst[key] = json::object();
      record(merged_ptr, file_ptr);
      for (const auto& [k, v] : src.items()) {
        std::string esc = json_pointer_escape(k);
        object_member(dst[key], k, v, merged_ptr + "/" + esc, file_ptr + "/" + esc);
      }
    } else {
      dst[key] = src;
      record(merged_ptr, file_ptr);
    }
  }

  // Does closure `a` stay in force longer than `b` (no `until` = for ever)? Equal: b (later).
  static bool lasts_longer(const json& a, const json& b) {
    auto until = [](const json& c) -> std::optional<UnixMillis> {
      if (!c.contains("until") || !c["until"].is_string()) return std::nullopt;
      return parse_rfc3339(c["until"].get<std::string>());
    };
    auto ua = until(a), ub = until(b);
    if (!ub) return false;
    return !ua || *ua > *ub;
  }

  static bool same_address(const json& a, const json& b) {
    auto pa = parse_interface_address(a.get<std::string>()).cidr;
    auto pb = parse_interface_address(b.get<std::string>()).cidr;
    return pa && pb && *pa == *pb;
  }
};

}  // namespace

std::string describe_origin(const Merged& merged, const std::vector<FileDoc>& files,
                            const std::string& merged_ptr) {
  auto it = merged.origins.find(merged_ptr);
  if (it == merged.origins.end()) return merged_ptr;
  const FileDoc& f = files[it->second.file];
  TextPos pos = f.locator->value(it->second.pointer).value_or(TextPos{});
  return f.name + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + " (" +
         it->second.pointer + ")";
}

PolicyDiagnostic diagnostic_at(const Merged& merged, const std::vector<FileDoc>& files,
                               const std::string& merged_ptr, const std::string& message,
                               bool at_key) {
  auto it = merged.origins.find(merged_ptr);
  if (it == merged.origins.end()) return {"", 0, 0, merged_ptr, message};
  const FileDoc& f = files[it->second.file];
  std::optional<TextPos> pos = at_key ? f.locator->key(it->second.pointer) : std::nullopt;
  if (!pos) pos = f.locator->value(it->second.pointer);
  TextPos p = pos.value_or(TextPos{});
  return {f.name, p.line, p.column, it->second.pointer, message};
}

Merged merge_documents(const std::vector<FileDoc>& files, std::vector<PolicyDiagnostic>& errors) {
  Merged out;
  Merger m(files, out, errors);
  for (std::size_t i = 0; i < files.size(); ++i) m.file(i);
  return out;
}

}  // namespace seatlock::policy_merge
