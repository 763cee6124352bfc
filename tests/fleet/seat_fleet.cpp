#include "seat_fleet.hpp"

#include <filesystem>
#include <map>
#include <stdexcept>

#include "fleet/bundle_dir.hpp"

namespace seatlock::fleet_test {

using nlohmann::json;
namespace fs = std::filesystem;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

FleetHost::FleetHost(const tg::TempDir& dir)
    : tree(dir / "fleet-tree"), key(dir / "fleet.key"), bundles(dir / "bundles") {
  fs::create_directories(tree);
  auto r = tg::run_cli({"fleet", "keygen", "--out", key});
  if (r.exit_code != 0) throw std::runtime_error("fleet keygen failed: " + r.out);
}

std::string FleetHost::pub() const {
  std::string t = t::read_file(key + ".pub");
  return t.substr(0, t.find('\n'));
}

void FleetHost::put(const std::string& relative, const std::string& text) const {
  fs::path p = fs::path(tree) / relative;
  fs::create_directories(p.parent_path());
  t::write_file(p.string(), text);
}

void FleetHost::publish(const std::string& expires, const std::string& key_file,
                        const std::string& into) const {
  auto r =
      tg::run_cli({"fleet", "publish", "--tree", tree, "--key", key_file.empty() ? key : key_file,
                   "--bundles", into.empty() ? bundles : into, "--expires", expires});
  if (r.exit_code != 0) throw std::runtime_error("fleet publish failed: " + r.out);
}

std::string FleetHost::document(const std::string& seat, const std::string& dir) const {
  auto all = collector::fleet_cli::BundleDir(dir.empty() ? bundles : dir).read_all();
  if (!all.count(seat)) throw std::runtime_error("no bundle for " + seat);
  return all[seat].document;
}

void FleetHost::install(const std::vector<std::string>& documents) const {
  collector::fleet_cli::BundleDir dir(bundles);
  dir.lock_for_publish();
  const std::uint64_t v = dir.reserved_version() + 1;
  dir.reserve(v);
  std::map<std::string, std::string> by_seat;
  for (const auto& d : documents) by_seat[json::parse(d)["bundle"]["seat"].get<std::string>()] = d;
  dir.publish(v, by_seat);
}

json seat_report(const std::string& url, const tg::Pki& pki, const tg::Pki::Pair& cert,
                 const std::vector<std::string>& pins) {
  json r = evidence::report_section(url, pki, cert);
  r["fleet_keys"] = pins;
  return r;
}

namespace {

// The directory, created (replaying_collector.py expects it).
std::string created(const std::string& dir) {
  fs::create_directories(dir);
  return dir;
}

}  // namespace

ReplayingCollector::ReplayingCollector(const tg::Pki& pki, const std::string& d)
    : dir(created(d)),
      server(std::string(SEATLOCK_SOURCE_DIR) + "/tests/fleet/replaying_collector.py", pki, dir) {}

void ReplayingCollector::serve_next(const std::string& document) {
  const std::string n = std::to_string(++served_);
  t::write_file(dir + "/.tmp-" + n, document);
  fs::rename(dir + "/.tmp-" + n, dir + "/serve-" + n + ".json");
}

std::vector<json> ReplayingCollector::events() const {
  return evidence::read_json_lines(dir + "/events.ndjson");
}

json seat_status(evidence::SeatDaemon& seat) {
  return seat.ctl("status");
}

std::uint64_t fleet_version_in_force(evidence::SeatDaemon& seat) {
  json p = seat_status(seat)["policy"];
  return p.contains("fleet") ? p["fleet"]["version"].get<std::uint64_t>() : 0;
}

std::string usb_mode(evidence::SeatDaemon& seat) {
  return seat_status(seat)["policy"]["modes"]["usb"].get<std::string>();
}

std::vector<json> with_fleet_version(const std::vector<json>& rows, const std::string& kind,
                                     std::uint64_t version) {
  std::vector<json> out;
  for (const auto& r : rows) {
    if (r.value("kind", "") != kind) continue;
    const json& d = r["details"];
    std::uint64_t v = 0;
    if (d.contains("fleet") && d["fleet"].contains("version"))
      v = d["fleet"]["version"].get<std::uint64_t>();
    else if (d.contains("version") && d["version"].is_number_unsigned())
      v = d["version"].get<std::uint64_t>();
    if (version == 0 || v == version) out.push_back(r);
  }
  return out;
}

SeatFleetRig::SeatFleetRig(const std::string& id)
    : seat_id(id), cert(pki.seat(id)), seat(tmp.path, id) {
  std::filesystem::create_directories(fleet.bundles);
}

void SeatFleetRig::start_collector(int port) {
  std::vector<std::string> extra = {"--bundles", fleet.bundles};
  if (port) extra.insert(extra.end(), {"--listen", "127.0.0.1:" + std::to_string(port)});
  collector = std::make_unique<seatlock::testing::CollectorProcess>(db, pki, extra);
}

std::vector<nlohmann::json> SeatFleetRig::at_collector(const std::string& kind,
                                                       std::uint64_t version) {
  return with_fleet_version(seatlock::evidence::collector_rows(db, seat_id), kind, version);
}

std::size_t SeatFleetRig::refused_at_collector(const std::string& refusal) {
  std::size_t n = 0;
  for (const auto& e : at_collector("policy.rejected", 0))
    n += e["details"]["fleet"].value("refusal", "") == refusal;
  return n;
}

}  // namespace seatlock::fleet_test
