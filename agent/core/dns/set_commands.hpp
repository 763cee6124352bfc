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
  // True when the element as last written (the kernel acknowledged it: writes happen under the
  // guard's lock and a failed one clears everything) still lives at least e.timeout_ms minus a
  // margin (a tenth of it, at least 1 s): writing it again would change almost nothing, so the
  // answer is released without a set update. Then sets e.timeout_ms to the time it has left.
  bool covers(SetElement& e, UnixMillis now) const;
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
