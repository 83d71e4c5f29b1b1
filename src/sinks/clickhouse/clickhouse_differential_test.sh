#!/usr/bin/env bash
# Differential test through the binary: the same events file goes into a
# SQLite store and a ClickHouse store with `sagaflow run`, and every query
# of `sagaflow query` must print the same JSON (or fail with the same
# message and exit status) for both. The ClickHouse run is also SIGKILLed
# at random moments and restarted, and records are re-sent past its
# checkpoints, so duplicates are exercised; the SQLite run is the plain one.
#
# Usage: clickhouse_differential_test.sh SAGAFLOW CLICKHOUSE_TEST_DIR WORK_DIR
# Events: the project's sample (data/sample) plus crafted rejected records;
# with the shared corpus available ($SAGAFLOW_SHARED/corpus/texts.jsonl),
# its texts too. Exit 77 (skip) without a ClickHouse test server, 1 under CI=true.
set -euo pipefail

bin="$1"
chdir="$2"
work="$3"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ ! -f "$chdir/address" ]; then
  [ "${CI:-}" = "true" ] && fail "no ClickHouse test server under CI=true ($chdir)"
  echo "skip: no ClickHouse test server ($chdir/address missing)" >&2
  exit 77
fi
address="$(cat "$chdir/address")"
db="diff_$$"
ch="clickhouse://$address/$db"
rm -rf "$work"
mkdir -p "$work"
trap 'curl -s "http://$address/" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null || true' EXIT

# Model and dictionary: trained on the project's own sample.
"$bin" train --data "$root/data/sample/train.jsonl" --out "$work/model.json" >/dev/null 2>"$work/train.log"
entities="$root/data/entities/sagas.tsv"

# Events: sample texts (random order, repeats), the edge texts, crafted rejects.
start=1700000000
"$bin" produce --input "$root/data/sample/test.jsonl" --count 3000 --order random --seed 11 \
  --start-time $start --interval 97 --output "$work/events.jsonl" 2>/dev/null
grep -v -e '^{"id": "edge-bad' -e '^{"id": "edge-no-text' "$root/data/sample/edge.jsonl" >"$work/edge-docs.jsonl"
"$bin" produce --input "$work/edge-docs.jsonl" --order sequential --seed 3 --start-time $((start + 3600)) \
  --interval 1 --output "$work/edge-events.jsonl" 2>/dev/null
cat "$work/edge-events.jsonl" >>"$work/events.jsonl"
shared="${SAGAFLOW_SHARED:-$root/../shared}"
if [ -f "$shared/corpus/texts.jsonl" ]; then
  "$bin" produce --input "$shared/corpus/texts.jsonl" --order sequential --seed 5 --start-time $((start + 7200)) \
    --interval 13 --output "$work/shared-events.jsonl" 2>/dev/null
  cat "$work/shared-events.jsonl" >>"$work/events.jsonl"
elif [ "${CI:-}" = "true" ]; then
  fail "shared corpus missing under CI=true: $shared/corpus/texts.jsonl"
fi
{
  printf '%s\n' 'not json at all'
  printf '%s\n' '{"id": "x1", "time": 1700000000, "readers": 5}'
  printf '%s\n' '{"id": "x2", "time": -5, "readers": 5, "text": "Jon Snow"}'
  printf '%s\n' '{"id": "x3", "time": 1700000000, "readers": -1, "text": "Frodo"}'
  printf '{"id": "x4", "time": 1700000000, "readers": 1, "text": "bad \xff\xfe utf8"}\n'
  printf '%s\n' '{"id": "tab\there", "time": 1700000500, "readers": 3, "text": "Harry met Hermione\\\\ in \"Hogwarts\" at \u00e9"}'
  printf '%s\n' '{"id": "x5'"'"'; DROP TABLE fact_event; --", "time": "soon", "readers": 1, "text": "x"}'
  printf '%s\n' '{"id": "x6", "time": 1700000600, "readers": 2, "text": "Gandalf\ttab\nnewline \\\\ backslash"}'
} >>"$work/events.jsonl"
lines=$(wc -l <"$work/events.jsonl")
echo "events: $lines lines" >&2

run() {  # run STORE [extra flags]
  local store="$1"
  shift
  "$bin" run --source "$work/events.jsonl" --store "$store" --model "$work/model.json" --entities "$entities" \
    --progress never --summary json "$@"
}

# SQLite: one plain run.
run "sqlite:$work/ref.db" >"$work/sqlite-run.json" 2>"$work/sqlite-run.log" || fail "sqlite run: $(cat "$work/sqlite-run.log")"

# ClickHouse: SIGKILLed three times mid-run (when the store holds about a
# quarter, a half, three quarters of the events, plus a random delay), with
# small batches (many commits); then a run to completion.
sql() { curl -sf "http://$address/?database=$db" --data-binary "$1" || fail "SQL failed: $1"; }
stored() { curl -s "http://$address/?database=$db" --data-binary "SELECT count() FROM fact_event" 2>/dev/null || echo 0; }
kills=0
for quarter in 1 2 3; do
  # exec: $! must be sagaflow itself, not a subshell around it.
  (exec "$bin" run --source "$work/events.jsonl" --store "$ch" --model "$work/model.json" --entities "$entities" \
    --progress never --batch-size 32 --linger-ms 20 >/dev/null 2>>"$work/ch-run.log") &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    n="$(stored)"
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge $((lines * quarter / 4)) ] && break
    sleep 0.01
  done
  sleep "0.0$((RANDOM % 5))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  echo "kill $quarter: $(stored) events stored" >&2
done
[ $kills -ge 1 ] || fail "no run was killed mid-way"
run "$ch" --batch-size 64 >"$work/ch-run.json" 2>>"$work/ch-run.log" || fail "clickhouse run: $(tail -5 "$work/ch-run.log")"

# Re-send everything past the checkpoints: forget them (a store restored
# from an older backup, a consumer group reset), run again, then copy rows
# behind the sink's back (inserts that landed although they timed out).
sql "ALTER TABLE source DELETE WHERE 1"
for _ in $(seq 50); do
  [ "$(sql "SELECT count() FROM system.mutations WHERE database = '$db' AND NOT is_done")" = "0" ] && break
  sleep 0.2
done
run "$ch" >"$work/ch-rerun.json" 2>>"$work/ch-run.log" || fail "clickhouse re-run: $(tail -5 "$work/ch-run.log")"
grep -q '"duplicates":0,' "$work/ch-rerun.json" && fail "re-run reported no duplicates: $(cat "$work/ch-rerun.json")"
sql "INSERT INTO fact_event SELECT * FROM fact_event WHERE position % 2 = 0"
sql "INSERT INTO fact_readers SELECT * FROM fact_readers WHERE position % 3 = 0"
sql "INSERT INTO dead_letter SELECT * FROM dead_letter"
echo "clickhouse rows: $(sql "SELECT count() FROM fact_event") events (with copies), distinct $(sql "SELECT uniqExact(source_id, position) FROM fact_event")" >&2

# Every query, both stores.
source "$(dirname "$0")/compare_queries.sh"
compare_stores "$bin" "sqlite:$work/ref.db" "$ch" "$start" "$work" || exit 1
# The results are not trivially empty.
grep -q '"mentions":[1-9]' <(eval "\"$bin\" query --store \"$ch\" --format json top-entities --saga got") ||
  fail "no mentions stored"
