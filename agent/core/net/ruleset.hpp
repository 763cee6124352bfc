#pragma once
// Compiles NetRules to nftables native syntax: one table with interval sets (so a packet costs a
// handful of set lookups whatever the number of entries) and three chains: output (egress), input
// (network.inbound) and forward (the egress allowlist for containers/VMs). Layout and
// rationale: docs/network.md. In audit mode no rule drops: what enforce would drop is logged
// and accepted.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/net/address_space.hpp"
#include "core/net/net_rules.hpp"

namespace seatlock::net {

inline constexpr const char* kOwnedTable = "seatlock";  // flags owner, lives with seatlockd
inline constexpr const char* kFallbackTable = "seatlock_fallback";  // non-owned, loaded at boot

// NFLOG prefixes -> what the packet violated.
inline constexpr const char* kPrefixDenied = "sl-deny";      // not on any allowlist (enforce)
inline constexpr const char* kPrefixAudit = "sl-audit";      // would be denied (audit)
inline constexpr const char* kPrefixSource = "sl-saddr";     // source is not the planned address
inline constexpr const char* kPrefixInbound = "sl-in-deny";  // inbound, not in network.inbound
inline constexpr const char* kPrefixInboundAudit = "sl-in-audit";
inline constexpr const char* kPrefixForward = "sl-fwd-deny";  // forwarded, not on the allowlist
inline constexpr const char* kPrefixForwardAudit = "sl-fwd-audit";

struct ActiveException {
  std::string ticket;
  std::vector<std::string> users;
  std::vector<std::string> groups;
  std::size_t uid_count = 0;
  UnixMillis until = 0;
  std::string source;
};

// Which piece of an allow set a group of boxes compiles into: (kind, family, protocol, uid);
// proto "" = the all-protocol sets, uid -1 except for exceptions. A recompile reuses every piece
// whose input boxes did not change (compile_ruleset's `before`), and an in-place update
// (set_update.hpp) compares only the pieces that are not shared.
struct SetPieceKey {
  int kind = 0;  // 0 base, 1 exception, 2 inbound
  int family = 4;
  std::string proto;
  std::int64_t uid = -1;
  bool operator<(const SetPieceKey& o) const {
    return std::tie(kind, family, proto, uid) < std::tie(o.kind, o.family, o.proto, o.uid);
  }
};
struct SetPiece {
  std::string set;          // the set its elements go into ("base4", "exc6", ...)
  std::vector<Box> input;   // the boxes before merging
  std::vector<Box> merged;  // disjoint: the set's elements (value = `until` for exceptions)
  // merged[i] as nft writes it, without a timeout ("1001 . 10.0.0.0-10.255.255.255 . 6 . 443")
  std::vector<std::string> keys;
  bool expires = false;  // exception pieces: elements carry "timeout until-now"
};

struct CompiledRuleset {
  std::string sets;  // counter and set definitions (the same in both tables)
  // The allow sets (base*, any*, exc*, excany*, in*, inany*) piece by piece, shared with the
  // compile they were reused from (so keeping the ruleset in force costs no copy of them), and
  // `sets` with those sets left empty: what set_update_transaction() compares.
  std::map<SetPieceKey, std::shared_ptr<const SetPiece>> pieces;
  std::string skeleton;
  // The elements of set dhcp4 (sorted; not in `skeleton`): the broadcast address and the lease
  // servers, which a DHCP client may change at any time (at boot, just after seatlockd's start).
  std::vector<std::string> dhcp4;
  // The chains of the owned table (logging) and of the fallback table, written for the state
  // the sets were compiled for (`closed`).
  std::string owned_chains;
  std::string fallback_chains;
  // The rules of chains `allow_out` and `allow_fwd` (the same in both tables), where the output
  // and forward chains look up the allowlists: the only text that differs between closed and
  // open, so set_update_transaction() rewrites just these chains for close and open.
  std::string allow_out;
  std::string allow_fwd;
  std::size_t base_elements = 0;        // elements in the base allow sets after merging
  std::size_t exception_elements = 0;   // elements in the exception sets after merging
  std::size_t inbound_elements = 0;     // elements in the inbound sets after merging
  std::vector<ActiveException> active;  // in force now (empty while closed)
  // The earliest `until` still ahead (exceptions, also while closed, and the closure's): the
  // seat recompiles then.
  std::optional<UnixMillis> next_expiry;
  bool closed = false;                  // closed_at(rules, now): what the chains were built for
  std::optional<NetClosure> closure;    // the policy closure in force (nullopt: none/ended)
  std::size_t suspended_allow = 0;      // network.allow entries left out while closed
  std::size_t management_elements = 0;  // collector endpoints + resolvers in mgmt4/mgmt6
  // The generation stamped into accepted connections' ct marks (generation.hpp): a fresh compile
  // seeds it from the clock, a compile with `before` keeps before's, set_update_transaction()
  // bumps it when the change takes something away, and seatlockd bumps it on every replace.
  std::uint32_t generation = 1;
};

// The management path sets (docs/network.md "Management path"): "addr . proto . port",
// flags interval,timeout. The DNS guard adds the collector's resolved addresses here.
std::string management_set_name(int family);

// Throws std::invalid_argument on a malformed address (the loader validates first, so this is
// a programming error or a hand-edited fallback file).
CompiledRuleset compile_ruleset(const NetRules& rules, UnixMillis now);
// The same, reusing what did not change since `before` (compiled from `before_rules`): the
// seat-wide and inbound sets as a whole when network.allow, inbound, dns, ntp, the collector and
// the closed state are the same, else every piece whose input boxes are the same, and the element
// text of every merged box that stays. A policy change at 10,000 CIDRs then costs milliseconds.
CompiledRuleset compile_ruleset(const NetRules& rules, UnixMillis now, const NetRules& before_rules,
                                const CompiledRuleset& before);

// The chains. The owned table logs denied packets (with_log); the fallback table does not, so
// a packet is never logged twice, and it hooks 10 later so the owned table decides first.
// `rules.closed` is taken as the effective state: full_transaction() and
// fallback_transaction() pass the rules with closed = compiled.closed.
std::string output_chain(const NetRules& rules, bool with_log, int priority_offset);
std::string input_chain(const NetRules& rules, bool with_log, int priority_offset);
std::string forward_chain(const NetRules& rules, bool with_log, int priority_offset);
std::string filter_chains(const NetRules& rules, bool with_log, int priority_offset);  // all three
// The rules ("    ...\n" each) of chain `allow_out` (output: seat-wide, exceptions, domains) and
// `allow_fwd` (forward: seat-wide and domains). Open: the seat-wide sets (base*, any*); closed:
// the essential sets (ess*, essany*) and essential domain entries, no exceptions.
std::string allow_out_rules(const NetRules& rules);
std::string allow_forward_rules(const NetRules& rules);

// "table inet NAME { [flags owner;] sets chain }"
std::string table_definition(const std::string& table, bool owner, const CompiledRuleset& compiled,
                             const std::string& chain);
// Both tables, each replaced atomically, in one transaction (what seatlockd applies). `rules` are
// those `compiled` came from; the chains were written by compile_ruleset().
std::string full_transaction(const NetRules& rules, const CompiledRuleset& compiled);
// Only the fallback table (what `seatlockctl net load-fallback` applies at boot).
std::string fallback_transaction(const NetRules& rules, const CompiledRuleset& compiled);
// Commands that atomically replace NAME with `definition` in the same transaction (the table
// is created if missing, so the delete never fails).
std::string replace_table(const std::string& table, bool owner, const std::string& definition);

}  // namespace seatlock::net
