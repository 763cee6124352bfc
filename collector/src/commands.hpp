#pragma once
// seatlock-collector subcommands; each returns the process exit code and writes to `out`.
#include <ostream>
#include <string>
#include <vector>

namespace seatlock::collector {

using ArgList = std::vector<std::string>;

int cmd_serve(const ArgList& args);
int cmd_enroll(const ArgList& args, std::ostream& out);
int cmd_query(const ArgList& args, std::ostream& out);
int cmd_export(const ArgList& args, std::ostream& out);
int cmd_verify(const ArgList& args, std::ostream& out);
int cmd_seats(const ArgList& args, std::ostream& out);
int cmd_token(const ArgList& args, std::ostream& out);  // token list | token revoke
// Console accounts: user add|passwd|disable|enable|list (cmd_user.cpp, console/).
int cmd_user(const ArgList& args, std::ostream& out);
int cmd_fleet(const ArgList& args, std::ostream& out);  // fleet check|diff|publish|keygen (fleet/)
// Central actions on the fleet tree, published at once and recorded (fleet/cmd_net.cpp,
// fleet/cmd_grant.cpp, docs/fleet.md "Actions from the center").
int cmd_net(const ArgList& args, std::ostream& out);     // net close|open
int cmd_grant(const ArgList& args, std::ostream& out);   // grant usb|net
int cmd_revoke(const ArgList& args, std::ostream& out);  // revoke --ticket REF
// Console exports: verify-export FILE --manifest M (console/export_verify.hpp).
int cmd_verify_export(const ArgList& args, std::ostream& out);

}  // namespace seatlock::collector
