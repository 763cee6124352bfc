// Fills a running collector with generated events through the real ingest path (POST
// /v1/events with an enrollment token, signed chain heads), for the console's browser tests.
//   seatlock_console_fill --url https://127.0.0.1:PORT/v1/events --ca CA.pem
//                         --seat SEAT=TOKEN [--seat ...] --events N --days D
// Events are spread over the last D days, several kinds, severities and users, so the
// overview chart, the top lists, filters and paging all have something to show.
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "harness.hpp"
#include "signing.hpp"

using namespace seatlock;
using namespace seatlock::testing;

namespace {

struct KindSpec {
  const char* kind;
  const char* severity;
  const char* outcome;
};

// Mostly violations (what the overview counts), a few info events.
const KindSpec kKinds[] = {
    {"usb.blocked", "high", "blocked"},         {"usb.storage_detected", "high", "blocked"},
    {"net.egress_denied", "medium", "blocked"}, {"net.dns_denied", "medium", "blocked"},
    {"usb.blocked", "high", "blocked"},         {"net.egress_denied", "medium", "blocked"},
    {"net.tamper", "critical", "reverted"},     {"policy.applied", "info", "applied"},
};
const char* kUsers[] = {"zhang.wei", "li.na", "wang.fang", "liu.yang", "chen.jie", "zhao.lei"};

nlohmann::json details_for(const std::string& kind, std::uint64_t n) {
  if (kind.rfind("usb.", 0) == 0)
    return {{"vid", "0951"},
            {"pid", "1666"},
            {"vendor", "Kingston"},
            {"product", "DataTraveler 3.0"},
            {"serial", "KS" + std::to_string(1000 + n % 7)},
            {"port", "1-2"}};
  if (kind == "net.egress_denied")
    return {{"daddr", "203.0.113." + std::to_string(n % 250 + 1)},
            {"dport", 443},
            {"proto", "tcp"},
            {"count", static_cast<int>(n % 9 + 1)}};
  if (kind == "net.dns_denied")
    return {{"name", n % 2 ? "pan.baidu.com" : "drive.google.com"},
            {"qtype", "A"},
            {"count", static_cast<int>(n % 5 + 1)}};
  if (kind == "net.tamper") return {{"revert_ms", 12}};
  return {{"version", 3}};
}

class Chain {
 public:
  explicit Chain(std::string seat) : seat_(std::move(seat)), key_(collector::ed25519_generate()) {}

  Event next(std::int64_t time, std::uint64_t pick) {
    const KindSpec& k = kKinds[pick % std::size(kKinds)];
    unsigned char rnd[10];
    RAND_bytes(rnd, sizeof rnd);
    Event e;
    e.id = make_uuid_v7(time, rnd);
    e.seq = ++seq_;
    e.time = time;
    e.seat_id = seat_;
    e.hostname = seat_ + ".callcenter.test";
    e.user = UserRef{kUsers[(pick / 3) % std::size(kUsers)], 1001};
    e.kind = k.kind;
    e.severity = k.severity;
    e.outcome = k.outcome;
    e.mode = "enforce";
    e.policy_sha256 = std::string(64, 'a');
    e.rule = std::string(k.kind).substr(0, std::string(k.kind).find('.')) + ".test";
    e.details = details_for(e.kind, e.seq);
    e.prev = prev_;
    prev_ = chain_hash(e);
    return e;
  }

  Post post(const std::vector<Event>& events) const {
    std::string body;
    for (const Event& e : events) body += canonical_bytes(e) + "\n";
    const Event& head = events.back();
    std::string hash = chain_hash(head);
    std::string sig = collector::ed25519_sign(key_.raw_private,
                                              collector::chain_head_message(seat_, head.seq, hash));
    Post p;
    p.body = body;
    p.last_seq = head.seq;
    p.headers = {"Content-Type: application/x-ndjson",
                 "X-Seatlock-Key: " + base64_encode(key_.raw_public),
                 "X-Seatlock-Chain-Head: " + std::to_string(head.seq) + " " + hash,
                 "X-Seatlock-Signature: " + base64_encode(sig)};
    return p;
  }

 private:
  std::string seat_;
  collector::Ed25519Key key_;
  std::uint64_t seq_ = 0;
  std::string prev_ = kGenesisPrev;
};

int usage(const char* why) {
  std::cerr << "seatlock_console_fill: " << why
            << "\nusage: seatlock_console_fill --url URL --ca CA --seat SEAT=TOKEN ... --events N "
               "--days D\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, ca;
  std::vector<std::pair<std::string, std::string>> seats;
  long events = 0, days = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      url = v;
    else if (k == "--ca")
      ca = v;
    else if (k == "--events")
      events = std::atol(v.c_str());
    else if (k == "--days")
      days = std::atol(v.c_str());
    else if (k == "--seat" && v.find('=') != std::string::npos)
      seats.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
    else
      return usage(("unknown or malformed argument " + k).c_str());
  }
  if (url.empty() || ca.empty() || seats.empty() || events <= 0 || days <= 0)
    return usage("--url, --ca, --seat, --events and --days are required");

  const std::int64_t now = now_ms();
  const std::int64_t span = days * 86'400'000LL;
  const long per_seat = events / static_cast<long>(seats.size());
  std::size_t total = 0;
  for (std::size_t s = 0; s < seats.size(); ++s) {
    Chain chain(seats[s].first);
    // Seats differ in volume (a top list with an order) and the last seat went silent 3 days ago.
    long n = per_seat + static_cast<long>(s) * 37;
    std::int64_t end = s + 1 == seats.size() ? now - 3 * 86'400'000LL : now - 60'000;
    std::int64_t step = (end - (now - span)) / n;
    std::vector<Event> batch;
    for (long i = 0; i < n; ++i) {
      batch.push_back(chain.next(now - span + i * step, static_cast<std::uint64_t>(i * 7 + s)));
      if (batch.size() == 500 || i + 1 == n) {
        HttpResult r = post_events(url, ca, {"", "", seats[s].second}, chain.post(batch));
        if (r.status != 200) {
          std::cerr << "seatlock_console_fill: " << seats[s].first << ": HTTP " << r.status << " "
                    << r.body << r.error << "\n";
          return 1;
        }
        total += batch.size();
        batch.clear();
      }
    }
  }
  std::cout << "stored " << total << "\n";
  return 0;
}
