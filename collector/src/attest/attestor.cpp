#include "attest/attestor.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <time.h>

#include "attest/boot_facts.hpp"
#include "attest/ek_cert.hpp"
#include "attest/event_log.hpp"
#include "attest/make_credential.hpp"
#include "attest/quote.hpp"
#include "attest/tpm_keys.hpp"
#include "attest/verdict_event.hpp"
#include "audit/collector_log.hpp"
#include "core/event/event.hpp"
#include "core/util/digest.hpp"

namespace seatlock::collector::attest {
namespace {

using nlohmann::json;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string b64(const json& req, const char* field) {
  auto it = req.find(field);
  std::string out;
  if (it == req.end() || !it->is_string() || !base64_decode(it->get<std::string>(), out))
    throw AttestError(std::string("\"") + field + "\": expected base64");
  return out;
}

std::string unhex(const json& v, const char* field, size_t bytes) {
  if (!v.is_string() || v.get<std::string>().size() != bytes * 2)
    throw AttestError(std::string("\"") + field + "\": expected " + std::to_string(bytes * 2) +
                      " hex digits");
  const std::string& s = v.get_ref<const std::string&>();
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    auto nib = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      throw AttestError(std::string("\"") + field + "\": not hex");
    };
    out += static_cast<char>(nib(s[i]) << 4 | nib(s[i + 1]));
  }
  return out;
}

std::string random_hex(size_t bytes) {
  std::string r(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(r.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no randomness");
  return hex_encode(r);
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

constexpr const char* kReportedNote =
    "not measured by firmware, so not provable by the TPM: the BIOS admin password, USB boot and "
    "other firmware-attributes settings below are the seat's own report";

}  // namespace

Attestor::Attestor(AttestStore& store, AttestConfig config, audit::CollectorLog* log)
    : store_(store), config_(std::move(config)), log_(log), nonces_(config_.nonce_ttl) {}

json Attestor::enroll(const std::string& seat, const json& req) {
  if (!req.is_object()) throw AttestError("enrollment request must be a JSON object");
  std::string ek_bytes = b64(req, "ek_public"), ak_bytes = b64(req, "ak_public");
  std::string ak_name = b64(req, "ak_name");
  std::optional<std::string> ek_cert;
  if (req.contains("ek_cert") && !req["ek_cert"].is_null()) ek_cert = b64(req, "ek_cert");

  TPM2B_PUBLIC ek = unmarshal_public(ek_bytes, "ek_public");
  TPM2B_PUBLIC ak = unmarshal_public(ak_bytes, "ak_public");
  check_ak_attributes(ak.publicArea);
  // ak_name is a TPM2B_NAME: 2-byte size, then the name; it must be the name of ak_public.
  std::string name = tpm_name(ak.publicArea);
  if (ak_name.size() != name.size() + 2 || ak_name.substr(2) != name)
    throw AttestError("ak_name is not the name of ak_public");

  // A seat stays with the TPM it enrolled with: otherwise root on the seat could enroll a
  // software TPM and quote whatever PCRs it likes. A new AK in the same TPM is fine.
  std::string ek_b64 = base64_encode(ek_bytes);
  refuse_other_ek(seat, ek_b64);

  Pending p;
  p.seat = seat;
  p.secret.assign(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(p.secret.data()), 32) != 1)
    throw std::runtime_error("no randomness");
  Credential cred = make_credential(ek.publicArea, name, p.secret);
  p.ek_cert_status = check_ek_cert(ek_cert, ek.publicArea, config_.ek_ca_files);
  p.ak_public_b64 = base64_encode(ak_bytes);
  p.ek_public_b64 = ek_b64;
  p.expires = std::chrono::steady_clock::now() + config_.enrollment_ttl;
  std::string id = random_hex(16);
  json answer = {{"enrollment", id},
                 {"credential_blob", base64_encode(cred.credential_blob)},
                 {"encrypted_secret", base64_encode(cred.encrypted_secret)},
                 {"ek_cert_status", p.ek_cert_status}};
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();)
    it = it->second.expires <= now ? pending_.erase(it) : std::next(it);
  if (pending_.size() >= kMaxPendingEnrollments)
    throw std::runtime_error("too many enrollments waiting for activation; retry later");
  pending_[id] = std::move(p);
  return answer;
}

