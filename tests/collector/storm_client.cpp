#include "storm_client.hpp"

#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "core/gzip/gzip.hpp"
#include "core/util/digest.hpp"
#include "harness.hpp"
#include "os/sqlite/sqlite.hpp"
#include "seat_sim.hpp"
#include "signing.hpp"
#include "sqlite_store.hpp"
#include "storm_netns.hpp"
#include "storm_tls_client.hpp"

namespace seatlock::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Seat {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  const StormSeat* plan = nullptr;
  std::size_t next = 0;
  std::string response, retry_after;
  Clock::time_point retry_at{};
  bool waiting = false;
  CURLM* multi = nullptr;   // its group's
  int failed_connects = 0;  // in a row: the backoff doubles, as the agent's does
};

size_t sink(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

// The Retry-After of the final response (an earlier 100 Continue is forgotten at its status).
size_t header_sink(char* p, size_t s, size_t n, void* ud) {
  std::string h(p, s * n), lower = h;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  auto* seat = static_cast<Seat*>(ud);
  if (lower.rfind("http/", 0) == 0) seat->retry_after.clear();
  if (lower.rfind("retry-after:", 0) == 0) {
    auto v = h.substr(12);
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of("\r\n ") + 1);
    seat->retry_after = v;
  }
  return s * n;
}

// A new easy handle per POST, as http_post() does: new connection, full handshake.
void arm(Seat& c, const std::string& url, const std::string& ca, double connect_timeout_s) {
  const Post& p = c.plan->posts[c.next];
  if (c.easy) curl_easy_cleanup(c.easy);
  curl_slist_free_all(c.headers);
  c.headers = nullptr;
  for (const auto& h : p.headers) c.headers = curl_slist_append(c.headers, h.c_str());
  c.headers = curl_slist_append(c.headers, "Content-Encoding: gzip");
  c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + c.plan->token).c_str());
  c.easy = curl_easy_init();
  curl_easy_setopt(c.easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.easy, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(c.easy, CURLOPT_INTERFACE, ("host!" + c.plan->source).c_str());
  curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c.response);
  curl_easy_setopt(c.easy, CURLOPT_HEADERFUNCTION, header_sink);
  curl_easy_setopt(c.easy, CURLOPT_HEADERDATA, &c);
  curl_easy_setopt(c.easy, CURLOPT_PRIVATE, &c);
  curl_easy_setopt(c.easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.easy, CURLOPT_CONNECTTIMEOUT_MS,  // 10 s as http_post.cpp
                   static_cast<long>(connect_timeout_s * 1000));
  curl_easy_setopt(c.easy, CURLOPT_TIMEOUT, 60L);  // http_post()'s default
  curl_easy_setopt(c.easy, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(c.easy, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c.easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  c.response.clear();
  c.retry_after.clear();
  curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDS, c.plan->bodies[c.next].data());
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(c.plan->bodies[c.next].size()));
}

long proc_status_kib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return 0;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// Seats with their backlog, posts and tokens (written straight into the store's token table).
std::vector<StormSeat> prepare(const StormOptions& o, const std::string& db) {
  std::vector<StormSeat> seats(o.seats);
  const std::size_t per_seat = o.heartbeats + o.violations;
  auto store = collector::open_sqlite_store(db, true);
  store.reset();
  seatlock::sql::Db tokens_db(db);
  tokens_db.exec("BEGIN");
  seatlock::sql::Stmt ins(tokens_db,
                          "INSERT INTO tokens(token_hash, seat_id, created_ms) VALUES(?1,?2,0)");
  const UnixMillis hour_ago = now_ms() - 3'600'000;
  for (std::size_t s = 0; s < o.seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "storm-%05zu", s);
    SeatSim sim(id);
    // The hour's backlog in time order: heartbeats evenly spread, violations between.
    std::vector<Event> backlog;
    for (std::size_t e = 0; e < per_seat; ++e) {
      UnixMillis t = hour_ago + static_cast<UnixMillis>(e * 3'600'000 / per_seat);
      bool hb = e * o.heartbeats / per_seat != (e + 1) * o.heartbeats / per_seat;
      backlog.push_back(hb ? sim.next("agent.heartbeat", "info", t)
                           : sim.next("net.egress_denied", "medium", t));
    }
    for (std::size_t b = 0; b < backlog.size(); b += o.batch_events) {
      std::vector<Event> part(
          backlog.begin() + static_cast<long>(b),
          backlog.begin() + static_cast<long>(std::min(b + o.batch_events, backlog.size())));
      seats[s].posts.push_back(sim.post(part));
      seats[s].bodies.push_back(seatlock::gzip_compress(seats[s].posts.back().body));
    }
    seats[s].token = collector::new_enrollment_token();
    ins.bind(1, sha256_hex(seats[s].token)).bind(2, std::string(id)).run();
    // One loopback address per seat (any 127.x.y.z reaches 127.0.0.1's listener).
    seats[s].source = "127.1." + std::to_string(s / 250) + "." + std::to_string(s % 250 + 1);
  }
  tokens_db.exec("COMMIT");
  return seats;
}

