// Reconnect storm: after an outage, every seat reconnects at the same moment and uploads the
// backlog it spooled (one hour by default: 12 heartbeats at the 5-minute default plus
// violations). Each seat opens its own TLS connection from its own 127.x.y.z address, posts its
// backlog in batches, and on 429/503 waits Retry-After with +-50 % jitter before retrying, as the
// agent does; after a failed connection it backs off 1, 2, 4 ... 60 s (+-50 %). Counts every answer
// that is not 200, checks the store holds each event exactly once and runs `seatlock-collector
// verify`. usage: collector_storm_bench [--seats 10000] [--heartbeats 12] [--violations 8]
//                              [--batch-events 500] [--extra-arg ARG]...
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/util/digest.hpp"
#include "gzip.hpp"
#include "harness.hpp"
#include "seat_sim.hpp"
#include "signing.hpp"
#include "sqlite_db.hpp"
#include "sqlite_store.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using Clock = std::chrono::steady_clock;

namespace {

struct Seat {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::vector<Post> posts;
  std::vector<std::string> bodies;  // gzip
  std::size_t next = 0;
  std::string token, source, response, retry_after;
  Clock::time_point retry_at{};
  bool waiting = false;
  int failed_connects = 0;  // in a row: backoff doubles, as the agent's does
};

size_t sink(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

size_t header_sink(char* p, size_t s, size_t n, void* ud) {
  std::string h(p, s * n);
  std::string lower = h;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower.rfind("retry-after:", 0) == 0) {
    auto v = h.substr(12);
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of("\r\n ") + 1);
    static_cast<Seat*>(ud)->retry_after = v;
  }
  return s * n;
}

void arm(Seat& c, const std::string& url, const std::string& ca) {
  const Post& p = c.posts[c.next];
  curl_slist_free_all(c.headers);
  c.headers = nullptr;
  for (const auto& h : p.headers) c.headers = curl_slist_append(c.headers, h.c_str());
  c.headers = curl_slist_append(c.headers, "Content-Encoding: gzip");
  c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + c.token).c_str());
  if (!c.easy) {
    c.easy = curl_easy_init();
    curl_easy_setopt(c.easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.easy, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(c.easy, CURLOPT_INTERFACE, ("host!" + c.source).c_str());
    curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c.response);
    curl_easy_setopt(c.easy, CURLOPT_HEADERFUNCTION, header_sink);
    curl_easy_setopt(c.easy, CURLOPT_HEADERDATA, &c);
    curl_easy_setopt(c.easy, CURLOPT_PRIVATE, &c);
    curl_easy_setopt(c.easy, CURLOPT_TIMEOUT, 120L);
  }
  c.response.clear();
  c.retry_after.clear();
  curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDS, c.bodies[c.next].data());
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(c.bodies[c.next].size()));
}