ActivateResult Attestor::activate(const std::string& seat, const json& req) {
  if (!req.is_object() || !req.contains("enrollment") || !req["enrollment"].is_string())
    return {400, "\"enrollment\": expected the id from /v1/attest/enroll"};
  std::string secret;
  try {
    secret = b64(req, "secret");
  } catch (const AttestError& e) {
    return {400, e.what()};
  }
  std::lock_guard lock(mu_);
  auto it = pending_.find(req["enrollment"].get<std::string>());
  if (it == pending_.end() || it->second.expires <= std::chrono::steady_clock::now())
    return {403, "unknown or expired enrollment"};
  Pending p = it->second;
  pending_.erase(it);  // one attempt per credential
  if (p.seat != seat) return {403, "enrollment belongs to another seat"};
  if (secret.size() != p.secret.size() ||
      CRYPTO_memcmp(secret.data(), p.secret.data(), secret.size()) != 0)
    return {403, "activated secret is wrong: the AK is not in the TPM that holds this EK"};
  if (auto pin = store_.pinned_ak(seat); pin && pin->ek_public != p.ek_public_b64)
    return {403, "seat is pinned to another TPM's EK"};
  store_.pin_ak(PinnedAk{seat, p.ak_public_b64, p.ek_public_b64, p.ek_cert_status, now_ms()});
  return {200, "AK pinned for seat " + seat};
}

json Attestor::challenge(const std::string& seat) {
  auto issued = nonces_.issue(seat);
  return {{"nonce", hex_encode(issued.nonce)}, {"expires", rfc3339(issued.expires)}};
}

