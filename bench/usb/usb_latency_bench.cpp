// uevent -> `authorized` write latency of seatlockd, measured by seatlockd itself (usb.stats)
// over 1,000 plugs of a HID device 10 ms apart under umockdev; plus the daemon's RSS and CPU
// idle (5 devices present) and during the storm.
//   usb_latency_bench [plugs=1000] [gap_ms=10]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "os/control/control_server.hpp"
#include "support/process.hpp"
#include "usb/usb_testbed.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

// A /proc/PID/status field in kB ("VmRSS", "RssAnon", "RssFile").
long status_kb(pid_t pid, const std::string& field = "VmRSS") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}
long rss_kb(pid_t pid) {
  return status_kb(pid);
}

double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::istringstream in(s.substr(s.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    in >> field;
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  const int plugs = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int gap_ms = argc > 2 ? std::atoi(argv[2]) : 10;
  UsbTestbed tb;
  const std::string dir = make_temp_dir("usb-bench");
  std::filesystem::create_directories(dir + "/policy.d");
  std::filesystem::copy_file(std::string(SEATLOCK_SOURCE_DIR) + "/policy/default/00-default.json",
                             dir + "/policy.d/00-default.json");
  // five devices present while idle
  tb.plug("1-1", catalog::dell_keyboard());
  tb.plug("1-2", catalog::logitech_mouse());
  tb.plug("1-3", catalog::poly_headset());
  tb.plug("1-4", catalog::genesys_hub());
  tb.plug("1-5", catalog::kingston_stick());
  const std::string sock = dir + "/control.sock";
  Child d({binary_path("agent/daemon/seatlockd"), "--policy-dir", dir + "/policy.d", "--state-dir",
           dir + "/state", "--control-socket", sock, "--components", "usb", "--sysfs",
           tb.sys_root(), "--udev-rules-dir", dir + "/rules", "--seat-id", "bench"},
          dir + "/seatlockd.log");
  if (!wait_until([&] { return std::filesystem::exists(sock); }, 20'000)) {
    std::fprintf(stderr, "seatlockd did not start (log: %s/seatlockd.log)\n", dir.c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double idle_cpu0 = cpu_seconds(d.pid());
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const double idle_cpu = cpu_seconds(d.pid()) - idle_cpu0;
  const long idle_rss = rss_kb(d.pid());

  const FakeDevice hid = catalog::logitech_mouse();
  const double storm_cpu0 = cpu_seconds(d.pid());
  const auto t0 = std::chrono::steady_clock::now();
  long peak_rss = idle_rss;
  int authorized = 0;
  for (int i = 0; i < plugs; ++i) {
    tb.plug("1-9", hid);
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    authorized += tb.authorized("1-9:1.0") == "1";
    tb.unplug("1-9");
    if (i % 100 == 0) peak_rss = std::max(peak_rss, rss_kb(d.pid()));
  }
  const double storm_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double storm_cpu = cpu_seconds(d.pid()) - storm_cpu0;
  peak_rss = std::max(peak_rss, rss_kb(d.pid()));
  nlohmann::json stats = control_call(sock, "usb.stats");

  std::printf(
      "usb bench: %d plug+unplug cycles, %d ms apart (%.1f s), %d authorized within the gap\n",
      plugs, gap_ms, storm_s, authorized);
  std::printf(
      "  uevent -> authorized write start (seatlockd, n=%s): p50 %.1f us, p99 %.1f us, max %.1f "
      "us\n",
      stats["count"].dump().c_str(), stats.value("p50_us", 0.0), stats.value("p99_us", 0.0),
      stats.value("max_us", 0.0));
  std::printf("  RSS idle with 5 devices: %.1f MB; peak during storm: %.1f MB\n", idle_rss / 1024.0,
              peak_rss / 1024.0);
  // RssFile is mostly shared library pages (libcrypto, libnftables, libcurl, umockdev, GLib)
  // that other processes map too; RssAnon is the daemon's own heap and stacks.
  std::printf(
      "  of which anonymous (own heap, stacks): %.1f MB; file-backed (shared libraries): %.1f MB\n",
      status_kb(d.pid(), "RssAnon") / 1024.0, status_kb(d.pid(), "RssFile") / 1024.0);
  std::printf("  CPU idle: %.3f s over 5 s (%.2f%%)\n", idle_cpu, idle_cpu / 5 * 100);
  std::printf("  CPU during storm: %.2f s (%.1f%% of one core), %.3f ms per plug+unplug\n",
              storm_cpu, storm_cpu / storm_s * 100, storm_cpu * 1000 / plugs);
  d.stop();
  std::filesystem::remove_all(dir);
  return 0;
}
