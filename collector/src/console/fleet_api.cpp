#include "console/fleet_api.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "core/fleet/tree.hpp"
#include "core/util/args.hpp"
#include "core/util/time.hpp"
#include "fleet/bundle_dir.hpp"
#include "fleet/central_action.hpp"
#include "fleet/central_config.hpp"
#include "fleet/fleet_status.hpp"
#include "fleet/tree_reader.hpp"

namespace seatlock::collector::console {
namespace {

using nlohmann::json;
using namespace fleet_cli;

UnixMillis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string base_name(const std::string& rel) {
  return rel.substr(rel.rfind('/') + 1);
}

std::int64_t until_ms_of(const json& entry) {
  if (!entry.is_object() || !entry.contains("until") || !entry["until"].is_string()) return 0;
  return parse_rfc3339(entry["until"].get<std::string>()).value_or(0);
}

// The grants (usb/network exceptions with a ticket) of one scope directory's files.
void add_grants(const std::vector<PolicyFile>& files, const std::string& scope, UnixMillis now,
                json& out) {
  for (const auto& f : files) {
    if (base_name(f.name).rfind(kGrantPrefix, 0) != 0) continue;
    auto doc = json::parse(f.text, nullptr, false, true);
    if (!doc.is_object()) continue;
    for (const auto& [section, kind] : {std::pair{"usb", "usb"}, std::pair{"network", "net"}}) {
      if (!doc.contains(section) || !doc[section].is_object()) continue;
      const json& list = doc[section].value("exceptions", json::array());
      if (!list.is_array()) continue;
      for (const auto& e : list) {
        std::int64_t until = until_ms_of(e);
        if (until != 0 && until <= now) continue;  // expired: pruned at the next action
        out.push_back({{"ticket", e.is_object() ? e.value("ticket", "") : ""},
                       {"kind", kind},
                       {"scope", scope},
                       {"until_ms", until == 0 ? json(nullptr) : json(until)}});
      }
    }
  }
}

}  // namespace

HttpResponse FleetApi::get(const ApiRequest&) {
  if (cfg_.fleet_config.empty()) return error_response(404, "no fleet configured");
  UnixMillis now = now_ms();
  ArgParser a({"--config", cfg_.fleet_config, "--store", cfg_.store_spec}, central_option_names(),
              {});
  CentralSetup setup = resolve_central_setup(a);
  auto tree = read_fleet_tree(setup.tree);
  auto plan = seatlock::fleet::plan_fleet(tree);

  json groups = json::array();
  for (const auto& g : plan.map.groups) {
    std::size_t seats = 0;
    for (const auto& s : plan.seats)
      for (const auto& name : s.groups) seats += name == g.name;
    json group = {{"name", g.name},
                  {"seats", seats},
                  {"internet", "open"},
                  {"closed_until_ms", nullptr},
                  {"ticket", nullptr}};
    auto it = tree.groups.find(g.name);
    if (it != tree.groups.end()) {
      for (const auto& f : it->second) {
        if (base_name(f.name) != kClosureFile) continue;
        auto doc = json::parse(f.text, nullptr, false, true);
        auto p = json::json_pointer("/network/closed");
        if (!doc.is_object() || !doc.contains(p)) continue;
        std::int64_t until = until_ms_of(doc[p]);
        if (until != 0 && until <= now) continue;  // lapsed: open again
        group["internet"] = "closed";
        group["closed_until_ms"] = until == 0 ? json(nullptr) : json(until);
        group["ticket"] = doc[p].value("ticket", "");
      }
    }
    groups.push_back(std::move(group));
  }

  json grants = json::array();
  add_grants(tree.all, "all", now, grants);
  for (const auto& [dir, files] : tree.groups) add_grants(files, "group " + dir, now, grants);
  for (const auto& [dir, files] : tree.seats) add_grants(files, "seat " + dir, now, grants);

  BundleDir dir(setup.bundles);
  std::uint64_t version = dir.current_version();
  auto bundles = dir.read_all();
  json publish = {{"version", version}, {"published_ms", nullptr}, {"acked", 0}, {"behind", 0}};
  if (version != 0 && !bundles.empty()) {
    try {
      publish["published_ms"] = summarize_bundle(bundles.begin()->second.document, now).issued;
    } catch (const std::exception&) {
    }
    FleetStatusOptions opt;
    opt.now = now;
    FleetStatus st = gather_fleet_status(store_, bundles, version, opt);
    std::size_t acked = 0, behind = 0;
    for (const auto& s : st.seats) {
      if (!s.published) continue;
      if (s.acked >= s.published->version)
        ++acked;
      else
        ++behind;
    }
    publish["acked"] = acked;
    publish["behind"] = behind;
  }
  HttpResponse r;
  r.body = json{{"groups", groups}, {"grants", grants}, {"publish", publish}}.dump();
  return r;
}

std::vector<BehindSeat> FleetApi::behind_seats() {
  std::vector<BehindSeat> out;
  if (cfg_.fleet_config.empty()) return out;
  try {
    ArgParser a({"--config", cfg_.fleet_config, "--store", cfg_.store_spec}, central_option_names(),
                {});
    BundleDir dir(resolve_central_setup(a).bundles);
    std::uint64_t version = dir.current_version();
    if (version == 0) return out;
    FleetStatusOptions opt;
    opt.now = now_ms();
    for (const auto& s : gather_fleet_status(store_, dir.read_all(), version, opt).seats)
      if (s.published && s.acked < s.published->version)
        out.push_back({s.seat, s.published->version, s.acked});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlock-collector: console overview: fleet status unavailable: %s\n",
                 e.what());
  }
  return out;
}

