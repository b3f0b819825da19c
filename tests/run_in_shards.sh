#!/usr/bin/env bash
# Runs the test cases of a doctest program in SHARDS processes, JOBS at a time, and fails if
# any of them fails. `make sanitize` runs the unit tests this way: under the sanitizers, at -O0,
# they take about two minutes on one core, and the machine has more. Every test case is
# independent of the others (CTest already runs each as a process of its own, in parallel).
#
# The cases are dealt in a fixed shuffled order (--order-by=rand with a fixed seed), so that
# the few slow ones land in different shards; each shard runs a contiguous range of that order
# (doctest's --first and --last). A failing shard's whole output is printed, and a line per
# shard says how it ended.
#
# Usage: run_in_shards.sh PROGRAM JOBS SHARDS
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 PROGRAM JOBS SHARDS" >&2
  exit 2
fi
program=$1 jobs=$2 shards=$3
order=(--order-by=rand --rand-seed=1)
# Shards run side by side, each with the library's threads: OpenMP's threads must sleep, not
# spin, while they wait at a barrier, or two programs on two cores spend their time spinning
# (one test ran twice as long).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

count=$("$program" --no-intro --count "${order[@]}" |
  sed -n 's/.*passing the current filters: \([0-9][0-9]*\).*/\1/p')
if [ -z "$count" ]; then
  echo "$0: $program --count printed no number of test cases" >&2
  exit 1
fi
if [ "$shards" -gt "$count" ]; then
  shards=$count
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Shard i (0-based) runs the cases first(i)..last(i) of the shuffled order (1-based, inclusive).
first() { echo $((count * $1 / shards + 1)); }
last() { echo $((count * ($1 + 1) / shards)); }
run_shard() {
  local start=$SECONDS
  if "$program" --no-intro "${order[@]}" --first="$(first "$1")" --last="$(last "$1")" \
      > "$logs/$1.log" 2>&1; then
    echo "ok in $((SECONDS - start)) s" > "$logs/$1.status"
  else
    echo FAILED > "$logs/$1.status"
  fi
}
for ((i = 0; i < shards; i++)); do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n
  done
  run_shard "$i" &
done
wait

failed=0
for ((i = 0; i < shards; i++)); do
  status=$(cat "$logs/$i.status" 2>/dev/null || echo "did not finish")
  # doctest's summary counts every case as passed; its assertions line says what ran.
  ran=$(grep -h "assertions:" "$logs/$i.log" 2>/dev/null || true)
  echo "shard $((i + 1))/$shards (cases $(first "$i")-$(last "$i") of $count): $status," \
       "assertions: ${ran#*assertions:}"
  if [ "${status%% *}" != ok ]; then
    failed=1
    cat "$logs/$i.log" 2>/dev/null || true
  fi
done
exit $failed
