#!/usr/bin/env bash
# Network benchmarks, as root, in namespaces of their own (never the host's):
#   1. compile + apply time for 10 / 1,000 / 10,000 CIDRs with 1,000 user exceptions
#   2. per-packet cost: sender CPU per UDP datagram with no ruleset, conntrack alone and both
#      tables at 10 and at 10,000 CIDRs + 1,000 exceptions, decided once per connection and
#      with every packet re-checked (bench_net_packets, alternated rounds)
#   3. seatlockd CPU time while 100,000 denied packets are sent
# usage: bash bench/net/run.sh [BUILD_DIR]   (default build/test; needs bench_net_apply,
#        bench_net_packets, seatlockd, seatlockctl and sl_net_probe built)
set -euo pipefail
build=$(realpath "${1:-build/test}")
probe=$build/tests/net/sl_net_probe
id=sl-net-bench-$$
seat=$id-seat remote=$id-remote work=/tmp/$id
cleanup() {
  [ -n "${daemon:-}" ] && kill -9 "$daemon" 2>/dev/null || true
  [ -n "${server:-}" ] && kill -9 "$server" 2>/dev/null || true
  ip netns del "$seat" 2>/dev/null || true
  ip netns del "$remote" 2>/dev/null || true
  ip netns del "$id-apply" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/policy.d" "$work/state"

echo "== 1. compile + apply (median of 7; first apply / raw nft -f, 7 alternated runs) =="
ip netns add "$id-apply"
"$build/bench/net/bench_net_apply" "$id-apply" 7
# (It also prints the first apply at 10,000 CIDRs against the raw `nft -f` anchor and against
# `nft -f` of the same transaction text, alternated in the same run.)

echo "== 2. per-packet cost (sender CPU per UDP datagram, alternated rounds) =="
# A connection-rate loop could not see a few percent (runs without a ruleset varied from 25k
# to 35k connections/s); CPU per packet for a fixed count can.
"$build/bench/net/bench_net_packets" 200000 7 10000
"$build/bench/net/bench_net_packets" 200000 7 10

ip netns add "$seat"; ip netns add "$remote"
ip -n "$seat" link add sl0 type veth peer name sl1 netns "$remote"
ip -n "$seat" addr add 10.99.0.1/24 dev sl0
ip -n "$remote" addr add 10.99.0.2/24 dev sl1
ip -n "$remote" addr add 10.99.0.80/24 dev sl1
for ns in "$seat" "$remote"; do ip -n "$ns" link set lo up; done
ip -n "$seat" link set sl0 up; ip -n "$remote" link set sl1 up
ip netns exec "$remote" "$probe" serve 0.0.0.0 8080 > "$work/server.log" 2>&1 & server=$!
python3 - "$work/policy.d/50-bench.json" <<'PY'
import json, random, sys
random.seed(7)
allow = [{"to": "10.99.0.2/32", "ports": [8080], "proto": "tcp"}]
for i in range(10000):
    a = random.randrange(1 << 24, 224 << 24)
    allow.append({"to": "%d.%d.%d.%d/32" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255), "ports": [443], "proto": "tcp"})
json.dump({"network": {"mode": "enforce", "allow": allow, "dns": [], "addresses": {"sl0": "10.99.0.1/24"},
           "denied_log": {"window": "1s", "rate": 50}}}, open(sys.argv[1], "w"))
PY
start=$(date +%s%N)
"$build/agent/daemon/seatlockd" --policy-dir "$work/policy.d" --state-dir "$work/state" \
  --control-socket "$work/ctl.sock" --components network --netns "$seat" > "$work/daemon.log" 2>&1 & daemon=$!
# Until the first ruleset is in force (at 10,000 entries the policy load took seconds: the
# figure below is seatlockd's whole first apply, policy load included).
for _ in $(seq 1200); do grep -qs "ruleset applied" "$work/daemon.log" && break; sleep 0.05; done
echo "seatlockd start to first ruleset in force: $(( ($(date +%s%N) - start) / 1000000 )) ms wall," \
  "$(awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / t}' "/proc/$daemon/stat") ms CPU;" \
  "$(grep -o 'ruleset applied.*' "$work/daemon.log")"
for _ in $(seq 100); do "$build/agent/cli/seatlockctl" --socket "$work/ctl.sock" net status > /dev/null 2>&1 && break; sleep 0.1; done
"$build/agent/cli/seatlockctl" --socket "$work/ctl.sock" net status | sed -n '1,6p'

echo "== 3. seatlockd CPU during a 100,000-packet denied flood =="
cpu() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
tick=$(getconf CLK_TCK)
before=$(cpu); t0=$(date +%s.%N)
ip netns exec "$seat" "$probe" flood 10.99.0.80 5353 100000
sleep 2  # the aggregation window closes
after=$(cpu); t1=$(date +%s.%N)
echo "seatlockd CPU: $(( (after - before) * 1000 / tick )) ms over $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s wall"
echo "denied events in the spool: $("$build/agent/cli/seatlockctl" --state-dir "$work/state" --json events --kind net.egress_denied | wc -l)"
"$build/agent/cli/seatlockctl" --socket "$work/ctl.sock" net status | grep counters
