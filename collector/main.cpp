// seatlock-collector: central store for seat evidence (serve, enroll, query, export, verify,
// seats).
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "attest/cmd_attest.hpp"
#include "commands.hpp"
#include "core/util/args.hpp"
#include "seatlock/version.hpp"

namespace {

const char* kUsage = R"(usage: seatlock-collector <command> [options]

  serve   --db FILE --cert server.pem --key server.key --ca seats-ca.pem
          [--listen 127.0.0.1:8443] [--tokens-only | --require-client-cert]
          [--max-connections N] [--max-unauthenticated N] [--max-unauthenticated-per-address N]
          [--stall-timeout S] [--handshake-timeout S] [--head-timeout S] [--body-timeout S]
          [--idle-timeout S]
          [--max-pending EVENTS] [--threads N] [--max-poll-wait S] [--ek-ca VENDOR-CAS.pem]
          [--bundles DIR]   (fleet bundles from `fleet publish`, answering GET /v1/policy)
          [--instance NAME] [--collector-key FILE]   (the collector's own signed chain
          collector:NAME; key default DB.collector.key, made on first use; docs/firmware.md)
          [--console-listen ADDR:PORT] [--fleet-config FILE]   (the web console on its own
          listener, without client certificates; fleet page config; docs/console.md)
          SIGTERM: finish requests in flight, exit; SIGHUP: reload --cert/--key/--ca
  enroll  --db FILE --seat ID [--key BASE64]      prints a new enrollment token for the seat
  query   --db FILE [--seat ID] [--user NAME] [--kind KIND] [--severity LEVEL]
          [--since TIME] [--until TIME] [--json | --csv] [--limit N]
  export  --db FILE --since TIME --until TIME --format csv|ndjson --out DIR
  verify  --db FILE [--seat ID] [--since TIME] [--until TIME]    exit 1 if anything is wrong
          [--collector-pubkey FILE]   (the collector chains must be signed with this key)
  verify-export FILE --manifest M [--collector-pubkey FILE] [--db FILE]
          a console export checked against its signed manifest (and the store); exit 1 if not
  seats   --db FILE [--silent-after N] [--heartbeat DURATION] [--json]
  token   list --db FILE | revoke --db FILE (--token TOKEN | --id HASH-PREFIX | --seat ID)
  user    add NAME --role auditor|admin | passwd NAME | disable NAME | enable NAME  --db FILE
          [--password-stdin]   (console accounts; else the password is asked twice, unechoed)
          | list --db FILE [--json]
  fleet   check --tree DIR | diff --tree DIR --against BUNDLES [--json] | keygen --out FILE
          | publish --tree DIR --key FILE --bundles BUNDLES [--expires 14d]   (docs/fleet.md)
          | status --db FILE [--bundles BUNDLES] [--group NAME --tree DIR] [--json]
  net     close|open (--seat ID | --group NAME | --all) [--until TIME] --ticket REF [--by NAME]
  grant   usb --seat ID --vid V --pid P [--serial S] [--read-only] --until TIME --ticket REF
          | net (--seat ID | --group NAME) (--user U | --usergroup G)... --to CIDR[,CIDR]
            [--ports 443,5060-5061] --until TIME --ticket REF
  revoke  --ticket REF          (net/grant/revoke: edit the fleet tree, publish at once, record;
          tree/key/bundles/store from flags, --config FILE or /etc/seatlock-collector/fleet.json)
  attest  show --db FILE --seat ID [--limit N] [--json]     TPM attestation verdicts (firmware.attested)
          baseline --db FILE --seat ID --ticket TEXT  boot baseline from the last proven attestation
          unpin --db FILE --seat ID --ticket TEXT     forget the pinned AK (TPM replaced)

TIME is RFC 3339 ("2026-11-28T14:00:00Z") or a date ("2026-11-28", midnight UTC); --until is exclusive.
Instead of --db FILE every command takes --store sqlite:FILE or
--store clickhouse:http://HOST:PORT[/?database=NAME] [--clickhouse-user NAME]
[--clickhouse-password-file FILE] (docs/clickhouse.md).
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace seatlock;
  using namespace seatlock::collector;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "--version") {
    std::printf("seatlock-collector %s\n", seatlock::kVersion);
    return 0;
  }
  ArgList args(argv + 2, argv + argc);
  try {
    if (cmd == "serve") return cmd_serve(args);
    if (cmd == "enroll") return cmd_enroll(args, std::cout);
    if (cmd == "query") return cmd_query(args, std::cout);
    if (cmd == "export") return cmd_export(args, std::cout);
    if (cmd == "verify") return cmd_verify(args, std::cout);
    if (cmd == "seats") return cmd_seats(args, std::cout);
    if (cmd == "token") return cmd_token(args, std::cout);
    if (cmd == "user") return cmd_user(args, std::cout);
    if (cmd == "fleet") return cmd_fleet(args, std::cout);
    if (cmd == "net") return cmd_net(args, std::cout);
    if (cmd == "grant") return cmd_grant(args, std::cout);
    if (cmd == "revoke") return cmd_revoke(args, std::cout);
    if (cmd == "attest") return cmd_attest(args, std::cout);
    if (cmd == "verify-export") return cmd_verify_export(args, std::cout);
    std::fprintf(stderr, "seatlock-collector: unknown command \"%s\"\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "seatlock-collector %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlock-collector %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
