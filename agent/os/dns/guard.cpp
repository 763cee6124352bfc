#include "os/dns/guard.hpp"

#include <stdexcept>

#include "os/dns/dns_wire.hpp"

namespace seatlock::dns {

Guard::Guard(ApplySets apply, std::vector<std::string> tables)
    : apply_(std::move(apply)), tables_(std::move(tables)) {}

void Guard::set_rules(const net::NetRules& rules, UnixMillis now) {
  table_.emplace(rules, now);
  mode_ = rules.mode;
  upstream_.resolvers = rules.dns;
  upstream_.mark = net::kDnsGuardMark;
  expiry_.clear();
}

std::vector<std::uint8_t> Guard::handle(const std::uint8_t* query, std::size_t len, bool tcp,
                                        std::int64_t uid, UnixMillis now) {
  ++stats_.queries;
  auto q = parse_query(query, len);
  if (!q) {
    ++stats_.malformed;
    return error_reply(query, len, kFormErr);
  }
  const std::string name = normalize_name(q->name);
  if (is_doh_canary(name)) {
    ++stats_.canary;
    return error_reply(query, len, kNxDomain);
  }
  std::vector<DomainTarget> targets;
  if (table_) targets = table_->match(name);
  if (targets.empty()) {
    const bool enforce = mode_ == Mode::Enforce;
    denied_.add({uid, name, enforce ? "not-allowed" : "audit"}, q->qtype, now);
    if (enforce) {
      ++stats_.refused;
      return error_reply(query, len, kRefused);
    }
    ++stats_.audited;
  }
  return forward(query, len, tcp, name, targets, now);
}

std::vector<std::uint8_t> Guard::forward(const std::uint8_t* query, std::size_t len, bool tcp,
                                         const std::string& name,
                                         const std::vector<DomainTarget>& targets, UnixMillis now) {
  std::string error;
  auto reply = ask_upstream(upstream_, query, len, tcp, &error);
  std::optional<Response> r;
  if (reply) r = parse_response(reply->data(), reply->size());
  if (!r || normalize_name(r->question) != name) {
    ++stats_.failed;
    last_error_ = reply ? "resolver reply does not answer the question" : error;
    return error_reply(query, len, kServFail);
  }
  ++stats_.forwarded;
  if (targets.empty()) return *reply;  // audit: not admitted, nothing to allow
  AnswerElements e = answer_elements(name, r->answer, targets, timeouts_);
  if (e.elements.empty()) return *reply;
  for (auto& el : e.elements) expiry_.extend(el, now);
  try {
    apply_(set_update_commands(e.elements, tables_));
  } catch (const std::exception& ex) {
    // Fail closed: an address the kernel does not allow is never handed out (audit excepted).
    expiry_.clear();  // what it promised may not be in the kernel
    last_error_ = std::string("set update: ") + ex.what();
    if (mode_ == Mode::Enforce) {
      ++stats_.failed;
      return error_reply(query, len, kServFail);
    }
  }
  stats_.elements += e.elements.size();
  return *reply;
}

}  // namespace seatlock::dns
