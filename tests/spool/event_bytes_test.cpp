// What the producer's side of the spool makes per event, written for speed (serialised straight
// into a reserved buffer, ids from a pool of random bytes, a submission asked whether its commit
// ended): the bytes and ids must be exactly what the slower ways made.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <thread>

#include "evidence/spool_helpers.hpp"
#include "os/events/reporter.hpp"
#include "os/spool/spool.hpp"
#include "support/process_wait.hpp"

using namespace seatlock;
using seatlock::test::chain_problem;
using seatlock::test::draft;
using seatlock::test::TempDir;

namespace {

// An event whose details are far longer than canonical_size_hint() expects, with strings that
// need escaping.
Event long_awkward_event() {
  Event e = draft("usb.blocked", "high", 7);
  e.hostname = "Z\xc3\xbcrich \"seat\" \\ 7\t\x01";
  e.user = UserRef{"o'brien \xf0\x9f\x98\x80", 1001};
  e.mode = "enforce";
  e.rule = "usb.classes";
  e.policy_sha256 = std::string(64, 'b');
  e.details["product"] = std::string(5000, 'x') + "\xe2\x9c\x93 \"quoted\"";
  e.details["interfaces"] = {{{"n", 0}, {"class", "08"}, {"authorized", false}}};
  return e;
}

}  // namespace

TEST_CASE("canonical bytes appended to a buffer are the json object's canonical dump", "[spool]") {
  Event e = long_awkward_event();
  e.id = new_event_id(1'700'000'000'000);
  e.time = 1'700'000'000'000;
  e.seq = 12;
  e.prev = kGenesisPrev;
  const std::string expected = canonical_bytes(to_json(e));
  CHECK(canonical_bytes(e) == expected);
  std::string out = "kept:";  // what the buffer held stays in front
  append_canonical_bytes(out, e);
  CHECK(out == "kept:" + expected);
}

TEST_CASE("the spool stores the canonical bytes of events longer than the size it reserves",
          "[spool]") {
  TempDir dir("bytes-long");
  Spool spool(dir.file("spool.db"));
  std::vector<Event> drafts;
  drafts.push_back(long_awkward_event());
  drafts.push_back(draft("agent.started"));
  drafts.push_back(long_awkward_event());
  auto stored = spool.append_batch(drafts);
  auto rows = spool.query({});
  REQUIRE(rows.size() == 3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK(rows[i].body == canonical_bytes(to_json(stored[i])));
  }
  CHECK(chain_problem(rows) == "");
}

TEST_CASE("a submission is ready only once the commit that takes it has ended", "[spool]") {
  TempDir dir("bytes-ready");
  const std::string path = dir.file("spool.db");
  Spool spool(path);
  // Another connection holds the write lock: no commit can end until it lets go (the spool
  // waits up to 10 s for it).
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::vector<Event> a{draft("agent.started")}, b{draft("agent.started")};
  auto first = spool.submit(std::move(a));
  auto second = spool.submit(std::move(b));
  std::exception_ptr error;
  std::thread waiter([&] { first.wait(error); });  // commits the queue, waiting for the lock
  CHECK_FALSE(second.ready());
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  waiter.join();
  CHECK_FALSE(error);
  REQUIRE(seatlock::test::wait_until([&] { return second.ready(); }, 10'000));
  CHECK(second.wait().front().seq == 2);
}

TEST_CASE("event ids made in a row are distinct UUIDv7s with the time they were made for",
          "[spool]") {
  const UnixMillis t = 0x017F22E279B0;
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {  // several refills of the random pool
    std::string id = new_event_id(t);
    CHECK(is_uuid(id));
    CHECK(id.substr(0, 13) == "017f22e2-79b0");
    CHECK(id[14] == '7');
    ids.insert(id);
  }
  CHECK(ids.size() == 100);
  const unsigned char r[10] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9};
  CHECK(make_uuid_v7(t, r) == "017f22e2-79b0-70a1-a2a3-a4a5a6a7a8a9");
}

TEST_CASE("a forked child makes other event ids than its parent", "[spool]") {
  const UnixMillis t = 1'700'000'000'000;
  new_event_id(t);  // the parent's pool holds unused random bytes now
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string id = new_event_id(t);
    _exit(write(fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string child(36, '\0');
  ssize_t got = read(fds[0], child.data(), child.size());
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(got == 36);
  CHECK(child != new_event_id(t));
}
