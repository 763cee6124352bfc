// `seatlock-collector fleet status`: a real tree published with the real CLI, seats' events
// delivered over the wire to a real `serve --store` (SQLite and ClickHouse), then the command's
// table and JSON must show exactly who runs what: acked, behind, silent, never seen, refusing,
// local edits, closed, granted, not in the fleet; --group keeps one group's seats.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/util/time.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;
using seatlock::test::read_file;
using seatlock::test::write_file;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMin = 60'000, kHour = 60 * kMin, kDay = 24 * kHour;

// A seat's events, built in seq order, chained and posted in one batch.
struct SimSeat {
  SeatSim sim;
  std::vector<Event> events;
  explicit SimSeat(const std::string& id) : sim(id) {}
  SimSeat& add(const std::string& kind, const std::string& severity, UnixMillis time,
               json details = json::object()) {
    Event e = sim.next(kind, severity, time);
    if (!details.empty()) e.details = std::move(details);
    events.push_back(std::move(e));
    return *this;
  }
  SimSeat& heartbeats(UnixMillis last) {  // two, 5 minutes apart: the observed interval
    add("agent.heartbeat", "info", last - 5 * kMin);
    return add("agent.heartbeat", "info", last);
  }
  SimSeat& applied(std::uint64_t version, UnixMillis time, json overrides = json::array()) {
    return add("policy.applied", "info", time,
               {{"reason", "fleet bundle " + std::to_string(version)},
                {"fleet",
                 {{"version", version},
                  {"expires", "2030-01-01T00:00:00.000Z"},
                  {"local_overrides", std::move(overrides)}}}});
  }
  Post post() {
    std::string prev = kGenesisPrev;  // details were set after next(): chain again
    for (auto& e : events) {
      e.prev = prev;
      prev = chain_hash(e);
    }
    return sim.post(events);
  }
};

// The fleet host: a tree with two groups, published twice (v1, then v2 with a closure for
// cc-05 and a USB grant for cc-06).
struct Fleet {
  std::string tree, key, bundles;
  explicit Fleet(const TempDir& dir)
      : tree(dir / "tree"), key(dir / "fleet.key"), bundles(dir / "bundles") {
    REQUIRE(run_cli({"fleet", "keygen", "--out", key}).exit_code == 0);
    // cc-08 is not in the fleet (it only reports).
    write_file(tree + "/groups.json", R"({"seats": ["cc-04"], "groups": [
      {"name": "floor-a", "seats": ["cc-01", "cc-02", "cc-03"]},
      {"name": "floor-b", "match": ["cc-0?"]}]})");
    write_file(tree + "/all/10-base.json", R"({"usb": {"mode": "audit"}})");
    write_file(tree + "/seats/cc-07/10-seat.json", R"({"network": {"mode": "audit"}})");
    publish();
    write_file(tree + "/seats/cc-05/95-net-closed.json",
               R"({"network": {"closed": {"ticket": "INC-9", "by": "alice",
            "since": "2026-12-01T08:00:00Z"}}})");
    write_file(tree + "/seats/cc-06/85-grant-usb-CHG-7.json",
               R"({"usb": {"exceptions": [{"vid": "0781", "pid": "5581", "serial": "4C53",
            "until": "2030-01-01T00:00:00Z", "ticket": "CHG-7"}]}})");
    publish();
  }
  void publish() {
    auto r = run_cli({"fleet", "publish", "--tree", tree, "--key", key, "--bundles", bundles});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
  }
};