long rss_kb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t seats = 10000, heartbeats = 12, violations = 8, per_batch = 500;
  std::vector<std::string> extra_args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--seats") seats = std::stoul(argv[i + 1]);
    if (k == "--heartbeats") heartbeats = std::stoul(argv[i + 1]);
    if (k == "--violations") violations = std::stoul(argv[i + 1]);
    if (k == "--batch-events") per_batch = std::stoul(argv[i + 1]);
    if (k == "--extra-arg") extra_args.push_back(argv[i + 1]);
  }
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < seats + 200) {
    std::fprintf(stderr, "RLIMIT_NOFILE hard limit %llu is below %zu seats\n",
                 static_cast<unsigned long long>(nofile.rlim_max), seats);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  TempDir dir;
  Pki pki(dir);
  std::string db = dir / "storm.db";
  std::vector<Seat> clients(seats);
  const std::size_t per_seat = heartbeats + violations;
  auto t_prep = Clock::now();
  {
    auto store = collector::open_sqlite_store(db, true);
    store.reset();
    collector::SqliteDb raw(db);
    raw.exec("BEGIN");
    collector::SqliteStmt ins(
        raw.handle(), "INSERT INTO tokens(token_hash, seat_id, created_ms) VALUES(?1,?2,0)");
    const UnixMillis hour_ago = now_ms() - 3'600'000;
    for (std::size_t s = 0; s < seats; ++s) {
      char id[32];
      std::snprintf(id, sizeof id, "storm-%05zu", s);
      SeatSim sim(id);
      // The hour's backlog in time order: heartbeats every 3600/heartbeats s, violations between.
      std::vector<Event> backlog;
      for (std::size_t e = 0; e < per_seat; ++e) {
        UnixMillis t = hour_ago + static_cast<UnixMillis>(e * 3'600'000 / per_seat);
        bool hb = e * heartbeats / per_seat != (e + 1) * heartbeats / per_seat;
        backlog.push_back(hb ? sim.next("agent.heartbeat", "info", t)
                             : sim.next("net.egress_denied", "medium", t));
      }
      for (std::size_t b = 0; b < backlog.size(); b += per_batch) {
        std::vector<Event> part(
            backlog.begin() + static_cast<long>(b),
            backlog.begin() + static_cast<long>(std::min(b + per_batch, backlog.size())));
        clients[s].posts.push_back(sim.post(part));
        clients[s].bodies.push_back(collector::gzip_compress(clients[s].posts.back().body));
      }
      clients[s].token = collector::new_enrollment_token();
      ins.bind(1, sha256_hex(clients[s].token)).bind(2, std::string(id)).run();
      // One loopback address per seat (any 127.x.y.z reaches 127.0.0.1's listener).
      clients[s].source = "127.1." + std::to_string(s / 250) + "." + std::to_string(s % 250 + 1);
    }
    raw.exec("COMMIT");
  }
  const std::size_t expected = seats * per_seat;
  std::fprintf(stderr, "prepared %zu seats x %zu events in %.1f s\n", seats, per_seat,
               std::chrono::duration<double>(Clock::now() - t_prep).count());

  std::vector<std::string> extra = {"--tokens-only", "--max-connections",
                                    std::to_string(seats + 1000)};
  extra.insert(extra.end(), extra_args.begin(), extra_args.end());
  CollectorProcess collector(db, pki, extra);
  std::string url = collector.url();

  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(seats + 100));
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  auto t0 = Clock::now();
  for (auto& c : clients) {
    arm(c, url, pki.ca);
    curl_multi_add_handle(multi, c.easy);
  }
  std::size_t done = 0, acked = 0, duplicates = 0, transport_errors = 0, without_retry_after = 0;
  std::map<long, std::size_t> by_status;
  std::vector<double> finish_s;
  std::size_t waiting = 0;
  long peak_rss = 0;
  auto last_sample = t0;
  std::string first_error;
  while (done < seats) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int msgs = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &msgs)) {
      if (m->msg != CURLMSG_DONE) continue;
      Seat* c = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_multi_remove_handle(multi, m->easy_handle);
      double wait_s = 0;
      if (m->data.result != CURLE_OK) {
        ++transport_errors;  // the agent backs off and retries; counted as an error here
        if (first_error.empty()) first_error = curl_easy_strerror(m->data.result);
        wait_s = std::min(60.0, double(1 << std::min(c->failed_connects++, 6))) * jitter(rng);
      } else {
        c->failed_connects = 0;
        ++by_status[status];
        if (status == 200) {
          auto j = nlohmann::json::parse(c->response, nullptr, false);
          if (j.is_object()) {
            acked += j.value("stored", 0u);
            duplicates += j.value("duplicates", 0u);
          }
          ++c->next;
        } else {
          if ((status == 429 || status == 503) && c->retry_after.empty()) ++without_retry_after;
          if (first_error.empty())
            first_error = std::to_string(status) + " " + c->response.substr(0, 200);
          wait_s = (c->retry_after.empty() ? 5.0 : std::stod(c->retry_after)) * jitter(rng);
        }
      }
      if (c->next >= c->posts.size()) {
        ++done;
        finish_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        continue;
      }
      c->waiting = true;
      c->retry_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(wait_s * 1000));
      ++waiting;
    }
    auto now = Clock::now();
    if (waiting) {
      for (auto& c : clients) {
        if (!c.waiting || c.retry_at > now) continue;
        c.waiting = false;
        --waiting;
        arm(c, url, pki.ca);
        curl_multi_add_handle(multi, c.easy);
      }
    }
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
    if (now - last_sample > std::chrono::milliseconds(250)) {
      peak_rss = std::max(peak_rss, rss_kb(collector.pid(), "VmRSS:"));
      last_sample = now;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& c : clients) {
    curl_easy_cleanup(c.easy);
    curl_slist_free_all(c.headers);
  }
  curl_multi_cleanup(multi);
  long hwm = rss_kb(collector.pid(), "VmHWM:");
  collector.stop();

  std::size_t stored_rows = 0, distinct_ids = 0;
  {
    collector::SqliteDb check(db, true);
    collector::SqliteStmt n(check.handle(), "SELECT count(*), count(DISTINCT id) FROM events");
    n.step();
    stored_rows = static_cast<std::size_t>(n.i64(0));
    distinct_ids = static_cast<std::size_t>(n.i64(1));
  }
  CliResult v = run_cli({"verify", "--db", db});
  std::sort(finish_s.begin(), finish_s.end());
  std::printf(
      "reconnect storm: %zu seats at once, each a one-hour backlog of %zu events (%zu "
      "heartbeats + %zu violations) in batches of <= %zu\n",
      seats, per_seat, heartbeats, violations, per_batch);
  std::printf(
      "  all seats done in %.1f s (seat finished: p50 %.1f s, p99 %.1f s) = %.0f events/s\n", secs,
      finish_s[finish_s.size() / 2], finish_s[finish_s.size() * 99 / 100], expected / secs);
  std::printf("  answers:");
  for (auto& [st, n] : by_status) std::printf(" %ld x %zu", st, n);
  std::printf("; transport errors %zu%s%s; 429/503 without Retry-After %zu\n", transport_errors,
              first_error.empty() ? "" : "; first non-200: ", first_error.c_str(),
              without_retry_after);
  std::printf(
      "  stored: %zu acknowledged (+%zu duplicates answered), %zu rows, %zu distinct ids, "
      "expected %zu -> %s\n",
      acked, duplicates, stored_rows, distinct_ids, expected,
      stored_rows == expected && distinct_ids == expected ? "each exactly once" : "MISMATCH");
  std::printf("  collector RSS peak %.1f MiB\n", hwm / 1024.0);
  std::ifstream la("/proc/loadavg");
  std::string load;
  std::getline(la, load);
  std::printf("  load average at end: %s\n", load.c_str());
  std::printf("  verify: exit %d, %s", v.exit_code, v.out.substr(v.out.rfind("verify:")).c_str());
  curl_global_cleanup();
  bool ok = v.exit_code == 0 && stored_rows == expected && distinct_ids == expected &&
            transport_errors == 0 && without_retry_after == 0;
  for (auto& [st, n] : by_status)
    if (st != 200 && st != 429 && st != 503) ok = false;
  return ok ? 0 : 1;
}
