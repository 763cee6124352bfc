#pragma once
// What the DNS guard has put into the domain sets, by question name, so it can put it back:
// re-applying the ruleset replaces the tables and empties their sets (docs/dns.md "Reload").
// Keyed by NAME, not by set: a reload may renumber the entries (dom0 becomes dom1) or drop the
// entry that admitted a name, so the sets are found again by matching the name against the new
// rules. Pure.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/dns/answer_elements.hpp"
#include "core/dns/domain_table.hpp"
#include "core/util/time.hpp"

namespace seatlock::dns {

class AnswerCache {
 public:
  // The elements written for an answer to `name` (their timeouts counted from `now`).
  void record(const std::string& name, const std::vector<SetElement>& elements, UnixMillis now);
  // The elements to write into freshly made sets: every address still alive at `now`, into the
  // sets of the entries of `table` that admit its name, with the time it has left. Forgets
  // expired addresses and names `table` no longer admits.
  std::vector<SetElement> refill(const DomainTable& table, UnixMillis now);
  std::size_t names() const { return until_.size(); }
  void clear() { until_.clear(); }

 private:
  std::map<std::string, std::map<std::string, UnixMillis>> until_;  // name -> address -> until
  std::size_t since_prune_ = 0;
};

}  // namespace seatlock::dns
