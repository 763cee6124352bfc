// Console export (issue 15): a real `seatlock-collector serve` with a real SQLite store filled
// through the real ingest path (signed batches from simulated seats), the export downloaded over
// HTTPS by a logged-in auditor, and `seatlock-collector verify-export` checking it offline,
// against the signed manifest and the store. Also: CSV quoting, and a 200,000-event export that
// keeps the collector's memory bounded while the client reads slowly.
#include <curl/curl.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "console/export_manifest.hpp"
#include "console_rig.hpp"
#include "core/util/digest.hpp"
#include "harness.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using seatlock::collector::console::CsvReader;
using seatlock::collector::console::ExportFormat;

namespace {

constexpr const char* kPassword = "correct horse battery staple";

// `n` events of `seat` (one a second from start_ms) over HTTPS with the seat's client certificate,
// `batch` per POST.
void ingest(const ConsoleRig& rig, const std::string& seat, std::size_t n, std::int64_t start_ms,
            std::size_t batch = 500) {
  SeatSim sim(seat);
  Pki::Pair cert = const_cast<Pki&>(rig.pki).seat(seat);
  for (std::size_t done = 0; done < n;) {
    std::size_t k = std::min(batch, n - done);
    std::vector<Event> events;
    for (std::size_t i = done; i < done + k; ++i)  // every third event is a net one
      events.push_back(sim.next(i % 3 ? "usb.blocked" : "net.egress_denied", "high",
                                start_ms + static_cast<std::int64_t>(i) * 1000));
    HttpResult r = post_events(rig.main_base() + "/v1/events", rig.pki.ca,
                               {cert.cert, cert.key, ""}, sim.post(events));
    INFO(r.body << r.error);
    REQUIRE(r.status == 200);
    done += k;
  }
}

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

struct Download {
  Reply file, manifest;
};

Download download(const ConsoleBrowser& b, const std::string& query) {
  Download d;
  d.file = b.get("/api/export?" + query);
  INFO(d.file.status << " " << d.file.body.substr(0, 300));
  REQUIRE(d.file.status == 200);
  d.manifest = b.get("/api/export-manifest?id=" + d.file.header("x-export-id"));
  INFO(d.manifest.body);
  REQUIRE(d.manifest.status == 200);
  return d;
}

std::vector<std::string> split_rows(const std::string& text, const std::string& sep) {
  std::vector<std::string> rows;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find(sep, at);
    rows.push_back(text.substr(at, end - at + sep.size()));
    at = end + sep.size();
  }
  return rows;
}

std::string join(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) out += r;
  return out;
}

