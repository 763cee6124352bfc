#pragma once
// The steps every central action (`net close|open`, `grant`, `revoke`) shares, in order:
//   1. resolve where the tree, key, bundles and store are (central_config.hpp), read the fleet
//      key and open the store first, so a missing key or store changes nothing;
//   2. the command edits the would-be tree (edit());
//   3. publish(): prunes expired entries of grant files, checks the would-be tree as
//      `fleet check` does and refuses (nothing written) on any error, writes it, publishes that
//      checked plan with `fleet publish`'s own step (publish_checked), and rolls the tree back
//      if that publish fails;
//   4. record(): the action in the collector's own chain (audit/collector_log.hpp), with the
//      published version; pruned grants are recorded as `fleet.grant_expired`, and each publish
//      as `fleet.published`.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "../store.hpp"
#include "audit/collector_log.hpp"
#include "central_config.hpp"
#include "core/util/args.hpp"
#include "fleet_key.hpp"
#include "tree_edit.hpp"

namespace seatlock::collector::fleet_cli {

// Grant files central actions write: "85-grant-usb-<ticket>.json", "85-grant-net-<ticket>.json".
inline constexpr const char* kGrantPrefix = "85-grant-";
inline constexpr const char* kClosureFile = "95-net-closed.json";

// The valued flags of a central action (tree/key/bundles/store/config/by + collector log).
std::set<std::string> central_action_option_names();

// A ticket names files: letters, digits, '.', '_', '-' (at most 64). Throws UsageError.
std::string checked_ticket(const ArgParser& a);
// --until: RFC 3339, a date (midnight UTC), or a duration from now ("4h"); must be in the
// future. Throws UsageError.
UnixMillis until_from(const std::string& text, UnixMillis now);
// "2026-12-02T05:00:00Z" (whole seconds when the time has no milliseconds).
std::string format_time(UnixMillis t);

// A grant file of the tree holding entries whose `until` has passed: the entries dropped and the
// file's text without them (none: nothing is left, the file goes).
struct GrantPrune {
  std::string file;  // tree-relative
  std::vector<nlohmann::json> dropped;
  std::optional<std::string> text;
};
// What publish() prunes from `tree` as of `now` (grant files only: other files are IT's own and
// an expired entry there stays an error of `fleet check`).
std::vector<GrantPrune> expired_grant_prunes(const seatlock::fleet::FleetTree& tree,
                                             UnixMillis now);

class CentralAction {
 public:
  CentralAction(const ArgParser& a, UnixMillis now, std::ostream& out);
  ~CentralAction();

  const CentralSetup& setup() const { return setup_; }
  UnixMillis now() const { return now_; }
  TreeEdit& edit() { return edit_; }
  std::ostream& out() { return out_; }

  // Seats of the tree as it is before the edit: every seat, or those receiving the file `rel`.
  std::vector<std::string> all_seats() const;
  std::vector<std::string> seats_with_file(const std::string& rel) const;
  std::vector<std::string> seats_of_group(const std::string& group) const;
  bool is_seat(const std::string& seat) const;
  bool is_group(const std::string& group) const;
  // Tree-relative paths of every file named `name` (all/, groups/*/, seats/*/), existing now.
  std::vector<std::string> files_named(const std::string& name) const;

  // Steps 3 and 4 of the header; returns the published version, or nullopt when the tree was
  // refused (errors printed to out, nothing written, nothing published).
  std::optional<std::uint64_t> publish();
  // Records one event with details.version of the last publish added; returns the event id.
  std::string record(const audit::CollectorEventInput& in);

 private:
  void prune_expired_grants();

  UnixMillis now_;
  std::ostream& out_;
  CentralSetup setup_;
  TreeEdit edit_;
  FleetKey key_;
  std::int64_t lifetime_ = 0;  // of the bundles (--expires)
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<audit::CollectorLog> log_;
  seatlock::fleet::FleetPlan before_;                              // plan of the tree as read
  std::map<std::string, std::vector<std::string>> seats_by_file_;  // from before_
  std::vector<audit::CollectorEventInput> expired_;                // pruned, recorded after publish
  std::uint64_t version_ = 0;
};

}  // namespace seatlock::collector::fleet_cli
