// seatlockctl firmware: attestation status, signed baselines, and IT's signing key.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

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
  attest [--no-wait]
      attest now: the local checks and, when firmware.attestation is enabled, a TPM
      quote verified by the collector (waits for its verdict unless --no-wait).
      Exit code 1 unless the checks pass and the collector's verdict is "verified".
checks: admin_password, usb_boot_disabled, boot_order_locked, usb_storage_disabled, secure_boot
)";

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

// The daemon's TPM attestation status (firmware.tpm_status), null from a seatlockd without it.
json tpm_status(const CliContext& ctx) {
  try {
    return control_call(ctx.socket_path, "firmware.tpm_status");
  } catch (const ControlError& e) {
    if (std::string(e.what()).find("unknown command") != std::string::npos) return json();
    throw;
  }
}

std::string tpm_line(const json& t) {
  std::string state = t.value("state", "?");
  if (state == "off") return "tpm attestation: off (" + t.value("summary", "") + ")";
  std::string line = "tpm attestation: " + state;
  if (t.contains("result")) {
    line += ", collector verdict " + t.value("result", "?");
    for (const auto& r : t["verdict"].value("reasons", json::array()))
      line += "\n  reason: " + r.get<std::string>();
    for (const auto& d : t["verdict"].value("differences", json::array()))
      line += "\n  differs: " + d.get<std::string>();
  }
  if (t.contains("unattested"))
    line += " (" + t["unattested"].value("code", "") + "): " + t["unattested"].value("reason", "");
  if (t.contains("attested_at")) line += "\n  at: " + t.value("attested_at", "");
  return line;
}

// Every non-empty value of a repeatable flag.
std::vector<std::string> all_values(const ArgParser& args, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& v : args.all(name))
    if (!v.empty()) out.push_back(v);
  return out;
}

int status(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"baseline", "trusted-key", "require"};
  spec.switches = {"local"};
  auto [ctx, args] = parse_command(base, argv, "firmware status", spec);
  const bool local = args.has("local");
  const std::string baseline = args.get("baseline").value_or("");
  const std::vector<std::string> keys = all_values(args, "trusted-key");
  const std::string require = args.get("require").value_or("");
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
  json tpm = local ? json() : tpm_status(ctx);
  if (ctx.json) {
    if (!tpm.is_null()) attestation["tpm"] = tpm;
    std::cout << attestation.dump(2) << "\n";
  } else {
    std::cout << fw::format_status_table(attestation);
    if (!tpm.is_null()) std::cout << tpm_line(tpm) << "\n";
  }
  return attestation.value("overall", "") == "violation" ? 1 : 0;
}

int attest(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.switches = {"no-wait"};
  auto [ctx, args] = parse_command(base, argv, "firmware attest", spec);
  const bool no_wait = args.has("no-wait");
  json local = control_call(ctx.socket_path, "firmware.attest").value("attestation", json());
  bool violation = local.value("overall", "") == "violation";
  json tpm = tpm_status(ctx);
  if (tpm.is_null() || tpm.value("state", "") == "off") {
    if (ctx.json)
      std::cout << json{{"attestation", local}, {"tpm", tpm}}.dump(2) << "\n";
    else
      std::cout << "local checks: " << local.value("overall", "?") << "\n"
                << (tpm.is_null() ? "tpm attestation: not available in this seatlockd"
                                  : tpm_line(tpm))
                << "\n";
    return 1;  // no TPM evidence is never "fine"
  }
  auto want = control_call(ctx.socket_path, "firmware.tpm_attest")
                  .value("requested_round", std::uint64_t{0});
  // The round runs on seatlockd's worker (TPM + collector); poll its status for the result.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!no_wait && tpm.value("rounds", std::uint64_t{0}) < want) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "seatlockctl: no attestation result after 120 s\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    tpm = tpm_status(ctx);
  }
  if (ctx.json)
    std::cout << json{{"attestation", local}, {"tpm", tpm}}.dump(2) << "\n";
  else
    std::cout << "local checks: " << local.value("overall", "?") << "\n"
              << (no_wait ? "tpm attestation: requested" : tpm_line(tpm)) << "\n";
  if (no_wait) return violation ? 1 : 0;
  return violation || tpm.value("result", "") != "verified" ? 1 : 0;
}

int baseline(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"out", "sign-key", "note", "attest"};
  auto [ctx, args] = parse_command(base, argv, "firmware baseline", spec);
  const std::string out = args.get("out").value_or("");
  const std::string key_path = args.get("sign-key").value_or("");
  const std::string note = args.get("note").value_or("");
  fw::Attestations attested;
  for (const auto& a : all_values(args, "attest")) {
    try {
      attested.insert(fw::parse_attestation(a));
    } catch (const std::invalid_argument& e) {
      return usage_error(std::string("firmware baseline: ") + e.what());
    }
  }
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

int verify(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"trusted-key"};
  spec.max_positional = 1;  // FILE
  auto [ctx, args] = parse_command(base, argv, "firmware verify", spec);
  const std::vector<std::string> keys = all_values(args, "trusted-key");
  if (args.positional().size() != 1) return usage_error("firmware verify needs exactly one FILE");
  const std::string& file = args.positional()[0];
  fw::BaselineCheck r = fw::verify_baseline(fw::read_file(file), keys);
  // Without keys, a correct signature is all that can be shown.
  bool ok = r.status == "ok" || (keys.empty() && r.status == "untrusted");
  if (ctx.json) {
    std::cout << json{{"status", r.status}, {"detail", r.detail}, {"key", r.key}}.dump(2) << "\n";
  } else if (keys.empty() && r.status == "untrusted") {
    std::cout << file << ": signature valid, key " << r.key
              << " (give --trusted-key to check trust)\n";
  } else {
    std::cout << file << ": " << r.status << " - " << r.detail << "\n";
  }
  return ok ? 0 : 1;
}

int keygen(const CliContext& base, const Args& argv) {
  ArgSpec spec;
  spec.valued = {"out"};
  spec.switches = {"force"};
  const ArgParser args = parse_command(base, argv, "firmware keygen", spec).args;
  const std::string out = args.get("out").value_or("");
  const bool force = args.has("force");
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
  Subcommand sub = split_subcommand(ctx, args, "firmware");
  if (sub.name.empty() || sub.name == "help" || sub.flags.has("help")) {
    const bool asked = !sub.name.empty() || sub.flags.has("help");
    std::fputs(kHelp, asked ? stdout : stderr);
    return asked ? 0 : 2;
  }
  if (sub.name == "status") return status(sub.ctx, sub.rest);
  if (sub.name == "baseline") return baseline(sub.ctx, sub.rest);
  if (sub.name == "verify") return verify(sub.ctx, sub.rest);
  if (sub.name == "keygen") return keygen(sub.ctx, sub.rest);
  if (sub.name == "attest") return attest(sub.ctx, sub.rest);
  return usage_error("firmware: unknown command '" + sub.name + "'");
}

}  // namespace seatlock::cli