// The collector's RSS in KiB, sampled every 20 ms on a thread until stop.
struct RssSampler {
  pid_t pid;
  std::atomic<bool> stop{false};
  std::atomic<long> peak{0};
  std::thread t;
  explicit RssSampler(pid_t p) : pid(p) {
    t = std::thread([this] {
      while (!stop) {
        long now = rss_kib(pid);
        if (now > peak) peak = now;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~RssSampler() {
    stop = true;
    t.join();
  }
};

// A client that stalls before reading, then reads the body without keeping it (sha256 only).
struct SlowClient {
  std::chrono::milliseconds stall{0};
  bool stalled = false;
  collector::console::Sha256 sha;
  std::size_t bytes = 0;
  static size_t on_data(char* p, size_t, size_t n, void* self_) {
    auto* self = static_cast<SlowClient*>(self_);
    if (!self->stalled) {
      self->stalled = true;  // the client does not read: the collector must not buffer
      std::this_thread::sleep_for(self->stall);
    }
    self->sha.update(std::string_view(p, n));
    self->bytes += n;
    return n;
  }
};

// The collector `serve` child of this test process.
pid_t collector_child() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string pid, comm, state;
    long ppid = 0;
    if (!(stat >> pid >> comm >> state >> ppid)) continue;
    if (ppid == getpid() && comm.find("seatlock-collec") != std::string::npos)
      return static_cast<pid_t>(std::stol(pid));
  }
  return -1;
}

}  // namespace

TEST_CASE("CSV export rows quote commas, quotes and newlines and read back exactly",
          "[console][export]") {
  collector::StoredEvent e;
  e.id = "0190f3a4-0000-7000-8000-000000000001";
  e.seat_id = "seat,01";
  e.seq = 7;
  e.time_ms = 1'800'000'000'123;
  e.kind = "usb.blocked";
  e.severity = "high";
  e.user_name = "li \"na\"\nwang";
  e.chain_hash = std::string(64, 'a');
  e.line = R"({"details":{"note":"a, \"b\""},"outcome":"blocked"})";
  std::string row = export_row(ExportFormat::csv, e);
  CHECK(row ==
        "2027-01-15T08:00:00.123Z,\"seat,01\",7,usb.blocked,high,\"li \"\"na\"\"\nwang\","
        "blocked,0190f3a4-0000-7000-8000-000000000001," +
            e.chain_hash +
            ",\"{\"\"details\"\":{\"\"note\"\":\"\"a, \\\"\"b\\\"\"\"\"},"
            "\"\"outcome\"\":\"\"blocked\"\"}\"\r\n");
  std::istringstream in(collector::console::csv_header() + row);
  CsvReader reader(in);
  std::vector<std::string> fields;
  std::string raw, err;
  REQUIRE(reader.next(fields, raw, err));
  REQUIRE(reader.next(fields, raw, err));
  CHECK(err.empty());
  CHECK(raw == row);
  REQUIRE(fields.size() == 10);
  CHECK(fields[1] == e.seat_id);
  CHECK(fields[5] == e.user_name);
  CHECK(fields[6] == "blocked");
  CHECK(fields[9] == e.line);
  CHECK_FALSE(reader.next(fields, raw, err));
}

