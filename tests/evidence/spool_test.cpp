// The spool as a component: seq/prev continuity, group commit across threads, crash safety
// (a real child process SIGKILLed mid-stream), delivery states and read-only access.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <thread>

#include "spool_helpers.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

TEST_CASE("spool assigns gap-free seq and a valid chain that continues after reopening",
          "[spool]") {
  TempDir dir("seq");
  std::string last_id;
  {
    Spool spool(dir.file("spool.db"));
    for (int i = 0; i < 10; ++i) {
      Event e = spool.append(draft("agent.heartbeat", "info", i));
      CHECK(e.seq == static_cast<std::uint64_t>(i + 1));
      CHECK(is_uuid(e.id));
    }
    std::vector<Event> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(draft("usb.blocked", "high", i));
    auto stored = spool.append_batch(batch);
    REQUIRE(stored.size() == 50);
    CHECK(stored.front().seq == 11);
    CHECK(stored.back().seq == 60);
    CHECK(stored[1].prev == chain_hash(stored[0]));
    last_id = stored.back().id;
  }
  Spool again(dir.file("spool.db"));
  Event next = again.append(draft("agent.started"));
  CHECK(next.seq == 61);
  auto rows = again.query({});
  REQUIRE(rows.size() == 61);
  CHECK(rows[59].id == last_id);
  CHECK(next.prev == sha256_hex(rows[59].body));
  CHECK(chain_problem(rows) == "");
}

TEST_CASE("concurrent producers share commits and still get one gap-free chain", "[spool]") {
  TempDir dir("threads");
  Spool spool(dir.file("spool.db"));
  constexpr int kThreads = 6, kEach = 300;
  std::vector<std::vector<Event>> got(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        got[t].push_back(spool.append(draft("net.tamper", "high", t * 1000 + i)));
    });
  for (auto& t : ts) t.join();
  std::set<std::uint64_t> seqs;
  for (auto& v : got)
    for (size_t i = 0; i < v.size(); ++i) {
      seqs.insert(v[i].seq);
      if (i) CHECK(v[i].seq > v[i - 1].seq);  // each producer's events stay in its order
    }
  CHECK(seqs.size() == kThreads * kEach);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == kThreads * kEach);
  CHECK(chain_problem(spool.query({})) == "");
}

TEST_CASE("a SIGKILLed writer loses no acknowledged event and leaves no gap", "[spool][crash]") {
  TempDir dir("crash");
  std::string path = dir.file("spool.db");
  { Spool create(path); }
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    Spool spool(path);
    FILE* out = fdopen(fds[1], "w");
    for (int i = 0;; ++i) {
      std::vector<Event> batch;
      for (int k = 0; k < 1 + i % 7; ++k) batch.push_back(draft("usb.blocked", "high", i));
      for (const Event& e : spool.append_batch(batch))
        std::fprintf(out, "%llu %s\n", (unsigned long long)e.seq, e.id.c_str());
      std::fflush(out);  // only acknowledged (durable) events are reported to the parent
    }
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  std::vector<std::pair<std::uint64_t, std::string>> acked;
  char id[64];
  unsigned long long seq;
  while (acked.size() < 1000 && std::fscanf(in, "%llu %63s", &seq, id) == 2)
    acked.emplace_back(seq, id);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  while (std::fscanf(in, "%llu %63s", &seq, id) == 2)
    acked.emplace_back(seq, id);  // already in the pipe
  fclose(in);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(acked.size() >= 1000);

  Spool spool(path);
  auto rows = spool.query({});
  REQUIRE(rows.size() >= acked.size());
  for (size_t i = 0; i < rows.size(); ++i) REQUIRE(rows[i].seq == i + 1);  // gap-free
  for (auto& [s, eid] : acked) REQUIRE(rows[s - 1].id == eid);             // every ack survived
  CHECK(chain_problem(rows) == "");
  CHECK(spool.append(draft("agent.started")).seq == rows.size() + 1);
}

TEST_CASE("delivery states: batches, delivered, quarantined, and queries", "[spool]") {
  TempDir dir("states");
  Spool spool(dir.file("spool.db"));
  for (int i = 0; i < 30; ++i)
    spool.append(draft(i % 3 ? "agent.heartbeat" : "usb.blocked", i % 3 ? "info" : "high", i));

  auto b = spool.next_batch(10, 1 << 20);
  REQUIRE(b.size() == 10);
  CHECK(b.front().seq == 1);
  CHECK(b.back().seq == 10);
  CHECK(spool.mark_delivered(1, 10) == 10);
  auto b2 = spool.next_batch(10, 1 << 20);
  REQUIRE(b2.size() == 10);
  CHECK(b2.front().seq == 11);
  CHECK(spool.quarantine(11, 20, "line 2: /severity: bad") == 10);
  auto b3 = spool.next_batch(100, 2000);  // byte bound: only as many rows as fit 2000 bytes
  REQUIRE(!b3.empty());
  CHECK(b3.front().seq == 21);
  size_t body = 0;
  for (auto& r : b3) body += r.body.size() + 1;
  CHECK(body <= 2000);
  CHECK(b3.size() < 10);

  auto st = spool.stats();
  CHECK(st.delivered == 10);
  CHECK(st.quarantined == 10);
  CHECK(st.queued == 10);
  CHECK(st.head_seq == 30);

  auto blocked = spool.query({0, "usb.blocked", 0, 0});
  CHECK(blocked.size() == 10);
  auto q = spool.query({0, "", 11, 1});
  REQUIRE(q.size() == 1);
  CHECK(q[0].state == SpoolState::Quarantined);
  CHECK(q[0].note == "line 2: /severity: bad");
  CHECK(spool.query({4102444800000LL, "", 0, 0}).empty());  // since 2100-01-01
}

TEST_CASE("a draft that cannot be serialised fails alone, the others are stored", "[spool]") {
  TempDir dir("bad");
  Spool spool(dir.file("spool.db"));
  Event bad = draft("usb.blocked", "high");
  bad.details = {{"product", std::string("\xff\xfe bad utf8")}};
  std::thread t([&] { CHECK_THROWS_WITH(spool.append(bad), Catch::Contains("event not stored")); });
  t.join();
  CHECK(spool.append(draft("usb.blocked", "high")).seq == 1);
  CHECK(spool.stats().head_seq == 1);
}

TEST_CASE("the read-only reader never creates a spool", "[spool]") {
  TempDir dir("ro");
  CHECK_THROWS_WITH(SpoolReader(dir.file("missing.db")), Catch::Contains("cannot open"));
  CHECK(!std::filesystem::exists(dir.file("missing.db")));
  {
    Spool s(dir.file("spool.db"));
    s.append(draft("agent.started"));
  }
  SpoolReader r(dir.file("spool.db"));
  CHECK(r.stats().head_seq == 1);
  CHECK(r.query({}).size() == 1);
}
