#include "attest/event_log.hpp"

#include <cstring>
#include <map>

#include "attest/tpm_keys.hpp"

namespace seatlock::collector::attest {
namespace {

constexpr uint16_t kAlgSha256 = 0x000B;
constexpr size_t kMaxEventData = 1 << 24;  // a real event is far smaller; refuse silly sizes

// A cursor over untrusted bytes: every read checks what is left.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  size_t offset() const { return pos_; }
  bool done() const { return pos_ == b_.size(); }
  uint32_t u32(const char* what) {
    auto s = take(4, what);
    return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
           uint32_t(uint8_t(s[3])) << 24;
  }
  uint16_t u16(const char* what) {
    auto s = take(2, what);
    return uint16_t(uint8_t(s[0]) | uint8_t(s[1]) << 8);
  }
  uint8_t u8(const char* what) { return uint8_t(take(1, what)[0]); }
  std::string_view take(size_t n, const char* what) {
    if (n > b_.size() - pos_)
      throw AttestError("event log: " + std::string(what) + " at offset " + std::to_string(pos_) +
                        " runs past the end (" + std::to_string(n) + " bytes, " +
                        std::to_string(b_.size() - pos_) + " left)");
    auto s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

// Digest sizes per algorithm id, from the Spec ID event.
std::map<uint16_t, uint16_t> parse_spec_id(std::string_view data) {
  static const char kSig[] = "Spec ID Event03";  // 16 bytes with the zero
  Reader r(data);
  auto sig = r.take(16, "Spec ID signature");
  if (std::memcmp(sig.data(), kSig, 16) != 0)
    throw AttestError("event log: first event is not a Spec ID Event03 (not a crypto-agile log)");
  r.u32("platformClass");
  r.u8("specVersionMinor");
  r.u8("specVersionMajor");
  r.u8("specErrata");
  r.u8("uintnSize");
  uint32_t n = r.u32("numberOfAlgorithms");
  if (n == 0 || n > 16)
    throw AttestError("event log: Spec ID lists " + std::to_string(n) + " algorithms");
  std::map<uint16_t, uint16_t> sizes;
  for (uint32_t i = 0; i < n; ++i) {
    uint16_t alg = r.u16("algorithmId");
    uint16_t size = r.u16("digestSize");
    if (size == 0 || size > 64)
      throw AttestError("event log: digest size " + std::to_string(size) + " for algorithm " +
                        std::to_string(alg));
    sizes[alg] = size;
  }
  if (!sizes.count(kAlgSha256) || sizes[kAlgSha256] != 32)
    throw AttestError("event log: no sha256 bank (32-byte digests) in the Spec ID event");
  return sizes;
}

}  // namespace

EventLog parse_event_log(std::string_view bytes) {
  Reader r(bytes);
  // First event: TCG_PCR_EVENT (SHA-1 format): pcr, type, digest[20], size, data.
  uint32_t pcr0 = r.u32("first event PCR index");
  uint32_t type0 = r.u32("first event type");
  r.take(20, "first event SHA-1 digest");
  uint32_t size0 = r.u32("first event size");
  if (pcr0 != 0 || type0 != kEvNoAction)
    throw AttestError("event log: first event is not EV_NO_ACTION on PCR 0");
  auto sizes = parse_spec_id(r.take(size0, "Spec ID event data"));

  EventLog log;
  while (!r.done()) {
    size_t at = r.offset();
    LogEvent e;
    e.pcr = r.u32("PCR index");
    e.type = r.u32("event type");
    if (e.pcr > 23)
      throw AttestError("event log: PCR index " + std::to_string(e.pcr) + " at offset " +
                        std::to_string(at));
    uint32_t count = r.u32("digest count");
    if (count == 0 || count > sizes.size())
      throw AttestError("event log: " + std::to_string(count) + " digests in the event at offset " +
                        std::to_string(at));
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t alg = r.u16("digest algorithm");
      auto it = sizes.find(alg);
      if (it == sizes.end())
        throw AttestError("event log: algorithm " + std::to_string(alg) +
                          " not in the Spec ID event, at offset " + std::to_string(at));
      auto d = r.take(it->second, "digest");
      if (alg == kAlgSha256) e.sha256 = std::string(d);
    }
    uint32_t size = r.u32("event size");
    if (size > kMaxEventData)
      throw AttestError("event log: event of " + std::to_string(size) + " bytes at offset " +
                        std::to_string(at));
    e.data = std::string(r.take(size, "event data"));
    if (e.type == kEvNoAction) {
      // "StartupLocality\0" + one byte: PCR 0 started at that locality instead of zero.
      static const char kLoc[] = "StartupLocality";
      if (e.data.size() == sizeof kLoc + 1 && std::memcmp(e.data.data(), kLoc, sizeof kLoc) == 0)
        log.startup_locality = uint8_t(e.data[sizeof kLoc]);
    } else if (e.sha256.empty()) {
      throw AttestError("event log: event at offset " + std::to_string(at) +
                        " has no sha256 digest");
    }
    log.events.push_back(std::move(e));
  }
  return log;
}

std::array<std::string, 8> replay_sha256(const EventLog& log) {
  std::array<std::string, 8> pcrs;
  for (auto& p : pcrs) p.assign(32, '\0');
  pcrs[0][31] = static_cast<char>(log.startup_locality);
  for (const auto& e : log.events) {
    if (e.type == kEvNoAction || e.pcr >= 8) continue;
    pcrs[e.pcr] = sha256(pcrs[e.pcr] + e.sha256);
  }
  return pcrs;
}

}  // namespace seatlock::collector::attest
