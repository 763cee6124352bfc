#pragma once
// Collector-side TPM tests: a "seat" played by tpm2-tools against a private swtpm (tests only;
// production seats use seatlockd's ESAPI code), and a synthetic UEFI event log whose events are
// extended into that TPM's PCRs, so the collector's checks run against real TPM output.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/tpm_keys.hpp"
#include "core/util/digest.hpp"
#include "support/process.hpp"
#include "tpm/swtpm_fixture.hpp"

namespace seatlock::test::col {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Runs a tpm2-tools command against `tpm` (or with "--tcti none" when tpm is null).
inline RunResult tool(const Swtpm* tpm, std::vector<std::string> argv) {
  argv.insert(argv.begin() + 1, {"-T", tpm ? tpm->tcti() : std::string("none")});
  return run_command(argv);
}
inline std::string tool_ok(const Swtpm* tpm, std::vector<std::string> argv) {
  auto r = tool(tpm, argv);
  INFO(argv[0] << ": " << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A seat's TPM identity made with tpm2-tools: EK (RSA, TCG default template) and an AK under it.
struct ToolSeat {
  const Swtpm& tpm;
  std::string dir;
  explicit ToolSeat(const Swtpm& t, const std::string& ak_alg = "ecc") : tpm(t), dir(t.dir()) {
    flush();
    tool_ok(&tpm, {"tpm2_createek", "-c", dir + "/ek.ctx", "-G", "rsa", "-u", dir + "/ek.pub"});
    flush();
    tool_ok(&tpm, {"tpm2_createak", "-C", dir + "/ek.ctx", "-c", dir + "/ak.ctx", "-G", ak_alg,
                   "-g", "sha256", "-s", ak_alg == "ecc" ? "ecdsa" : "rsassa", "-u",
                   dir + "/ak.pub", "-n", dir + "/ak.name"});
    flush();
  }
  // Without a resource manager, tpm2-tools leave objects loaded; the TPM holds only 3.
  void flush() const {
    tool_ok(&tpm, {"tpm2_flushcontext", "-t"});
    tool_ok(&tpm, {"tpm2_flushcontext", "-s"});
  }
  std::string ek_public() const { return slurp(dir + "/ek.pub"); }  // TPM2B_PUBLIC
  std::string ak_public() const { return slurp(dir + "/ak.pub"); }
  std::string ak_name() const { return slurp(dir + "/ak.name"); }  // raw name
  std::string ak_name_2b() const {
    std::string n = ak_name();
    return std::string{char(n.size() >> 8), char(n.size() & 0xff)} + n;
  }
  nlohmann::json enroll_request() const {
    return {{"ek_public", base64_encode(ek_public())},
            {"ek_cert", nullptr},
            {"ak_public", base64_encode(ak_public())},
            {"ak_name", base64_encode(ak_name_2b())}};
  }

  // tpm2_activatecredential on a credential (blob, secret); the recovered secret, or the
  // tool's failure output prefixed with "FAILED: ".
  std::string activate(const std::string& blob, const std::string& enc_secret) const {
    // tpm2-tools' credential file: magic 0xBADCC0DE, version 1 (both big-endian), then the
    // marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
    std::string file = std::string("\xBA\xDC\xC0\xDE\0\0\0\x01", 8) + blob + enc_secret;
    spit(dir + "/cred.in", file);
    return activate_file(dir + "/cred.in");
  }
  std::string activate_file(const std::string& path) const {
    flush();
    std::string s = dir + "/session.ctx";
    tool_ok(&tpm, {"tpm2_startauthsession", "--policy-session", "-S", s});
    tool_ok(&tpm, {"tpm2_policysecret", "-S", s, "-c", "e"});
    auto r = tool(&tpm, {"tpm2_activatecredential", "-c", dir + "/ak.ctx", "-C", dir + "/ek.ctx",
                         "-i", path, "-o", dir + "/cred.out", "-P", "session:" + s});
    tool(&tpm, {"tpm2_flushcontext", s});
    if (r.exit_code != 0) return "FAILED: " + r.out;
    return slurp(dir + "/cred.out");
  }

  struct Quote {
    std::string attest;     // TPM2B_ATTEST
    std::string signature;  // TPMT_SIGNATURE
    nlohmann::json pcrs;    // {"sha256": {"0": hex, ...}}
  };
  Quote quote(const std::string& extra) const {
    flush();
    tool_ok(&tpm, {"tpm2_quote", "-c", dir + "/ak.ctx", "-l", "sha256:0,1,2,3,4,5,6,7", "-q",
                   hex_encode(extra), "-m", dir + "/q.msg", "-s", dir + "/q.sig", "-o",
                   dir + "/q.pcrs", "-g", "sha256"});
    Quote q;
    std::string msg = slurp(dir + "/q.msg");  // TPMS_ATTEST bytes: wrap as TPM2B_ATTEST
    q.attest = std::string{char(msg.size() >> 8), char(msg.size() & 0xff)} + msg;
    q.signature = slurp(dir + "/q.sig");
    tool_ok(&tpm, {"tpm2_pcrread", "sha256:0,1,2,3,4,5,6,7", "-o", dir + "/pcrs.bin"});
    std::string raw = slurp(dir + "/pcrs.bin");
    REQUIRE(raw.size() == 8 * 32);
    for (int i = 0; i < 8; ++i)
      q.pcrs["sha256"][std::to_string(i)] = hex_encode(raw.substr(i * 32, 32));
    return q;
  }
};

// Builds a crypto-agile event log (sha256 bank only) and extends each event into the TPM.
class EventLogBuilder {
 public:
  EventLogBuilder() {
    // Spec ID Event03: signature, platformClass, version 0.2 errata 0, uintnSize 2 (64-bit),
    // one algorithm (sha256, 32 bytes), no vendor info.
    std::string spec = std::string("Spec ID Event03\0", 16) + le32(0) +
                       std::string("\0\x02\0\x02", 4) + le32(1) + le16(0x000B) + le16(32) +
                       std::string(1, '\0');
    bytes_ = le32(0) + le32(3) + std::string(20, '\0') + le32(uint32_t(spec.size())) + spec;
  }
  static std::string le32(uint32_t v) {
    return {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  }
  static std::string le16(uint16_t v) { return {char(v), char(v >> 8)}; }
  static std::string le64(uint64_t v) { return le32(uint32_t(v)) + le32(uint32_t(v >> 32)); }

  // UEFI_VARIABLE_DATA for a variable (GUID zero here: the collector keys on the name).
  static std::string uefi_variable(const std::string& name, const std::string& value) {
    std::string d = std::string(16, '\x11') + le64(name.size()) + le64(value.size());
    for (char c : name) d += std::string{c, '\0'};
    return d + value;
  }
  static std::string load_option(const std::string& description) {
    std::string d = le32(1) + le16(4);
    for (char c : description) d += std::string{c, '\0'};
    return d + std::string(2, '\0') + std::string("\x7f\xff\x04\x00", 4);
  }

  struct Event {
    uint32_t pcr, type;
    std::string data, digest;
  };
  void add(uint32_t pcr, uint32_t type, const std::string& data) {
    events_.push_back({pcr, type, data, collector::attest::sha256(data)});
  }
  std::vector<Event>& events() { return events_; }

  std::string bytes() const {
    std::string out = bytes_;
    for (const auto& e : events_)
      out += le32(e.pcr) + le32(e.type) + le32(1) + le16(0x000B) + e.digest +
             le32(uint32_t(e.data.size())) + e.data;
    return out;
  }
  void extend_into(const Swtpm& tpm) const {
    for (const auto& e : events_)
      tool_ok(&tpm, {"tpm2_pcrextend", std::to_string(e.pcr) + ":sha256=" + hex_encode(e.digest)});
  }

  // A plausible UEFI boot: firmware measurements, Secure Boot variables, boot order, entries.
  static EventLogBuilder typical(bool secure_boot_on = true,
                                 const std::string& boot_order = std::string("\x01\0\x02\0", 4)) {
    EventLogBuilder b;
    b.add(0, 0x8, std::string("1.0.0-test-crtm", 15));  // EV_S_CRTM_VERSION
    b.add(0, 0x8000000A,
          std::string("\x0b"
                      "FirmwareVol",
                      12));                  // EV_EFI_PLATFORM_FIRMWARE_BLOB2
    b.add(0, 0x1, std::string(16, '\x42'));  // EV_POST_CODE
    b.add(7, 0x80000001, uefi_variable("SecureBoot", std::string(1, secure_boot_on ? 1 : 0)));
    b.add(7, 0x80000001, uefi_variable("PK", "pk-cert-list"));
    b.add(7, 0x80000001, uefi_variable("KEK", "kek-cert-list"));
    b.add(7, 0x80000001, uefi_variable("db", "db-cert-list"));
    b.add(7, 0x80000001, uefi_variable("dbx", "dbx-hash-list"));
    b.add(1, 0x80000002, uefi_variable("BootOrder", boot_order));
    b.add(1, 0x80000002, uefi_variable("Boot0001", load_option("debian")));
    b.add(1, 0x80000002, uefi_variable("Boot0002", load_option("UEFI PXEv4")));
    for (uint32_t pcr = 0; pcr < 8; ++pcr) b.add(pcr, 0x4, std::string(4, '\0'));  // EV_SEPARATOR
    return b;
  }

 private:
  std::string bytes_;
  std::vector<Event> events_;
};

}  // namespace seatlock::test::col
