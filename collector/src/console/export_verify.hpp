#pragma once
// Offline check of a console export against its signed manifest and, optionally, the store
// (`seatlock-collector verify-export`, cmd_verify_export.cpp). Rows are numbered from 1 (the
// first event; a CSV's header is not a row).
//
// What is checked: the manifest's signature (with the pinned collector key, else the key the
// store's collector chain is pinned to, else the key the manifest names); the file's rows,
// bytes and SHA-256 (per file and per 1,000-row block) against the manifest; every row is a
// valid event whose CSV columns and chain_hash agree with its line, in export order, matching
// the manifest's filter; with a store: every row is in the store with the same bytes, and every
// event of the store that matches the filter (received by the export's as_of_ms) is in the file.
#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

namespace seatlock::collector::console {

struct ExportVerification {
  std::vector<std::string> problems;  // each a full sentence: "row 7 altered: ..."
  std::vector<std::string> notes;     // what was checked, for the success report
  std::uint64_t rows = 0;
  bool ok() const { return problems.empty(); }
};

// pinned_pubkey_b64: --collector-pubkey (base64 raw Ed25519), if given.
ExportVerification verify_export(std::istream& file, const nlohmann::json& manifest,
                                 const std::optional<std::string>& pinned_pubkey_b64,
                                 EventStore* store);

}  // namespace seatlock::collector::console
