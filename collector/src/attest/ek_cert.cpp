#include "attest/ek_cert.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

#include "attest/tpm_keys.hpp"

namespace seatlock::collector::attest {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using StorePtr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)>;

// Every certificate of a PEM file (a vendor bundle may hold root and intermediates).
int add_pem_file(X509_STORE* store, const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "r"), std::fclose);
  if (!f) return -1;
  int n = 0;
  while (X509* c = PEM_read_X509(f.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, c);
    X509_free(c);
    ++n;
  }
  ERR_clear_error();  // the read that ended the loop
  return n;
}

// TPM EK certificates are often issued with X.509 quirks (critical SAN with TPM attributes).
int verify_cb(int ok, X509_STORE_CTX* ctx) {
  if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION) return 1;
  return ok;
}

}  // namespace

std::string check_ek_cert(const std::optional<std::string>& der, const TPMT_PUBLIC& ek,
                          const std::vector<std::string>& ca_files) {
  if (!der || der->empty()) return "absent";
  auto p = reinterpret_cast<const unsigned char*>(der->data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())), X509_free);
  if (!cert || p != reinterpret_cast<const unsigned char*>(der->data()) + der->size())
    return "untrusted: not a DER X.509 certificate";

  // The certificate must be for this EK, not any certificate the seat has lying around.
  EvpKey ek_key = public_key(ek);
  EVP_PKEY* cert_key = X509_get0_pubkey(cert.get());
  if (!cert_key || EVP_PKEY_eq(cert_key, ek_key.get()) != 1)
    return "untrusted: the certificate's key is not the EK";

  if (ca_files.empty()) return "untrusted: no vendor CA configured (--ek-ca)";
  StorePtr store(X509_STORE_new(), X509_STORE_free);
  for (const auto& f : ca_files)
    if (add_pem_file(store.get(), f) <= 0) return "untrusted: cannot read vendor CA file " + f;
  X509_STORE_set_verify_cb(store.get(), verify_cb);
  StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    return "untrusted: cannot set up chain verification";
  // Vendor intermediates sit in the same files as their roots; allow them as anchors' chain.
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1)
    return std::string("untrusted: ") +
           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  return "verified";
}

}  // namespace seatlock::collector::attest
