// seatlockctl setup: one-off setup helpers.
//
//   setup boot [--apply] [--root DIR] [--update-grub CMD]
//
// Closes the early-boot USB window: until seatlockd starts, the kernel authorizes every
// device it finds unless `usbcore.authorized_default=0` is on the kernel command line.
// Without --apply this only shows the current state and the exact change; with --apply it
// edits GRUB_CMDLINE_LINUX in /etc/default/grub (a backup is kept) and runs update-grub.
// It never changes anything silently. --root and --update-grub exist for tests.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "os/base/atomic_file.hpp"

namespace seatlock::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kParam = "usbcore.authorized_default";
constexpr const char* kWanted = "usbcore.authorized_default=0";
constexpr const char* kVar = "GRUB_CMDLINE_LINUX";

// The last effective `GRUB_CMDLINE_LINUX=...` assignment of a /etc/default/grub text.
struct CmdlineAssignment {
  size_t line = 0;       // index into the file's lines
  std::string value;     // unquoted value
  bool editable = true;  // false if it uses shell expansion we must not rewrite
  std::string why_not;   // reason when !editable
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Parses one shell assignment value: "double", 'single' or a bare word, nothing after it.
std::optional<std::string> parse_value(const std::string& raw, std::string& why_not) {
  std::string rest = raw;
  std::string value;
  if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
    char q = rest[0];
    size_t end = rest.find(q, 1);
    if (end == std::string::npos) {
      why_not = "unterminated quote";
      return std::nullopt;
    }
    value = rest.substr(1, end - 1);
    rest = rest.substr(end + 1);
    if (q == '"' && (value.find('$') != std::string::npos || value.find('`') != std::string::npos ||
                     value.find('\\') != std::string::npos)) {
      why_not = "the value uses shell expansion";
      return std::nullopt;
    }
  } else {
    size_t end = rest.find_first_of(" \t#;");
    value = rest.substr(0, end);
    rest = end == std::string::npos ? "" : rest.substr(end);
    if (value.find_first_of("$`\\\"'") != std::string::npos) {
      why_not = "the value uses shell quoting or expansion";
      return std::nullopt;
    }
  }
  size_t tail = rest.find_first_not_of(" \t");
  if (tail != std::string::npos && rest[tail] != '#') {
    why_not = "more shell code follows the value";
    return std::nullopt;
  }
  return value;
}

std::optional<CmdlineAssignment> find_cmdline(const std::vector<std::string>& lines) {
  std::optional<CmdlineAssignment> found;
  const std::string prefix = std::string(kVar) + "=";
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string l = lines[i];
    size_t start = l.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    l = l.substr(start);
    if (l.rfind("export ", 0) == 0) l = l.substr(7);
    if (l.rfind(prefix, 0) != 0) continue;
    CmdlineAssignment a;
    a.line = i;
    std::string why;
    if (auto v = parse_value(l.substr(prefix.size()), why)) {
      a.value = *v;
    } else {
      a.editable = false;
      a.why_not = why + " (line " + std::to_string(i + 1) + ")";
    }
    found = a;
  }
  return found;
}

// The value of `usbcore.authorized_default` among kernel parameters, if present (last wins).
std::optional<std::string> param_value(const std::string& cmdline) {
  std::optional<std::string> v;
  const std::string key = std::string(kParam) + "=";
  for (const auto& w : split_words(cmdline)) {
    if (w.rfind(key, 0) == 0) v = w.substr(key.size());
  }
  return v;
}

// Returns the command line with every `usbcore.authorized_default=...` replaced by one `=0`.
std::string with_param(const std::string& cmdline) {
  std::string out;
  const std::string key = std::string(kParam) + "=";
  for (const auto& w : split_words(cmdline)) {
    if (w.rfind(key, 0) == 0) continue;
    out += (out.empty() ? "" : " ") + w;
  }
  return out + (out.empty() ? "" : " ") + kWanted;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replaces `p` atomically (same directory, mode and owner), keeping the old file as `backup`.
void replace_file(const fs::path& p, const std::string& text, const fs::path& backup) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0)
    throw std::runtime_error("cannot stat " + p.string() + ": " + std::strerror(errno));
  fs::copy_file(p, backup, fs::copy_options::overwrite_existing);
  AtomicWriteOptions o;
  o.mode = st.st_mode & 07777;
  o.uid = st.st_uid;
  o.gid = st.st_gid;
  atomic_write(p.string(), text, o);
}

