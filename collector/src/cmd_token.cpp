// token list | token revoke: enrollment tokens after `enroll`. Only hashes are stored, so a
// token is named by its text, by the start of its hash (shown by `list`) or by its seat.
// The server looks tokens up on every request: a revoked token stops working at once.
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "core/util/args.hpp"
#include "core/util/digest.hpp"
#include "output.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_token(const ArgList& argv, std::ostream& out) {
  if (argv.empty() || (argv[0] != "list" && argv[0] != "revoke"))
    throw UsageError("expected \"token list\" or \"token revoke\"");
  const std::string& sub = argv[0];
  ArgList rest(argv.begin() + 1, argv.end());
  if (sub == "list") {
    ArgParser a(rest, store_option_names(), {});
    auto store = open_store(store_spec(a), false);
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-18s %-14s %-24s %s\n", "SEAT", "ID", "CREATED", "STATUS");
    out << buf;
    for (const TokenRecord& t : store->tokens()) {
      std::snprintf(buf, sizeof buf, "%-18s %-14s %-24s %s\n", t.seat_id.c_str(),
                    t.token_hash.substr(0, 12).c_str(), format_time(t.created_ms).c_str(),
                    t.revoked_ms ? ("revoked " + format_time(t.revoked_ms)).c_str() : "valid");
      out << buf;
    }
    return 0;
  }
  auto opts = store_option_names();
  opts.insert({"token", "id", "seat"});
  ArgParser a(rest, opts, {});
  auto token = a.get("token"), id = a.get("id"), seat = a.get("seat");
  if ((token ? 1 : 0) + (id ? 1 : 0) + (seat ? 1 : 0) != 1)
    throw UsageError("token revoke: give exactly one of --token, --id or --seat");
  if (id && id->size() < 8)
    throw UsageError("--id: give at least 8 hex digits of the token's id (see token list)");
  std::string hash = token ? sha256_hex(*token) : "";
  auto store = open_store(store_spec(a), false);
  std::size_t matched = 0;
  for (const TokenRecord& t : store->tokens()) {
    if ((token && t.token_hash == hash) || (id && t.token_hash.rfind(*id, 0) == 0) ||
        (seat && t.seat_id == *seat))
      ++matched;
  }
  if (id && matched > 1)
    throw UsageError("--id " + *id + " matches " + std::to_string(matched) +
                     " tokens; give more digits");
  std::size_t n = store->revoke_tokens([&](const TokenRecord& t) {
    return (token && t.token_hash == hash) || (id && t.token_hash.rfind(*id, 0) == 0) ||
           (seat && t.seat_id == *seat);
  });
  if (matched == 0) {
    out << "no matching token\n";
    return 1;
  }
  out << "revoked " << n << " token" << (n == 1 ? "" : "s")
      << (matched > n ? " (" + std::to_string(matched - n) + " already revoked)" : "") << "\n";
  return 0;
}

}  // namespace seatlock::collector
