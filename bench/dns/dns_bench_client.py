#!/usr/bin/env python3
"""Client side of the DNS guard benchmark (bench/dns/run.sh runs it inside the seat namespace).

  latency N NAME DIRECT_ADDR DIRECT_PORT GUARDED_ADDR GUARDED_PORT
      N rounds, each one query straight to the resolver (a port the redirect does not touch)
      and one to port 53 (redirected to the guard), alternating so both see the same machine
      load (the guard's answer may be REFUSED: a refused name's latency is measured too). Prints p50/p90/p99/max of each and of the difference, in microseconds.
  firstconn N SUFFIX RESOLVER PORT TCP_PORT
      N times: look up h<i>.SUFFIX (a name nobody looked up before, so its address is not in
      any set yet), then connect at once to the answered address. A connection counts as
      dropped when it fails or its first SYN was lost (connect took >= 900 ms: the kernel
      retransmits a SYN after 1 s). Prints the counts and connect time percentiles.

Queries are built by hand (one question, RD set) and only the answer's header, its last A
record and the id are read: the zone is ours, every answer is one A record or none. This is a
load generator, not a parser the product relies on (the guard parses with ldns).
"""
import socket
import struct
import sys
import time


def query_bytes(qid, name, qtype=1):
    q = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\0" + struct.pack("!HH", qtype, 1)


def ask(sock, addr, qid, name, timeout=2.0):
    """One UDP query; returns (rcode, last 4 bytes of an answer with one A record or None)."""
    sock.settimeout(timeout)
    sock.sendto(query_bytes(qid, name), addr)
    while True:
        data, _ = sock.recvfrom(4096)
        rid, flags, _, ancount = struct.unpack("!HHHH", data[:8])
        if rid != qid:
            continue  # a late answer to an earlier query that timed out
        rcode = flags & 0xF
        if rcode == 0 and ancount >= 1 and data[-6:-4] == b"\x00\x04":
            return rcode, socket.inet_ntoa(data[-4:])
        return rcode, None


def client_socket():
    """UDP from 127.0.0.2: never the 5-tuple of one of the guard's own upstream flows (from
    127.0.0.1), whose conntrack entry would carry a reused port past the nat redirect."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.2", 0))
    return s


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def summary(label, us):
    return (f"{label:<22} p50 {pct(us, 50):8.1f}  p90 {pct(us, 90):8.1f}  p99 {pct(us, 99):8.1f}"
            f"  max {max(us):9.1f}  (us, n={len(us)})")


def latency(n, name, daddr, dport, gaddr, gport):
    sock = client_socket()
    direct, guarded, failures, rcodes = [], [], 0, {}
    for i in range(20):  # warm-up: caches, the first set element, page faults
        ask(sock, (daddr, dport), 1 + i, name)
        ask(sock, (gaddr, gport), 100 + i, name)
    for i in range(n):
        qid = 1000 + (2 * i) % 60000
        try:
            t0 = time.perf_counter_ns()
            ask(sock, (daddr, dport), qid, name)
            t1 = time.perf_counter_ns()
            rcode, _ = ask(sock, (gaddr, gport), qid + 1, name)
            t2 = time.perf_counter_ns()
        except socket.timeout:
            failures += 1
            continue
        rcodes[rcode] = rcodes.get(rcode, 0) + 1
        direct.append((t1 - t0) / 1000.0)
        guarded.append((t2 - t1) / 1000.0)
    added = [g - d for d, g in zip(direct, guarded)]
    print(summary("direct (no guard)", direct))
    print(summary("through the guard", guarded))
    print(f"added latency          p50 {pct(guarded, 50) - pct(direct, 50):8.1f}"
          f"  p99 {pct(guarded, 99) - pct(direct, 99):8.1f}  (us; difference of the percentiles)")
    print(summary("added, per pair", added))
    print(f"answers through the guard by rcode: {rcodes}; rounds without an answer: {failures}")
    return 0 if failures == 0 else 1


def firstconn(n, suffix, raddr, rport, tcp_port):
    sock = client_socket()
    dropped, unresolved, connect_us, examples = 0, 0, [], []
    t_start = time.monotonic()
    for i in range(n):
        rcode, addr = ask(sock, (raddr, rport), 1 + i % 60000, f"h{i}.{suffix}")
        if addr is None:
            unresolved += 1
            if len(examples) < 5:
                examples.append(f"h{i}.{suffix}: rcode {rcode}, no address")
            continue
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(3.0)
        t0 = time.perf_counter_ns()
        try:
            c.connect((addr, tcp_port))
            us = (time.perf_counter_ns() - t0) / 1000.0
            connect_us.append(us)
            if us >= 900_000:
                dropped += 1
                if len(examples) < 5:
                    examples.append(f"h{i}.{suffix} -> {addr}: first SYN lost ({us / 1000:.0f} ms)")
        except OSError as e:
            dropped += 1
            if len(examples) < 5:
                examples.append(f"h{i}.{suffix} -> {addr}: {e}")
        finally:
            c.close()
    took = time.monotonic() - t_start
    print(f"lookups then immediate connects: {n}, dropped {dropped}, unresolved {unresolved}"
          f" ({took:.1f} s, {n / took:.0f} lookup+connect/s)")
    if connect_us:
        print(summary("connect time", connect_us))
    for e in examples:
        print("  " + e)
    return 0 if dropped == 0 and unresolved == 0 else 1


def main():
    if len(sys.argv) == 8 and sys.argv[1] == "latency":
        a = sys.argv
        return latency(int(a[2]), a[3], a[4], int(a[5]), a[6], int(a[7]))
    if len(sys.argv) == 7 and sys.argv[1] == "firstconn":
        a = sys.argv
        return firstconn(int(a[2]), a[3], a[4], int(a[5]), int(a[6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
