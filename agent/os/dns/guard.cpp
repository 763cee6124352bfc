#include "os/dns/guard.hpp"

#include <algorithm>
#include <stdexcept>

#include "os/dns/dns_wire.hpp"

namespace seatlock::dns {

Guard::Guard(ApplySets apply, std::vector<std::string> tables, std::mutex& state)
    : apply_(std::move(apply)), tables_(std::move(tables)), state_(state) {}

void Guard::set_rules(const net::NetRules& rules, UnixMillis now) {
  table_.emplace(rules, now);
  ++generation_;
  mode_ = rules.mode;
  upstream_.resolvers = rules.dns;
  upstream_.mark = net::kDnsGuardMark;
  // The new sets hold what refill_commands put there: the promises still to keep.
  expiry_.clear();
  for (auto& e : cache_.refill(*table_, now)) expiry_.extend(e, now);
  std::vector<std::string> refreshed;
  if (!rules.collector_host.empty()) refreshed.push_back(normalize_name(rules.collector_host));
  refresh_.set_names(refreshed, now);
}

std::vector<std::string> Guard::due_refreshes(UnixMillis now) {
  std::lock_guard lock(state_);
  auto due = refresh_.take_due(now);
  stats_.refreshes += due.size();
  return due;
}

std::string Guard::refill_commands(const net::NetRules& rules, UnixMillis now) {
  std::vector<SetElement> elements = cache_.refill(DomainTable(rules, now), now);
  return elements.empty() ? "" : set_update_commands(elements, tables_);
}

std::vector<std::uint8_t> Guard::handle(const std::uint8_t* query, std::size_t len, bool tcp,
                                        const Asker& asker, UnixMillis now) {
  std::unique_lock lock(state_);
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
    lock.unlock();  // the owner lookup reads the kernel's socket tables: not under the lock
    const std::int64_t uid = asker();
    lock.lock();
    if (uid < 0) ++stats_.asker_unknown;  // the event says uid -1; the count says how often
    const bool enforce = mode_ == Mode::Enforce;
    denied_.add({uid, name, enforce ? "not-allowed" : "audit"}, q->qtype, now);
    if (enforce) {
      ++stats_.refused;
      return error_reply(query, len, kRefused);
    }
    ++stats_.audited;
  }
  return forward(lock, query, len, tcp, name, std::move(targets), now);
}

std::vector<std::uint8_t> Guard::forward(std::unique_lock<std::mutex>& lock,
                                         const std::uint8_t* query, std::size_t len, bool tcp,
                                         const std::string& name, std::vector<DomainTarget> targets,
                                         UnixMillis now) {
  const UpstreamOptions upstream = upstream_;
  const std::uint64_t generation = generation_;
  std::string error;
  lock.unlock();  // the resolver may take seconds: a ruleset apply must not wait for it
  auto reply = ask_upstream(upstream, query, len, tcp, &error);
  std::optional<Response> r;
  if (reply) r = parse_response(reply->data(), reply->size());
  lock.lock();
  if (!r || normalize_name(r->question) != name) {
    ++stats_.failed;
    last_error_ = reply ? "resolver reply does not answer the question" : error;
    return error_reply(query, len, kServFail);
  }
  // The rules changed while the resolver answered: the sets are the new rules' now.
  if (generation != generation_ && table_) {
    targets = table_->match(name);
    if (targets.empty() && mode_ == Mode::Enforce) {
      ++stats_.refused;
      return error_reply(query, len, kRefused);
    }
  }
  ++stats_.forwarded;
  if (targets.empty()) return *reply;  // audit: not admitted, nothing to allow
  // A truncated answer holds only the records that fitted: the client asks again over TCP
  // (RFC 7766) and the complete answer's addresses are the ones that count (and are capped).
  if (r->truncated) return *reply;
  AnswerElements e = answer_elements(name, r->answer, targets, timeouts_);
  if (e.capped) {  // reported in the stats (seatlockctl status, component dns)
    ++stats_.capped;
    stats_.capped_addresses += e.capped;
    last_capped_ = name + ": " + std::to_string(e.addresses) + " addresses, " +
                   std::to_string(e.capped) + " left out";
  }
  if (e.elements.empty()) return *reply;
  // Only the elements that would otherwise end noticeably sooner than this answer asks: a name
  // looked up again and again costs one kernel round trip per tenth of its timeout, not one
  // per answer.
  std::int64_t shortest_ms = e.elements.front().timeout_ms;  // as the answer asked, with grace
  for (const auto& el : e.elements) shortest_ms = std::min(shortest_ms, el.timeout_ms);
  std::vector<SetElement> writes;
  for (auto& el : e.elements) {
    if (expiry_.covers(el, now)) continue;
    expiry_.extend(el, now);
    writes.push_back(el);
  }
  stats_.unchanged += e.elements.size() - writes.size();
  if (!writes.empty()) {
    try {
      apply_(set_update_commands(writes, tables_));
    } catch (const std::exception& ex) {
      // Fail closed: an address the kernel does not allow is never handed out (audit excepted).
      expiry_.clear();  // what it promised may not be in the kernel
      last_error_ = std::string("set update: ") + ex.what();
      if (mode_ == Mode::Enforce) {
        ++stats_.failed;
        return error_reply(query, len, kServFail);
      }
      return *reply;
    }
  }
  cache_.record(name, e.elements, now);
  stats_.elements += writes.size();
  // In force now: a name kept fresh is looked up again well before these elements end.
  if (refresh_.contains(name)) refresh_.answered(name, shortest_ms - timeouts_.grace_ms, now);
  return *reply;
}

}  // namespace seatlock::dns
