#include "os/tpm/remote_round.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "core/attest/qualifying_data.hpp"
#include "core/attest/snapshot_digest.hpp"
#include "core/attest/wire.hpp"
#include "core/util/digest.hpp"
#include "os/base/atomic_file.hpp"

namespace seatlock::tpm {
namespace {

using nlohmann::json;

// A failed step: the outcome's code and reason.
struct Stop {
  std::string code, reason;
};

std::string enrollment_path(const TpmConfig& c) {
  return c.state_dir + "/" + kEnrollmentFile;
}

json read_enrollment(const TpmConfig& c) {
  std::ifstream in(enrollment_path(c));
  // No record (never enrolled, or an enrollment that failed after the AK was made) is an empty
  // object, so the caller enrolls again instead of throwing on value().
  if (!in) return json::object();
  json j = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  return j.is_object() ? j : json::object();
}

void write_enrollment(const TpmConfig& c, const json& record) {
  try {
    atomic_write(enrollment_path(c), record.dump() + "\n", 0600);
  } catch (const AtomicWriteError& e) {
    throw Stop{"state-dir", e.what()};
  }
}

// The collector's JSON answer to one step; throws Stop for anything but a 200 with JSON.
json answer(const char* step, const CollectorReply& r) {
  if (r.status == 0) throw Stop{"collector-unreachable", std::string(step) + ": " + r.error};
  if (r.status != 200)
    throw Stop{"collector-refused",
               std::string(step) + ": HTTP " + std::to_string(r.status) + " " + r.body};
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Stop{"collector-answer", std::string(step) + ": the answer is not a JSON object"};
  return j;
}

template <class T>
T need(Expected<T> e) {
  if (!e) throw Stop{e.error().code, e.error().reason};
  return std::move(*e);
}

class Round {
 public:
  Round(const TpmConfig& c, const std::string& collector, const CollectorTransport& t)
      : config_(c), collector_(collector), http_(t) {}

  RoundOutcome run(const json& snapshot) {
    RoundOutcome out;
    try {
      tpm_ = need(open_tpm_attestor(config_));
      auto material = need(tpm_->enrollment());
      std::string ak_name = base64_encode(material.ak_name);
      json record = read_enrollment(config_);
      if (tpm_->ak_created() || record.value("ak_name", "") != ak_name ||
          record.value("collector", "") != collector_) {
        enroll(material, ak_name);
        out.enrolled = true;
      }
      out.verdict = quote(snapshot, out.quote_ms);
      // The collector no longer knows this AK (unpinned, or its store was replaced): enroll
      // again, once, and quote with a fresh challenge.
      if (!out.enrolled && refused_ak(out.verdict)) {
        enroll(material, ak_name);
        out.enrolled = true;
        out.verdict = quote(snapshot, out.quote_ms);
      }
      out.attested = true;
    } catch (const Stop& s) {
      out.code = s.code;
      out.reason = s.reason;
    }
    tpm_.reset();  // the TPM connection is not held between rounds
    return out;
  }

 private:
  static bool refused_ak(const json& verdict) {
    for (const auto& r : verdict.value("reasons", json::array()))
      if (r.is_string() && r.get<std::string>().find("no pinned AK") != std::string::npos)
        return true;
    return false;
  }

  void enroll(const attest::EnrollmentMaterial& m, const std::string& ak_name) {
    ::unlink(enrollment_path(config_).c_str());
    json enr = answer("enroll", http_.post("/v1/attest/enroll", attest::enroll_request(m).dump()));
    std::string error;
    auto parsed = attest::parse_enroll_answer(enr, error);
    if (!parsed) throw Stop{"collector-answer", "enroll answer: " + error};
    std::string secret =
        need(tpm_->activate_credential(parsed->credential_blob, parsed->encrypted_secret));
    answer("activate", http_.post("/v1/attest/activate",
                                  attest::activate_request(parsed->enrollment, secret).dump()));
    write_enrollment(config_, {{"ak_name", ak_name},
                               {"collector", collector_},
                               {"enrollment", parsed->enrollment},
                               {"ek_cert_status", parsed->ek_cert_status}});
  }

  json quote(const json& snapshot, double& quote_ms) {
    json ch = answer("challenge", http_.get("/v1/attest/challenge"));
    std::string error;
    auto nonce = attest::parse_challenge(ch, error);
    if (!nonce) throw Stop{"collector-answer", "challenge answer: " + error};
    attest::QuoteEvidence ev;
    ev.nonce_hex = *nonce;
    ev.snapshot = snapshot;
    ev.snapshot_digest_hex = attest::snapshot_digest_hex(snapshot);
    auto qd = attest::qualifying_data(ev.nonce_hex, ev.snapshot_digest_hex);
    if (!qd) throw Stop{"collector-answer", "challenge answer: the nonce is not 64 hex digits"};
    TpmQuote q = need(tpm_->quote(*qd));
    ev.quote = q.quote;
    ev.signature = q.signature;
    ev.pcrs_sha256 = q.pcrs_sha256;
    ev.event_log = tpm_->event_log().bytes;  // absent: the collector says what that costs
    ev.quote_ms = quote_ms = q.quote_ms;
    return answer("quote", http_.post("/v1/attest/quote", attest::quote_request(ev).dump()));
  }

  const TpmConfig& config_;
  const std::string& collector_;
  const CollectorTransport& http_;
  std::unique_ptr<TpmAttestor> tpm_;
};

}  // namespace

RoundOutcome attest_round(const TpmConfig& config, const std::string& collector_id,
                          const CollectorTransport& transport, const json& snapshot) {
  return Round(config, collector_id, transport).run(snapshot);
}

}  // namespace seatlock::tpm