TEST_CASE("an auditor's export over HTTPS verifies offline, and tampering is named precisely",
          "[console][export]") {
  ConsoleRig rig;
  rig.add_user("audrey", "auditor", kPassword);
  const std::int64_t start = now_ms() - 3'600'000;
  ingest(rig, "seat-a", 40, start);
  ingest(rig, "seat-b", 25, start + 500);
  ConsoleBrowser b(rig);
  REQUIRE(b.login("audrey", kPassword).status == 200);
  const std::string pub = rig.db + ".collector.key.pub";

  SECTION("CSV: every matching event, ascending, signed manifest, verify-export passes") {
    Download d = download(b, "format=csv&kind=usb.blocked");
    CHECK(d.file.header("content-type") == "text/csv; charset=utf-8");
    CHECK(d.file.header("transfer-encoding") == "chunked");
    CHECK(
        d.file.header("content-disposition").rfind("attachment; filename=\"seatlock-export-", 0) ==
        0);
    auto rows = split_rows(d.file.body, "\r\n");
    REQUIRE(rows.size() == 1 + 26 + 16);  // header + the usb.blocked events of both seats
    CHECK(rows[0] == collector::console::csv_header());
    nlohmann::json m = d.manifest.json();
    CHECK(m["rows"] == 42);
    CHECK(m["sha256"] == sha256_hex(d.file.body));
    CHECK(m["filter"] == nlohmann::json{{"kind", "usb.blocked"}});
    CHECK(m["account"] == "audrey");
    std::string file = write_file(rig.dir, "e.csv", d.file.body);
    std::string man = write_file(rig.dir, "e.csv.manifest.json", d.manifest.body);

    CliResult ok = rig.cli({"verify-export", file, "--manifest", man, "--collector-pubkey", pub});
    INFO(ok.out);
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.find("every row is in the store unaltered and no matching event is missing") !=
          std::string::npos);

    // The export is itself evidence: console.export in the collector's chain.
    auto rec = rig.events("console.export");
    REQUIRE(rec.size() == 1);
    CHECK(rec[0]["details"]["account"] == "audrey");
    CHECK(rec[0]["details"]["rows"] == 42);
    CHECK(rec[0]["details"]["sha256"] == m["sha256"]);
    CHECK(rec[0]["details"]["format"] == "csv");

    SECTION("a changed byte in a row") {
      std::string body = d.file.body;
      std::size_t row5 =
          rows[0].size() + rows[1].size() + rows[2].size() + rows[3].size() + rows[4].size();
      body[row5 + rows[5].rfind("agent.test") + 9] = 'T';  // the user inside row 5's line
      write_file(rig.dir, "e.csv", body);
      CliResult r = rig.cli({"verify-export", file, "--manifest", man});
      INFO(r.out);
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("row 5 altered") != std::string::npos);
      CHECK(r.out.find("row 5 altered: seat ") != std::string::npos);  // vs the store
      CHECK(r.out.find("differs from the manifest's") != std::string::npos);
    }
    SECTION("a row deleted from the file") {
      std::vector<std::string> cut = rows;
      cut.erase(cut.begin() + 7);
      write_file(rig.dir, "e.csv", join(cut));
      CliResult r = rig.cli({"verify-export", file, "--manifest", man});
      INFO(r.out);
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("is in the store and matches the filter but is missing from the export") !=
            std::string::npos);
      CHECK(r.out.find("the file has 41 rows, the manifest 42") != std::string::npos);
    }
    SECTION("an exported row that the store no longer holds") {
      std::vector<std::string> fields;
      std::string raw, err;
      std::istringstream in(rows[0] + rows[3]);
      CsvReader reader(in);
      reader.next(fields, raw, err);
      reader.next(fields, raw, err);
      REQUIRE(sql_exec(rig.db, "DELETE FROM events WHERE seat_id='" + fields[1] +
                                   "' AND seq=" + fields[2]) == 1);
      CliResult r = rig.cli({"verify-export", file, "--manifest", man});
      INFO(r.out);
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("row 3 (seat " + fields[1] + " seq " + fields[2] +
                       ") is not in the store") != std::string::npos);
    }
    SECTION("a wrong collector key, or an edited manifest") {
      auto other = collector::ed25519_generate();
      std::string k = write_file(rig.dir, "other.pub", base64_encode(other.raw_public) + "\n");
      CliResult r = rig.cli({"verify-export", file, "--manifest", man, "--collector-pubkey", k});
      INFO(r.out);
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("manifest signature wrong") != std::string::npos);

      m["rows"] = 41;
      write_file(rig.dir, "e.csv.manifest.json", m.dump());
      CliResult r2 = rig.cli({"verify-export", file, "--manifest", man, "--collector-pubkey", pub});
      INFO(r2.out);
      CHECK(r2.exit_code == 1);
      CHECK(r2.out.find("manifest signature wrong: not a valid signature by the "
                        "--collector-pubkey") != std::string::npos);
    }
  }

  SECTION("NDJSON: the stored lines; offline without the store a change is located by block") {
    Download d = download(b, "format=ndjson&seat=seat-b");
    CHECK(d.file.header("content-type") == "application/x-ndjson");
    auto rows = split_rows(d.file.body, "\n");
    REQUIRE(rows.size() == 25);
    CHECK(nlohmann::json::parse(rows[0])["seq"] == 1);
    CHECK(nlohmann::json::parse(rows[24])["seq"] == 25);
    std::string file = write_file(rig.dir, "e.ndjson", d.file.body);
    std::string man = write_file(rig.dir, "e.ndjson.manifest.json", d.manifest.body);
    CliResult ok = rig.cli({"verify-export", file, "--manifest", man, "--collector-pubkey", pub});
    INFO(ok.out);
    CHECK(ok.exit_code == 0);

    std::string body = d.file.body;
    std::size_t row12 = 0;
    for (int i = 0; i < 11; ++i) row12 += rows[i].size();
    body[row12 + rows[11].find("agent.test") + 9] = 'T';  // the user in row 12
    write_file(rig.dir, "e.ndjson", body);
    CliResult offline = run_cli({"verify-export", file, "--manifest", man});
    INFO(offline.out);
    CHECK(offline.exit_code == 1);
    CHECK(offline.out.find("row 12 altered (or row 13's prev)") != std::string::npos);
    CHECK(offline.out.find("the first change is in rows 1..1000") != std::string::npos);
  }

  SECTION("bad requests are refused before any byte, naming the parameter") {
    Reply r = b.get("/api/export?format=xml");
    CHECK(r.status == 400);
    CHECK(r.json()["error"] == "format: expected csv or ndjson, got \"xml\"");
    CHECK(b.get("/api/export?format=csv&limit=5").status == 400);
    CHECK(b.get("/api/export?format=csv&to=yesterday").json()["error"] ==
          "to: expected RFC 3339 time or milliseconds, got \"yesterday\"");
    CHECK(b.get("/api/export-manifest?id=0123456789abcdef0123").status == 404);
    std::string id = "pages-chosen-id-0001";
    Reply first = b.get("/api/export?format=csv&export_id=" + id);
    CHECK(first.header("x-export-id") == id);
    CHECK(b.get("/api/export?format=csv&export_id=" + id).status == 409);
    // No filter: the 65 seat events and the collector's own events (console.login, ...).
    auto rows = split_rows(first.body, "\r\n");
    CHECK(rows.size() > 65 + 1);
    CHECK(b.get("/api/export-manifest?id=" + id).json()["rows"] == rows.size() - 1);
    ConsoleBrowser anonymous(rig);
    CHECK(anonymous.get("/api/export?format=csv").status == 401);
  }
}

