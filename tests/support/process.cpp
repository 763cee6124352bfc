#include "support/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace seatlock::test {
namespace {

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

int decode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

RunResult run_command(const std::vector<std::string>& argv, uid_t as_uid, gid_t as_gid) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    if (as_uid != 0) {
      if (setgroups(0, nullptr) != 0 || setgid(as_gid) != 0 || setuid(as_uid) != 0) _exit(126);
    }
    exec_child(argv);
  }
  close(pipefd[1]);
  RunResult r;
  char buf[4096];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;)
    r.out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = decode(status);
  return r;
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ == 0) {
    if (!log_path.empty()) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
    }
    exec_child(argv);
  }
}

Child::~Child() {
  if (pid_ > 0 && status_ < 0) stop(SIGTERM);
}

bool Child::running() {
  if (status_ >= 0) return false;
  int st;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = decode(st);
    return false;
  }
  return true;
}

int Child::stop(int sig, int timeout_ms) {
  if (status_ >= 0) return status_;
  kill(pid_, sig);
  if (!wait_until([&] { return !running(); }, timeout_ms)) {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
    status_ = decode(st);
  }
  return status_;
}

namespace {

// Directories make_temp_dir handed out, removed when the test process exits (not when a forked
// child exits: it would pull them from under its parent), never through something mounted there.
struct TempDirRegistry {
  pid_t owner = getpid();
  std::mutex lock;
  std::vector<std::string> dirs;
  ~TempDirRegistry() {
    if (getpid() != owner) return;
    for (const auto& dir : dirs)
      if (!has_mount_under(dir)) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
  }
  static bool has_mount_under(const std::string& dir) {
    std::ifstream info("/proc/self/mountinfo");
    for (std::string line; std::getline(info, line);) {
      std::istringstream fields(line);
      std::string id, parent, devno, root, point;
      fields >> id >> parent >> devno >> root >> point;
      if (point == dir || point.rfind(dir + "/", 0) == 0) return true;
    }
    return false;
  }
};

TempDirRegistry& temp_dirs() {
  static TempDirRegistry registry;
  return registry;
}

}  // namespace

std::string make_temp_dir(const std::string& tag) {
  std::string templ = "/tmp/seatlock-" + tag + "-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp");
  TempDirRegistry& registry = temp_dirs();
  std::lock_guard<std::mutex> hold(registry.lock);
  registry.dirs.push_back(templ);
  return templ;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string binary_path(const std::string& relative) {
  const char* dir = std::getenv("SEATLOCK_BINARY_DIR");
  return std::string(dir ? dir : SEATLOCK_BINARY_DIR) + "/" + relative;
}

}  // namespace seatlock::test