int run_command(const std::string& cmd) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::execlp(cmd.c_str(), cmd.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "seatlockctl: cannot run %s: %s\n", cmd.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// /etc/default/grub.d/*.cfg are sourced after /etc/default/grub and may override the line.
void warn_about_overrides(const fs::path& root) {
  fs::path dir = root / "etc/default/grub.d";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".cfg") continue;
    auto a = find_cmdline(split_lines(read_text(entry.path())));
    if (a && (!a->editable || param_value(a->value) != "0"))
      std::printf(
          "warning: %s sets %s too and is read after /etc/default/grub; add %s there as well\n",
          entry.path().c_str(), kVar, kWanted);
  }
}

int setup_boot(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"root", "update-grub"};
  spec.switches = {"apply"};
  const ArgParser args = parse_command(base, argv, "setup boot", spec).args;
  const bool apply = args.has("apply");
  const fs::path root = args.get("root").value_or("/");
  const std::string update_grub = args.get("update-grub").value_or("update-grub");

  std::error_code ec;
  std::string running =
      fs::exists(root / "proc/cmdline", ec) ? read_text(root / "proc/cmdline") : "";
  auto running_value = param_value(running);
  std::printf("running kernel: %s\n",
              running_value == "0"
                  ? "usbcore.authorized_default=0 is set (early-boot USB window closed)"
                  : "usbcore.authorized_default=0 is NOT set (USB devices are authorized "
                    "during early boot until seatlockd starts)");

  fs::path grub = root / "etc/default/grub";
  if (!fs::exists(grub, ec)) {
    std::printf(
        "%s does not exist: this seat does not boot with GRUB as configured by Debian.\n"
        "Add %s to the kernel command line of its boot loader by hand.\n",
        grub.c_str(), kWanted);
    return 1;
  }
  std::string text = read_text(grub);
  auto lines = split_lines(text);
  auto assignment = find_cmdline(lines);
  if (assignment && !assignment->editable) {
    std::printf(
        "%s: %s is not a plain value: %s.\nEdit it by hand to contain %s, then run update-grub.\n",
        grub.c_str(), kVar, assignment->why_not.c_str(), kWanted);
    return 1;
  }
  std::string current = assignment ? assignment->value : "";
  std::printf("%s: %s=\"%s\"\n", grub.c_str(), kVar, current.c_str());
  warn_about_overrides(root);
  if (param_value(current) == "0") {
    std::printf("GRUB already passes %s; nothing to change.\n", kWanted);
    return 0;
  }

  std::string wanted = with_param(current);
  std::string new_line = std::string(kVar) + "=\"" + wanted + "\"";
  if (!apply) {
    std::printf("would set:  %s\nrun 'seatlockctl setup boot --apply' to write it and run %s\n",
                new_line.c_str(), update_grub.c_str());
    return 1;
  }

  if (assignment) {
    lines[assignment->line] = new_line;
  } else {
    lines.push_back(
        "# Added by 'seatlockctl setup boot': no USB device is authorized before seatlockd "
        "decides.");
    lines.push_back(new_line);
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  fs::path backup = grub;
  backup += ".seatlock-backup";
  replace_file(grub, out, backup);
  std::printf("wrote %s (previous version kept as %s)\n%s\nrunning %s ...\n", grub.c_str(),
              backup.c_str(), new_line.c_str(), update_grub.c_str());
  int rc = run_command(update_grub);
  if (rc != 0) {
    std::fprintf(stderr,
                 "seatlockctl: %s failed (exit %d); the boot menu still has the old command line\n",
                 update_grub.c_str(), rc);
    return 1;
  }
  std::printf("done: the option takes effect at the next boot.\n");
  return 0;
}

}  // namespace

int cmd_setup(const CliContext& ctx, const Args& args) {
  Subcommand sub = split_subcommand(ctx, args, "setup");
  if (sub.name.empty() || sub.name == "help" || sub.flags.has("help")) {
    std::printf(
        "usage: seatlockctl setup boot [--apply]\n"
        "  shows whether the kernel command line closes the early-boot USB window\n"
        "  (usbcore.authorized_default=0); with --apply adds it to GRUB_CMDLINE_LINUX in\n"
        "  /etc/default/grub and runs update-grub. Exit status: 0 set, 1 not set or failed.\n");
    return sub.name.empty() && !sub.flags.has("help") ? 2 : 0;
  }
  if (sub.name == "boot") return setup_boot(sub.ctx, sub.rest);
  return usage_error("setup: unknown command '" + sub.name + "'");
}

}  // namespace seatlock::cli
