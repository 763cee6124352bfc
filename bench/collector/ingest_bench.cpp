// Collector ingest over TLS from many simulated seats posting concurrently (loopback only).
// usage: collector_ingest_bench [--seats 1000] [--batches 5] [--batch-events 100]
//          [--auth token|cert] [--store sqlite|clickhouse|clickhouse:URL] [--instances 1]
//          [--keep-db FILE]
// Prints events/s (acknowledged with 200 = committed: SQLite synchronous=FULL, ClickHouse INSERT
// acknowledged), CPU per event of each collector instance, of clickhouse-server and of the
// client, collector RSS, and ends with `verify`. With --instances N the seats are spread over N
// collectors on one store (seat i posts to instance i % N, as behind a load balancer). Client,
// collectors and ClickHouse share the machine's cores; events/s is therefore a lower bound.
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "core/gzip/gzip.hpp"
#include "core/util/digest.hpp"
#include "harness.hpp"
#include "signing.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using namespace seatlock::bench;

namespace {

struct SeatClient {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::vector<Post> posts;
  std::vector<std::string> bodies;  // gzip
  std::size_t next = 0;
  std::string response;
  std::string token;
  std::size_t events_acked = 0, retries = 0;
  std::chrono::steady_clock::time_point sent, first_try;  // this request; this batch's first
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

size_t sink(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

void arm(SeatClient& c, const std::string& url, const Pki& pki, const Pki::Pair* cert) {
  const Post& p = c.posts[c.next];
  curl_slist_free_all(c.headers);
  c.headers = nullptr;
  for (const auto& h : p.headers) c.headers = curl_slist_append(c.headers, h.c_str());
  c.headers = curl_slist_append(c.headers, "Content-Encoding: gzip");
  if (!c.token.empty())
    c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + c.token).c_str());
  if (!c.easy) {
    c.easy = curl_easy_init();
    curl_easy_setopt(c.easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.easy, CURLOPT_CAINFO, pki.ca.c_str());
    if (cert) {
      curl_easy_setopt(c.easy, CURLOPT_SSLCERT, cert->cert.c_str());
      curl_easy_setopt(c.easy, CURLOPT_SSLKEY, cert->key.c_str());
    }
    curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c.response);
    curl_easy_setopt(c.easy, CURLOPT_PRIVATE, &c);
    curl_easy_setopt(c.easy, CURLOPT_TIMEOUT, 120L);
  }
  c.response.clear();
  curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDS, c.bodies[c.next].data());
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(c.bodies[c.next].size()));
  c.sent = std::chrono::steady_clock::now();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t seats = 1000, batches = 5, per_batch = 100, instances = 1;
  std::string auth = "token", store_option = "sqlite";
  std::string keep_db;  // copy the resulting SQLite database here (for transcripts)
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--seats")
      seats = std::stoul(argv[i + 1]);
    else if (k == "--batches")
      batches = std::stoul(argv[i + 1]);
    else if (k == "--batch-events")
      per_batch = std::stoul(argv[i + 1]);
    else if (k == "--auth")
      auth = argv[i + 1];
    else if (k == "--store")
      store_option = argv[i + 1];
    else if (k == "--instances")
      instances = std::max<std::size_t>(1, std::stoul(argv[i + 1]));
    else if (k == "--keep-db")
      keep_db = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  TempDir dir;
  Pki pki(dir);
  BenchStore store(store_option, dir);
  std::vector<SeatClient> clients(seats);
  std::vector<Pki::Pair> certs;
  std::vector<std::pair<std::string, std::string>> tokens;
  auto t_prep = std::chrono::steady_clock::now();
  for (std::size_t s = 0; s < seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%04zu", s);
    SeatSim sim(id);
    for (std::size_t b = 0; b < batches; ++b) {
      auto events = sim.make(per_batch, "net.egress_denied", "medium");
      clients[s].posts.push_back(sim.post(events));
      clients[s].bodies.push_back(seatlock::gzip_compress(clients[s].posts.back().body));
    }
    if (auth == "token") {
      clients[s].token = collector::new_enrollment_token();
      tokens.emplace_back(sha256_hex(clients[s].token), id);
    } else {
      certs.push_back(pki.seat(id));
    }
  }
  store.add_tokens(tokens);
  double prep_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_prep).count();
  std::fprintf(stderr, "prepared %zu seats x %zu batches x %zu events in %.1f s\n", seats, batches,
               per_batch, prep_s);

  // All simulated seats connect at once from one address (a site behind one NAT address).
  std::vector<std::string> extra = {"--max-connections", std::to_string(seats + 100),
                                    "--max-unauthenticated-per-address",
                                    std::to_string(seats + 100)};
  if (auth == "token") extra.push_back("--tokens-only");
  std::vector<std::unique_ptr<CollectorProcess>> collectors;
  for (std::size_t i = 0; i < instances; ++i)
    collectors.push_back(std::make_unique<CollectorProcess>(store.spec(), pki, extra));
  auto url_of = [&](std::size_t seat) { return collectors[seat % instances]->url(); };

  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(seats * 2));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<double> cpu0;
  for (auto& c : collectors) cpu0.push_back(cpu_seconds(c->pid()));
  double self0 = cpu_seconds(getpid()), server0 = cpu_seconds(store.server_pid());
  // Upload latency: of each request answered 200 (sent -> answer), and of each batch from its
  // first attempt to its 200 (retries after 503 included).
  std::vector<double> request_ms, batch_ms;
  for (std::size_t s = 0; s < seats; ++s) {
    arm(clients[s], url_of(s), pki, auth == "cert" ? &certs[s] : nullptr);
    clients[s].first_try = clients[s].sent;
    curl_multi_add_handle(multi, clients[s].easy);
  }
  std::size_t done_seats = 0, acked = 0, failures = 0;
  std::vector<long> peak_rss(instances, 0);
  auto last_sample = t0;
  while (done_seats < seats) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int msgs = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &msgs)) {
      if (m->msg != CURLMSG_DONE) continue;
      SeatClient* c = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      curl_multi_remove_handle(multi, m->easy_handle);
      auto answered = std::chrono::steady_clock::now();
      if (m->data.result == CURLE_OK && status == 200) {
        acked += per_batch;
        ++c->next;
        request_ms.push_back(std::chrono::duration<double, std::milli>(answered - c->sent).count());
        batch_ms.push_back(
            std::chrono::duration<double, std::milli>(answered - c->first_try).count());
      } else {
        ++failures;
        ++c->retries;  // 503 / connection refused: retry the same batch
        if (failures < 5)
          std::fprintf(stderr, "retry: curl %d status %ld %s\n", m->data.result, status,
                       c->response.c_str());
      }
      if (c->next < c->posts.size()) {
        bool new_batch = status == 200 && m->data.result == CURLE_OK;
        arm(*c, "", pki, nullptr);  // the handle keeps its URL and connection
        if (new_batch) c->first_try = c->sent;
        curl_multi_add_handle(multi, c->easy);
      } else {
        ++done_seats;
      }
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    auto now = std::chrono::steady_clock::now();
    if (now - last_sample > std::chrono::milliseconds(200)) {
      for (std::size_t i = 0; i < instances; ++i)
        peak_rss[i] = std::max(peak_rss[i], status_kb(collectors[i]->pid(), "VmRSS:"));
      last_sample = now;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> cpu;
  for (std::size_t i = 0; i < instances; ++i)
    cpu.push_back(cpu_seconds(collectors[i]->pid()) - cpu0[i]);
  double self_cpu = cpu_seconds(getpid()) - self0;
  double server_cpu = store.server_pid() > 0 ? cpu_seconds(store.server_pid()) - server0 : 0;
  std::vector<long> hwm, rss_end;
  for (auto& c : collectors) {
    hwm.push_back(status_kb(c->pid(), "VmHWM:"));
    rss_end.push_back(status_kb(c->pid(), "VmRSS:"));
  }
  std::string load = load_average();
  for (auto& c : clients) {
    curl_easy_cleanup(c.easy);
    curl_slist_free_all(c.headers);
  }
  curl_multi_cleanup(multi);
  for (auto& c : collectors) c->stop();
  std::string query_log = store.query_log_summary();
  CliResult v = run_cli({"verify", "--store", store.spec()});
  if (!keep_db.empty() && !store.clickhouse())
    std::filesystem::copy_file(store.sqlite_path(), keep_db,
                               std::filesystem::copy_options::overwrite_existing);
  std::printf(
      "collector ingest: %zu seats (%s auth, TLS), %zu batches of %zu events each, %zu "
      "collector instance(s), store %s\n",
      seats, auth.c_str(), batches, per_batch, instances, store.describe().c_str());
  std::printf("  acknowledged events: %zu in %.2f s = %.0f events/s (%zu retried requests)\n",
              acked, secs, acked / secs, failures);
  std::printf(
      "  upload latency of requests answered 200: p50 %.0f ms, p99 %.0f ms, max %.0f ms; of "
      "batches from first attempt to 200 (retries included): p50 %.0f ms, p99 %.0f ms\n",
      percentile(request_ms, 0.5), percentile(request_ms, 0.99), percentile(request_ms, 1.0),
      percentile(batch_ms, 0.5), percentile(batch_ms, 0.99));
  double all_cpu = 0;
  for (std::size_t i = 0; i < instances; ++i) {
    all_cpu += cpu[i];
    std::size_t mine = acked / seats * ((seats + instances - 1 - i) / instances);
    std::printf(
        "  collector %zu CPU: %.2f s for its %zu events = %.1f us/event (= %.0f events/s per "
        "fully available core); RSS peak %.1f MiB (VmHWM), sampled max %.1f MiB, at end %.1f MiB\n",
        i + 1, cpu[i], mine, cpu[i] * 1e6 / mine, mine / cpu[i], hwm[i] / 1024.0,
        peak_rss[i] / 1024.0, rss_end[i] / 1024.0);
  }
  if (instances > 1)
    std::printf("  collectors together: %.2f s CPU = %.1f us/event\n", all_cpu,
                all_cpu * 1e6 / acked);
  if (store.server_pid() > 0)
    std::printf("  clickhouse-server CPU: %.2f s = %.1f us/event\n", server_cpu,
                server_cpu * 1e6 / acked);
  std::printf("  client CPU: %.2f s = %.1f us/event\n", self_cpu, self_cpu * 1e6 / acked);
  std::printf("  all processes: %.1f us/event\n", (all_cpu + server_cpu + self_cpu) * 1e6 / acked);
  std::printf("  machine load average at end: %s (2 cores shared with other work)\n", load.c_str());
  if (!query_log.empty()) std::printf("  clickhouse query_log:\n%s", query_log.c_str());
  auto at = v.out.rfind("verify:");
  std::printf("  verify after run: exit %d, %s", v.exit_code,
              at == std::string::npos ? v.out.c_str() : v.out.substr(at).c_str());
  curl_global_cleanup();
  return v.exit_code == 0 ? 0 : 1;
}
