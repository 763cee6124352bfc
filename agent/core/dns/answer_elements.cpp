#include "core/dns/answer_elements.hpp"

#include <algorithm>
#include <set>

namespace seatlock::dns {

std::int64_t element_timeout_ms(std::uint32_t ttl_seconds, const TimeoutPolicy& policy) {
  std::int64_t ttl = std::int64_t(ttl_seconds) * 1000;
  return std::clamp(ttl, policy.floor_ms, std::max(policy.floor_ms, policy.max_ms)) +
         policy.grace_ms;
}

AnswerElements answer_elements(std::string_view question, const std::vector<AnswerRecord>& answer,
                               const std::vector<DomainTarget>& targets,
                               const TimeoutPolicy& policy) {
  // The chain: the question name and every CNAME target reachable from it.
  std::set<std::string> chain = {normalize_name(question)};
  for (std::size_t hop = 0; hop < policy.max_chain; ++hop) {
    bool grew = false;
    for (const auto& r : answer)
      if (r.type == AnswerRecord::Type::CNAME && chain.count(normalize_name(r.owner)))
        grew = chain.insert(normalize_name(r.data)).second || grew;
    if (!grew) break;
  }
  AnswerElements out;
  std::set<std::string> seen;
  for (const auto& r : answer) {
    const bool v4 = r.type == AnswerRecord::Type::A, v6 = r.type == AnswerRecord::Type::AAAA;
    if ((!v4 && !v6) || !chain.count(normalize_name(r.owner))) continue;
    if (!seen.insert(r.data).second) continue;
    ++out.addresses;
    if (seen.size() > policy.cap_per_name) {
      ++out.capped;
      continue;
    }
    for (const auto& t : targets)
      out.elements.push_back(
          {v4 ? t.set4 : t.set6, r.data, element_timeout_ms(r.ttl, policy), t.element_suffix});
  }
  return out;
}

}  // namespace seatlock::dns