// Every seat of the scenario, posted to a collector on `spec`.
void fill(const std::string& spec, const Pki& pki) {
  const UnixMillis now = now_ms();
  std::map<std::string, SimSeat> seats;
  auto seat = [&](const std::string& id) -> SimSeat& {
    return seats.try_emplace(id, id).first->second;
  };
  // cc-01: on the published version, three violations today (an info event and yesterday's
  // violation do not count).
  seat("cc-01").heartbeats(now - kMin).applied(1, now - 2 * kHour).applied(2, now - kHour);
  seat("cc-01").add("usb.blocked", "high", now - 2 * kDay).add("usb.allowed", "info", now - kHour);
  for (int i = 0; i < 3; ++i) seat("cc-01").add("usb.blocked", "high", now - (i + 1) * kMin);
  // cc-02: still on v1, and refused v2 (its local files conflict with it).
  seat("cc-02").heartbeats(now - kMin).applied(1, now - 2 * kHour);
  seat("cc-02").add("policy.rejected", "medium", now - kHour,
                    {{"reason", "fleet bundle 2"},
                     {"errors", {"fleet/all/10-base.json:1:1: /usb: conflict"}},
                     {"fleet", {{"version", 2}, {"refusal", "invalid_policy"}}}});
  // cc-03: acknowledged v2, then nothing for two days.
  seat("cc-03").applied(2, now - 2 * kDay - kHour).heartbeats(now - 2 * kDay);
  // cc-04: runs v2 with a local file changing the USB mode.
  seat("cc-04").heartbeats(now - kMin).applied(2, now - kHour, json::array({"/usb/mode"}));
  // cc-05: closed by the fleet, and the seat says so.
  seat("cc-05")
      .heartbeats(now - kMin)
      .applied(2, now - kHour)
      .add("net.closed", "medium", now - kHour + 1000);
  // cc-06: the grant; closed earlier by hand on the seat and opened again.
  seat("cc-06").heartbeats(now - kMin).applied(2, now - kHour);
  seat("cc-06")
      .add("net.closed", "medium", now - 3 * kHour)
      .add("net.opened", "info", now - 2 * kHour);
  // cc-08: reports, but the fleet has no bundle for it.
  seat("cc-08").heartbeats(now - kMin);
  StoreCollector c(spec, pki);
  for (auto& [id, s] : seats) {
    auto cert = const_cast<Pki&>(pki).seat(id);
    auto r = post_events(c.url(), pki.ca, {cert.cert, cert.key, ""}, s.post());
    INFO(id << ": " << r.body);
    REQUIRE(r.status == 200);
  }
  REQUIRE(c.stop() == 0);
}

// Table rows by seat (the first column), in the order printed.
std::vector<std::pair<std::string, std::string>> table_rows(const std::string& out) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::istringstream in(out);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line))
    if (line.rfind("cc-", 0) == 0) rows.emplace_back(line.substr(0, line.find(' ')), line);
  return rows;
}

std::string flags_of(const std::string& row) {
  return row.substr(row.find_last_of(' ') + 1);
}

}  // namespace

