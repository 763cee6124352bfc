#pragma once
// Watches every nftables change in the current network namespace (NETLINK_NETFILTER,
// NFNLGRP_NFTABLES). Each committed transaction ends with NEWGEN, which names the process that
// made it; a transaction that touched one of the watched tables is reported with that pid/comm.
#include <cstdint>
#include <functional>
#include <set>
#include <string>

struct nlmsghdr;

namespace seatlock::net {

struct TableChange {
  std::uint32_t pid = 0;
  std::string comm;  // process name from NEWGEN
  std::uint32_t generation = 0;
  std::set<std::string> tables;    // watched tables it touched
  std::set<std::string> messages;  // "DELTABLE", "NEWRULE", ...
};

class TamperMonitor {
 public:
  // `on_change` runs for each transaction that touched a watched table; `on_overrun` when the
  // kernel dropped notifications (the caller must verify the tables itself).
  TamperMonitor(std::set<std::string> watched_tables,
                std::function<void(const TableChange&)> on_change,
                std::function<void()> on_overrun);
  ~TamperMonitor();
  TamperMonitor(const TamperMonitor&) = delete;
  TamperMonitor& operator=(const TamperMonitor&) = delete;

  int fd() const { return fd_; }
  void on_readable();

 private:
  void handle(const ::nlmsghdr* nlh);
  int fd_ = -1;
  std::set<std::string> watched_;
  std::function<void(const TableChange&)> on_change_;
  std::function<void()> on_overrun_;
  TableChange pending_;
};

}  // namespace seatlock::net
