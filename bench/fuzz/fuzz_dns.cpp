// DNS guard: what a client (any process on the seat) or a resolver sends the guard, read the
// way the guard reads it (agent/os/dns/dns_wire: parse_query, parse_response, error_reply via
// ldns) and turned into set elements (agent/core/dns: DomainTable, answer_elements). The same
// bytes are tried as a query and as a response.
// Invariants: a refusal built for any input with a readable header is itself a readable
// response with the query's id and question; set elements only ever carry addresses from A/AAAA
// records, go only to the sets of the entry that admitted the question, and stay within the
// cap; every timeout is within [floor + grace, max + grace].
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>

#include "core/dns/answer_elements.hpp"
#include "core/dns/domain_table.hpp"
#include "fuzz_support.hpp"
#include "os/dns/dns_wire.hpp"

#define CHECK_INVARIANT(expr, detail) \
  if (!(expr)) seatlock::fuzz::invariant_failed(#expr, __FILE__, __LINE__, detail)

using namespace seatlock;

namespace {

const net::NetRules& rules() {
  static const net::NetRules r = [] {
    net::NetRules x;
    x.dns = {"10.0.0.53"};
    x.dns_guard_port = net::kDnsGuardPort;
    x.allow_domains = {{{"crm.example.com", "*.example.net"}, {}, "any", ""}};
    return x;
  }();
  return r;
}

bool is_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dns::DomainTable table(rules(), 0);
  if (auto q = dns::parse_query(data, size)) {
    auto reply = dns::error_reply(data, size, dns::kRefused);
    auto r = dns::parse_response(reply.data(), reply.size());
    CHECK_INVARIANT(r.has_value(), q->name);
    CHECK_INVARIANT(r->id == q->id, q->name);
    CHECK_INVARIANT(dns::normalize_name(r->question) == dns::normalize_name(q->name), q->name);
    CHECK_INVARIANT(r->answer.empty(), q->name);
  } else if (size >= 12) {
    auto reply = dns::error_reply(data, size, dns::kFormErr);
    CHECK_INVARIANT(!reply.empty() && reply.size() >= 12, "FORMERR reply not built");
  }
  if (auto r = dns::parse_response(data, size)) {
    const auto targets = table.match(r->question);
    dns::TimeoutPolicy policy;
    policy.cap_per_name = 8;
    auto e = dns::answer_elements(r->question, r->answer, targets, policy);
    CHECK_INVARIANT(e.elements.size() <= policy.cap_per_name * targets.size(), r->question);
    for (const auto& el : e.elements) {
      CHECK_INVARIANT(is_address(el.address), el.address);
      CHECK_INVARIANT(el.timeout_ms >= policy.floor_ms + policy.grace_ms &&
                          el.timeout_ms <= policy.max_ms + policy.grace_ms,
                      el.address);
      bool from_target = false;
      for (const auto& t : targets)
        from_target = from_target || el.set == t.set4 || el.set == t.set6;
      CHECK_INVARIANT(from_target, el.set);
    }
  }
  return 0;
}
