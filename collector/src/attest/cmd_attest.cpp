// `seatlock-collector attest show --db FILE --seat ID [--limit N] [--json]`
// `seatlock-collector attest baseline --db FILE --seat ID --ticket TEXT`
// `seatlock-collector attest unpin --db FILE --seat ID --ticket TEXT`
// baseline and unpin are also recorded as collector events (attest.baseline_set,
// attest.unpinned; audit/collector_log.hpp), with --instance / --collector-key as for `serve`.
#include "attest/cmd_attest.hpp"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "attest/attest_store.hpp"
#include "attest/attestor.hpp"
#include "audit/collector_log.hpp"
#include "core/util/args.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_attest(const ArgList& argv, std::ostream& out) {
  if (argv.empty() || (argv[0] != "show" && argv[0] != "baseline" && argv[0] != "unpin"))
    throw UsageError("attest: expected `show`, `baseline` or `unpin`");
  ArgList rest(argv.begin() + 1, argv.end());
  ArgParser a(rest, {"db", "store", "seat", "limit", "ticket", "instance", "collector-key"},
              {"json"});
  std::string spec = a.get("store").value_or(a.get("db").value_or(""));
  if (spec.empty()) throw UsageError("attest: --db FILE is required");
  std::string path = attest::attest_db_path(spec);
  if (path.empty()) throw UsageError("attest: state lives beside a SQLite store (--db FILE)");
  std::string seat = a.require("seat");
  if (!std::filesystem::exists(path)) {
    std::cerr << "seatlock-collector: no attestation state at " << path
              << " (nothing has enrolled through this collector's store yet)\n";
    return 1;
  }
  attest::AttestStore store(path);
  // For the admin actions: the record in the collector's own chain, beside the seat's events.
  auto with_log = [&](auto&& act) {
    auto events = open_store(spec, /*create=*/false);
    audit::CollectorLog log(*events, audit::identity_from_args(a, spec));
    attest::Attestor at(store, {}, &log);
    return act(at);
  };

  if (argv[0] == "unpin") {
    std::string ticket = a.require("ticket");
    if (!with_log([&](attest::Attestor& at) { return at.unpin(seat, ticket); })) {
      std::cerr << "seatlock-collector: seat " << seat << " has no pinned AK\n";
      return 1;
    }
    out << "seat " << seat << ": AK unpinned (ticket " << ticket
        << "); it may now enroll with another TPM\n";
    return 0;
  }
  if (argv[0] == "baseline") {
    std::string ticket = a.require("ticket");  // every (re)baseline names its approval
    auto b = with_log([&](attest::Attestor& at) { return at.baseline_from_last(seat, ticket); });
    out << "baseline for seat " << seat << " (ticket " << ticket << "):\n"
        << nlohmann::json::parse(b.facts_json).dump(2) << "\n";
    return 0;
  }
  auto rows = store.verdicts(seat, a.number("limit").value_or(20));
  if (a.has("json")) {
    for (const auto& r : rows) out << r.json << "\n";
    return 0;
  }
  if (auto pin = store.pinned_ak(seat))
    out << "seat " << seat << ": AK pinned, EK certificate " << pin->ek_cert_status << "\n";
  else
    out << "seat " << seat << ": no AK pinned\n";
  for (const auto& r : rows) {
    auto v = nlohmann::json::parse(r.json);
    if (r.result == "unpinned") {
      out << v.value("time", "") << "  AK unpinned, ticket " << v.value("ticket", "") << "\n";
      continue;
    }
    out << v.value("time", "") << "  firmware.attested  " << r.result << "\n";
    for (const auto& s : v.value("reasons", nlohmann::json::array()))
      out << "    reason: " << s.get<std::string>() << "\n";
    for (const auto& s : v.value("differences", nlohmann::json::array()))
      out << "    differs: " << s.get<std::string>() << "\n";
    if (v.contains("reported_by_seat"))
      out << "    reported by the seat (not proven): BIOS admin password, USB boot, "
             "firmware-attributes\n";
  }
  if (rows.empty()) out << "  no attestations recorded\n";
  return 0;
}

}  // namespace seatlock::collector
