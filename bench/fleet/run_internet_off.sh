#!/bin/sh
# "Internet off" for a group of 1,000 connected seats (issue 14): builds the bench and runs it
# once at low priority (it is a benchmark, not a test; the small run is the ctest
# fleet_internet_off_small). Needs root: the bench makes its own network namespaces.
# usage: bench/fleet/run_internet_off.sh BUILD_DIR [--sim 1000] [--real 3]
set -eu
build=${1:?usage: run_internet_off.sh BUILD_DIR [--sim N] [--real K]}
shift
cmake --build "$build" --target fleet_internet_off_bench seatlock-collector seatlockd
exec nice -n 10 "$build/bench/fleet/fleet_internet_off_bench" --sim 1000 --real 3 "$@"
