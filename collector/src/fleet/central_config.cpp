#include "central_config.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../store_open.hpp"

namespace seatlock::collector::fleet_cli {

namespace {

nlohmann::json read_config(const std::string& path, bool required) {
  if (!required && !std::filesystem::exists(path)) return nlohmann::json::object();
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  auto j = nlohmann::json::parse(s.str(), nullptr, false);
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (k != "tree" && k != "key" && k != "bundles" && k != "store" && k != "expires")
      throw std::runtime_error(path + ": unknown key \"" + k +
                               "\" (expected tree, key, bundles, store, expires)");
    if (!v.is_string() || v.get<std::string>().empty())
      throw std::runtime_error(path + ": \"" + k + "\": expected a non-empty string");
  }
  return j;
}

std::string login_name() {
  if (const char* s = std::getenv("SUDO_USER"); s && *s) return s;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* s = std::getenv("USER"); s && *s) return s;
  return "uid:" + std::to_string(::geteuid());
}

}  // namespace

std::set<std::string> central_option_names() {
  auto names = store_option_names();
  names.insert({"tree", "key", "bundles", "expires", "config", "by"});
  return names;
}

CentralSetup resolve_central_setup(const ArgParser& a) {
  auto config_path = a.get("config");
  nlohmann::json config =
      read_config(config_path.value_or(kDefaultConfig), config_path.has_value());
  auto pick = [&](const char* name, const char* fallback) {
    if (auto v = a.get(name)) return *v;
    if (config.contains(name)) return config[name].get<std::string>();
    return std::string(fallback);
  };
  CentralSetup s;
  s.tree = pick("tree", kDefaultTree);
  s.key = pick("key", kDefaultKey);
  s.bundles = pick("bundles", kDefaultBundles);
  s.expires = pick("expires", "14d");
  if (a.get("store") || a.get("db"))
    s.store_spec = store_spec(a);
  else
    s.store_spec = pick("store", kDefaultStore);
  s.actor = a.get("by").value_or(login_name());
  return s;
}

}  // namespace seatlock::collector::fleet_cli
