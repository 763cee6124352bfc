#pragma once
// Choosing the store: `--store sqlite:PATH` (the default engine; `--db PATH` means the same) or
// `--store clickhouse:http://HOST:PORT[/?database=NAME]`, with `--clickhouse-user NAME` and
// `--clickhouse-password-file FILE` (or SEATLOCK_CLICKHOUSE_USER / SEATLOCK_CLICKHOUSE_PASSWORD).
#include <memory>
#include <set>
#include <string>

#include "core/util/args.hpp"
#include "store.hpp"

namespace seatlock::collector {

// The valued options every store-using command accepts.
std::set<std::string> store_option_names();
// The store spec from --store / --db (exactly one is required): "sqlite:PATH" or
// "clickhouse:URL" with the user/password-file options folded into the URL.
std::string store_spec(const ArgParser& a);
// Opens a spec ("sqlite:PATH", "clickhouse:URL" or a bare path = SQLite). create=false: the
// store must already exist. serving: the store is used by `serve` (SQLite then checkpoints in
// the background).
std::unique_ptr<EventStore> open_store(const std::string& spec, bool create, bool serving = false);
// For records such as the export manifest: the path, or URL and database (no secret).
std::string describe_store(const std::string& spec);

}  // namespace seatlock::collector
