// Collector ingest over TLS from many simulated seats posting concurrently (loopback only).
// usage: collector_ingest_bench [--seats 1000] [--batches 5] [--batch-events 100] [--auth
// token|cert]
//                               [--keep-db FILE]
// Prints events/s (acknowledged with 200 = committed with synchronous=FULL) and collector RSS.
// Client and collector share the machine's cores; the figure is therefore a lower bound.
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "core/util/digest.hpp"
#include "gzip.hpp"
#include "harness.hpp"
#include "signing.hpp"
#include "sqlite_store.hpp"

using namespace seatlock;
using namespace seatlock::testing;

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
};

size_t sink(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

long rss_kb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
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
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t seats = 1000, batches = 5, per_batch = 100;
  std::string auth = "token";
  std::string keep_db;  // copy the resulting database here (for transcripts)
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
    else if (k == "--keep-db")
      keep_db = argv[i + 1];
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  TempDir dir;
  Pki pki(dir);
  std::string db = dir / "bench.db";
  std::vector<SeatClient> clients(seats);
  std::vector<Pki::Pair> certs;
  auto t_prep = std::chrono::steady_clock::now();
  {
    auto store = collector::open_sqlite_store(db, true);
    for (std::size_t s = 0; s < seats; ++s) {
      char id[32];
      std::snprintf(id, sizeof id, "bench-%04zu", s);
      SeatSim sim(id);
      for (std::size_t b = 0; b < batches; ++b) {
        auto events = sim.make(per_batch, "net.egress_denied", "medium");
        clients[s].posts.push_back(sim.post(events));
        clients[s].bodies.push_back(collector::gzip_compress(clients[s].posts.back().body));
      }
      if (auth == "token") {
        clients[s].token = collector::new_enrollment_token();
        store->add_token(sha256_hex(clients[s].token), id, "");
      } else {
        certs.push_back(pki.seat(id));
      }
    }
  }
  double prep_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_prep).count();
  std::fprintf(stderr, "prepared %zu seats x %zu batches x %zu events in %.1f s\n", seats, batches,
               per_batch, prep_s);

  // All simulated seats connect at once from one address (a site behind one NAT address).
  std::vector<std::string> extra = {"--max-connections", std::to_string(seats + 100),
                                    "--max-unauthenticated-per-address",
                                    std::to_string(seats + 100)};
  if (auth == "token") extra.push_back("--tokens-only");
  CollectorProcess collector(db, pki, extra);
  std::string url = collector.url();

  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(seats * 2));
  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = cpu_seconds(collector.pid()), self0 = cpu_seconds(getpid());
  for (std::size_t s = 0; s < seats; ++s) {
    arm(clients[s], url, pki, auth == "cert" ? &certs[s] : nullptr);
    curl_multi_add_handle(multi, clients[s].easy);
  }
  std::size_t done_seats = 0, acked = 0, failures = 0;
  long peak_rss = 0;
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
      if (m->data.result == CURLE_OK && status == 200) {
        acked += per_batch;
        ++c->next;
      } else {
        ++failures;
        ++c->retries;  // 503 / connection refused: retry the same batch
        if (failures < 5)
          std::fprintf(stderr, "retry: curl %d status %ld %s\n", m->data.result, status,
                       c->response.c_str());
      }
      if (c->next < c->posts.size()) {
        arm(*c, url, pki, nullptr);
        curl_multi_add_handle(multi, c->easy);
      } else {
        ++done_seats;
      }
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    auto now = std::chrono::steady_clock::now();
    if (now - last_sample > std::chrono::milliseconds(200)) {
      peak_rss = std::max(peak_rss, rss_kb(collector.pid(), "VmRSS:"));
      last_sample = now;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds(collector.pid()) - cpu0, self_cpu = cpu_seconds(getpid()) - self0;
  long hwm = rss_kb(collector.pid(), "VmHWM:");
  long rss_end = rss_kb(collector.pid(), "VmRSS:");
  for (auto& c : clients) {
    curl_easy_cleanup(c.easy);
    curl_slist_free_all(c.headers);
  }
  curl_multi_cleanup(multi);
  collector.stop();
  CliResult v = run_cli({"verify", "--db", db});
  if (!keep_db.empty())
    std::filesystem::copy_file(db, keep_db, std::filesystem::copy_options::overwrite_existing);
  std::printf("collector ingest: %zu seats (%s auth, TLS), %zu batches of %zu events each\n", seats,
              auth.c_str(), batches, per_batch);
  std::printf("  acknowledged events: %zu in %.2f s = %.0f events/s (%zu retried requests)\n",
              acked, secs, acked / secs, failures);
  std::printf(
      "  collector CPU: %.2f s for %zu events = %.1f us/event (= %.0f events/s per fully available "
      "core); "
      "client CPU %.2f s\n",
      cpu, acked, cpu * 1e6 / acked, acked / cpu, self_cpu);
  std::ifstream la("/proc/loadavg");
  std::string load;
  std::getline(la, load);
  std::printf("  machine load average at end: %s (2 cores shared with other work)\n", load.c_str());
  std::printf("  collector RSS: peak %.1f MiB (VmHWM), sampled max %.1f MiB, at end %.1f MiB\n",
              hwm / 1024.0, peak_rss / 1024.0, rss_end / 1024.0);
  std::printf("  verify after run: exit %d, %s", v.exit_code,
              v.out.substr(v.out.rfind("verify:")).c_str());
  curl_global_cleanup();
  return v.exit_code == 0 ? 0 : 1;
}
