#pragma once
// IT's Ed25519 baseline-signing key: generate, load from PEM, sign. Also the small file helpers
// the baseline commands need.
#include <memory>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace seatlock::firmware {

class SigningKey {
 public:
  // A new random key.
  static SigningKey generate();
  // A PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"); throws std::runtime_error with
  // the reason when it is unreadable or not Ed25519.
  static SigningKey from_pem(const std::string& pem, const std::string& name);

  std::string private_pem() const;
  std::string public_raw() const;                    // 32 bytes
  std::string sign(std::string_view message) const;  // 64 bytes

 private:
  explicit SigningKey(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
};

// Whole file; throws std::runtime_error("<path>: <strerror>").
std::string read_file(const std::string& path);
// Replaces the file atomically (os/base/atomic_file.hpp) with the given mode; throws
// AtomicWriteError (a std::runtime_error) on failure.
void write_file(const std::string& path, const std::string& content, unsigned mode);

}  // namespace seatlock::firmware
