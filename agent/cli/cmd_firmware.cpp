// seatlockctl firmware: attestation status, signed baselines, and IT's signing key.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/firmware/attestation.hpp"
#include "core/firmware/status_table.hpp"
#include "core/policy/loader.hpp"
#include "core/util/digest.hpp"
#include "os/base/policy_files.hpp"
#include "os/control/control_server.hpp"
#include "os/events/reporter.hpp"
#include "os/firmware/local_attestation.hpp"
#include "os/firmware/signing_key.hpp"
#include "os/firmware/sysfs_reader.hpp"

namespace seatlock::cli {
namespace {

using nlohmann::json;
namespace fw = seatlock::firmware;

const char* kHelp = R"(usage: seatlockctl firmware <command>

  status [--local] [--baseline FILE] [--trusted-key B64]... [--require CHECK,...]
      the table of firmware checks and the overall result. Asks seatlockd (control
      command firmware.status); with --local, reads --sysfs DIR (default /sys) and the
      policy directory itself (the flags override the policy's firmware section).
      Exit code 1 when the result is a violation.
  baseline --out FILE --sign-key KEY.pem [--attest CHECK=yes|no]... [--note TEXT]
      record this machine's DMI identity, BIOS version/date and readable settings, plus
      the technician's answers for checks the firmware does not expose, signed with IT's
      Ed25519 key (--sysfs DIR reads another tree).
  verify FILE [--trusted-key B64]...
      check a baseline's signature (and, with keys, whether it is trusted).
  keygen --out KEY.pem [--force]
      make an Ed25519 signing key; prints the public key for firmware.trusted_keys.
checks: admin_password, usb_boot_disabled, boot_order_locked, usb_storage_disabled, secure_boot
)";

std::vector<std::string> take_all(Args& args, const std::string& name) {
  std::vector<std::string> out;
  for (std::string v; !(v = take_option(args, name)).empty();) out.push_back(v);
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The firmware section of the policy in the policy directory; defaults (with a warning) when
// the directory has no valid policy, so a technician can still look at a bare machine.
FirmwarePolicy local_policy(const CliContext& ctx) {
  try {
    PolicyLoadOptions lo;
    lo.now = now_millis();
    lo.expired_is_error = false;
    PolicyLoadResult r = load_policy(read_policy_dir(ctx.policy_dir), lo);
    if (r.policy) return r.policy->firmware;
    std::fprintf(stderr,
                 "seatlockctl: warning: policy in %s is invalid (%s); using firmware defaults\n",
                 ctx.policy_dir.c_str(), r.errors.empty() ? "?" : r.errors.front().text().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlockctl: warning: %s; using firmware defaults\n", e.what());
  }
  return FirmwarePolicy{};
}

int status(const CliContext& ctx, Args args) {
  bool local = take_flag(args, "--local");
  std::string baseline = take_option(args, "--baseline");
  std::vector<std::string> keys = take_all(args, "--trusted-key");
  std::string require = take_option(args, "--require");
  if (!args.empty()) return usage_error("firmware status: unexpected argument '" + args[0] + "'");
  if (!local && (!baseline.empty() || !keys.empty() || !require.empty()))
    return usage_error("firmware status: --baseline, --trusted-key and --require need --local");

  json attestation;
  if (local) {
    FirmwarePolicy p = local_policy(ctx);
    if (!baseline.empty()) p.baseline = baseline;
    if (!keys.empty()) p.trusted_keys = keys;
    if (!require.empty()) p.require = split_commas(require);
    for (const auto& r : p.require)
      if (!fw::is_known_check(r))
        return usage_error("firmware status: unknown check '" + r + "' in --require");
    attestation = fw::to_json(fw::attest_local(ctx.sysfs_root, p));
  } else {
    json reply = control_call(ctx.socket_path, "firmware.status");
    attestation = reply.value("attestation", json());
    if (attestation.is_null()) {
      std::fprintf(stderr, "seatlockctl: seatlockd has not attested the firmware yet\n");
      return 1;
    }
  }
  if (ctx.json)
    std::cout << attestation.dump(2) << "\n";
  else
    std::cout << fw::format_status_table(attestation);
  return attestation.value("overall", "") == "violation" ? 1 : 0;
}

int baseline(const CliContext& ctx, Args args) {
  std::string out = take_option(args, "--out");
  std::string key_path = take_option(args, "--sign-key");
  std::string note = take_option(args, "--note");
  fw::Attestations attested;
  for (const auto& a : take_all(args, "--attest")) {
    try {
      attested.insert(fw::parse_attestation(a));
    } catch (const std::invalid_argument& e) {
      return usage_error(std::string("firmware baseline: ") + e.what());
    }
  }
  if (!args.empty()) return usage_error("firmware baseline: unexpected argument '" + args[0] + "'");
  if (out.empty() || key_path.empty())
    return usage_error("firmware baseline needs --out FILE and --sign-key KEY.pem");

  fw::SigningKey key = fw::SigningKey::from_pem(fw::read_file(key_path), key_path);
  fw::Snapshot snap = fw::read_snapshot(ctx.sysfs_root);
  for (const auto& e : snap.read_errors)
    std::fprintf(stderr, "seatlockctl: warning: %s (not recorded)\n", e.c_str());
  json b = fw::make_baseline(snap, attested, now_millis(), note);
  fw::write_file(out,
                 fw::baseline_document(b, key.sign(fw::baseline_signed_bytes(b)), key.public_raw()),
                 0644);

  std::cout << "baseline written to " << out << "\n"
            << "  signed by:  " << base64_encode(key.public_raw()) << "\n"
            << "  dmi:        " << b["dmi"].size() << " fields (bios "
            << b["dmi"].value("bios_version", "?") << ", " << b["dmi"].value("bios_date", "?")
            << ")\n"
            << "  settings:   " << b["settings"].size() << "\n"
            << "  attested:   " << (attested.empty() ? std::string("none") : b["attested"].dump())
            << "\n";
  return 0;
}

int verify(const CliContext& ctx, Args args) {
  std::vector<std::string> keys = take_all(args, "--trusted-key");
  if (args.size() != 1) return usage_error("firmware verify needs exactly one FILE");
  fw::BaselineCheck r = fw::verify_baseline(fw::read_file(args[0]), keys);
  // Without keys, a correct signature is all that can be shown.
  bool ok = r.status == "ok" || (keys.empty() && r.status == "untrusted");
  if (ctx.json) {
    std::cout << json{{"status", r.status}, {"detail", r.detail}, {"key", r.key}}.dump(2) << "\n";
  } else if (keys.empty() && r.status == "untrusted") {
    std::cout << args[0] << ": signature valid, key " << r.key
              << " (give --trusted-key to check trust)\n";
  } else {
    std::cout << args[0] << ": " << r.status << " - " << r.detail << "\n";
  }
  return ok ? 0 : 1;
}

int keygen(const CliContext&, Args args) {
  std::string out = take_option(args, "--out");
  bool force = take_flag(args, "--force");
  if (!args.empty()) return usage_error("firmware keygen: unexpected argument '" + args[0] + "'");
  if (out.empty()) return usage_error("firmware keygen needs --out KEY.pem");
  struct stat st;
  if (!force && ::stat(out.c_str(), &st) == 0)
    return usage_error("firmware keygen: " + out + " exists (use --force to replace it)");
  fw::SigningKey key = fw::SigningKey::generate();
  fw::write_file(out, key.private_pem(), 0600);
  std::cout << base64_encode(key.public_raw()) << "\n";
  std::fprintf(
      stderr,
      "private key written to %s; put the line above in the policy's firmware.trusted_keys\n",
      out.c_str());
  return 0;
}

}  // namespace

int cmd_firmware(const CliContext& ctx, const Args& args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "status") return status(ctx, rest);
  if (args[0] == "baseline") return baseline(ctx, rest);
  if (args[0] == "verify") return verify(ctx, rest);
  if (args[0] == "keygen") return keygen(ctx, rest);
  return usage_error("firmware: unknown command '" + args[0] + "'");
}

}  // namespace seatlock::cli
