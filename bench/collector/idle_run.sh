#!/bin/sh
# 10,000 held mTLS connections and a new seat's upload latency, this collector next to the
# previous one (a build of another tree, e.g. the previous main), one after the other:
#   bench/collector/idle_run.sh BUILD_DIR [OLD_COLLECTOR_BINARY] [CONNECTIONS]
# The previous collector has no /v1/policy: it holds partial request heads instead (the
# nearest shape: a connection waiting for its request). Runs at low priority (nice).
set -eu
build=${1:?usage: idle_run.sh BUILD_DIR [OLD_COLLECTOR_BINARY] [CONNECTIONS]}
old=${2:-}
n=${3:-10000}
cmake --build "$build" --target collector_idle_bench seatlock-collector >/dev/null
nice "$build/bench/collector/collector_idle_bench" --connections "$n" --shape poll
if [ -n "$old" ]; then
  nice "$build/bench/collector/collector_idle_bench" --connections "$n" --shape partial-head \
    --binary "$old"
fi
