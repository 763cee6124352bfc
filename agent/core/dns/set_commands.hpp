#pragma once
// The nft transaction that puts a DNS answer's addresses into the domain sets of both tables
// (a packet must pass the owned and the fallback table). Pure.
//
// nft 1.0.6 / Linux 6.1 cannot update the timeout of an element that already exists (`add`
// leaves it unchanged), so each element is written as add + delete + add in ONE transaction:
// the first add makes sure it exists, the delete removes it, the last add puts it back with the
// new timeout. The commit is atomic, so no packet ever sees the address missing.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/dns/answer_elements.hpp"
#include "core/util/time.hpp"

namespace seatlock::dns {

// Remembers until when each (set, address) was last made to live, so a later answer with a
// shorter TTL (another name on the same address, a resolver counting down) never shortens it.
class ElementExpiry {
 public:
  // Raises e.timeout_ms so the element lives at least as long as already promised; records it.
  void extend(SetElement& e, UnixMillis now);
  // Forgets everything (after the ruleset was re-applied, the sets are empty again).
  void clear() { until_.clear(); }
  std::size_t size() const { return until_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, UnixMillis> until_;
  std::size_t since_prune_ = 0;
};

// "add element inet T S { A timeout X }\ndelete element ...\nadd element ..." for every table.
std::string set_update_commands(const std::vector<SetElement>& elements,
                                const std::vector<std::string>& tables);

}  // namespace seatlock::dns
