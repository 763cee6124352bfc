#pragma once
// From a DNS answer to nftables set elements (docs/dns.md "Answers"). Pure.
//
// The addresses that count are those reached from the QUESTION name through the CNAME chain in
// the answer section; they go into the sets of the entries that admitted the question name,
// even when the chain leaves the allowed domain (crm.example.com -> crm.cdn.net): the user asked
// for an allowed name, and the CDN's address is where that name lives right now. Records not on
// the chain (extra A records a resolver added) are ignored.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dns/domain_table.hpp"

namespace seatlock::dns {

struct AnswerRecord {
  enum class Type { A, AAAA, CNAME, Other };
  std::string owner;  // as in the message (any case, trailing dot)
  Type type = Type::Other;
  std::uint32_t ttl = 0;
  std::string data;  // A/AAAA: address text; CNAME: the target name
};

// Element timeout = clamp(TTL, floor, max) + grace. The floor keeps a 0- or 1-second TTL from
// expiring before the client even connects; the grace covers a client that caches the answer
// a little longer than its TTL (glibc, browsers) and the time to open the connection.
struct TimeoutPolicy {
  std::int64_t floor_ms = 30'000;
  std::int64_t grace_ms = 60'000;
  std::int64_t max_ms = 86'400'000;  // a week-long TTL still ends after a day
  std::size_t cap_per_name = 64;     // addresses taken from one answer
  std::size_t max_chain = 16;        // CNAME hops followed
};

struct SetElement {
  std::string set;      // nftables set name
  std::string address;  // IPv4 or IPv6 text
  std::int64_t timeout_ms = 0;
  std::string suffix = {};  // after the address in the element (DomainTarget::element_suffix)
  bool operator==(const SetElement&) const = default;
};

struct AnswerElements {
  std::vector<SetElement> elements;
  std::size_t addresses = 0;  // distinct addresses on the chain (before the cap)
  std::size_t capped = 0;     // addresses left out by cap_per_name
};

std::int64_t element_timeout_ms(std::uint32_t ttl_seconds, const TimeoutPolicy& policy);

AnswerElements answer_elements(std::string_view question, const std::vector<AnswerRecord>& answer,
                               const std::vector<DomainTarget>& targets,
                               const TimeoutPolicy& policy = {});

}  // namespace seatlock::dns
