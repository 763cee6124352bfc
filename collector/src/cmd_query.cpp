#include "audit/subject_query.hpp"
#include "commands.hpp"
#include "core/event/event.hpp"
#include "core/util/args.hpp"
#include "output.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_query(const ArgList& argv, std::ostream& out) {
  auto opts = store_option_names();
  opts.insert({"seat", "user", "kind", "severity", "since", "until", "limit"});
  ArgParser a(argv, opts, {"json", "csv"});
  if (a.has("json") && a.has("csv")) throw UsageError("--json and --csv exclude each other");
  EventFilter f;
  f.seat = a.get("seat");
  f.user = a.get("user");
  f.kind = a.get("kind");
  f.severity = a.get("severity");
  if (f.severity && !is_known_severity(*f.severity))
    throw UsageError("--severity: expected info, low, medium, high or critical, got \"" +
                     *f.severity + "\"");
  f.since_ms = a.time("since");
  f.until_ms = a.time("until");
  f.limit = a.number("limit").value_or(0);
  auto store = open_store(store_spec(a), false);

  std::uint64_t n = 0;
  if (a.has("json")) {
    // NDJSON: the events exactly as the seats sent them.
    audit::query_with_subjects(*store, f, [&](const StoredEvent& e) {
      out << e.line << '\n';
      ++n;
      return true;
    });
  } else if (a.has("csv")) {
    write_csv_header(out);
    audit::query_with_subjects(*store, f, [&](const StoredEvent& e) {
      write_csv_row(out, e);
      ++n;
      return true;
    });
  } else {
    write_table_header(out);
    audit::query_with_subjects(*store, f, [&](const StoredEvent& e) {
      write_table_row(out, e);
      ++n;
      return true;
    });
    out << "(" << n << " event" << (n == 1 ? "" : "s") << ")\n";
  }
  return 0;
}

}  // namespace seatlock::collector
