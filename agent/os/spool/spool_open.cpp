#include "os/spool/spool_open.hpp"

#include <sqlite3.h>
#include <time.h>

#include <filesystem>

#include "os/base/log.hpp"
#include "os/spool/sqlite.hpp"

namespace seatlock {

namespace {

namespace fs = std::filesystem;

// SQLITE_ERROR from a file that exists means our schema statements did not fit what is there.
bool unusable(const sql::Error& e) {
  return sql::is_corruption(e.code()) || e.primary_code() == SQLITE_ERROR;
}

std::string aside_path(const std::string& path, UnixMillis now) {
  time_t secs = static_cast<time_t>(now / 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::string base = path + ".corrupt-" + stamp;
  std::string out = base;
  for (int n = 1; fs::exists(out); ++n) out = base + "-" + std::to_string(n);
  return out;
}

std::unique_ptr<Spool> open_checked(const std::string& path) {
  auto spool = std::make_unique<Spool>(path);
  spool->check_usable();
  return spool;
}

}  // namespace

OpenedSpool open_spool_or_set_aside(const std::string& path, UnixMillis now) {
  std::string error;
  try {
    return {open_checked(path), std::nullopt};
  } catch (const sql::Error& e) {
    if (!fs::exists(path) || !unusable(e)) throw;
    error = e.what();
  }
  std::string aside = aside_path(path, now);
  fs::rename(path, aside);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::error_code ec;
    if (fs::exists(path + suffix)) fs::rename(path + suffix, aside + suffix, ec);
    if (ec) throw std::runtime_error("cannot move " + path + suffix + " aside: " + ec.message());
  }
  log_error("spool " + path + " is unusable (" + error + "); moved to " + aside +
            " and starting a fresh spool");

  nlohmann::json details = {{"aside", aside}, {"error", error}};
  std::uint64_t old_seq = 0;
  std::string old_hash;
  try {
    SpoolStats old = SpoolReader(aside).stats();
    old_seq = old.head_seq;
    old_hash = old.head_hash;
  } catch (const std::exception& e) {
    details["previous_head_error"] = e.what();
  }
  auto spool = std::make_unique<Spool>(path);
  if (old_seq > 0 && old_hash.size() == 64) {
    spool->continue_chain(old_seq, old_hash);
    details["previous_head_seq"] = old_seq;
    details["chain"] = "continued";
  } else {
    // Unknown old head: jump above any seq this seat can have used, and start a new chain.
    spool->continue_chain(static_cast<std::uint64_t>(now), kGenesisPrev);
    details["previous_head_seq"] = nullptr;
    details["chain"] = "restarted";
  }
  details["first_seq"] = spool->stats().head_seq + 1;
  return {std::move(spool), std::move(details)};
}

}  // namespace seatlock
