#!/usr/bin/env python3
"""A tiny authoritative DNS server for the guard's netns tests (docs/dns.md "Tests").

    zone_server.py ADDRESS DELAY_SECONDS

Answers, over UDP on ADDRESS:53, each query in its own thread:
  slow.example.test    A 10.97.0.91 after DELAY_SECONDS (a resolver slow for one zone)
  rotate.example.test  A 10.97.0.92, .93, .94 in turn, one per answer, TTL 0 (rotating answers)
anything else: REFUSED. Prints "ready" and one "query NAME from SOURCE_PORT" line per query
(flushed).
dnsmasq forwards these two names here (--server=/slow.example.test/ADDRESS).
"""
import socket
import struct
import sys
import threading
import time

ROTATE = ["10.97.0.92", "10.97.0.93", "10.97.0.94"]
lock = threading.Lock()
turn = [0]


def question(msg):
    """(name, qtype, end offset of the question) of a query."""
    at, labels = 12, []
    while msg[at]:
        labels.append(msg[at + 1:at + 1 + msg[at]].decode().lower())
        at += 1 + msg[at]
    qtype = struct.unpack("!H", msg[at + 1:at + 3])[0]
    return ".".join(labels), qtype, at + 5


def reply(msg, addresses, ttl, rcode=0):
    name_end = question(msg)[2]
    flags = 0x8400 | (msg[2] & 0x01) << 8 | rcode  # QR, AA, RD copied
    out = msg[:2] + struct.pack("!HHHHH", flags, 1, len(addresses), 0, 0) + msg[12:name_end]
    for a in addresses:
        out += struct.pack("!HHHIH", 0xC00C, 1, 1, ttl, 4) + socket.inet_aton(a)
    return out


def answer(sock, msg, peer, delay):
    name, qtype, _ = question(msg)
    print("query", name, "from", peer[1], flush=True)
    if name == "slow.example.test":
        time.sleep(delay)
        out = reply(msg, ["10.97.0.91"] if qtype == 1 else [], 5)
    elif name == "rotate.example.test":
        with lock:
            address = ROTATE[turn[0] % len(ROTATE)]
            if qtype == 1:
                turn[0] += 1
        out = reply(msg, [address] if qtype == 1 else [], 0)
    else:
        out = reply(msg, [], 0, rcode=5)
    sock.sendto(out, peer)


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[1], 53))
    delay = float(sys.argv[2])
    print("ready", flush=True)
    while True:
        msg, peer = sock.recvfrom(4096)
        threading.Thread(target=answer, args=(sock, msg, peer, delay), daemon=True).start()


main()
