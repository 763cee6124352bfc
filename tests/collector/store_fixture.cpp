#include "store_fixture.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"

namespace seatlock::testing {
namespace {

std::size_t append(char* p, std::size_t s, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, s * n);
  return s * n;
}

// POST `body` to url; returns HTTP status (0 = no connection) and the response body.
std::pair<long, std::string> http_post(const std::string& url, const std::string& body) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  std::string out;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  if (!body.empty()) {
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 30L);
  long status = 0;
  if (curl_easy_perform(c.get()) == CURLE_OK)
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  return {status, out};
}

// Binds n loopback ports at once in this process (so they differ), then releases them.
std::vector<int> free_ports(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot bind a loopback port");
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

std::string sql_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string clickhouse_server_binary() {
  for (const char* p : {"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

ClickHouseServer::ClickHouseServer() {
  if (clickhouse_server_binary().empty())
    throw std::runtime_error("clickhouse-server is not installed");
  // SEATLOCK_CLICKHOUSE_LOG_QUERIES=1: system.query_log records every statement (for
  // benchmarks that look where the server's time goes).
  const bool log_queries = std::getenv("SEATLOCK_CLICKHOUSE_LOG_QUERIES") != nullptr;
  std::ofstream(dir_ / "users.xml")
      << "<yandex>\n  <profiles><default>" << (log_queries ? "<log_queries>1</log_queries>" : "")
      << R"(</default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
)";
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ports = free_ports(2);
    http_port_ = ports[0];
    std::ofstream(dir_ / "config.xml")
        << "<yandex>\n"
           "  <logger><level>warning</level><log>"
        << dir_.path << "/server.log</log><errorlog>" << dir_.path
        << "/server.err.log</errorlog><console>0</console></logger>\n"
           "  <http_port>"
        << ports[0] << "</http_port>\n  <tcp_port>" << ports[1]
        << "</tcp_port>\n"
           "  <listen_host>127.0.0.1</listen_host>\n"
           "  <path>"
        << dir_.path << "/data/</path>\n  <tmp_path>" << dir_.path
        << "/tmp/</tmp_path>\n  <user_files_path>" << dir_.path
        << "/user_files/</user_files_path>\n  <format_schema_path>" << dir_.path
        << "/format_schemas/</format_schema_path>\n"
           "  <users_config>"
        << dir_.path
        << "/users.xml</users_config>\n"
           "  <default_profile>default</default_profile>\n"
           "  <default_database>default</default_database>\n"
           "  <timezone>UTC</timezone>\n"
           "  <mark_cache_size>5368709120</mark_cache_size>\n"
           "  <query_log><database>system</database><table>query_log</table>"
           "<flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>\n"
           "</yandex>\n";
    if (launch()) return;
  }
  throw std::runtime_error("clickhouse-server did not start; see " + dir_ / "server.err.log");
}

bool ClickHouseServer::launch() {
  const std::string bin = clickhouse_server_binary();
  pid_ = fork();
  if (pid_ == 0) {
    std::string cfg = "--config-file=" + dir_ / "config.xml";
    std::freopen((dir_ / "stdout.log").c_str(), "w", stdout);
    std::freopen((dir_ / "stderr.log").c_str(), "w", stderr);
    execl(bin.c_str(), bin.c_str(), cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool up = seatlock::test::wait_until(
      [&] {
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // exited (port taken?): try again
        }
        return http_post(url() + "/ping", "").first == 200;
      },
      30'000);
  if (up && pid_ > 0) return true;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return false;
}

void ClickHouseServer::restart() {
  if (!launch()) throw std::runtime_error("clickhouse-server did not restart");
}

ClickHouseServer::~ClickHouseServer() {
  stop();
}

void ClickHouseServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  bool gone =
      seatlock::test::wait_until([&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; }, 15'000);
  if (!gone) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

std::string ClickHouseServer::query(const std::string& sql) const {
  auto [status, body] = http_post(url() + "/?max_execution_time=30", sql);
  if (status != 200)
    throw std::runtime_error("clickhouse (" + std::to_string(status) + "): " + body + " for " +
                             sql);
  return body;
}

ClickHouseServer* shared_clickhouse() {
  static std::unique_ptr<ClickHouseServer> server =
      clickhouse_server_binary().empty() ? nullptr : std::make_unique<ClickHouseServer>();
  return server.get();
}

std::vector<std::string> store_kinds() {
  // Installed (the collector's deps list has it): the ClickHouse runs are never skipped.
  if (clickhouse_server_binary().empty()) return {"sqlite"};
  return {"sqlite", "clickhouse"};
}

TestStore::TestStore(const std::string& k, const TempDir& dir) : kind(k) {
  if (kind == "sqlite") {
    sqlite_path = dir / "collector.db";
    spec = "sqlite:" + sqlite_path;
    return;
  }
  static int counter = 0;
  database = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  spec = "clickhouse:" + shared_clickhouse()->url() + "/?database=" + database;
}

std::string TestStore::ch(const std::string& sql) const {
  return shared_clickhouse()->query(sql);
}

namespace {
// A mutation on 18.16 runs in the background: wait until none is pending.
void wait_mutations(const TestStore& s) {
  bool done = seatlock::test::wait_until(
      [&] {
        return s.ch("SELECT count() FROM system.mutations WHERE database = " +
                    sql_quote(s.database) + " AND is_done = 0") == "0\n";
      },
      20'000);
  if (!done) throw std::runtime_error("clickhouse mutation did not finish");
}
std::string where(const std::string& seat, std::uint64_t seq) {
  return " WHERE seat_id = " + sql_quote(seat) + " AND seq = " + std::to_string(seq);
}
}  // namespace

void TestStore::delete_event(const std::string& seat, std::uint64_t seq) const {
  if (kind == "sqlite") {
    if (sql_exec(sqlite_path, "DELETE FROM events" + where(seat, seq)) != 1)
      throw std::runtime_error("nothing deleted");
    return;
  }
  ch("ALTER TABLE " + database + ".events DELETE" + where(seat, seq));
  wait_mutations(*this);
}

void TestStore::edit_line(const std::string& seat, std::uint64_t seq, const std::string& from,
                          const std::string& to) const {
  if (kind == "sqlite") {
    if (sql_exec(sqlite_path, "UPDATE events SET line = replace(line, '" + from + "', '" + to +
                                  "')" + where(seat, seq)) != 1)
      throw std::runtime_error("nothing edited");
    return;
  }
  ch("ALTER TABLE " + database + ".events UPDATE line = replaceOne(line, " + sql_quote(from) +
     ", " + sql_quote(to) + ")" + where(seat, seq));
  wait_mutations(*this);
}

void TestStore::set_hash(const std::string& seat, std::uint64_t seq,
                         const std::string& hash) const {
  if (kind == "sqlite") {
    sql_exec(sqlite_path, "UPDATE events SET chain_hash = '" + hash + "'" + where(seat, seq));
    return;
  }
  ch("ALTER TABLE " + database + ".events UPDATE chain_hash = " + sql_quote(hash) +
     where(seat, seq));
  wait_mutations(*this);
}

void TestStore::tamper(const std::string& sqlite_sql, const std::string& clickhouse_sql) const {
  if (kind == "sqlite") {
    if (sql_exec(sqlite_path, sqlite_sql) < 1) throw std::runtime_error("nothing changed");
    return;
  }
  std::string sql = clickhouse_sql;
  for (auto at = sql.find("DATABASE."); at != std::string::npos; at = sql.find("DATABASE."))
    sql.replace(at, 8, database);
  ch(sql);
  wait_mutations(*this);
}

}  // namespace seatlock::testing
