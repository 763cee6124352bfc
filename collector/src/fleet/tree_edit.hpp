#pragma once
// A change to the fleet tree made by a central action (`net close|open`, `grant`, `revoke`):
// files to write and files to remove, relative to the tree ("groups/floor-2/95-net-closed.json").
// The change is checked as the tree would be after it (every seat's merge, as `fleet check`),
// and only a tree that passes is written; `rollback` restores what was there before, for when
// the publish that follows fails.
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "core/fleet/tree.hpp"
#include "core/util/time.hpp"

namespace seatlock::collector::fleet_cli {

class TreeEdit {
 public:
  // Reads the tree at `dir` (throws when it cannot be read, as `fleet check`).
  explicit TreeEdit(std::string dir);

  const std::string& dir() const { return dir_; }
  // The tree as it is now, with the pending change applied.
  const seatlock::fleet::FleetTree& tree() const { return tree_; }
  // The text of `rel` in the would-be tree, if it holds that file.
  std::optional<std::string> text_of(const std::string& rel) const;

  void write(const std::string& rel, std::string text);
  void remove(const std::string& rel);
  bool empty() const { return changes_.empty(); }

  // Plans and checks the would-be tree as of `now` (an expired exception is an error, as in
  // `fleet check`); prints every error and warning to `out`.
  seatlock::fleet::FleetPlan check(UnixMillis now, std::ostream& out) const;

  // Writes the change to disk (each file atomically; directories created as needed).
  void commit();
  // Puts back what commit() replaced or removed; removes what it created.
  void rollback();

 private:
  std::vector<PolicyFile>* list_for(const std::string& rel, bool create);

  std::string dir_;
  seatlock::fleet::FleetTree tree_;
  std::map<std::string, std::optional<std::string>> changes_;   // rel -> new text (none: remove)
  std::map<std::string, std::optional<std::string>> previous_;  // rel -> text before commit
};

}  // namespace seatlock::collector::fleet_cli
