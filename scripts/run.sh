#!/usr/bin/env bash
# One command, as root on a fresh Debian 12 machine: install packages, build, then run seatlockd
# with the shipped default policy in the foreground, beside a local seatlock-collector on
# 127.0.0.1:8443 (TLS with certificates made here). Ctrl-C stops both.
#
#   bash scripts/run.sh                    # USB enforced, network egress in AUDIT mode (log only)
#   bash scripts/run.sh --enforce-network  # also enforce the egress policy (default-deny internet)
#
# The network section runs in audit mode by default because people try this on their own
# machines: audit rules only log, they never drop a packet.
set -euo pipefail
cd "$(dirname "$0")/.."
network_mode=audit
for a in "$@"; do
  case "$a" in
    --enforce-network) network_mode=enforce ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (seatlockd writes sysfs and nftables)" >&2; exit 1; }

bash scripts/deps.sh
build=${SEATLOCK_BUILD_DIR:-build/run}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEATLOCK_BUILD_TESTS=OFF -DSEATLOCK_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target seatlockd seatlockctl seatlock-collector

policy_dir=${SEATLOCK_POLICY_DIR:-/etc/seatlock/policy.d}
state_dir=${SEATLOCK_STATE_DIR:-/var/lib/seatlock}
run_dir=${SEATLOCK_RUN_DIR:-/var/lib/seatlock-run}

# The shipped default policy, as the .deb installs it (an existing policy directory is kept).
if [ ! -e "$policy_dir/00-default.json" ]; then
  install -d -m 0755 "$policy_dir"
  install -m 0644 policy/default/00-default.json "$policy_dir/00-default.json"
fi
# The seat id seatlockd will use: report.seat_id of the policy directory (a 90-seat.json), else
# the hostname. The local collector's seat certificate must carry the same id as its CN.
seat_id=$("$build/agent/cli/seatlockctl" policy show --json "$policy_dir"/*.json 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("report", {}).get("seat_id", ""))' 2>/dev/null || true)
[ -n "$seat_id" ] || seat_id=$(hostname)

# Test PKI for the local collector: a CA, a server certificate for 127.0.0.1, a seat certificate.
pki=$run_dir/pki
if [ -s "$pki/seat.pem" ] && ! openssl x509 -in "$pki/seat.pem" -noout -subject | grep -q "CN *= *$seat_id\$"; then
  rm -f "$pki/seat.pem"  # the seat id changed since the PKI was made: issue a new seat certificate
fi
if [ ! -s "$pki/seat.pem" ]; then
  install -d -m 0700 "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=seatlock local CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 825 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth') \
    -out "$pki/server.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$seat_id" \
    -keyout "$pki/seat.key" -out "$pki/seat.csr" 2>/dev/null
  openssl x509 -req -in "$pki/seat.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 825 \
    -extfile <(printf 'extendedKeyUsage=clientAuth') -out "$pki/seat.pem" 2>/dev/null
fi
cat > "$policy_dir/50-local-collector.json" <<JSON
// Written by scripts/run.sh: deliver events to the local collector started beside seatlockd.
{ "report": { "collector": "https://127.0.0.1:8443", "ca": "$pki/ca.pem",
              "cert": "$pki/seat.pem", "key": "$pki/seat.key" } }
JSON

"$build/collector/seatlock-collector" serve --listen 127.0.0.1:8443 --db "$run_dir/collector.db" \
  --cert "$pki/server.pem" --key "$pki/server.key" --ca "$pki/ca.pem" \
  --console-listen 127.0.0.1:8444 &
collector_pid=$!
trap 'kill $collector_pid 2>/dev/null; wait $collector_pid 2>/dev/null' EXIT

echo "run.sh: seatlockd with $policy_dir; collector on https://127.0.0.1:8443 (db $run_dir/collector.db)"
if [ "$network_mode" = audit ]; then
  echo "run.sh: NETWORK IN AUDIT MODE: egress rules only log, nothing is dropped (use --enforce-network to enforce)"
else
  echo "run.sh: NETWORK ENFORCED: outbound traffic outside the policy's allow list is dropped"
fi
echo "run.sh: console on https://127.0.0.1:8444/ (an account: '$build/collector/seatlock-collector user add NAME --role auditor --db $run_dir/collector.db')"
echo "run.sh: try '$build/agent/cli/seatlockctl status' and '$build/collector/seatlock-collector query --db $run_dir/collector.db'"
"$build/agent/daemon/seatlockd" --policy-dir "$policy_dir" --state-dir "$state_dir" --network-mode "$network_mode"
