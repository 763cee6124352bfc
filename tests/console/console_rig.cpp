#include "console_rig.hpp"

#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace seatlock::testing {
namespace {

std::string shell_quote(const std::string& a) {
  std::string q = "'";
  for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

CliResult run_shell(const std::string& cmd) {
  CliResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// --store for a spec, --db for a path.
const char* store_flag(const std::string& db) {
  return db.rfind("sqlite:", 0) == 0 || db.rfind("clickhouse:", 0) == 0 ? "--store" : "--db";
}

size_t collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

size_t collect_header(char* p, size_t size, size_t n, void* out) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto b = value.find_first_not_of(" \t"), e = value.find_last_not_of(" \t\r\n");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    static_cast<std::multimap<std::string, std::string>*>(out)->emplace(name, value);
  }
  return size * n;
}

}  // namespace

std::string Reply::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

nlohmann::json Reply::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

ConsoleRig::ConsoleRig(std::vector<std::string> extra, bool own_listener)
    : extra_(std::move(extra)), own_listener_(own_listener) {
  start();
}

ConsoleRig::ConsoleRig(const std::string& store_spec, std::vector<std::string> extra,
                       bool own_listener)
    : db(store_spec), extra_(std::move(extra)), own_listener_(own_listener) {
  start();
}

ConsoleRig::~ConsoleRig() {
  stop();
}

// A ClickHouse store has no file to keep the collector key next to: the rig's directory.
std::string ConsoleRig::key_flag() const {
  if (db.rfind("clickhouse:", 0) != 0) return "";
  return " --collector-key " + shell_quote(dir / "collector.key");
}

void ConsoleRig::start() {
  std::vector<std::string> args = {
      collector_binary(), "serve",         "--listen", "127.0.0.1:0",  store_flag(db), db,
      "--cert",           pki.server_cert, "--key",    pki.server_key, "--ca",         pki.ca};
  if (own_listener_) args.insert(args.end(), {"--console-listen", "127.0.0.1:0"});
  if (!key_flag().empty()) args.insert(args.end(), {"--collector-key", dir / "collector.key"});
  args.insert(args.end(), extra_.begin(), extra_.end());
  SpawnedProcess child = spawn_reading_stdout(std::move(args));
  pid_ = child.pid;
  // "listening 127.0.0.1:P", then (own listener) "console listening 127.0.0.1:Q".
  FILE* f = child.out;
  char line[256] = {};
  port_ = fgets(line, sizeof line, f) ? port_after(line, "listening ") : 0;
  console_port_ = port_;
  if (own_listener_ && port_ != 0)
    console_port_ = fgets(line, sizeof line, f) ? port_after(line, "console listening ") : 0;
  fclose(f);
  if (port_ == 0 || console_port_ == 0) {
    stop();
    throw std::runtime_error("collector did not start (last line \"" + std::string(line) + "\")");
  }
}

void ConsoleRig::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ConsoleRig::console_base() const {
  return "https://127.0.0.1:" + std::to_string(console_port_);
}

std::string ConsoleRig::main_base() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

void ConsoleRig::add_user(const std::string& name, const std::string& role,
                          const std::string& password) {
  std::string in = dir / ("pw-" + name);
  std::ofstream(in, std::ios::trunc) << password << "\n";
  CliResult r = run_shell(shell_quote(collector_binary()) + " user add " + shell_quote(name) +
                          " --role " + shell_quote(role) + " --password-stdin " + store_flag(db) +
                          " " + shell_quote(db) + key_flag() + " <" + shell_quote(in) + " 2>&1");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
}

CliResult ConsoleRig::cli(std::vector<std::string> args) const {
  std::string cmd = shell_quote(collector_binary());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd + " " + store_flag(db) + " " + shell_quote(db) + " 2>&1");
}

std::vector<nlohmann::json> ConsoleRig::events(const std::string& kind) const {
  CliResult r = cli({"query", "--kind", kind, "--json"});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::vector<nlohmann::json> out;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);)
    if (!l.empty()) out.push_back(nlohmann::json::parse(l));
  return out;
}

Reply ConsoleRig::request(const std::string& method, const std::string& url,
                          const std::string& body, const std::vector<std::string>& headers) const {
  Reply r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, pki.ca.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  if (method == "POST") list = curl_slist_append(list, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  else
    r.error = curl_easy_strerror(rc);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return r;
}

Reply ConsoleBrowser::login(const std::string& name, const std::string& password) {
  std::vector<std::string> h;
  if (!origin.empty()) h.push_back("Origin: " + origin);
  Reply r = rig.request("POST", rig.console_base() + "/api/login",
                        nlohmann::json{{"name", name}, {"password", password}}.dump(), h);
  if (r.status == 200) {
    std::string set = r.header("set-cookie");
    cookie = set.substr(0, set.find(';'));
    csrf = r.json().value("csrf", "");
  }
  return r;
}

Reply ConsoleBrowser::get(const std::string& path) const {
  std::vector<std::string> h;
  if (!cookie.empty()) h.push_back("Cookie: " + cookie);
  return rig.request("GET", rig.console_base() + path, "", h);
}

Reply ConsoleBrowser::post(const std::string& path, const std::string& body, bool with_csrf,
                           const std::string& token) const {
  std::vector<std::string> h;
  if (!cookie.empty()) h.push_back("Cookie: " + cookie);
  if (!origin.empty()) h.push_back("Origin: " + origin);
  if (with_csrf) h.push_back("X-CSRF-Token: " + (token.empty() ? csrf : token));
  return rig.request("POST", rig.console_base() + path, body, h);
}

}  // namespace seatlock::testing
