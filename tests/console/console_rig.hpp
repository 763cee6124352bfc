#pragma once
// A real `seatlock-collector serve` with the console (issue 15) for the console's C++ tests:
// throw-away PKI and SQLite store (tests/collector/harness.hpp), accounts made with the real
// `seatlock-collector user add`, and a small HTTPS client that shows what a browser would get
// (status, every header, body) and keeps a session cookie and CSRF token like the pages do.
#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

namespace seatlock::testing {

struct Reply {
  long status = 0;  // 0 = no HTTP answer (TLS or connection failure)
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;  // curl's text when status == 0
  std::string header(const std::string& lower_name) const;
  nlohmann::json json() const;
};

class ConsoleRig {
 public:
  // own_listener: serve with --console-listen 127.0.0.1:0 (else the console is on the main
  // listener). extra: more serve flags (e.g. --require-client-cert, --fleet-config F).
  explicit ConsoleRig(std::vector<std::string> extra = {}, bool own_listener = true);
  // The same on another store: a spec "sqlite:PATH" or "clickhouse:URL" (store_fixture.hpp).
  ConsoleRig(const std::string& store_spec, std::vector<std::string> extra, bool own_listener);
  ~ConsoleRig();
  ConsoleRig(const ConsoleRig&) = delete;
  ConsoleRig& operator=(const ConsoleRig&) = delete;

  void start();  // (again, after stop()): same store, same flags, new ports
  void stop();

  // "https://127.0.0.1:PORT" of the console (its own listener, or the main one).
  std::string console_base() const;
  std::string main_base() const;
  // `user add NAME --role ROLE --password-stdin` on the rig's store; REQUIREs success.
  void add_user(const std::string& name, const std::string& role, const std::string& password);
  // Any CLI command with `--db <store>` appended; stdout and stderr together.
  CliResult cli(std::vector<std::string> args) const;
  // The collector events of `kind` (query --json), oldest first.
  std::vector<nlohmann::json> events(const std::string& kind) const;

  // One HTTPS request to `base + path` (no client certificate).
  Reply request(const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& headers = {}) const;

  TempDir dir;
  Pki pki{dir};
  std::string db = dir / "collector.db";  // a path (--db) or a store spec (--store)

 private:
  std::string key_flag() const;  // " --collector-key FILE" for ClickHouse, else ""
  std::vector<std::string> extra_;
  bool own_listener_;
  pid_t pid_ = -1;
  int port_ = 0, console_port_ = 0;
};

// A browser's view: the session cookie and CSRF token from /api/login.
struct ConsoleBrowser {
  const ConsoleRig& rig;
  std::string cookie, csrf;
  std::string origin;  // sent on POSTs ("" = none)
  explicit ConsoleBrowser(const ConsoleRig& r) : rig(r), origin(r.console_base()) {}
  Reply login(const std::string& name, const std::string& password);
  Reply get(const std::string& path) const;
  // with_csrf = false: no X-CSRF-Token header; token: send this one instead of the session's.
  Reply post(const std::string& path, const std::string& body, bool with_csrf = true,
             const std::string& token = "") const;
};

}  // namespace seatlock::testing