HttpResponse FleetApi::net(const ApiRequest& req) {
  if (cfg_.fleet_config.empty()) return error_response(404, "no fleet configured");
  auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object())
    return error_response(400, "expected {\"group\", \"action\": \"close\"|\"open\", \"ticket\"}");
  auto text = [&](const char* k) {
    return body.contains(k) && body[k].is_string() ? body[k].get<std::string>() : std::string();
  };
  std::string group = text("group"), action = text("action"), ticket = text("ticket");
  if (group.empty()) return error_response(400, "group: required");
  if (action != "close" && action != "open")
    return error_response(400, "action: expected \"close\" or \"open\"");
  if (ticket.empty()) return error_response(400, "ticket: required (the change's reference)");
  ArgList args{action,         "--group",         group,  "--ticket",  ticket,
               "--config",     cfg_.fleet_config, "--by", req.account, "--store",
               cfg_.store_spec};
  if (std::string until = text("until"); !until.empty())
    args.insert(args.end(), {"--until", until});
  if (!cfg_.collector_instance.empty())
    args.insert(args.end(), {"--instance", cfg_.collector_instance});
  if (!cfg_.collector_key.empty()) args.insert(args.end(), {"--collector-key", cfg_.collector_key});

  std::ostringstream out;
  int rc = 0;
  try {
    std::lock_guard lk(action_mu_);
    rc = cmd_net(args, out);
  } catch (const UsageError& e) {
    std::string why = e.what();
    // The CLI's flag names are the API's field names.
    for (const char* f : {"ticket", "until", "group"})
      if (why.rfind(std::string("--") + f + ":", 0) == 0) why = why.substr(2);
    return error_response(400, why);
  } catch (const std::exception& e) {
    return error_response(409, e.what());
  }
  if (rc != 0) {
    std::string why = out.str();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.rfind("error: ", 0) == 0) why = why.substr(7);
    return error_response(409, why.empty() ? "the action was refused; nothing changed" : why);
  }
  ArgParser a({"--config", cfg_.fleet_config, "--store", cfg_.store_spec}, central_option_names(),
              {});
  std::uint64_t version = BundleDir(resolve_central_setup(a).bundles).current_version();
  HttpResponse r;
  r.body = json{{"version", version}, {"message", out.str()}}.dump();
  return r;
}

}  // namespace seatlock::collector::console
