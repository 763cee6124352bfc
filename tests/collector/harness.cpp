#include "harness.hpp"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "core/gzip/gzip.hpp"
#include "os/sqlite/sqlite.hpp"

namespace seatlock::testing {

SpawnedProcess spawn_reading_stdout(std::vector<std::string> argv) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    execv(av[0], av.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fdopen(fds[0], "r")};
}

int port_after(const std::string& line, const std::string& prefix) {
  auto colon = line.rfind(':');
  if (line.rfind(prefix, 0) != 0 || colon == std::string::npos) return 0;
  return std::atoi(line.c_str() + colon + 1);
}

std::string collector_binary() {
  return std::string(SEATLOCK_BINARY_DIR) + "/collector/seatlock-collector";
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/sl-collector-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

namespace {

void sh(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}

// Issue an EC P-256 certificate for `cn` signed by ca.pem/ca.key in dir (prefix picks the CA).
void issue(const std::string& dir, const std::string& ca, const std::string& name,
           const std::string& cn, const std::string& ext) {
  sh("cd " + dir +
     " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
     ".key -out " + name + ".csr -subj '/CN=" + cn + "' 2>/dev/null && printf '" + ext + "\\n' > " +
     name + ".ext && openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
     ".key -CAcreateserial -out " + name + ".pem -days 2 -extfile " + name + ".ext 2>/dev/null");
}

void make_ca(const std::string& dir, const std::string& name, const std::string& cn) {
  sh("cd " + dir +
     " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
     ".key -out " + name + ".pem -days 2 -subj '/CN=" + cn + "' 2>/dev/null");
}

}  // namespace

Pki::Pki(const TempDir& dir) : dir_(dir.path) {
  make_ca(dir_, "ca", "seatlock test CA");
  make_ca(dir_, "rogue-ca", "some other CA");
  issue(dir_, "ca", "server", "collector.test", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  ca = dir_ + "/ca.pem";
  server_cert = dir_ + "/server.pem";
  server_key = dir_ + "/server.key";
}

Pki::Pair Pki::seat(const std::string& seat_id) {
  issue(dir_, "ca", "seat-" + seat_id, seat_id, "extendedKeyUsage=clientAuth");
  return {dir_ + "/seat-" + seat_id + ".pem", dir_ + "/seat-" + seat_id + ".key"};
}

void Pki::renew_server(const std::string& cn) {
  issue(dir_, "ca", "server-next", cn, "subjectAltName=IP:127.0.0.1,DNS:localhost");
  // rename(2): the collector never reads a half-written file.
  std::filesystem::rename(dir_ + "/server-next.key", server_key);
  std::filesystem::rename(dir_ + "/server-next.pem", server_cert);
}

Pki::Pair Pki::rogue_seat(const std::string& seat_id) {
  issue(dir_, "rogue-ca", "rogue-" + seat_id, seat_id, "extendedKeyUsage=clientAuth");
  return {dir_ + "/rogue-" + seat_id + ".pem", dir_ + "/rogue-" + seat_id + ".key"};
}

CollectorProcess::CollectorProcess(const std::string& store, const Pki& pki,
                                   const std::vector<std::string>& extra) {
  const bool spec = store.rfind("sqlite:", 0) == 0 || store.rfind("clickhouse:", 0) == 0;
  std::vector<std::string> args = {collector_binary(),
                                   "serve",
                                   "--listen",
                                   "127.0.0.1:0",
                                   spec ? "--store" : "--db",
                                   store,
                                   "--cert",
                                   pki.server_cert,
                                   "--key",
                                   pki.server_key,
                                   "--ca",
                                   pki.ca};
  args.insert(args.end(), extra.begin(), extra.end());
  SpawnedProcess child = spawn_reading_stdout(std::move(args));
  pid_ = child.pid;
  // First stdout line: "listening 127.0.0.1:PORT".
  FILE* f = child.out;
  char line[256] = {};
  bool ok = fgets(line, sizeof line, f) != nullptr;
  fclose(f);
  std::string s = line;
  auto colon = s.rfind(':');
  if (!ok || s.rfind("listening ", 0) != 0 || colon == std::string::npos) {
    stop();
    throw std::runtime_error("collector did not start: \"" + s + "\"");
  }
  port_ = std::atoi(s.c_str() + colon + 1);
}

CollectorProcess::~CollectorProcess() {
  stop();
}

std::string CollectorProcess::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

bool CollectorProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

long rss_kib(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

int CollectorProcess::stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int CollectorProcess::stop_repeating(int sig) {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) != pid_) {
    kill(pid_, sig);
    usleep(100);
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

namespace {

size_t collect(char* p, size_t sz, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, sz * n);
  return sz * n;
}

HttpResult perform(CURL* c) {
  HttpResult r;
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  else
    r.error = err[0] ? err : curl_easy_strerror(rc);
  return r;
}

}  // namespace

HttpResult post_events(const std::string& url, const std::string& ca, const ClientAuth& auth,
                       const Post& p, bool gzip) {
  CURL* c = curl_easy_init();
  curl_slist* hdrs = nullptr;
  for (const auto& h : p.headers) hdrs = curl_slist_append(hdrs, h.c_str());
  if (!auth.token.empty())
    hdrs = curl_slist_append(hdrs, ("Authorization: Bearer " + auth.token).c_str());
  std::string body = p.body;
  if (gzip) {
    body = seatlock::gzip_compress(p.body);
    hdrs = curl_slist_append(hdrs, "Content-Encoding: gzip");
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
  if (!auth.cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, auth.cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, auth.key.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  HttpResult r = perform(c);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  return r;
}

HttpResult http_get(const std::string& url, const std::string& ca) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
  HttpResult r = perform(c);
  curl_easy_cleanup(c);
  return r;
}

CliResult run_cli(const std::vector<std::string>& args) {
  std::string cmd = collector_binary();
  for (const auto& a : args) {
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    cmd += " " + q + "'";
  }
  CliResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

int sql_exec(const std::string& db, const std::string& sql) {
  seatlock::sql::Db conn(db);
  conn.exec(sql);
  return static_cast<int>(conn.changes());
}

}  // namespace seatlock::testing
