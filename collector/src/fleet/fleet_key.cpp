#include "fleet_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "core/util/digest.hpp"
#include "signing.hpp"

namespace seatlock::collector::fleet_cli {
namespace {

void write_new(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace

FleetKey generate_fleet_key(const std::string& path) {
  Ed25519Key k = ed25519_generate();
  write_new(path, base64_encode(k.raw_private) + "\n", 0600);
  write_new(path + ".pub", base64_encode(k.raw_public) + "\n", 0644);
  return {k.raw_private, k.raw_public};
}

FleetKey read_fleet_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read fleet key " + path);
  std::string text;
  in >> text;
  FleetKey k;
  if (!base64_decode(text, k.raw_private) || k.raw_private.size() != 32)
    throw std::runtime_error(path +
                             ": expected a fleet key (base64 of 32 bytes, from `fleet keygen`)");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(k.raw_private.data()),
                                   32),
      EVP_PKEY_free);
  std::size_t n = 32;
  k.raw_public.resize(32);
  if (!key || EVP_PKEY_get_raw_public_key(
                  key.get(), reinterpret_cast<unsigned char*>(k.raw_public.data()), &n) != 1)
    throw std::runtime_error(path + ": not a usable Ed25519 private key");
  return k;
}

}  // namespace seatlock::collector::fleet_cli
