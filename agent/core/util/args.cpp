#include "core/util/args.hpp"

#include "core/util/time.hpp"

namespace seatlock {

ArgParser::ArgParser(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                     const std::set<std::string>& switches)
    : ArgParser(argv, ArgSpec{valued, switches, 0, false}) {}

ArgParser::ArgParser(const std::vector<std::string>& argv, const ArgSpec& spec) {
  const bool takes_positional = spec.max_positional > 0 || spec.stop_at_positional;
  auto add_positional = [&](const std::string& a) {
    if (positional_.size() >= spec.max_positional && !spec.stop_at_positional)
      throw UsageError("unexpected argument \"" + a + "\"");
    positional_.push_back(a);
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      if (spec.stop_at_positional) {
        positional_.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
        return;
      }
      // "-x" is a mistyped flag, not a file name, where file names are taken.
      if (takes_positional && a.size() > 1 && a[0] == '-') throw UsageError("unknown option " + a);
      add_positional(a);
      continue;
    }
    if (a == "--" && takes_positional) {
      for (++i; i < argv.size(); ++i) add_positional(argv[i]);
      return;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (spec.switches.count(name)) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      switches_.insert(name);
    } else if (spec.valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      values_[name].push_back(value);
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

std::optional<std::string> ArgParser::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ArgParser::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
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
