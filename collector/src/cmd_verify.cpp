#include <fstream>

#include "audit/collector_log.hpp"
#include "commands.hpp"
#include "core/util/args.hpp"
#include "output.hpp"
#include "store_open.hpp"
#include "verify.hpp"

namespace seatlock::collector {
namespace {

std::string seqs(const Problem& p) {
  if (p.seq_from == p.seq_to) return "seq " + std::to_string(p.seq_from);
  return "seq " + std::to_string(p.seq_from) + ".." + std::to_string(p.seq_to);
}

}  // namespace

int cmd_verify(const ArgList& argv, std::ostream& out) {
  auto opts = store_option_names();
  opts.insert({"seat", "since", "until", "collector-pubkey"});
  ArgParser a(argv, opts, {});
  auto store = open_store(store_spec(a), false);
  auto only = a.get("seat");
  auto since = a.time("since"), until = a.time("until");
  std::vector<SeatRecord> seats = store->seats();
  if (only) {
    std::erase_if(seats, [&](const SeatRecord& r) { return r.seat_id != *only; });
    if (seats.empty()) throw std::runtime_error("no seat \"" + *only + "\" in the database");
  }
  // The collector key an auditor pins (FILE.pub of the collector key, docs/firmware.md):
  // every collector chain must be pinned to it, so a store whose collector chain was re-signed
  // with another key is caught.
  std::optional<std::string> collector_pub;
  if (auto file = a.get("collector-pubkey")) {
    std::ifstream in(*file);
    std::string text;
    if (!(in >> text)) throw std::runtime_error("cannot read --collector-pubkey " + *file);
    collector_pub = text;
  }
  std::size_t bad_seats = 0, problems = 0, open_findings = 0;
  std::uint64_t events = 0;
  for (const SeatRecord& seat : seats) {
    SeatVerification v = verify_seat(*store, seat, since, until);
    if (collector_pub && audit::is_collector_chain(seat.seat_id) &&
        seat.pubkey_b64 != *collector_pub)
      v.problems.insert(
          v.problems.begin(),
          Problem{v.first_seq, v.last_seq, "signature",
                  "collector chain is pinned to a key other than --collector-pubkey"});
    events += v.events;
    if (v.problems.empty()) {
      out << "seat " << seat.seat_id << ": ok, " << v.events << " events";
      if (v.events) out << " (seq " << v.first_seq << ".." << v.last_seq << ")";
      out << ", " << v.heads_checked << " signed chain heads verified\n";
    } else {
      ++bad_seats;
      for (const Problem& p : v.problems) {
        ++problems;
        out << "seat " << seat.seat_id << ": " << seqs(p) << " " << p.what << ": " << p.detail
            << "\n";
      }
    }
    for (const Finding& f : store->findings(seat.seat_id)) {
      if (f.resolved) continue;
      ++open_findings;
      out << "seat " << seat.seat_id << ": finding at ingest " << format_time(f.found_ms) << ": "
          << f.kind << " "
          << (f.seq_from == f.seq_to
                  ? "seq " + std::to_string(f.seq_from)
                  : "seq " + std::to_string(f.seq_from) + ".." + std::to_string(f.seq_to))
          << ": " << f.detail << "\n";
    }
  }
  out << "verify: " << seats.size() << " seats, " << events << " events, " << problems
      << " problems in " << bad_seats << " seats, " << open_findings << " open ingest findings\n";
  return (problems || open_findings) ? 1 : 0;
}

}  // namespace seatlock::collector
