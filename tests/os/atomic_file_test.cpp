#include "os/base/atomic_file.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/process.hpp"

namespace fs = std::filesystem;
namespace t = seatlock::test;
using seatlock::atomic_write;
using seatlock::AtomicWriteError;
using seatlock::AtomicWriteOptions;

namespace {

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets the umask for one scope, so the test shows the mode does not depend on it.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST_CASE("atomic_write creates a file with the content and exactly the mode asked for") {
  std::string dir = t::make_temp_dir("atomic");
  Umask u(0077);  // would narrow 0644 to 0600 if the mode came from open()
  atomic_write(dir + "/policy.json", "{\"a\":1}\n", 0644);
  CHECK(t::read_file(dir + "/policy.json") == "{\"a\":1}\n");
  CHECK(mode_of(dir + "/policy.json") == 0644);

  Umask wide(0);  // would widen a key file if the mode came from open()
  atomic_write(dir + "/key.pem", "secret", 0600);
  CHECK(mode_of(dir + "/key.pem") == 0600);
  CHECK(names_in(dir) == std::vector<std::string>{"key.pem", "policy.json"});
}

TEST_CASE("atomic_write replaces an existing file whole, with the new mode") {
  std::string dir = t::make_temp_dir("atomic");
  t::write_file(dir + "/state", std::string(10000, 'x'));
  ::chmod((dir + "/state").c_str(), 0666);
  atomic_write(dir + "/state", "short\n", 0600);
  CHECK(t::read_file(dir + "/state") == "short\n");
  CHECK(mode_of(dir + "/state") == 0600);
  atomic_write(dir + "/state", "", 0600);
  CHECK(t::read_file(dir + "/state").empty());
  CHECK(names_in(dir) == std::vector<std::string>{"state"});
}

TEST_CASE("atomic_write keeps the owner it is given") {
  std::string dir = t::make_temp_dir("atomic");
  AtomicWriteOptions o;
  o.mode = 0640;
  o.uid = ::geteuid();
  o.gid = ::getegid();
  atomic_write(dir + "/f", "x", o);
  struct stat st {};
  REQUIRE(::stat((dir + "/f").c_str(), &st) == 0);
  CHECK(st.st_uid == ::geteuid());
  CHECK(st.st_gid == ::getegid());
  CHECK((st.st_mode & 07777) == 0640);
  if (::geteuid() == 0) {  // root can hand a file to another owner (seatlockctl setup does)
    o.uid = 65534;
    o.gid = 65534;
    atomic_write(dir + "/g", "y", o);
    REQUIRE(::stat((dir + "/g").c_str(), &st) == 0);
    CHECK(st.st_uid == 65534);
    CHECK(st.st_gid == 65534);
  }
}

TEST_CASE("atomic_write into a directory that does not exist fails with the directory named") {
  std::string dir = t::make_temp_dir("atomic");
  try {
    atomic_write(dir + "/missing/f", "x");
    FAIL("no error");
  } catch (const AtomicWriteError& e) {
    CHECK(e.error() == ENOENT);
    CHECK(std::string(e.what()).find(dir + "/missing") != std::string::npos);
    CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
  }
  CHECK(names_in(dir).empty());
}

TEST_CASE(
    "atomic_write that fails after writing leaves no temporary file and the target as it was") {
  std::string dir = t::make_temp_dir("atomic");
  // The target is a non-empty directory: the temporary file is written and synced, and the
  // rename is refused.
  fs::create_directory(dir + "/target");
  t::write_file(dir + "/target/inside", "kept");
  try {
    atomic_write(dir + "/target", "new content");
    FAIL("no error");
  } catch (const AtomicWriteError& e) {
    CHECK(std::string(e.what()).find("cannot rename " + dir + "/target.tmp.") == 0);
    CHECK(e.error() == EISDIR);
  }
  CHECK(names_in(dir) == std::vector<std::string>{"target"});
  CHECK(t::read_file(dir + "/target/inside") == "kept");
}

TEST_CASE("atomic_write into a directory it may not write fails without leaving anything") {
  std::string dir = t::make_temp_dir("atomic");
  t::write_file(dir + "/f", "old");
  ::chmod(dir.c_str(), 0555);
  if (::geteuid() == 0) {
    // Root ignores directory permissions: the same refusal comes from a read-only bind of the
    // directory instead, which needs a mount namespace; a non-root uid in a child is simpler.
    ::chmod(dir.c_str(), 0755);
    ::chown((dir + "/f").c_str(), 65534, 65534);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      try {
        atomic_write(dir + "/f", "new");
        ::_exit(1);
      } catch (const AtomicWriteError& e) {
        ::_exit(e.error() == EACCES ? 0 : 2);
      }
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  } else {
    CHECK_THROWS_AS(atomic_write(dir + "/f", "new"), AtomicWriteError);
    ::chmod(dir.c_str(), 0755);
  }
  CHECK(t::read_file(dir + "/f") == "old");
  CHECK(names_in(dir) == std::vector<std::string>{"f"});
}
