#pragma once
// Where the collector keeps remote-attestation state: the AK pinned per seat (after credential
// activation), the seat's boot baseline, and every verdict (`firmware.attested`). Its own small
// SQLite file beside the event store (attest_db_path()), behind this narrow interface, so the
// event stores (SQLite, ClickHouse) stay as they are. A ClickHouse deployment keeps this file on
// the collector host for now (see docs/firmware.md).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seatlock::sql {
class Db;
}

namespace seatlock::collector::attest {

struct PinnedAk {
  std::string seat;
  std::string ak_public;  // base64 of the marshalled TPM2B_PUBLIC
  std::string ek_public;  // base64 of the marshalled TPM2B_PUBLIC
  std::string ek_cert_status;
  std::int64_t pinned_ms = 0;
};

struct BootBaseline {
  std::string seat;
  std::string facts_json;  // BootFacts as JSON (boot_facts.hpp)
  std::string ticket;      // why it was (re)captured, e.g. the change ticket of a firmware update
  std::int64_t set_ms = 0;
};

struct VerdictRecord {
  std::int64_t id = 0;
  std::string seat;
  std::int64_t time_ms = 0;
  std::string result;      // verified | drift | failed, or "unpinned" (an admin record)
  std::string json;        // the whole verdict document (verdict.hpp)
  std::string facts_json;  // measured BootFacts ("" when the log was not proven)
};

// "sqlite:PATH" or a bare path -> "PATH.attest"; other stores -> "" (no default place).
std::string attest_db_path(const std::string& store_spec);

class AttestStore {
 public:
  explicit AttestStore(const std::string& path);
  ~AttestStore();
  void pin_ak(const PinnedAk& ak);  // replaces an earlier pin (re-enrollment)
  std::optional<PinnedAk> pinned_ak(const std::string& seat);
  bool unpin_ak(const std::string& seat);  // false when nothing was pinned
  void set_baseline(const BootBaseline& b);
  std::optional<BootBaseline> baseline(const std::string& seat);
  void add_verdict(VerdictRecord& v);  // sets v.id
  // Newest first; limit 0 = all.
  std::vector<VerdictRecord> verdicts(const std::string& seat, std::size_t limit = 0);
  // The newest verdict whose event log was proven (facts present), for capturing a baseline.
  std::optional<VerdictRecord> last_proven(const std::string& seat);

 private:
  std::unique_ptr<sql::Db> db_;
};

}  // namespace seatlock::collector::attest
