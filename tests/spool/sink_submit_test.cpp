// Producers that hand events over without waiting (Reporter::report -> ResilientSink::post):
// every event is stored exactly once and in each producer's order, a failed commit does not
// reorder or lose what was in flight behind it (nor the details post() frees early), and
// flush/destruction leave nothing in flight.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "evidence/spool_helpers.hpp"
#include "os/events/reporter.hpp"
#include "os/spool/resilient_sink.hpp"
#include "support/process_wait.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

namespace {

Event numbered(int producer, int n) {
  Event e = draft("usb.blocked", "high", n);
  e.details["p"] = producer;
  return e;
}

// Every row's seq is the one after the previous row's (no gaps, starting at 1).
bool gap_free(const std::vector<SpooledEvent>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].seq != i + 1) return false;
  return true;
}

// Another connection to the spool's file, for what the spool itself never does.
class OtherConnection {
 public:
  explicit OtherConnection(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
  }
  ~OtherConnection() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    INFO(sql);
    REQUIRE(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Another connection holds the write lock and refuses `first` (as a full disk would); `first`
// is posted and its commit has started, waiting for the lock, when this returns: what is
// posted next goes into later commits. COMMIT on the connection lets that commit go on, and fail.
std::unique_ptr<OtherConnection> fail_commit_of(const Event& first, Spool& spool,
                                                ResilientSink& sink, const std::string& path) {
  auto other = std::make_unique<OtherConnection>(path);
  other->exec("BEGIN IMMEDIATE");
  other->exec("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = '" + first.id +
              "' BEGIN SELECT RAISE(ABORT, 'no room'); END");
  const std::uint64_t started = spool.commits_started();
  sink.post(first);
  REQUIRE(seatlock::test::wait_until([&] { return spool.commits_started() > started; }, 5'000));
  return other;
}

}  // namespace

TEST_CASE(
    "events reported by many producers without waiting are all stored once, in each "
    "producer's order, without seq gaps",
    "[spool]") {
  TempDir dir("submit-many");
  Spool spool(dir.file("spool.db"));
  std::optional<ResilientSink> sink(std::in_place, spool);
  Reporter reporter(*sink, SeatIdentity{"seat-test", "host-test"}, [] {
    return std::optional<UserRef>(UserRef{"zhang.wei", 1001});
  });
  constexpr int kProducers = 8, kEach = 500;
  std::vector<std::thread> ts;
  for (int p = 0; p < kProducers; ++p)
    ts.emplace_back([&, p] {
      for (int n = 0; n < kEach; ++n) reporter.report(numbered(p, n));
    });
  for (auto& t : ts) t.join();
  sink->flush();

  // Read by another connection, as seatlockctl events and the sender do.
  auto rows = SpoolReader(dir.file("spool.db")).query({});
  REQUIRE(rows.size() == kProducers * kEach);
  CHECK(gap_free(rows));
  CHECK(chain_problem(rows) == "");
  std::map<int, int> next;  // producer -> the n its next row must have
  bool in_order = true;
  for (const auto& r : rows) {
    auto details = nlohmann::json::parse(r.body)["details"];
    int p = details["p"], n = details["n"];
    if (n != next[p]) in_order = false;
    next[p] = n + 1;
  }
  CHECK(in_order);
  for (int p = 0; p < kProducers; ++p) CHECK(next[p] == kEach);
  CHECK(sink->status()["state"] == "ok");
}

TEST_CASE(
    "events in flight behind a failed commit are stored later, in order and under the "
    "ids they were given",
    "[spool]") {
  TempDir dir("submit-failed");
  const std::string path = dir.file("spool.db");
  Spool spool(path);
  ResilientSink sink(spool);
  REQUIRE(sink.append(draft("agent.started")).seq == 1);

  constexpr int kEvents = 40;
  std::vector<Event> sent;
  for (int n = 0; n < kEvents; ++n) {
    Event e = numbered(0, n);
    e.time = now_millis();
    e.id = new_event_id(e.time);
    sent.push_back(e);
  }
  // The commit that takes the first event fails; the events submitted while it waits go into
  // later commits, which would succeed if the spool let them.
  auto other = fail_commit_of(sent[0], spool, sink, path);
  for (int n = 1; n < kEvents; ++n) sink.post(sent[n]);
  other->exec("COMMIT");
  sink.flush();
  CHECK(sink.degraded());
  CHECK(sink.status()["backlog_events"] == kEvents + 1);  // spool.degraded in front
  CHECK(spool.stats().head_seq == 1);

  other->exec("DROP TRIGGER refuse");
  REQUIRE(sink.retry());
  auto rows = spool.query({});
  REQUIRE(rows.size() == kEvents + 3);
  CHECK(rows[1].kind == "spool.degraded");
  for (int n = 0; n < kEvents; ++n) {
    INFO("event " << n);
    CHECK(rows[n + 2].id == sent[n].id);
    CHECK(rows[n + 2].time == sent[n].time);
    CHECK(nlohmann::json::parse(rows[n + 2].body)["details"]["n"] == n);
  }
  CHECK(rows.back().kind == "spool.recovered");
  CHECK(gap_free(rows));
  CHECK(chain_problem(rows) == "");
}

TEST_CASE("events still in flight are stored when the sink is flushed or destroyed", "[spool]") {
  TempDir dir("submit-shutdown");
  const std::string path = dir.file("spool.db");
  Spool spool(path);
  constexpr int kProducers = 4, kEach = 1000;
  auto submit_all = [&](EventSink& sink, int round) {
    std::vector<std::thread> ts;
    for (int p = 0; p < kProducers; ++p)
      ts.emplace_back([&, p] {
        for (int n = 0; n < kEach; ++n) sink.post(numbered(round * kProducers + p, n));
      });
    for (auto& t : ts) t.join();
  };
  {
    ResilientSink sink(spool);
    submit_all(sink, 0);
    // A flush point (the daemon's control reply): everything submitted before is readable.
    sink.flush();
    CHECK(SpoolReader(path).stats().head_seq == kProducers * kEach);
    submit_all(sink, 1);
  }  // destroyed with events in flight, as at seatlockd's exit
  auto rows = SpoolReader(path).query({});
  CHECK(rows.size() == 2 * kProducers * kEach);
  CHECK(gap_free(rows));
  CHECK(chain_problem(rows) == "");
}

namespace {

// Details of every kind a producer can hand over: nesting, escapes, UTF-8, signs, fractions.
Event rich(int n) {
  Event e = numbered(0, n);
  e.details["nested"] = {{"list", {1, -2, 3.25, true, nullptr, "x\"y\\z\n"}},
                         {"map", {{"b", "\xc3\xbc"}, {"a", {{"deep", n}}}}}};
  e.details["negative"] = -n - 1;
  e.time = now_millis();
  e.id = new_event_id(e.time);
  return e;
}

}  // namespace

TEST_CASE(
    "events posted behind a failed commit or while the spool is degraded are stored with "
    "exactly the details they were posted with",
    "[spool]") {
  TempDir dir("submit-details");
  const std::string path = dir.file("spool.db");
  Spool spool(path);
  ResilientSink sink(spool);
  REQUIRE(sink.append(draft("agent.started")).seq == 1);
  constexpr int kEvents = 30;
  std::vector<Event> sent;
  for (int n = 0; n < kEvents; ++n) sent.push_back(rich(n));
  // As above: the first commit fails, and the events posted meanwhile follow it into the
  // backlog (their commits are refused); then events posted while degraded go there directly.
  auto other = fail_commit_of(sent[0], spool, sink, path);
  for (int n = 1; n < kEvents / 2; ++n) sink.post(sent[n]);
  other->exec("COMMIT");
  sink.flush();
  REQUIRE(sink.degraded());
  for (int n = kEvents / 2; n < kEvents; ++n) sink.post(sent[n]);
  CHECK(sink.status()["backlog_events"] == kEvents + 1);

  other->exec("DROP TRIGGER refuse");
  REQUIRE(sink.retry());
  auto rows = spool.query({});
  REQUIRE(rows.size() == kEvents + 3);
  for (int n = 0; n < kEvents; ++n) {
    INFO("event " << n);
    const SpooledEvent& row = rows[n + 2];
    REQUIRE(row.id == sent[n].id);
    Event expected = sent[n];
    expected.seq = row.seq;
    expected.prev = nlohmann::json::parse(row.body)["prev"];
    CHECK(row.body == canonical_bytes(expected));
  }
  CHECK(chain_problem(rows) == "");
}

TEST_CASE("drafts prepared and handed back without being submitted keep their details", "[spool]") {
  TempDir dir("submit-take-back");
  Spool spool(dir.file("spool.db"));
  std::vector<Event> drafts{rich(1), rich(2)};
  const std::vector<Event> before = drafts;
  auto prepared = spool.prepare(drafts);
  prepared.drop_details();
  auto back = std::move(prepared).take_drafts();
  REQUIRE(back.size() == 2);
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].details == before[i].details);
    CHECK(canonical_bytes(back[i]) == canonical_bytes(before[i]));
  }
  CHECK(spool.stats().head_seq == 0);
}
