#!/usr/bin/env bash
# Outage test: ClickHouse goes away twice for more than 10 seconds while
# `sagaflow run` is streaming into it, first killed (connections refused),
# then frozen with SIGSTOP (requests hang until they time out), and comes
# back each time. The run must keep going by itself (no crash, bounded
# memory), finish with status 0, and the store must answer every query
# exactly like a SQLite store fed the same events without any outage.
#
# Usage: clickhouse_outage_test.sh SAGAFLOW WORK_DIR
# Starts its own server (scripts/clickhouse-test-server), since it stops it.
# Exit 77 (skip) without clickhouse-server, 1 under CI=true.
set -euo pipefail

bin="$1"
work="$2"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
server="$root/scripts/clickhouse-test-server"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
set +e
address="$("$server" start "$work/server")"
rc=$?
set -e
[ $rc -eq 0 ] || exit $rc  # 77: no clickhouse-server (skip), 1 under CI=true
trap '"$server" destroy "$work/server" || true' EXIT
# Short request timeout: a frozen server is noticed within 2 s.
ch="clickhouse://$address/outage?timeout_ms=2000&retry_max_ms=2000"

"$bin" train --data "$root/data/sample/train.jsonl" --out "$work/model.json" >/dev/null 2>"$work/train.log"
entities="$root/data/entities/sagas.tsv"
start=1700000000
"$bin" produce --input "$root/data/sample/test.jsonl" --count 40000 --order random --seed 23 \
  --start-time $start --interval 7 --output "$work/events.jsonl" 2>/dev/null
printf '%s\n' 'not json' '{"id": "x", "time": 1, "readers": -3, "text": "Frodo"}' >>"$work/events.jsonl"

"$bin" run --source "$work/events.jsonl" --store "sqlite:$work/ref.db" --model "$work/model.json" \
  --entities "$entities" --progress never >/dev/null 2>"$work/sqlite.log" || fail "sqlite run: $(cat "$work/sqlite.log")"

# Feed the events through a pipe over ~35 s, so that the run is mid-stream
# during both outages.
total=$(wc -l <"$work/events.jsonl")
chunk=$((total / 70 + 1))
feed() {
  local i
  for ((i = 1; i <= total; i += chunk)); do
    sed -n "${i},$((i + chunk - 1))p" "$work/events.jsonl"
    sleep 0.5
  done
}
feed | /usr/bin/time -v -o "$work/time.txt" "$bin" run --source - --store "$ch" --model "$work/model.json" \
  --entities "$entities" --progress never --batch-size 256 --summary json >"$work/ch-run.json" 2>"$work/ch.log" &
run_pid=$!
rows() { curl -s "http://$address/?database=outage" --data-binary "SELECT count() FROM fact_event" 2>/dev/null || echo "?"; }

sleep 4
echo "outage 1: kill ClickHouse (rows so far: $(rows))" >&2
"$server" kill "$work/server"
sleep 12
kill -0 $run_pid 2>/dev/null || fail "the run ended during the outage: $(tail -5 "$work/ch.log")"
"$server" start "$work/server" >/dev/null
echo "ClickHouse back (rows: $(rows))" >&2
sleep 5
echo "outage 2: freeze ClickHouse with SIGSTOP (rows so far: $(rows))" >&2
"$server" pause "$work/server"
sleep 12
kill -0 $run_pid 2>/dev/null || fail "the run ended during the freeze: $(tail -5 "$work/ch.log")"
"$server" resume "$work/server"
echo "ClickHouse resumed" >&2

set +e
wait $run_pid
rc=$?
set -e
[ $rc -eq 0 ] || fail "run exited with $rc: $(tail -20 "$work/ch.log")"
grep -q 'failed (retry' "$work/ch.log" || fail "no retries logged: the outage was not observed"
echo "retries: $(grep -c 'failed (retry' "$work/ch.log") logged; $(grep 'retries over' "$work/ch.log" | tail -1)" >&2
echo "max RSS: $(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}') KiB" >&2
echo "summary: $(cat "$work/ch-run.json")" >&2

source "$(dirname "$0")/compare_queries.sh"
compare_stores "$bin" "sqlite:$work/ref.db" "$ch" "$start" "$work" || exit 1
events=$(curl -s "http://$address/?database=outage" --data-binary "SELECT uniqExact(source_id, position) FROM fact_event")
[ "$events" -ge 40000 ] || fail "only $events events stored"
echo "outage test passed: $events events" >&2
