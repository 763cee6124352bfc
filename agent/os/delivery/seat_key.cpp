#include "os/delivery/seat_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include "core/util/digest.hpp"
#include "os/base/atomic_file.hpp"

namespace seatlock {

struct SeatKey::Impl {
  EVP_PKEY* key = nullptr;
  ~Impl() { EVP_PKEY_free(key); }
};

namespace {

EVP_PKEY* read_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return nullptr;
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!k) throw std::runtime_error("seat key " + path + ": not a PEM private key");
  if (EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    throw std::runtime_error("seat key " + path + ": not an Ed25519 key");
  }
  return k;
}

// The key in PEM (PKCS#8), as written to the key file.
std::string private_pem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  char* data = nullptr;
  long n = bio && PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr) == 1
               ? BIO_get_mem_data(bio, &data)
               : -1;
  std::string pem = n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
  BIO_free(bio);
  if (pem.empty()) {
    EVP_PKEY_free(k);
    throw std::runtime_error("seat key: cannot encode the new key");
  }
  return pem;
}

EVP_PKEY* create_key(const std::string& path) {
  EVP_PKEY* k = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0) {
    EVP_PKEY_CTX_free(ctx);
    throw std::runtime_error("seat key: Ed25519 key generation failed");
  }
  EVP_PKEY_CTX_free(ctx);
  std::string pem = private_pem(k);
  try {
    atomic_write(path, pem, 0600);
  } catch (const AtomicWriteError& e) {
    EVP_PKEY_free(k);
    throw std::runtime_error(std::string("seat key: ") + e.what());
  }
  return k;
}

}  // namespace

SeatKey::SeatKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SeatKey::~SeatKey() = default;
SeatKey::SeatKey(SeatKey&&) noexcept = default;
SeatKey& SeatKey::operator=(SeatKey&&) noexcept = default;

SeatKey SeatKey::load_or_create(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->key = read_key(path);
  if (!impl->key) impl->key = create_key(path);
  ::chmod(path.c_str(), 0600);
  return SeatKey(std::move(impl));
}

std::string SeatKey::public_raw() const {
  unsigned char buf[32];
  size_t len = sizeof buf;
  if (EVP_PKEY_get_raw_public_key(impl_->key, buf, &len) != 1)
    throw std::runtime_error("seat key: no public key");
  return std::string(reinterpret_cast<char*>(buf), len);
}

std::string SeatKey::public_b64() const {
  return base64_encode(public_raw());
}

std::string SeatKey::sign(const std::string& message) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof sig;
  bool ok = md && EVP_DigestSignInit(md, nullptr, nullptr, nullptr, impl_->key) == 1 &&
            EVP_DigestSign(md, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) throw std::runtime_error("seat key: signing failed");
  return std::string(reinterpret_cast<char*>(sig), len);
}

std::string chain_head_message(const std::string& seat_id, std::uint64_t seq,
                               const std::string& hash_hex) {
  return "seatlock.chain/1 " + seat_id + " " + std::to_string(seq) + " " + hash_hex;
}

}  // namespace seatlock
