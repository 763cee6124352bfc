#include "console/password.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace seatlock::collector::console {

void ensure_sodium() {
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] { rc = sodium_init(); });
  if (rc < 0) throw std::runtime_error("libsodium: sodium_init failed");
}

std::string hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("password hashing failed (out of memory for Argon2id's 64 MiB?)");
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool needs_rehash(const std::string& hash) {
  ensure_sodium();
  return crypto_pwhash_str_needs_rehash(hash.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

const std::string& dummy_hash() {
  static const std::string h = [] {
    ensure_sodium();
    unsigned char pw[32];
    randombytes_buf(pw, sizeof pw);
    return hash_password(std::string(reinterpret_cast<char*>(pw), sizeof pw));
  }();
  return h;
}

std::optional<std::string> name_problem(const std::string& name) {
  if (name.empty()) return "the account name is empty";
  if (name.size() > 32)
    return "the account name has " + std::to_string(name.size()) + " characters; at most 32";
  if (name[0] < 'a' || name[0] > 'z') return "the account name must start with a lower-case letter";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      std::string shown = (c >= 0x21 && c < 0x7f)
                              ? std::string("'") + c + "'"
                              : "a byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) +
                                    "0123456789abcdef"[c & 15];
      return "the account name contains " + shown +
             "; use lower-case letters, digits, '.', '_' or '-'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> password_problem(const std::string& password) {
  if (password.size() < 12)
    return "the password has " + std::to_string(password.size()) + " bytes; at least 12";
  if (password.size() > 1024) return "the password is longer than 1024 bytes";
  for (unsigned char c : password)
    if (c < 0x20 || c == 0x7f) return "the password contains a control character";
  return std::nullopt;
}

bool is_role(const std::string& role) {
  return role == "auditor" || role == "admin";
}

}  // namespace seatlock::collector::console
