// How producers get into the spool: producers on several threads share commits, also through the
// ResilientSink seatlockd records into, and events prepared on the producer's thread come out
// exactly canonical.
#include <sqlite3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "os/spool/resilient_sink.hpp"
#include "spool_helpers.hpp"
#include "support/process_wait.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

namespace {

// Commits the spool has made so far (wait_for_commit returns at once: the counter is never ~0).
std::uint64_t commits(Spool& spool) {
  return spool.wait_for_commit(~0ULL, std::chrono::milliseconds(0));
}

// Whether thread `tid` of this process is asleep (blocked on a lock, a condition or the disk).
bool asleep(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S';
}

// Another connection holding the write lock: the spool's commits wait (busy timeout) until
// release() or destruction.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~WriteLock() { release(); }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("producers on several threads share commits through the sink seatlockd records into",
          "[spool]") {
  TempDir dir("share");
  Spool spool(dir.file("spool.db"));
  ResilientSink sink(spool);
  REQUIRE(sink.append(draft("agent.started")).seq == 1);
  const std::uint64_t before = commits(spool);

  // While another connection holds the write lock, the first commit cannot finish; every
  // producer that appends meanwhile must queue behind it instead of taking a commit of its own.
  constexpr int kThreads = 8;
  WriteLock lock(dir.file("spool.db"));
  std::vector<std::atomic<pid_t>> tids(kThreads);
  std::vector<Event> stored(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      tids[t] = static_cast<pid_t>(syscall(SYS_gettid));
      stored[t] = sink.append(draft("usb.blocked", "high", t));
    });
  bool all_blocked = seatlock::test::wait_until(
      [&] {
        for (auto& tid : tids)
          if (tid == 0 || !asleep(tid)) return false;
        return true;
      },
      5'000);
  lock.release();
  for (auto& t : ts) t.join();
  REQUIRE(all_blocked);

  std::set<std::uint64_t> seqs;
  for (const Event& e : stored) seqs.insert(e.seq);
  CHECK(seqs.size() == kThreads);
  CHECK(*seqs.begin() == 2);
  CHECK(*seqs.rbegin() == kThreads + 1);
  CHECK(chain_problem(spool.query({})) == "");
  CHECK(sink.status()["state"] == "ok");
  // The first producer's commit, then one for everyone who queued while it waited (a producer
  // that only got to the queue after the release may take one more).
  INFO("commits for " << kThreads << " producers: " << commits(spool) - before);
  CHECK(commits(spool) - before <= 3);
}

TEST_CASE("bytes prepared before the commit are exactly the canonical bytes of the stored event",
          "[spool]") {
  TempDir dir("prepared");
  Spool spool(dir.file("spool.db"));
  // Strings that look like the fields the commit fills in, in details and after them.
  Event tricky = draft("usb.blocked", "high");
  tricky.details = {{",\"prev\":\"\",\"schema\":", ",\"seq\":0,\"severity\":"},
                    {"nested", {{"prev", ""}, {"seq", 0}}},
                    {"quote", "\"prev\":\"\" \\ é"}};
  tricky.user = UserRef{"zh\"ang,\"seq\":0,\"severity\":", 1001};
  tricky.rule = ",\"prev\":\"\",\"schema\":";
  tricky.mode = "enforce";
  std::vector<Event> stored;
  for (int i = 0; i < 3; ++i) stored.push_back(spool.append(tricky));
  stored.push_back(spool.append(draft("agent.heartbeat")));
  auto rows = spool.query({});
  REQUIRE(rows.size() == stored.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].body == canonical_bytes(stored[i]));
    CHECK(is_uuid(stored[i].id));
    CHECK(stored[i].time > 0);
  }
  CHECK(chain_problem(rows) == "");
}

TEST_CASE("events whose commit fails are stored later, in order and under the ids they were given",
          "[spool]") {
  TempDir dir("failed-commit");
  Spool spool(dir.file("spool.db"));
  ResilientSink sink(spool);
  REQUIRE(sink.append(draft("agent.started")).seq == 1);

  // Another connection makes every insert fail, as a full disk would: the commit of the next
  // append fails after the spool has numbered its events.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(dir.file("spool.db").c_str(), &other) == SQLITE_OK);
  auto exec = [&](const char* sql) {
    REQUIRE(sqlite3_exec(other, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  };
  exec("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'no room'); END");
  Event first = sink.append(draft("usb.blocked", "high", 1));
  Event second = sink.append(draft("usb.blocked", "high", 2));
  CHECK(sink.degraded());
  // Not stored yet: handed back without a seq, but with the id the stored row will carry.
  CHECK(first.seq == 0);
  CHECK(first.prev.empty());
  CHECK(is_uuid(first.id));
  CHECK(is_uuid(second.id));

  exec("DROP TRIGGER refuse");
  sqlite3_close(other);
  REQUIRE(sink.retry());
  CHECK(!sink.degraded());
  auto rows = spool.query({});
  std::vector<std::string> kinds;
  for (const auto& r : rows) kinds.push_back(r.kind);
  CHECK(kinds == std::vector<std::string>{"agent.started", "spool.degraded", "usb.blocked",
                                          "usb.blocked", "spool.recovered"});
  REQUIRE(rows.size() == 5);
  CHECK(rows[2].id == first.id);
  CHECK(rows[3].id == second.id);
  CHECK(nlohmann::json::parse(rows[2].body)["details"]["n"] == 1);
  CHECK(nlohmann::json::parse(rows[3].body)["details"]["n"] == 2);
  CHECK(chain_problem(rows) == "");
}