json Attestor::quote(const std::string& seat, const json& req) {
  double cpu0 = thread_cpu_ms();
  json verdict = {{"kind", "firmware.attested"}, {"seat", seat}};
  json reasons = json::array(), diffs = json::array();
  std::string facts_json;
  std::string result = "failed";
  try {
    if (!req.is_object()) throw AttestError("quote request must be a JSON object");
    // The nonce first: whatever else is wrong, this challenge is spent.
    std::string nonce = unhex(req.value("nonce", json()), "nonce", 32);
    if (std::string why = nonces_.consume(seat, nonce); !why.empty()) throw AttestError(why);
    std::string snap_digest = unhex(req.value("snapshot_digest", json()), "snapshot_digest", 32);
    if (!req.contains("snapshot") || !req["snapshot"].is_object())
      throw AttestError("\"snapshot\": expected the firmware snapshot object");
    if (sha256_hex(canonical_bytes(req["snapshot"])) != hex_encode(snap_digest))
      throw AttestError("snapshot does not match snapshot_digest");
    verdict["reported_by_seat"] = {{"note", kReportedNote}, {"snapshot", req["snapshot"]}};
    if (req.contains("quote_ms") && req["quote_ms"].is_number())
      verdict["seat_quote_ms"] = req["quote_ms"];

    std::optional<PinnedAk> pin;
    {
      std::lock_guard lock(mu_);
      pin = store_.pinned_ak(seat);
    }
    if (!pin) throw AttestError("seat has no pinned AK (enroll and activate first)");
    std::string ak_bytes;
    base64_decode(pin->ak_public, ak_bytes);
    TPM2B_PUBLIC ak = unmarshal_public(ak_bytes, "pinned AK");
    verdict["ek_cert_status"] = pin->ek_cert_status;

    PcrValues pcrs;
    const json& bank = req.value("pcrs", json::object()).value("sha256", json::object());
    for (int i = 0; i < kQuotedPcrs; ++i)
      pcrs[i] = unhex(bank.value(std::to_string(i), json()), "pcrs.sha256", 32);
    verify_quote(b64(req, "quote"), b64(req, "signature"), ak.publicArea,
                 qualifying_data(nonce, snap_digest), pcrs);

    if (!req.contains("event_log") || req["event_log"].is_null())
      throw AttestError("no event log: the quote is genuine but what booted cannot be shown");
    std::string log_bytes = b64(req, "event_log");
    EventLog log = parse_event_log(log_bytes);
    auto replayed = replay_sha256(log);
    for (int i = 0; i < kQuotedPcrs; ++i)
      if (replayed[i] != pcrs[i])
        throw AttestError("event log does not replay to the quoted PCR " + std::to_string(i) +
                          " (log tampered with, or events missing)");
    BootFacts facts = evaluate(log);
    facts_json = to_json(facts).dump();
    verdict["measured"] = to_json(facts);
    // The quote is genuine and the log proven: a snapshot that contradicts it was made up.
    if (auto lies = contradictions(req["snapshot"], facts); !lies.empty())
      throw AttestError("the seat's firmware snapshot contradicts its quoted boot: " + lies[0] +
                        "; nothing this seat reports can be trusted");

    std::optional<BootBaseline> base;
    {
      std::lock_guard lock(mu_);
      base = store_.baseline(seat);
    }
    if (!base) {
      result = "drift";
      diffs.push_back(
          "no boot baseline for this seat: capture one with "
          "`seatlock-collector attest baseline --seat " +
          seat + "`");
    } else {
      for (auto& d : differences(boot_facts_from_json(json::parse(base->facts_json)), facts))
        diffs.push_back(d);
      result = diffs.empty() ? "verified" : "drift";
    }
  } catch (const std::exception& e) {  // AttestError, and json errors in odd documents
    reasons.push_back(e.what());
    result = "failed";
  }
  verdict["result"] = result;
  verdict["reasons"] = reasons;
  verdict["differences"] = diffs;
  verdict["verify_cpu_ms"] = thread_cpu_ms() - cpu0;
  VerdictRecord rec{0, seat, now_ms(), result, "", facts_json};
  verdict["time"] =
      rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(rec.time_ms)));
  rec.json = verdict.dump();
  {
    std::lock_guard lock(mu_);
    store_.add_verdict(rec);
  }
  // The auditor's copy: a signed collector event beside the seat's own events. If it cannot be
  // recorded the seat gets an error (500) and attests again later; `attest show` has the row.
  if (log_) log_->record(verdict_event(seat, verdict, rec.id));
  return verdict;
}

void Attestor::refuse_other_ek(const std::string& seat, const std::string& ek_b64) {
  std::lock_guard lock(mu_);
  auto pin = store_.pinned_ak(seat);
  if (pin && pin->ek_public != ek_b64)
    throw AttestForbidden("seat " + seat +
                          " is pinned to another TPM's EK; if its TPM was replaced, run "
                          "`seatlock-collector attest unpin --seat " +
                          seat + " --ticket ...`");
}

bool Attestor::unpin(const std::string& seat, const std::string& ticket) {
  std::lock_guard lock(mu_);
  if (!store_.unpin_ak(seat)) return false;
  json record = {{"kind", "attest.unpinned"},
                 {"seat", seat},
                 {"ticket", ticket},
                 {"time", rfc3339(std::chrono::system_clock::now())}};
  VerdictRecord rec{0, seat, now_ms(), "unpinned", record.dump(), ""};
  store_.add_verdict(rec);
  if (log_) log_->record(admin_event("attest.unpinned", seat, ticket, nlohmann::json::object()));
  return true;
}

BootBaseline Attestor::baseline_from_last(const std::string& seat, const std::string& ticket) {
  std::lock_guard lock(mu_);
  auto last = store_.last_proven(seat);
  if (!last)
    throw std::runtime_error("seat " + seat +
                             " has no attestation with a proven event log to take a baseline from");
  BootBaseline b{seat, last->facts_json, ticket, now_ms()};
  store_.set_baseline(b);
  if (log_)
    log_->record(admin_event(
        "attest.baseline_set", seat, ticket,
        {{"baseline", json::parse(b.facts_json)}, {"from_attest_verdict_id", last->id}}));
  return b;
}

}  // namespace seatlock::collector::attest
