#pragma once
// What a replayed event log proves about how the seat booted, and the comparison with the
// seat's boot baseline. Only measured facts live here; firmware settings that firmware does not
// measure (BIOS admin password, USB boot, ...) stay "reported by the seat" (verdict.hpp).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/event_log.hpp"

namespace seatlock::collector::attest {

struct BootFacts {
  std::string secure_boot = "not measured";           // "on" | "off" | "not measured"
  std::map<std::string, std::string> secure_boot_db;  // PK, KEK, db, dbx -> sha256 hex
  std::string boot_order = "not measured";            // "0001,0002" (BootOrder as measured)
  std::map<std::string, std::string> boot_entries;    // "Boot0001" -> "<description> sha256:<hex>"
  std::vector<std::string> firmware;                  // "<event type> sha256:<hex>", in log order
};

// Throws AttestError when an event's data does not hash to its logged digest (a log whose
// digests replay correctly but whose data was edited) or a variable event is malformed.
BootFacts evaluate(const EventLog& log);

nlohmann::json to_json(const BootFacts& f);
BootFacts boot_facts_from_json(const nlohmann::json& j);  // throws on a malformed document

// One line per difference, e.g. "secure_boot: baseline on, measured off". Empty = same.
std::vector<std::string> differences(const BootFacts& baseline, const BootFacts& measured);

// Where the seat's own snapshot (quoted with it) says something the proven event log refutes:
// its efivars SecureBoot byte against the measured SecureBoot variable (which cannot change
// after boot). Such a seat's software is lying, so nothing it reports can be believed. Empty =
// no contradiction (or nothing to compare).
std::vector<std::string> contradictions(const nlohmann::json& snapshot, const BootFacts& measured);

}  // namespace seatlock::collector::attest