// The agent's own HTTP stack plays every seat (one thread, libcurl multi).
void run_curl_seats(const std::vector<StormSeat>& plans, const std::string& url,
                    const std::string& ca, double give_up_s, double connect_timeout_s,
                    StormResult& r, std::vector<double>& finished) {
  // Seats in groups of kGroup per multi handle: libcurl's multi does work linear in its
  // handles per call (curl_multi_remove_handle alone took 30 % of the client with 10,000), and
  // the client, not the collector, would be what the storm measures.
  constexpr std::size_t kGroup = 200;
  std::vector<CURLM*> multis((plans.size() + kGroup - 1) / kGroup);
  for (auto& m : multis) m = curl_multi_init();
  std::mt19937 rng(7);
  auto t0 = Clock::now();
  std::vector<Seat> seats(plans.size());
  for (std::size_t i = 0; i < seats.size(); ++i) {
    Seat& c = seats[i];
    c.plan = &plans[i];
    c.multi = multis[i / kGroup];
    arm(c, url, ca, connect_timeout_s);
    curl_multi_add_handle(c.multi, c.easy);
  }
  r.connections += seats.size();
  std::size_t waiting = 0, turn = 0;
  while (r.seats_done < seats.size()) {
    if (give_up_s > 0 && Clock::now() - t0 > std::chrono::duration<double>(give_up_s)) break;
    for (CURLM* multi : multis) {
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
          // The agent backs off and retries; every one is an error of the storm.
          ++r.transport_error_total;
          ++r.transport_errors[curl_easy_strerror(m->data.result)];
          double d = std::min(60.0, double(1 << std::min(c->failed_connects++, 6)));
          wait_s = std::uniform_real_distribution<double>(d / 2, d)(rng);
        } else {
          c->failed_connects = 0;
          ++r.by_status[status];
          if (status == 200) {
            auto j = nlohmann::json::parse(c->response, nullptr, false);
            if (j.is_object()) {
              r.acked += j.value("stored", 0u);
              r.duplicates += j.value("duplicates", 0u);
            }
            ++c->next;
          } else {
            if ((status == 429 || status == 503) && c->retry_after.empty()) ++r.without_retry_after;
            if (r.first_non_200.empty())
              r.first_non_200 = std::to_string(status) + " " + c->response.substr(0, 200);
            // The agent waits exactly Retry-After (parse_retry_after), then resends the batch.
            wait_s = c->retry_after.empty() ? 5.0 : std::stod(c->retry_after);
          }
        }
        if (c->next >= c->plan->posts.size()) {
          ++r.seats_done;
          finished.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
          continue;
        }
        c->waiting = true;
        c->retry_at = Clock::now() + std::chrono::milliseconds(static_cast<long>(wait_s * 1000));
        ++waiting;
      }
    }
    auto now = Clock::now();
    if (waiting) {
      for (auto& c : seats) {
        if (!c.waiting || c.retry_at > now) continue;
        c.waiting = false;
        --waiting;
        ++r.connections;
        arm(c, url, ca, connect_timeout_s);
        curl_multi_add_handle(c.multi, c.easy);
      }
    }
    // Sleeps until one group has socket activity (the others are looked at on the next pass).
    curl_multi_poll(multis[turn++ % multis.size()], nullptr, 0, 10, nullptr);
  }
  for (auto& c : seats) {
    if (c.easy) {
      curl_multi_remove_handle(c.multi, c.easy);
      curl_easy_cleanup(c.easy);
    }
    curl_slist_free_all(c.headers);
  }
  for (CURLM* m : multis) curl_multi_cleanup(m);
}

}  // namespace

bool StormResult::only_200_429_503() const {
  for (const auto& [status, n] : by_status)
    if (status != 200 && status != 429 && status != 503) return false;
  return true;
}

