// seatlockctl events [--since TIME|DURATION] [--kind K] [--follow] [--json]
// Reads the local spool read-only (<state_dir>/spool.db): works with no daemon and no collector.
// seatlockctl events requeue [--seq A-B | --all]: asks the daemon to queue quarantined and
// set-aside rows again.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "core/util/time.hpp"
#include "os/base/clock.hpp"
#include "os/control/control_server.hpp"
#include "os/spool/spool.hpp"

namespace seatlock::cli {

namespace {

const char* kHelp =
    R"(usage: seatlockctl events [--since TIME|DURATION] [--kind KIND] [--follow] [--json]
       seatlockctl events requeue [--seq A-B | --seq N | --all]
  Shows the events recorded in the local spool with their delivery status: queued,
  delivered, quarantined (the collector rejected that event) or set-aside (recorded under a
  seat id the collector does not accept from this seat, e.g. the hostname before the policy
  named the seat); the last two show why in [brackets]. TIME is RFC 3339
  ("2026-11-28T09:00:00Z"); DURATION ("90s", "2h", "1d") means that long ago. --json prints
  one event object per line with a "status" member (and "status_note") added.

  requeue asks seatlockd to put quarantined and set-aside events (seq A to B, or all of
  them) back in the delivery queue, e.g. after the collector or the seat's certificate
  was fixed.
)";

void print(const SpooledEvent& r, bool json) {
  if (json) {
    auto j = nlohmann::json::parse(r.body);
    j["status"] = to_string(r.state);
    if (!r.note.empty()) j["status_note"] = r.note;
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  auto j = nlohmann::json::parse(r.body);
  std::string user = j.contains("user") ? j["user"].value("name", "") : "";
  std::printf("%8llu  %s  %-11s  %-22s %-8s %-10s %s%s\n", static_cast<unsigned long long>(r.seq),
              format_rfc3339_ms(r.time).c_str(), to_string(r.state), r.kind.c_str(),
              r.severity.c_str(), user.empty() ? "-" : user.c_str(),
              j["details"].dump().substr(0, 80).c_str(),
              r.note.empty() ? "" : ("  [" + r.note + "]").c_str());
}

std::optional<std::uint64_t> parse_seq(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  std::uint64_t v = std::stoull(text);
  if (v == 0) return std::nullopt;
  return v;
}

int requeue(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"seq"};
  spec.switches = {"all"};
  auto [ctx, args] = parse_command(base, argv, "events requeue", spec);
  const bool all = args.has("all");
  const std::string range = args.get("seq").value_or("");
  if (all == !range.empty())
    return usage_error("events requeue: give either --seq A-B (or --seq N) or --all");
  nlohmann::json req = {{"all", true}};
  if (!all) {
    auto dash = range.find('-');
    auto first = parse_seq(range.substr(0, dash));
    auto last = dash == std::string::npos ? first : parse_seq(range.substr(dash + 1));
    if (!first || !last || *first > *last)
      return usage_error("events requeue: --seq expects A-B with 1 <= A <= B, got '" + range + "'");
    req = {{"first", *first}, {"last", *last}};
  }
  try {
    nlohmann::json r = control_call(ctx.socket_path, "delivery.requeue", req);
    if (ctx.json)
      std::printf("%s\n", r.dump().c_str());
    else
      std::printf("%llu events back in the delivery queue\n",
                  static_cast<unsigned long long>(r.value("requeued", 0ULL)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlockctl: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int cmd_events(const CliContext& base, const Args& argv) {
  // The listing's flags, then possibly the one subcommand: "events [FLAGS]", "events requeue ...".
  ArgSpec spec;
  spec.valued = {"since", "kind"};
  spec.switches = {"follow", "help"};
  spec.stop_at_positional = true;
  auto [ctx, args] = parse_command(base, argv, "events", spec);
  const Args& rest = args.positional();
  const bool listing_flags = args.get("since") || args.get("kind") || args.has("follow");
  if (args.has("help") || (!rest.empty() && rest[0] == "help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!rest.empty() && rest[0] == "requeue") {
    if (listing_flags)
      return usage_error("events requeue: --since, --kind and --follow are for the listing");
    return requeue(ctx, Args(rest.begin() + 1, rest.end()));
  }
  if (!rest.empty()) return usage_error("events: unexpected argument '" + rest[0] + "'");
  const bool json = ctx.json;
  const bool follow = args.has("follow");
  const std::string since_text = args.get("since").value_or("");
  SpoolQuery q;
  q.kind = args.get("kind").value_or("");
  if (!since_text.empty()) {
    if (auto t = parse_rfc3339(since_text))
      q.since = *t;
    else if (auto d = parse_duration_ms(since_text))
      q.since = now_millis() - *d;
    else
      return usage_error("events: --since expects an RFC 3339 time or a duration like 2h, got '" +
                         since_text + "'");
  }
  std::string path = ctx.state_dir + "/spool.db";
  if (access(path.c_str(), F_OK) != 0) {
    std::fprintf(stderr, "seatlockctl: no spool at %s (has seatlockd run with --state-dir %s?)\n",
                 path.c_str(), ctx.state_dir.c_str());
    return 1;
  }
  SpoolReader reader(path);
  if (!json && !follow) {
    SpoolStats s = reader.stats();
    std::printf(
        "spool %s: %llu queued, %llu delivered, %llu quarantined, %llu set aside, %llu lost to "
        "overflow; head seq %llu\n",
        path.c_str(), (unsigned long long)s.queued, (unsigned long long)s.delivered,
        (unsigned long long)s.quarantined, (unsigned long long)s.set_aside,
        (unsigned long long)s.dropped, (unsigned long long)s.head_seq);
  }
  for (;;) {
    for (const auto& r : reader.query(q)) {
      print(r, json);
      q.after_seq = r.seq;
    }
    std::fflush(stdout);
    if (!follow) return 0;
    // Rows already shown may later change status; --follow shows new rows only.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace seatlock::cli
