// Auditor/admin behaviour around seats: export file names per seat, token revocation while the
// collector runs, and seats whose batches are all refused.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../support/process_wait.hpp"
#include "core/util/digest.hpp"
#include "harness.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;

namespace {

struct Fixture {
  TempDir dir;
  Pki pki{dir};
  std::string db = dir / "collector.db";
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string enroll(const std::string& db, const std::string& seat) {
  CliResult r = run_cli({"enroll", "--db", db, "--seat", seat});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace

TEST_CASE("export gives seats grp/x, grp_x and GRP_X files of their own", "[collector][export]") {
  Fixture fx;
  std::vector<std::string> ids = {"grp/x", "grp_x", "GRP_X", "..", "cc-01"};
  {
    CollectorProcess c(fx.db, fx.pki);
    for (const auto& id : ids) {
      SeatSim seat(id);
      HttpResult r = post_events(c.url(), fx.pki.ca, {"", "", enroll(fx.db, id)},
                                 seat.post(seat.make(3, "usb.blocked", "high", now_ms() - 60'000)));
      INFO(id << ": " << r.body);
      REQUIRE(r.status == 200);
    }
  }
  std::string out = fx.dir / "export";
  CliResult r = run_cli({"export", "--db", fx.db, "--since", "2000-01-01", "--until", "2100-01-01",
                         "--format", "ndjson", "--out", out});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  json m = json::parse(slurp(out + "/manifest.json"));
  REQUIRE(m["files"].size() == ids.size());
  std::set<std::string> names, folded, seats;
  for (const auto& f : m["files"]) {
    std::string name = f["file"];
    names.insert(name);
    std::string lower = name;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    folded.insert(lower);
    seats.insert(f["seat"].get<std::string>());
    CHECK(name.find('/') == std::string::npos);
    CHECK(name[0] != '.');
    // Each file holds exactly its own seat's events, as the manifest says.
    std::string content = slurp(out + "/" + name);
    CHECK(sha256_hex(content) == f["sha256"]);
    std::istringstream lines(content);
    std::string line;
    std::size_t n = 0;
    while (std::getline(lines, line)) {
      CHECK(json::parse(line)["seat"]["id"] == f["seat"]);
      ++n;
    }
    CHECK(n == 3);
  }
  CHECK(names.size() == ids.size());   // distinct
  CHECK(folded.size() == ids.size());  // distinct on case-insensitive file systems too
  CHECK(seats == std::set<std::string>(ids.begin(), ids.end()));
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) files += e.is_regular_file();
  CHECK(files == ids.size() + 1);  // + manifest.json
  CHECK(run_cli({"verify", "--db", fx.db}).exit_code == 0);
}

TEST_CASE("a revoked enrollment token stops working without a restart", "[collector][auth]") {
  Fixture fx;
  std::string keep = enroll(fx.db, "cc-keep"), gone = enroll(fx.db, "cc-gone");
  CollectorProcess c(fx.db, fx.pki, {"--tokens-only"});
  SeatSim a("cc-keep"), b("cc-gone");
  REQUIRE(post_events(c.url(), fx.pki.ca, {"", "", gone}, b.post(b.make(2))).status == 200);

  CliResult list = run_cli({"token", "list", "--db", fx.db});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("cc-gone") != std::string::npos);
  CliResult rev = run_cli({"token", "revoke", "--db", fx.db, "--token", gone});
  INFO(rev.out);
  REQUIRE(rev.exit_code == 0);
  CHECK(rev.out.find("revoked 1 token") == 0);

  HttpResult r = post_events(c.url(), fx.pki.ca, {"", "", gone}, b.post(b.make(2)));
  CHECK(r.status == 401);
  CHECK(r.body.find("revoked") != std::string::npos);
  CHECK(post_events(c.url(), fx.pki.ca, {"", "", keep}, a.post(a.make(2))).status == 200);
  list = run_cli({"token", "list", "--db", fx.db});
  std::istringstream in(list.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cc-gone", 0) == 0) CHECK(line.find("revoked") != std::string::npos);
    if (line.rfind("cc-keep", 0) == 0) CHECK(line.find("valid") != std::string::npos);
  }
  // Revoking by seat; nothing left to revoke is an error exit.
  CHECK(run_cli({"token", "revoke", "--db", fx.db, "--seat", "cc-keep"}).exit_code == 0);
  CHECK(post_events(c.url(), fx.pki.ca, {"", "", keep}, a.post(a.make(2))).status == 401);
  CHECK(run_cli({"token", "revoke", "--db", fx.db, "--seat", "nobody"}).exit_code == 1);
}

TEST_CASE("seats lists a seat whose every batch was refused, as silent with the reason",
          "[collector][seats]") {
  Fixture fx;
  CollectorProcess c(fx.db, fx.pki);
  // The seat's certificate says cc-host, its events say cc-policy (seat id from a policy file
  // that differs from the certificate): every batch is refused with 403.
  auto cert = fx.pki.seat("cc-host");
  SeatSim seat("cc-policy");
  auto events = seat.make(3);
  for (int i = 0; i < 2; ++i) {
    HttpResult r = post_events(c.url(), fx.pki.ca, {cert.cert, cert.key, ""}, seat.post(events));
    REQUIRE(r.status == 403);
  }
  json row;
  bool listed = seatlock::test::wait_until(
      [&] {
        CliResult r = run_cli({"seats", "--db", fx.db, "--json"});
        if (r.exit_code != 0) return false;
        for (const auto& s : json::parse(r.out))
          if (s["seat"] == "cc-host" && s["last_refusal"].is_object() &&
              s["last_refusal"]["count"] == 2)
            row = s;
        return row.is_object();
      },
      10'000);
  INFO(row.dump(2));
  REQUIRE(listed);
  CHECK(row["silent"] == true);
  CHECK(row["last_contact"] != "-");
  CHECK(row["last_refusal"]["status"] == 403);
  CHECK(row["last_refusal"]["reason"].get<std::string>().find(
            "event for seat \"cc-policy\" but authenticated as seat \"cc-host\"") !=
        std::string::npos);
  CliResult text = run_cli({"seats", "--db", fx.db});
  INFO(text.out);
  CHECK(text.out.find("SILENT (no event accepted); 2 batches refused") != std::string::npos);
  CHECK(text.out.find("(1 silent seat,") != std::string::npos);
}
