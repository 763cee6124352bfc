// The collector key file and the --instance / --collector-key options (collector_log.hpp).
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "attest/attest_store.hpp"
#include "audit/collector_log.hpp"
#include "core/util/digest.hpp"
#include "signing.hpp"

namespace seatlock::collector::audit {
namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path);
  }
}

std::string public_of(const std::string& raw_private, const std::string& path) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(raw_private.data()), 32),
      EVP_PKEY_free);
  std::string pub(32, '\0');
  std::size_t n = 32;
  if (!key ||
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pub.data()), &n) != 1)
    throw std::runtime_error(path + ": not a usable Ed25519 private key");
  return pub;
}

// Creates the key file atomically (written under a temporary name, then linked into place):
// two processes starting at once end up with the same key, never a half-written file.
void create_key(const std::string& path) {
  Ed25519Key k = ed25519_generate();
  // A unique temporary name (threads of one process may create at once too); mode 0600.
  std::string tmp = path + ".new.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw std::runtime_error("cannot create collector key " + path + ": " + std::strerror(errno));
  std::string text = base64_encode(k.raw_private) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write collector key " + tmp);
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && err != EEXIST)
    throw std::runtime_error("cannot create collector key " + path + ": " + std::strerror(err));
}

}  // namespace

CollectorIdentity load_or_create_identity(const std::string& key_path,
                                          const std::string& instance) {
  if (instance.empty()) throw std::runtime_error("--instance: must not be empty");
  for (unsigned char c : instance)
    if (c <= ' ' || c == 0x7f)
      throw std::runtime_error("--instance: no spaces or control characters, got \"" + instance +
                               "\"");
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      throw std::runtime_error("cannot read collector key " + key_path + ": " +
                               std::strerror(errno));
    create_key(key_path);
  }
  std::ifstream in(key_path);
  if (!in)
    throw std::runtime_error("cannot read collector key " + key_path + ": " + std::strerror(errno));
  std::string text;
  in >> text;
  CollectorIdentity id;
  id.instance = instance;
  if (!base64_decode(text, id.raw_private) || id.raw_private.size() != 32)
    throw std::runtime_error(key_path +
                             ": expected a collector key (base64 of a 32-byte Ed25519 key)");
  id.raw_public = public_of(id.raw_private, key_path);
  id.lock_path = key_path + ".lock";
  // FILE.pub: what auditors pin (`verify --collector-pubkey FILE.pub`).
  std::string pub_path = key_path + ".pub";
  if (::access(pub_path.c_str(), F_OK) != 0) {
    try {
      write_file(pub_path, base64_encode(id.raw_public) + "\n", 0644);
    } catch (const std::exception&) {
      // Another process wrote it at the same moment, or the directory is read-only for this
      // user: the private key alone is enough to record.
    }
  }
  return id;
}

std::set<std::string> collector_log_option_names() {
  return {"instance", "collector-key"};
}

std::string default_collector_key_path(const std::string& store_spec) {
  if (store_spec.rfind("sqlite:", 0) == 0) return store_spec.substr(7) + ".collector.key";
  if (store_spec.find(':') == std::string::npos) return store_spec + ".collector.key";
  return "/var/lib/seatlock-collector/collector.key";
}

std::string default_instance() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "collector";
  return host;
}

CollectorIdentity identity_from_args(const ArgParser& a, const std::string& store_spec) {
  return load_or_create_identity(
      a.get("collector-key").value_or(default_collector_key_path(store_spec)),
      a.get("instance").value_or(default_instance()));
}

std::unique_ptr<CollectorLog> collector_log_for_serve(EventStore& store,
                                                      const std::string& store_spec,
                                                      const std::string& key_path,
                                                      const std::string& instance) {
  if (key_path.empty() && attest::attest_db_path(store_spec).empty()) return nullptr;
  return std::make_unique<CollectorLog>(
      store,
      load_or_create_identity(key_path.empty() ? default_collector_key_path(store_spec) : key_path,
                              instance.empty() ? default_instance() : instance));
}

}  // namespace seatlock::collector::audit
