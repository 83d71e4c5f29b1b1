#!/usr/bin/env bash
# Exit status of `sagaflow run` stopped by SIGTERM (what supervisors see):
#  1. a stop that stores and commits everything read exits 0, and the rows
#     stored are exactly the records the run reports as read;
#  2. a stop while the store hangs (ClickHouse frozen with SIGSTOP) abandons
#     the unstored batches after --stop-timeout and exits 1, saying so; the
#     next run then stores every event exactly once.
# (The Kafka source's SIGTERM drain is checked by kafka_e2e_test.)
#
# Usage: run_stop_test.sh SAGAFLOW WORK_DIR
# Starts its own server (scripts/clickhouse-test-server), since it freezes it.
# Exit 77 (skip) without clickhouse-server, 1 under CI=true.
set -euo pipefail

bin="$1"
work="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
server="$root/scripts/clickhouse-test-server"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
set +e
address="$("$server" start "$work/server")"
rc=$?
set -e
[ $rc -eq 0 ] || exit $rc # 77: no clickhouse-server (skip), 1 under CI=true
feeder=""
cleanup() {
  [ -n "$feeder" ] && kill "$feeder" 2>/dev/null
  "$server" resume "$work/server" 2>/dev/null || true
  "$server" destroy "$work/server" || true
}
trap cleanup EXIT

"$bin" train --data "$root/data/sample/train.jsonl" --out "$work/model.json" >/dev/null 2>"$work/train.log"
entities="$root/data/entities/sagas.tsv"
"$bin" produce --input "$root/data/sample/test.jsonl" --count 6000 --order random --seed 5 \
  --start-time 1700000000 --output "$work/events.jsonl" 2>/dev/null
total=$(wc -l <"$work/events.jsonl")
sql() { curl -sf "http://$address/?database=$1" --data-binary "$2"; }

# Starts `run` reading the events through a pipe, 100 lines every 0.2 s
# (the whole file takes ~12 s, longer than any phase below): $1 database,
# $2 log name, then extra flags. Sets run_pid and feeder.
start_run() {
  local db="$1" name="$2"
  shift 2
  mkfifo "$work/$name.fifo"
  (
    for ((i = 1; i <= total; i += 100)); do
      sed -n "${i},$((i + 99))p" "$work/events.jsonl"
      sleep 0.2
    done
  ) >"$work/$name.fifo" &
  feeder=$!
  "$bin" run --source - --store "clickhouse://$address/$db?timeout_ms=1000&retry_max_ms=1000" \
    --model "$work/model.json" --entities "$entities" --progress never --summary json \
    --batch-size 200 --linger-ms 100 "$@" <"$work/$name.fifo" >"$work/$name.json" 2>"$work/$name.log" &
  run_pid=$!
}
# Waits for the run (at most $1 seconds after its SIGTERM); sets status.
wait_run() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$run_pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no exit within $1 s of SIGTERM"
    sleep 0.2
  done
  set +e
  wait "$run_pid"
  status=$?
  set -e
}
stop_feeder() {
  kill "$feeder" 2>/dev/null || true
  wait "$feeder" 2>/dev/null || true
  feeder=""
}

# 1. A complete drain: exit 0, every record read is stored.
start_run drain drain
until [ "$(sql drain 'SELECT count() FROM fact_event' 2>/dev/null || echo 0)" -ge 500 ]; do
  kill -0 "$run_pid" 2>/dev/null || fail "run ended early: $(tail -5 "$work/drain.log")"
  sleep 0.2
done
kill -TERM "$run_pid"
wait_run 30
stop_feeder
[ "$status" -eq 0 ] || fail "a complete drain exited $status, not 0: $(tail -5 "$work/drain.log")"
grep -q 'stopped by SIGTERM: everything read is stored and committed' "$work/drain.log" ||
  fail "no drain message: $(tail -5 "$work/drain.log")"
read_records=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$work/drain.json")
stored=$(sql drain 'SELECT uniqExact(source_id, position) FROM fact_event')
rejected=$(sql drain 'SELECT uniqExact(source_id, position) FROM dead_letter')
[ "$read_records" -lt "$total" ] || fail "the run read everything before the SIGTERM: nothing was tested"
[ $((stored + rejected)) -eq "$read_records" ] ||
  fail "read $read_records records but stored $stored events and $rejected rejected"
echo "drain: exit 0 after SIGTERM, $stored of $total events stored = read" >&2

# 2. The store hangs: the stop abandons the unstored batches and exits 1.
start_run abandon abandon --stop-timeout 2
until [ "$(sql abandon 'SELECT count() FROM fact_event' 2>/dev/null || echo 0)" -ge 500 ]; do
  kill -0 "$run_pid" 2>/dev/null || fail "run ended early: $(tail -5 "$work/abandon.log")"
  sleep 0.2
done
"$server" pause "$work/server"
sleep 2 # batches read meanwhile wait for the frozen store
kill -TERM "$run_pid"
wait_run 30
stop_feeder
"$server" resume "$work/server"
[ "$status" -eq 1 ] || fail "a stop that abandoned batches exited $status, not 1: $(tail -5 "$work/abandon.log")"
grep -q 'abandoning them' "$work/abandon.log" || fail "no abandon message: $(tail -5 "$work/abandon.log")"
# What was abandoned is read again: the next run stores every event once.
"$bin" run --source "$work/events.jsonl" --store "clickhouse://$address/abandon" --model "$work/model.json" \
  --entities "$entities" --progress never >/dev/null 2>"$work/rest.log" || fail "rest: $(tail -5 "$work/rest.log")"
stored=$(sql abandon 'SELECT uniqExact(source_id, position) FROM fact_event')
[ "$stored" -eq "$total" ] || fail "after the abandoned stop and a re-run: $stored of $total events"
echo "abandon: exit 1 after SIGTERM with the store frozen; the re-run completed $stored events" >&2
echo "run stop test passed" >&2
