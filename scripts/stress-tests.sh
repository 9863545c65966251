#!/usr/bin/env bash
# Run the whole suite (npm test) N times, default 5, with every core kept busy
# by a loop beside it: a test that passes only on a quiet machine fails here.
# Each run's full output is kept in a temp directory; the exit status is
# non-zero if any run failed.
#
#   bash scripts/stress-tests.sh [N]      or      npm run test:stress -- [N]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
case $runs in
  '' | *[!0-9]* | 0) echo "usage: $0 [N]   (N >= 1 runs of npm test, default 5)" >&2; exit 2 ;;
esac

logs=$(mktemp -d "${TMPDIR:-/tmp}/proclaunch-stress.XXXXXX")
busy=()

# Always, however the script ends (a failure, set -e, Ctrl-C): no loop left spinning.
stop_busy() {
  if [ ${#busy[@]} -gt 0 ]; then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
  fi
}
trap stop_busy EXIT
trap 'exit 130' INT TERM # the EXIT trap then stops the loops

cores=$(nproc)
for _ in $(seq "$cores"); do
  sh -c 'while :; do :; done' &
  busy+=("$!")
done
echo "stress: $runs run(s) of npm test beside $cores busy loop(s); logs in $logs"

failed=0
for i in $(seq "$runs"); do
  log="$logs/run-$i.log"
  began=$(date +%s)
  if NO_COLOR=1 npm test >"$log" 2>&1; then
    echo "run $i/$runs: pass ($(($(date +%s) - began))s)  $log"
  else
    failed=$((failed + 1))
    echo "run $i/$runs: FAIL ($(($(date +%s) - began))s)  $log"
    # vitest names each failed test (or file) on a FAIL line; both vitest runs of npm test may have some.
    names=$(grep -E '^ *FAIL ' "$log" | sed -E 's/^ *FAIL +//' | awk '!seen[$0]++' || true)
    if [ -n "$names" ]; then
      sed 's/^/    /' <<<"$names"
    else
      echo "    (no FAIL line: the last lines of the log)"
      tail -n 15 "$log" | sed 's/^/    /'
    fi
  fi
done

echo "stress: $((runs - failed)) of $runs run(s) passed; logs in $logs"
[ "$failed" -eq 0 ]
