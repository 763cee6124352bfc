#include "core/util/args.hpp"

#include "core/util/time.hpp"

namespace seatlock {

ArgParser::ArgParser(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                     const std::set<std::string>& switches) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument \"" + a + "\"");
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (switches.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      switches_.insert(name);
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

std::optional<std::string> ArgParser::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ArgParser::require(const std::string& name) const {
  auto v = get(name);
  if (!v || v->empty()) throw UsageError("--" + name + " is required");
  return *v;
}

std::optional<std::int64_t> ArgParser::time(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  std::string text = *v;
  if (text.size() == 10) text += "T00:00:00Z";  // a bare date means midnight UTC
  auto t = parse_rfc3339(text);
  if (!t)
    throw UsageError("--" + name + ": expected an RFC 3339 time or YYYY-MM-DD, got \"" + *v + "\"");
  return t;
}

std::optional<std::uint64_t> ArgParser::number(const std::string& name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  // std::stoull accepts a sign and leading blanks ("-1" wraps round): digits only.
  bool digits =
      !v->empty() && v->size() <= 19 && v->find_first_not_of("0123456789") == std::string::npos;
  if (!digits)
    throw UsageError("--" + name + ": expected a non-negative integer, got \"" + *v + "\"");
  return std::stoull(*v);
}

}  // namespace seatlock
