#include "os/dns/dns_wire.hpp"

#include <ldns/ldns.h>

#include <memory>

namespace seatlock::dns {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

Pkt read(const std::uint8_t* data, std::size_t len) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, data, len) != LDNS_STATUS_OK) return nullptr;
  return Pkt(p);
}

std::string text(const ldns_rdf* rdf) {
  if (!rdf) return "";
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return out;
}

std::string type_name(ldns_rr_type t) {
  char* s = ldns_rr_type2str(t);
  std::string out = s ? s : "";
  free(s);
  return out;
}

const ldns_rr* only_question(const ldns_pkt* p) {
  const ldns_rr_list* q = ldns_pkt_question(p);
  if (!q || ldns_rr_list_rr_count(q) != 1) return nullptr;
  return ldns_rr_list_rr(q, 0);
}

AnswerRecord::Type record_type(ldns_rr_type t) {
  switch (t) {
    case LDNS_RR_TYPE_A:
      return AnswerRecord::Type::A;
    case LDNS_RR_TYPE_AAAA:
      return AnswerRecord::Type::AAAA;
    case LDNS_RR_TYPE_CNAME:
      return AnswerRecord::Type::CNAME;
    default:
      return AnswerRecord::Type::Other;
  }
}

}  // namespace

std::optional<Query> parse_query(const std::uint8_t* data, std::size_t len) {
  Pkt p = read(data, len);
  if (!p || ldns_pkt_qr(p.get()) || ldns_pkt_get_opcode(p.get()) != LDNS_PACKET_QUERY)
    return std::nullopt;
  const ldns_rr* q = only_question(p.get());
  if (!q) return std::nullopt;
  return Query{ldns_pkt_id(p.get()), text(ldns_rr_owner(q)), type_name(ldns_rr_get_type(q))};
}

std::optional<Response> parse_response(const std::uint8_t* data, std::size_t len) {
  Pkt p = read(data, len);
  if (!p || !ldns_pkt_qr(p.get())) return std::nullopt;
  const ldns_rr* q = only_question(p.get());
  if (!q) return std::nullopt;
  Response r{ldns_pkt_id(p.get()), text(ldns_rr_owner(q)), ldns_pkt_tc(p.get()), {}};
  const ldns_rr_list* answer = ldns_pkt_answer(p.get());
  for (std::size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    AnswerRecord a;
    a.owner = text(ldns_rr_owner(rr));
    a.type = record_type(ldns_rr_get_type(rr));
    a.ttl = ldns_rr_ttl(rr);
    if (a.type != AnswerRecord::Type::Other && ldns_rr_rd_count(rr) == 1)
      a.data = text(ldns_rr_rdf(rr, 0));
    else
      a.type = AnswerRecord::Type::Other;
    r.answer.push_back(std::move(a));
  }
  return r;
}

std::vector<std::uint8_t> error_reply(const std::uint8_t* query, std::size_t len, int rcode) {
  if (len < 12) return {};
  Pkt in = read(query, len);
  Pkt out(ldns_pkt_new());
  if (!out) return {};
  // The header fields come from the raw bytes, so even an unreadable body gets its FORMERR.
  ldns_pkt_set_id(out.get(), std::uint16_t((query[0] << 8) | query[1]));
  ldns_pkt_set_qr(out.get(), true);
  ldns_pkt_set_rd(out.get(), (query[2] & 0x01) != 0);
  ldns_pkt_set_ra(out.get(), true);
  ldns_pkt_set_rcode(out.get(), static_cast<std::uint8_t>(rcode));
  if (in)
    if (const ldns_rr* q = only_question(in.get()))
      ldns_pkt_push_rr(out.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(q));
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, out.get(), &size) != LDNS_STATUS_OK) return {};
  std::vector<std::uint8_t> bytes(wire, wire + size);
  free(wire);
  return bytes;
}

}  // namespace seatlock::dns

namespace seatlock::dns {

std::vector<std::uint8_t> make_query(const std::string& name, bool aaaa, std::uint16_t id) {
  ldns_rdf* owner = ldns_dname_new_frm_str(name.c_str());
  if (!owner) return {};
  // ldns_pkt_query_new takes ownership of owner.
  Pkt p(ldns_pkt_query_new(owner, aaaa ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
                           LDNS_RD));
  if (!p) return {};
  ldns_pkt_set_id(p.get(), id);
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, p.get(), &size) != LDNS_STATUS_OK) return {};
  std::vector<std::uint8_t> bytes(wire, wire + size);
  free(wire);
  return bytes;
}

}  // namespace seatlock::dns