TEST_CASE("fleet status shows per seat what was published, acknowledged and what stands out",
          "[fleet][collector][status]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    Pki pki(dir);
    TestStore store(kind, dir);
    Fleet fleet(dir);
    fill(store.spec, pki);
    const std::vector<std::string> base = {"fleet",    "status",    "--store",
                                           store.spec, "--bundles", fleet.bundles};

    auto with = [&](std::vector<std::string> extra) {
      std::vector<std::string> args = base;
      args.insert(args.end(), extra.begin(), extra.end());
      CliResult r = run_cli(args);
      INFO(r.out);
      REQUIRE(r.exit_code == 0);
      return r.out;
    };

    // The table: problems first (silent, never seen, refused, behind, local edits, not in the
    // fleet), then the seats that are fine, by id.
    const std::string table = with({});
    auto rows = table_rows(table);
    std::vector<std::string> order;
    for (const auto& [seat, row] : rows) order.push_back(seat);
    CHECK(order == std::vector<std::string>{"cc-03", "cc-07", "cc-02", "cc-04", "cc-08", "cc-01",
                                            "cc-05", "cc-06"});
    std::map<std::string, std::string> row(rows.begin(), rows.end());
    CHECK(flags_of(row["cc-03"]) == "silent");
    CHECK(flags_of(row["cc-07"]) == "never-seen,behind");
    CHECK(flags_of(row["cc-02"]) == "refused,behind");
    CHECK(flags_of(row["cc-04"]) == "local-edits");
    CHECK(flags_of(row["cc-08"]) == "no-bundle");
    for (const char* ok : {"cc-01", "cc-05", "cc-06"}) CHECK(flags_of(row[ok]) == "ok");
    CHECK(row["cc-05"].find(" closed ") != std::string::npos);
    CHECK(row["cc-06"].find(" CHG-7 ") != std::string::npos);
    CHECK(row["cc-06"].find(" open ") != std::string::npos);
    CHECK(row["cc-07"].find(" never ") != std::string::npos);
    CHECK(table.find("    refused bundle 2: invalid_policy at ") != std::string::npos);
    CHECK(table.find("    local files override the fleet at /usb/mode\n") != std::string::npos);
    CHECK(table.find("(8 seats, published version 2: 3 ok, 1 silent, 1 never-seen, 1 refused, "
                     "2 behind, 1 local-edits, 1 no-bundle)") != std::string::npos);

    // The JSON: every seat by id, the same facts as fields.
    json j = json::parse(with({"--json"}));
    CHECK(j["published_version"] == 2);
    std::map<std::string, json> s;
    for (const auto& e : j["seats"]) s[e["seat"]] = e;
    REQUIRE(s.size() == 8);
    CHECK(j["seats"][0]["seat"] == "cc-01");
    CHECK(s["cc-01"]["published"]["version"] == 2);
    CHECK(s["cc-01"]["acknowledged"]["version"] == 2);
    CHECK(s["cc-01"]["violations_24h"] == 3);
    CHECK(s["cc-01"]["local_overrides"] == json::array());
    CHECK(s["cc-01"]["flags"] == json::array());
    CHECK(s["cc-02"]["acknowledged"]["version"] == 1);
    CHECK(s["cc-02"]["refused"]["version"] == 2);
    CHECK(s["cc-02"]["refused"]["refusal"] == "invalid_policy");
    CHECK(s["cc-02"]["flags"] == json{"refused", "behind"});
    CHECK(s["cc-03"]["silent"] == true);
    CHECK(s["cc-03"]["acknowledged"]["version"] == 2);
    CHECK(s["cc-04"]["local_overrides"] == json{"/usb/mode"});
    CHECK(s["cc-04"]["flags"] == json{"local-edits"});
    CHECK(s["cc-05"]["internet"] == "closed");
    CHECK(s["cc-05"]["closure"]["ticket"] == "INC-9");
    CHECK(s["cc-05"]["closure"]["in_force"] == true);
    CHECK(s["cc-05"]["seat_network"]["state"] == "closed");
    CHECK(s["cc-06"]["internet"] == "open");
    CHECK(s["cc-06"]["seat_network"]["state"] == "opened");
    REQUIRE(s["cc-06"]["grants"].size() == 1);
    CHECK(s["cc-06"]["grants"][0]["section"] == "usb");
    CHECK(s["cc-06"]["grants"][0]["ticket"] == "CHG-7");
    CHECK(s["cc-06"]["grants"][0]["until"] == "2030-01-01T00:00:00.000Z");
    CHECK(s["cc-01"]["grants"] == json::array());
    CHECK(s["cc-07"]["acknowledged"].is_null());
    CHECK(s["cc-07"]["last_seen"].is_null());
    CHECK(s["cc-07"]["flags"] == json{"never-seen", "behind"});
    CHECK(s["cc-08"]["published"].is_null());
    CHECK(s["cc-08"]["flags"] == json{"no-bundle"});

    // --group: the seats groups.json puts in the group, nothing else.
    json g = json::parse(with({"--group", "floor-a", "--tree", fleet.tree, "--json"}));
    std::vector<std::string> ids;
    for (const auto& e : g["seats"]) ids.push_back(e["seat"]);
    CHECK(ids == std::vector<std::string>{"cc-01", "cc-02", "cc-03"});
    auto group_rows = table_rows(with({"--group", "floor-a", "--tree", fleet.tree}));
    REQUIRE(group_rows.size() == 3);
    CHECK(group_rows[0].first == "cc-03");

    auto unknown = seatlock::test::run_command({collector_binary(), "fleet", "status", "--store",
                                                store.spec, "--bundles", fleet.bundles, "--group",
                                                "floor-z", "--tree", fleet.tree});
    CHECK(unknown.exit_code != 0);
    CHECK(unknown.out.find("no group \"floor-z\"") != std::string::npos);
  }
}