std::string StormResult::summary() const {
  std::string s;
  char line[512];
  std::snprintf(line, sizeof line,
                "%zu of %zu seats done in %.1f s (seat done: p50 %.1f s, p99 %.1f s)\n  answers:",
                seats_done, seats, seconds, p50_s, p99_s);
  s += line;
  for (const auto& [st, n] : by_status) s += " " + std::to_string(st) + " x " + std::to_string(n);
  s += "; failed connections/requests " + std::to_string(transport_error_total);
  for (const auto& [e, n] : transport_errors) s += " (" + e + " x " + std::to_string(n) + ")";
  s += "; 429/503 without Retry-After " + std::to_string(without_retry_after);
  if (!first_non_200.empty()) s += "; first non-200: " + first_non_200;
  std::snprintf(line, sizeof line,
                "\n  stored: %zu acknowledged (+%zu duplicates answered), %zu rows, %zu distinct "
                "ids, expected %zu -> %s\n  collector: RSS peak %.1f MiB, CPU %.1f s; seats "
                "(%s client) CPU %.1f s for %zu connections (%.2f ms each)\n"
                "  verify: exit %d, %s\n",
                acked, duplicates, stored_rows, distinct_ids, expected,
                stored_exactly_once() ? "each exactly once" : "MISMATCH",
                static_cast<double>(collector_hwm_kib) / 1024.0, collector_cpu_s, client.c_str(),
                client_cpu_s, connections,
                connections ? client_cpu_s * 1000.0 / static_cast<double>(connections) : 0.0,
                verify_exit, verify_line.c_str());
  s += line;
  std::snprintf(line, sizeof line,
                "  listen queue (own netns: %s): accept queue peak %zu of %zu; longest TCP "
                "connect %.2f s (%zu over 1 s), longest wait connected -> TLS handshake done "
                "%.2f s\n  kernel:",
                listen_limits.c_str(), accept_queue_peak, accept_queue_limit, max_tcp_connect_s,
                slow_tcp_connects, max_tls_wait_s);
  s += line;
  for (const auto& [name, n] : kernel) s += " " + name + " " + std::to_string(n);
  s += "\n";
  return s;
}

StormResult run_storm(const StormOptions& o) {
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < o.seats + 200)
    throw std::runtime_error("RLIMIT_NOFILE hard limit " + std::to_string(nofile.rlim_max) +
                             " is below " + std::to_string(o.seats) + " seats");
  // Its own network namespace, tuned as the package tunes a collector host (never the host's).
  std::map<std::string, std::string> settings;
  if (o.sysctl_file != "none")
    settings =
        read_sysctl_file(o.sysctl_file.empty() ? shipped_collector_sysctl_file() : o.sysctl_file);
  for (const auto& [key, value] : o.sysctl) settings[key] = value;
  enter_own_netns(settings);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  TempDir dir;
  Pki pki(dir);
  std::string db = dir / "storm.db";
  std::vector<StormSeat> seats = prepare(o, db);
  StormResult r;
  r.seats = o.seats;
  r.expected = o.seats * (o.heartbeats + o.violations);
  r.listen_limits = "somaxconn " + read_sysctl("net.core.somaxconn") + ", tcp_max_syn_backlog " +
                    read_sysctl("net.ipv4.tcp_max_syn_backlog");

  std::vector<std::string> args = {"--tokens-only", "--max-connections",
                                   std::to_string(o.seats + 1000)};
  args.insert(args.end(), o.serve_args.begin(), o.serve_args.end());
  CollectorProcess collector(db, pki, args);
  std::vector<double> finished;
  const auto kernel0 = tcp_ext_counters();
  std::optional<AcceptQueueSampler> queue(collector.port());
  const double client_cpu0 = self_cpu_seconds();
  auto t0 = Clock::now();
  if (o.client == StormClient::tls) {
    r.client = "tls";
    run_tls_seats(seats, StormTarget{collector.port(), pki.ca, o.give_up_s, o.connect_timeout_s}, r,
                  finished);
  } else {
    r.client = "curl";
    run_curl_seats(seats, collector.url(), pki.ca, o.give_up_s, o.connect_timeout_s, r, finished);
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.client_cpu_s = self_cpu_seconds() - client_cpu0;
  r.accept_queue_peak = queue->peak();
  r.accept_queue_limit = queue->limit();
  queue.reset();
  for (const auto& [name, n] : tcp_ext_counters()) {
    static const char* const kListen[] = {
        "ListenOverflows", "ListenDrops",   "TCPReqQFullDrop", "TCPReqQFullDoCookies",
        "SyncookiesSent",  "TCPSynRetrans", "TCPTimeouts"};
    for (const char* k : kListen)
      if (name == k) r.kernel[name] = n - (kernel0.count(name) ? kernel0.at(name) : 0);
  }
  r.collector_hwm_kib = proc_status_kib(collector.pid(), "VmHWM:");
  r.collector_cpu_s = cpu_seconds(collector.pid());
  collector.stop();
  if (!finished.empty()) {
    std::sort(finished.begin(), finished.end());
    r.p50_s = finished[finished.size() / 2];
    r.p99_s = finished[finished.size() * 99 / 100];
  }
  {
    seatlock::sql::Db check(db, seatlock::sql::Db::Open::ReadOnly);
    seatlock::sql::Stmt n(check, "SELECT count(*), count(DISTINCT id) FROM events");
    n.step();
    r.stored_rows = static_cast<std::size_t>(n.i64(0));
    r.distinct_ids = static_cast<std::size_t>(n.i64(1));
  }
  CliResult v = run_cli({"verify", "--db", db});
  r.verify_exit = v.exit_code;
  auto at = v.out.rfind("verify:");
  r.verify_line = at == std::string::npos ? v.out : v.out.substr(at);
  while (!r.verify_line.empty() && r.verify_line.back() == '\n') r.verify_line.pop_back();
  curl_global_cleanup();
  return r;
}

}  // namespace seatlock::testing
