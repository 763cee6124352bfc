#pragma once
// The effective (merged, validated) policy. Produced only by policy/loader (parse + validate);
// every other component receives it as a value. Field meanings: policy/README.md; the JSON
// Schema policy/seatlock-policy.schema.json describes the same shape.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/util/time.hpp"

namespace seatlock {

enum class Mode { Enforce, Audit };
const char* to_string(Mode m);

// ---- usb ------------------------------------------------------------------------------------
struct UsbException {
  std::string vid;  // 4 lower-case hex digits
  std::string pid;  // 4 lower-case hex digits
  std::optional<std::string> serial;
  std::optional<std::string> port;  // sysfs port path such as "1-2" or "3-1.4"
  UnixMillis until = 0;
  std::string ticket;
  bool read_only = false;
  std::string comment;
  std::string source;  // "policy.d/90-seat.json" (where it came from, for events)
};

struct UsbPolicy {
  Mode mode = Mode::Enforce;
  // Interface class names allowed to bind (see core/usb for the name -> class code table):
  // e.g. "hid", "audio", "hub", "video", "smart-card", "printer", "wireless" (bluetooth).
  std::vector<std::string> allow_classes = {"hub", "hid", "audio"};
  std::vector<UsbException> exceptions;
};

// ---- network --------------------------------------------------------------------------------
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // == first for a single port
  bool operator==(const PortRange&) const = default;
};

struct Cidr {
  int family = 4;       // 4 or 6
  std::string address;  // network address in canonical text form ("10.0.0.0", "fd00::")
  int prefix = 32;
  std::string text() const { return address + "/" + std::to_string(prefix); }
  bool operator==(const Cidr&) const = default;
};

struct EgressRule {
  std::vector<Cidr> to;          // at least one
  std::vector<PortRange> ports;  // empty = all ports
  std::string proto = "any";     // "tcp", "udp", "any" (tcp+udp+icmp)
  std::string comment;
  bool essential = false;  // network.allow only: stays reachable while the internet is closed
};

// The domain names of an allow entry's `to` ("crm.example.com", "*.example.com"): reachable at
// the addresses the DNS guard saw in answers for them (core/dns, docs/dns.md), with the same
// ports and protocol. An entry that mixes names and CIDRs yields one EgressRule and one of these.
struct DomainRule {
  std::vector<std::string> names;  // canonical (policy/domain_name.hpp), at least one
  std::vector<PortRange> ports;    // empty = all ports
  std::string proto = "any";
  std::string comment;
  bool essential = false;  // as EgressRule::essential
};

// Inbound: who may open a connection to the seat (IT's SSH from a management range).
struct InboundRule {
  std::vector<Cidr> from;        // at least one
  std::vector<PortRange> ports;  // empty = all ports
  std::string proto = "any";     // "tcp", "udp", "any" (tcp+udp+icmp)
  std::string comment;
};

struct NetException {
  std::vector<std::string> users;   // user names as written in the policy
  std::vector<std::string> groups;  // group names; expanded to uids by the OS layer
  std::vector<EgressRule> allow;
  std::vector<DomainRule> allow_domains = {};  // the names among the allow entries' `to`
  UnixMillis until = 0;
  std::string ticket;
  std::string comment;
  std::string source;
};

// network.closed: the internet closed by IT (a fleet file written by `seatlock-collector net
// close`, or any policy file). While in force only essential allow entries and the management
// path stay reachable; at `until` the seat reopens by its own timer.
struct NetClosure {
  std::string ticket;
  std::string by;                   // "" when not given
  std::optional<UnixMillis> since;  // as written, informative
  std::optional<UnixMillis> until;  // nullopt = until opened
  std::string source;               // the file that closed it ("fleet/groups/x/95-net-closed.json")
};

struct PlannedAddress {
  std::string interface;  // "eth0", "enp3s0"
  Cidr address;           // the planned address with its prefix, e.g. 10.1.2.117/24
};

struct NetworkPolicy {
  Mode mode = Mode::Enforce;
  std::vector<EgressRule> allow;
  std::vector<DomainRule> allow_domains = {};  // the names among the allow entries' `to`
  std::optional<NetClosure> closed = {};       // network.closed, when present and not ended
  std::vector<InboundRule> inbound;  // new connections to the seat; everything else is denied
  std::vector<std::string> dns;      // resolver IPs the seat may query (udp+tcp 53)
  std::vector<std::string> ntp;      // NTP server IPs (udp 123)
  std::vector<NetException> exceptions;
  std::vector<PlannedAddress> addresses;
  std::int64_t denied_window_ms = 60'000;  // aggregation window for net.egress_denied
  std::uint32_t denied_log_rate = 50;      // log-rate limit, packets per second
  // network.dns_guard: the element timeout of an answer's address is
  // clamp(TTL, ttl_floor, 1 day) + grace; at most max_addresses_per_name per answer (docs/dns.md).
  struct DnsGuard {
    std::int64_t ttl_floor_ms = 30'000;
    std::int64_t grace_ms = 60'000;
    std::uint32_t max_addresses_per_name = 64;
  } dns_guard;
};

// ---- firmware -------------------------------------------------------------------------------
struct FirmwarePolicy {
  Mode mode = Mode::Audit;  // firmware cannot be enforced from the OS; audit = report only
  std::int64_t interval_ms = 6 * 3'600'000LL;  // how often to attest
  std::int64_t resend_ms = 24 * 3'600'000LL;   // repeat an unchanged result at most this often
  // Checks that must pass: admin_password, usb_boot_disabled, boot_order_locked,
  // usb_storage_disabled, secure_boot.
  std::vector<std::string> require = {"admin_password", "usb_boot_disabled", "secure_boot"};
  std::string baseline;                   // path of the signed baseline file ("" = none)
  std::vector<std::string> trusted_keys;  // base64 raw Ed25519 public keys of IT
  // Remote attestation with the seat's TPM (firmware.attestation; docs/firmware.md). Off unless
  // the section is present; quotes go to report.collector with report's TLS identity.
  struct Tpm {
    bool enabled = false;
    std::string tcti = "device:/dev/tpmrm0";  // tpm2-tss TCTI config string
    std::int64_t interval_ms = 6 * 3'600'000LL;
  } attestation;
};

// ---- report ---------------------------------------------------------------------------------
struct ReportPolicy {
  std::string seat_id;    // "" = use the hostname
  std::string collector;  // "https://host:port" ("" = keep events in the local spool only)
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string token_file;  // enrollment token (alternative to a client certificate)
  std::int64_t heartbeat_ms = 5 * 60'000LL;
  std::uint64_t spool_max_bytes = 256ULL << 20;
  std::uint32_t batch_max_events = 5000;
  // base64 raw Ed25519 public keys whose fleet bundles this seat accepts (docs/fleet.md).
  std::vector<std::string> fleet_keys;
};

struct Policy {
  UsbPolicy usb;
  NetworkPolicy network;
  FirmwarePolicy firmware;
  ReportPolicy report;
  nlohmann::json effective;          // the merged JSON document (what `policy show` prints)
  std::string sha256;                // sha256 of canonical bytes of `effective`
  std::vector<std::string> sources;  // file names merged, in order
};

}  // namespace seatlock
