#pragma once
// Errors of the TPM adapter as values: a stable code (what the `firmware.unattested` event
// carries) and a precise reason for people. Nothing here ever means "fine".
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace seatlock::tpm {

struct TpmError {
  // no-tpm-device | tpm-permission-denied | tcti | tpm-failure-mode | tpm-lockout | tpm-auth |
  // no-sha256-bank | state-dir | ak-unloadable | tpm-error
  std::string code;
  std::string reason;
};

// A tpm2-tss return code as a TpmError: "<what>: <decoded rc> (0x...)", with the code telling
// failure mode, dictionary-attack lockout and authorization failures apart.
TpmError tss_error(const std::string& what, std::uint32_t rc);

template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(TpmError error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() {
    if (!ok()) throw std::logic_error("Expected::value() on an error: " + error().reason);
    return std::get<0>(v_);
  }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const TpmError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, TpmError> v_;
};

}  // namespace seatlock::tpm
