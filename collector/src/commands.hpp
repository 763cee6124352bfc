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
int cmd_fleet(const ArgList& args, std::ostream& out);  // fleet check|diff|publish|keygen (fleet/)

}  // namespace seatlock::collector
