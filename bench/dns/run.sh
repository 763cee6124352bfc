#!/usr/bin/env bash
# DNS guard benchmarks (issue 16; docs/dns.md), as root, in network namespaces of their own
# (never the host's). A real unbound serves a test zone in the seat namespace on 127.0.0.53
# (port 53, which the redirect sends to the guard, and port 5353, which it does not: the
# "direct" path); the guard is sl_dns_guard with the seatlock ruleset of a domain allowlist,
# pinned to one core; a peer namespace answers TCP on every address of 10.99.0.0/16.
#   1. added latency of the guard over a direct query on loopback (p50, p99; goal p99 <= 0.5 ms)
#   2. throughput through the guard on one core (dnsperf; goal >= 20,000 queries/s)
#   3. first connection right after a lookup: dropped out of N (goal 0 of 10,000)
# usage: bash bench/dns/run.sh [BUILD_DIR] [LATENCY_ROUNDS] [FIRSTCONN_N] [DNSPERF_SECONDS]
#        (default build/test 5000 10000 10; needs sl_dns_guard and sl_net_probe built, and the
#        packages unbound and dnsperf: scripts/deps.d/dns.txt)
#        SEATLOCK_BENCH_PERF=PREFIX also records `perf record -g` of the guard during each
#        throughput run into PREFIX.allowed and PREFIX.refused (needs linux-perf).
set -euo pipefail
build=$(realpath "${1:-build/test}")
rounds=${2:-5000} firstconn_n=${3:-10000} seconds=${4:-10}
here=$(cd "$(dirname "$0")" && pwd)
guard_bin=$build/tests/dns/sl_dns_guard
probe=$build/tests/net/sl_net_probe
for f in "$guard_bin" "$probe"; do [ -x "$f" ] || { echo "missing $f (build it first)" >&2; exit 2; }; done
for t in unbound dnsperf taskset; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
id=sl-dnsb-$$
seat=$id-seat remote=$id-remote work=/tmp/$id
guard_core=$(( $(nproc) - 1 ))
cleanup() {
  for p in ${guard:-} ${unbound:-} ${server:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$seat" 2>/dev/null || true
  ip netns del "$remote" 2>/dev/null || true
  [ -n "${SEATLOCK_KEEP_BENCH:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"
in_seat() { ip netns exec "$seat" "$@"; }

echo "== setup: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), guard on core $guard_core"
echo "   guard binary: $guard_bin ($(stat -c %y "$guard_bin" | cut -d. -f1))"
ip netns add "$seat"; ip netns add "$remote"
ip -n "$seat" link add sdb0 type veth peer name sdb1 netns "$remote"
ip -n "$seat" addr add 10.98.0.1/24 dev sdb0
ip -n "$remote" addr add 10.98.0.2/24 dev sdb1
for ns in "$seat" "$remote"; do ip -n "$ns" link set lo up; done
ip -n "$seat" link set sdb0 up; ip -n "$remote" link set sdb1 up
ip -n "$seat" route add 10.99.0.0/16 via 10.98.0.2
ip -n "$remote" route add local 10.99.0.0/16 dev lo  # the peer answers on every address
ip netns exec "$remote" "$probe" serve 0.0.0.0 8080 > "$work/server.log" 2>&1 & server=$!

# The zone: lat (latency), t<i>.tp (throughput, 1,000 names), h<i>.fc (one name per
# first-connection round, each its own address), all allowed; *.evil.test is not.
python3 - "$work" "$firstconn_n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
addr = lambda i: "10.99.%d.%d" % (i // 250, i % 250 + 1)
with open(work + "/unbound.conf", "w") as f:
    f.write("server:\n  interface: 127.0.0.53@53\n  interface: 127.0.0.53@5353\n"
            "  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"%s\"\n"
            "  pidfile: \"%s/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  verbosity: 0\n"
            "  num-threads: 1\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n"
            "  module-config: \"iterator\"\n  local-zone: \"bench.test.\" static\n"
            "  local-zone: \"evil.test.\" static\n" % (work, work))
    f.write("  local-data: \"lat.bench.test. 300 IN A 10.99.250.1\"\n")
    for i in range(1000):
        f.write("  local-data: \"t%d.tp.bench.test. 300 IN A %s\"\n" % (i, addr(20000 + i)))
    for i in range(n):
        f.write("  local-data: \"h%d.fc.bench.test. 300 IN A %s\"\n" % (i, addr(i)))
    for i in range(1000):
        f.write("  local-data: \"r%d.evil.test. 300 IN A 10.99.251.1\"\n" % i)
    f.write("remote-control:\n  control-enable: no\n")
with open(work + "/allowed.txt", "w") as f:
    f.writelines("t%d.tp.bench.test A\n" % i for i in range(1000))
with open(work + "/refused.txt", "w") as f:
    f.writelines("r%d.evil.test A\n" % i for i in range(1000))
PY
cat > "$work/rules.json" <<'JSON'
{"mode":"enforce","closed":false,"allow":[],"inbound":[],"dhcp_servers":[],"dns":["127.0.0.53"],
 "ntp":[],"collector":[],"exceptions":[],"addresses":[],"log_rate":50,"log_group":4711,
 "domains":[{"names":["lat.bench.test","*.tp.bench.test","*.fc.bench.test"],
             "ports":[[8080,8080]],"proto":"tcp"}],
 "dns_guard_port":5399}
JSON
ip netns exec "$seat" unbound -d -c "$work/unbound.conf" > "$work/unbound.log" 2>&1 & unbound=$!
for i in $(seq 100); do
  in_seat dig +short +time=1 +tries=1 @127.0.0.53 -p 5353 lat.bench.test 2>/dev/null | grep -q 10.99 && break
  sleep 0.2
done

dnsperf_qps() {  # PORT FILE -> dnsperf's summary lines
  # From 127.0.0.2: a client port that equals one of the guard's recent upstream ports (from
  # 127.0.0.1) would match that flow's un-NATed conntrack entry and skip the redirect.
  in_seat taskset -c 0 dnsperf -a 127.0.0.2 -s 127.0.0.53 -p "$1" -d "$2" -l "$seconds" -c 1 -q 100 -t 2 2>&1 |
    grep -E 'Queries (sent|completed|lost)|Response codes|Queries per second|Average Latency'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "== 0. unbound alone, direct (port 5353), ${seconds} s of dnsperf"
dnsperf_qps 5353 "$work/allowed.txt" | sed 's/^/   /'

ip netns exec "$seat" taskset -c "$guard_core" "$guard_bin" --rules "$work/rules.json" --events "$work/events.jsonl" \
  > "$work/guard.log" 2>&1 & guard=$!
for i in $(seq 100); do grep -q ready "$work/guard.log" && break; sleep 0.1; done
grep -q ready "$work/guard.log" || { cat "$work/guard.log"; exit 1; }

echo "== 1. latency: $rounds rounds, direct (5353) and through the guard (53 -> 5399), alternating"
echo "   allowed name (the answer's address written to both tables' sets before the answer):"
in_seat python3 "$here/dns_bench_client.py" latency "$rounds" lat.bench.test 127.0.0.53 5353 127.0.0.53 53 |
  sed 's/^/   /'
echo "   refused name (the guard answers REFUSED itself; direct is unbound's answer):"
in_seat python3 "$here/dns_bench_client.py" latency "$rounds" r1.evil.test 127.0.0.53 5353 127.0.0.53 53 2>&1 |
  sed 's/^/   /' || true

for kind in allowed refused; do
  echo "== 2. throughput through the guard, $kind names, ${seconds} s of dnsperf (guard on core $guard_core)"
  c0=$(cpu_ticks "$guard")
  if [ -n "${SEATLOCK_BENCH_PERF:-}" ]; then  # a call-graph profile of the guard during the run
    perf record -q -g -p "$guard" -o "$SEATLOCK_BENCH_PERF.$kind" -- sleep "$seconds" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  out=$(dnsperf_qps 53 "$work/$kind.txt")
  [ -z "${perf_pid:-}" ] || { wait "$perf_pid" || true; perf_pid=""; }
  c1=$(cpu_ticks "$guard")
  echo "$out" | sed 's/^/   /'
  [ "$kind" = allowed ] || echo "$out" | grep -q 'REFUSED .*(100.00%)' ||
    echo "   WARNING: not every refused name was REFUSED: queries went past the guard"
  done_q=$(echo "$out" | awk '/Queries completed/ {print $3}')
  cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')
  awk -v q="$done_q" -v c="$cpu_s" 'BEGIN {printf "   guard CPU time %.2f s: %.0f queries per guard CPU-second\n", c, (c > 0 ? q / c : 0)}'
done

echo "== 3. first connection right after a lookup, $firstconn_n distinct names"
# Control: without a lookup the peer is not reachable (so a lost first SYN would show).
if in_seat "$probe" tcp 10.99.249.250 8080 700 >/dev/null 2>&1; then
  echo "   CONTROL FAILED: an address nobody looked up is reachable; the figures below mean nothing"
else
  echo "   control: an address nobody looked up is not reachable"
fi
in_seat python3 "$here/dns_bench_client.py" firstconn "$firstconn_n" fc.bench.test 127.0.0.53 53 8080 |
  sed 's/^/   /' || true

kill "$guard"; wait "$guard" 2>/dev/null || true; guard=""
echo "== guard: $(grep stopped "$work/guard.log" || tail -3 "$work/guard.log")"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
