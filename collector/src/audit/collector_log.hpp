#pragma once
// The collector's own evidence: events the collector itself decides (`firmware.attested`
// verdicts, central actions such as `fleet.net_closed`), recorded as a signed, hash-chained
// chain in the EventStore, exactly like a seat's chain. The chain id is "collector:<instance>"
// (stored in the seat_id column), the events are canonical seatlock.event/1 lines (docs/wire.md)
// linked by `prev`, and every append stores a chain head signed with the collector's Ed25519
// key. So `query`, `export`, `verify` and `seats` treat the chain like any seat's, and `verify`
// proves that no collector event was altered or dropped (docs/firmware.md, "Collector events").
//
// The seats an event is ABOUT are listed in details.seats (an array of seat ids, never empty
// for a seat-related event); `query --seat S` and `export --seat S` also return collector
// events whose details.seats contains S (subject_query.hpp).
//
// One chain per instance, shared by `serve` and every CLI command on the host: record() holds
// an exclusive flock on "<collector key>.lock" (and, for SQLite, a write transaction) from
// reading the chain's head to the commit, so concurrent appenders never fork the chain.
//
// Usage (a CLI command; `a` is its ArgParser, which must accept collector_log_option_names() and
// store_option_names()):
//
//   auto store = open_store(store_spec(a), /*create=*/true);
//   audit::CollectorLog log(*store, audit::identity_from_args(a, store_spec(a)));
//   audit::CollectorEventInput in;
//   in.kind = "fleet.net_closed";  // "<area>.<what>"
//   in.severity = "medium";        // info | low | medium | high | critical
//   in.outcome = "applied";
//   in.actor = "alice";            // who (stored as details.actor)
//   in.seats = {"seat-0001", "seat-0002"};  // details.seats
//   in.details = {{"ticket", "CHG-42"}, {"until", "2026-12-03T18:00:00Z"}, {"version", 17}};
//   StoredEvent e = log.record(in);  // durable (committed, head signed) when it returns
//
// record() throws std::runtime_error (with the reason) when nothing could be recorded; the
// caller must then not report success for the action.
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/util/args.hpp"
#include "store.hpp"

namespace seatlock::collector::audit {

inline constexpr const char* kCollectorChainPrefix = "collector:";

// True for chain ids written by a collector ("collector:..."), false for seats.
bool is_collector_chain(const std::string& chain_id);

struct CollectorIdentity {
  std::string instance;                 // chain id = "collector:" + instance
  std::string raw_private, raw_public;  // Ed25519, 32 bytes each
  std::string lock_path;                // flock'd across read-head/append; "" = no file lock
  std::string chain_id() const { return kCollectorChainPrefix + instance; }
};

// The collector key file: base64 of the raw 32-byte Ed25519 private key (mode 0600) and
// FILE.pub (base64 public key, 0644), the same format as `fleet keygen`. Created when missing.
CollectorIdentity load_or_create_identity(const std::string& key_path, const std::string& instance);

// Options every command that records collector events accepts: --instance NAME (default: the
// host name) and --collector-key FILE (default: default_collector_key_path(store spec)).
std::set<std::string> collector_log_option_names();
// SQLite store at PATH -> "PATH.collector.key"; other stores ->
// "/var/lib/seatlock-collector/collector.key".
std::string default_collector_key_path(const std::string& store_spec);
std::string default_instance();
CollectorIdentity identity_from_args(const ArgParser& a, const std::string& store_spec);

struct CollectorEventInput {
  std::string kind, severity, outcome;
  std::string actor;               // who acted ("" = the collector itself); details.actor
  std::vector<std::string> seats;  // what the event is about; details.seats
  nlohmann::json details = nlohmann::json::object();  // merged with actor and seats
};

class CollectorLog {
 public:
  CollectorLog(EventStore& store, CollectorIdentity id);
  // Appends one event to the collector chain and stores a signed chain head for it; durable
  // when it returns. Thread-safe and safe across processes sharing the key's lock file.
  StoredEvent record(const CollectorEventInput& in);
  const CollectorIdentity& identity() const { return id_; }

 private:
  EventStore& store_;
  CollectorIdentity id_;
};

// For `serve`: the log verdicts are recorded in, or nullptr when this store has no attestation
// (a ClickHouse store without --collector-key: the attest routes answer 501 there). Throws
// when the key cannot be read or created, so a collector never runs without its own record.
std::unique_ptr<CollectorLog> collector_log_for_serve(EventStore& store,
                                                      const std::string& store_spec,
                                                      const std::string& key_path,
                                                      const std::string& instance);

}  // namespace seatlock::collector::audit