TEST_CASE("an export of 200,000 events to a slow client keeps the collector's memory bounded",
          "[console][export][slow]") {
  // Under AddressSanitizer (the asan preset) freed blocks wait in a 256 MiB quarantine before
  // reuse, so RSS would measure the sanitizer, not the export: keep the quarantine small for
  // the collector this test starts (no effect on a normal build).
  std::string asan = getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "";
  setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=8").c_str(), 1);
  ConsoleRig rig;
  rig.add_user("audrey", "auditor", kPassword);
  const std::int64_t start = now_ms() - 48 * 3'600'000LL;
  for (int s = 0; s < 4; ++s) ingest(rig, "seat-" + std::to_string(s), 50'000, start + s, 1000);
  ConsoleBrowser b(rig);
  REQUIRE(b.login("audrey", kPassword).status == 200);

  pid_t pid = collector_child();
  REQUIRE(pid > 0);
  const long before = rss_kib(pid);
  SlowClient client;
  client.stall = std::chrono::milliseconds(3000);
  std::string id = "rss-test-export-0001";
  long peak = 0;
  {
    RssSampler sampler(pid);
    CURL* c = curl_easy_init();
    std::string url = rig.console_base() + "/api/export?format=csv&export_id=" + id;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, rig.pki.ca.c_str());
    curl_slist* h = curl_slist_append(nullptr, ("Cookie: " + b.cookie).c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, SlowClient::on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &client);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    REQUIRE(rc == CURLE_OK);
    REQUIRE(status == 200);
    peak = sampler.peak;
  }
  nlohmann::json m = b.get("/api/export-manifest?id=" + id).json();
  CHECK(m["rows"] > 200'000);  // and the collector's own events (console.login)
  CHECK(m["bytes"] == client.bytes);
  CHECK(m["sha256"] == client.sha.hex());
  const long growth_mib = (peak - before) / 1024;
  WARN("export of 200,000 events (" << client.bytes / (1 << 20) << " MiB CSV, client stalled 3 s): "
                                    << "collector RSS " << before / 1024 << " MiB before, peak "
                                    << peak / 1024 << " MiB (+" << growth_mib << " MiB)");
  // Held well below the file's size (a response built in memory grows by at least the file).
  CHECK(growth_mib < 100);
  CHECK(growth_mib * 2 < static_cast<long>(client.bytes >> 20));
}
