// user add|passwd|disable|enable|list: console accounts (issue 15, "Accounts and roles").
// Passwords are read from stdin (--password-stdin: one line) or typed twice at a prompt on the
// terminal without echo; only their Argon2id hash is stored (console/password.hpp). Every change
// is recorded in the collector's own signed chain (console.user_* events, audit/collector_log.hpp)
// with the acting Unix user (SUDO_USER when run through sudo).
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/collector_log.hpp"
#include "commands.hpp"
#include "console/password.hpp"
#include "core/util/args.hpp"
#include "output.hpp"
#include "store_open.hpp"

namespace seatlock::collector {
namespace {

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string acting_user() {
  if (const char* s = std::getenv("SUDO_USER"); s && *s) return s;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid:" + std::to_string(::geteuid());
}

// One line from the terminal without echo ("" if there is no terminal).
std::optional<std::string> prompt_no_echo(const char* prompt) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (!tty) return std::nullopt;
  int fd = ::fileno(tty);
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::fputs(prompt, tty);
  std::fflush(tty);
  std::string line;
  for (int c; (c = std::fgetc(tty)) != EOF && c != '\n';) line += static_cast<char>(c);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  std::fputs("\n", tty);
  std::fclose(tty);
  return line;
}

std::string read_password(const ArgParser& a) {
  std::string pw;
  if (a.has("password-stdin")) {
    if (!std::getline(std::cin, pw)) throw UsageError("--password-stdin: stdin is empty");
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  } else {
    auto first = prompt_no_echo("New password: ");
    if (!first)
      throw UsageError("no terminal to ask for the password; give it with --password-stdin");
    auto again = prompt_no_echo("Repeat the password: ");
    if (!again || *again != *first) throw UsageError("the two passwords differ; nothing changed");
    pw = *first;
  }
  if (auto why = console::password_problem(pw)) throw UsageError(*why);
  return pw;
}

std::string checked_name(const ArgList& rest, const char* sub) {
  if (rest.empty() || rest[0].rfind("--", 0) == 0)
    throw UsageError(std::string("user ") + sub + ": give the account name first");
  if (auto why = console::name_problem(rest[0])) throw UsageError(*why + ": \"" + rest[0] + "\"");
  return rest[0];
}

int user_list(const ArgList& rest, std::ostream& out) {
  ArgParser a(rest, store_option_names(), {"json"});
  auto store = open_store(store_spec(a), false);
  auto accounts = store->accounts();
  if (a.has("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (const AccountRecord& r : accounts)
      arr.push_back({{"name", r.name},
                     {"role", r.role},
                     {"status", r.disabled ? "disabled" : "enabled"},
                     {"created", format_time(r.created_ms)},
                     {"updated", format_time(r.updated_ms)}});
    out << arr.dump(2) << "\n";
    return 0;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-32s %-8s %-9s %s\n", "NAME", "ROLE", "STATUS", "UPDATED");
  out << buf;
  for (const AccountRecord& r : accounts) {
    std::snprintf(buf, sizeof buf, "%-32s %-8s %-9s %s\n", r.name.c_str(), r.role.c_str(),
                  r.disabled ? "disabled" : "enabled", format_time(r.updated_ms).c_str());
    out << buf;
  }
  return 0;
}

}  // namespace

int cmd_user(const ArgList& argv, std::ostream& out) {
  static const char* kSubs[] = {"add", "passwd", "disable", "enable", "list"};
  if (argv.empty() || std::find(std::begin(kSubs), std::end(kSubs), argv[0]) == std::end(kSubs))
    throw UsageError("expected \"user add|passwd|disable|enable|list\"");
  const std::string& sub = argv[0];
  ArgList rest(argv.begin() + 1, argv.end());
  if (sub == "list") return user_list(rest, out);

  std::string name = checked_name(rest, sub.c_str());
  ArgList flags(rest.begin() + 1, rest.end());
  auto valued = store_option_names();
  for (const auto& n : audit::collector_log_option_names()) valued.insert(n);
  if (sub == "add") valued.insert("role");
  ArgParser a(flags, valued, {"password-stdin"});
  std::optional<std::string> role = a.get("role");
  if (sub == "add" && !role) throw UsageError("user add: --role auditor|admin is required");
  if (role && !console::is_role(*role))
    throw UsageError("--role: \"" + *role + "\" is not a role; use auditor or admin");
  if ((sub == "disable" || sub == "enable") && a.has("password-stdin"))
    throw UsageError("user " + sub + " takes no password");

  std::string spec = store_spec(a);
  auto store = open_store(spec, /*create=*/sub == "add");
  std::optional<AccountRecord> before = store->account(name);
  if (sub == "add" && before)
    throw UsageError("account \"" + name + "\" exists already (" + before->role + ", " +
                     (before->disabled ? "disabled" : "enabled") + "); use user passwd|enable");
  if (sub != "add" && !before) throw UsageError("no account \"" + name + "\"");

  std::int64_t now = wall_ms();
  AccountRecord rec = before ? *before : AccountRecord{name, *role, "", false, now, 0, ""};
  // updated_ms orders the versions of an account (ClickHouse keeps the highest).
  rec.updated_ms = before ? std::max(now, before->updated_ms + 1) : now;
  audit::CollectorEventInput in;
  in.outcome = "applied";
  in.actor = acting_user();
  if (sub == "add" || sub == "passwd") {
    rec.password_hash = console::hash_password(read_password(a));
    in.kind = sub == "add" ? "console.user_added" : "console.user_password_changed";
    in.severity = sub == "add" ? "medium" : "low";
  } else {
    rec.disabled = sub == "disable";
    in.kind = rec.disabled ? "console.user_disabled" : "console.user_enabled";
    in.severity = "medium";
    if (before->disabled == rec.disabled) {
      out << "account \"" << name << "\" is already " << (rec.disabled ? "disabled" : "enabled")
          << "\n";
      return 0;
    }
  }
  in.details = {{"account", name}, {"role", rec.role}};

  audit::CollectorLog log(*store, audit::identity_from_args(a, spec));
  store->put_account(rec);
  try {
    log.record(in);
  } catch (const std::exception& e) {
    // An account change nobody can see later must not stay: restore what was there.
    AccountRecord undo = before.value_or(rec);
    if (!before) {
      undo.disabled = true;
      undo.password_hash = "";  // matches no password
    }
    undo.updated_ms = rec.updated_ms + 1;
    store->put_account(undo);
    throw std::runtime_error(std::string("could not record the change in the collector's chain (") +
                             e.what() + "); account \"" + name + "\" left as it was");
  }
  static const std::map<std::string, const char*> kDone = {{"add", "added"},
                                                           {"passwd", "password changed for"},
                                                           {"disable", "disabled"},
                                                           {"enable", "enabled"}};
  out << kDone.at(sub) << " " << rec.role << " account \"" << name << "\"\n";
  return 0;
}

}  // namespace seatlock::collector
