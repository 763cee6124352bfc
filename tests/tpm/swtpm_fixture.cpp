#include "tpm/swtpm_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "support/process.hpp"

namespace seatlock::test {
namespace {

bool can_bind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A port P such that P and P+1 (swtpm's data and control sockets) are both free right now.
int free_port_pair() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    close(fd);
    if (port > 0 && port < 65535 && can_bind(port) && can_bind(port + 1)) return port;
  }
  throw std::runtime_error("swtpm fixture: no free loopback port pair");
}

bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

void require_ok(const RunResult& r, const std::string& what) {
  if (r.exit_code != 0)
    throw std::runtime_error("swtpm fixture: " + what + " failed (" + std::to_string(r.exit_code) +
                             "): " + r.out);
}

}  // namespace

Swtpm::Swtpm(SwtpmOptions options) : options_(options), dir_(make_temp_dir("swtpm")) {
  std::filesystem::create_directories(state_dir());
  if (options_.with_ek_cert || !options_.pcr_banks.empty()) manufacture();
  start();
}

Swtpm::~Swtpm() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Swtpm::tcti() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

// swtpm_setup with its own local CA in the temp dir (never /var/lib/swtpm-localca).
void Swtpm::manufacture() {
  std::filesystem::create_directories(ca_dir());
  write_file(dir_ + "/swtpm-localca.conf", "statedir = " + ca_dir() + "\nsigningkey = " + ca_dir() +
                                               "/signkey.pem\nissuercert = " + ca_dir() +
                                               "/issuercert.pem\ncertserial = " + ca_dir() +
                                               "/certserial\n");
  write_file(
      dir_ + "/swtpm-localca.options",
      "--platform-manufacturer seatlock-test\n--platform-version 2.1\n--platform-model swtpm\n");
  write_file(dir_ + "/swtpm_setup.conf",
             "create_certs_tool = /usr/bin/swtpm_localca\n"
             "create_certs_tool_config = " +
                 dir_ + "/swtpm-localca.conf\ncreate_certs_tool_options = " + dir_ +
                 "/swtpm-localca.options\nactive_pcr_banks = sha256\n");
  std::vector<std::string> argv = {"swtpm_setup", "--tpm2",    "--tpmstate",
                                   state_dir(),   "--config",  dir_ + "/swtpm_setup.conf",
                                   "--overwrite", "--logfile", dir_ + "/swtpm_setup.log"};
  if (options_.with_ek_cert)
    argv.insert(argv.end(), {"--create-ek-cert", "--create-platform-cert"});
  if (!options_.pcr_banks.empty()) argv.insert(argv.end(), {"--pcr-banks", options_.pcr_banks});
  require_ok(run_command(argv), "swtpm_setup (log " + dir_ + "/swtpm_setup.log)");
}

void Swtpm::start() {
  if (pid_ > 0) return;
  const std::string log = dir_ + "/swtpm.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port_pair();
    const std::string p = std::to_string(port_), c = std::to_string(port_ + 1);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("swtpm fixture: fork failed");
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", ("dir=" + state_dir()).c_str(),
             "--server", ("type=tcp,bindaddr=127.0.0.1,port=" + p).c_str(), "--ctrl",
             ("type=tcp,bindaddr=127.0.0.1,port=" + c).c_str(), "--flags",
             "not-need-init,startup-clear", nullptr);
      _exit(127);
    }
    bool exited = false;
    bool up = wait_until(
        [&] {
          int st;
          if (waitpid(pid_, &st, WNOHANG) == pid_) return exited = true;
          return accepts(port_);
        },
        10'000);
    if (up && !exited) return;
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;  // lost a port race, or swtpm failed: retry, then report its log
  }
  throw std::runtime_error("swtpm fixture: swtpm did not start: " + read_file(log));
}

void Swtpm::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int st;
  if (!wait_until([&] { return waitpid(pid_, &st, WNOHANG) == pid_; }, 10'000)) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &st, 0);
  }
  pid_ = -1;
}

}  // namespace seatlock::test
