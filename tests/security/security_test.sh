#!/usr/bin/env bash
# Security settings of the binary end to end (issue 12): Kafka client
# properties from --kafka-config reach librdkafka, a bad CA path or a SASL
# mechanism the broker does not speak fails fast with librdkafka's reason,
# and secrets planted in every place a credential can be given (store URI,
# --store-password and its variable, --api-token and its variable, Kafka
# properties in the address and in the file, ${env:} and ${file:} values,
# the settings file of --config)
# appear in no output of success or failure paths: stdout, stderr (debug and
# JSON logs), HTTP answers, the run summary and what the store keeps.
#
#   tests/security/security_test.sh SAGAFLOW_BINARY SOURCE_DIR
# Exit 0 passed, 1 failed.
set -uo pipefail
bin="$1"
src="$2"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*" >&2; }

# Every secret gets its own marker, so a leak names its way in.
S_URI_PW=leak-uri-pw-7d1 S_FLAG_PW=leak-flag-pw-8e2 S_ENV_PW=leak-env-pw-9f3 S_TOKEN=leak-token-a04
S_SASL_URI=leak-sasl-uri-b15 S_SASL_ENV=leak-sasl-env-c26 S_SASL_FILE=leak-sasl-file-d37 S_KEY_PW=leak-key-pw-e48
S_TOKEN_ENV=leak-token-env-f59 S_CONF_PW=leak-conf-pw-071 S_CONF_URI=leak-conf-uri-182 S_CONF_BAD=leak-conf-bad-293
S_KAFKA_OK=leak-kafka-ok-3a4
all_secrets=("$S_URI_PW" "$S_FLAG_PW" "$S_ENV_PW" "$S_TOKEN" "$S_SASL_URI" "$S_SASL_ENV" "$S_SASL_FILE" "$S_KEY_PW"
  "$S_TOKEN_ENV" "$S_CONF_PW" "$S_CONF_URI" "$S_CONF_BAD" "$S_KAFKA_OK")
no_secrets() {  # FILE... : none holds a planted secret
  local f s
  for f in "$@"; do
    for s in "${all_secrets[@]}"; do
      if grep -a -q -- "$s" "$f"; then fail "$(basename "$f") holds the secret $s: $(grep -a -m1 -- "$s" "$f")"; fi
    done
  done
}
# Runs the binary with a deadline; status in $rc, stdout/stderr in $work/NAME.out/.err.
run_bin() {
  local name="$1" limit="$2"
  shift 2
  timeout "$limit" "$@" >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
}

# Debug logs: the most a secret could leak into (a global flag's variable).
export SAGAFLOW_LOG_LEVEL=debug

# The dev broker (no TLS, no SASL listener).
"$bin" dev-broker --partitions 2 --topic events >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
broker="$(head -n1 "$work/broker.out")"
[ -n "$broker" ] || { echo "FAIL: no dev broker address" >&2; exit 1; }

model="$work/model.json"
"$bin" train --data "$src/data/sample/train.jsonl" --out "$model" --folds 0 --labels got,lotr,hp 2>/dev/null ||
  { echo "FAIL: train" >&2; exit 1; }
entities="$src/data/entities/sagas.tsv"
head -n 20 "$src/data/sample/test.jsonl" >"$work/corpus.jsonl"

# 1. Properties reach librdkafka: a file with ${file:} and ${env:} values
# (client.id, a plain property, stands in for a secret's path here) produces
# and is consumed; an unknown property is refused naming it, its line's
# value not echoed when secret.
printf 'sagaflow-test-client\n' >"$work/client-id"
cat >"$work/good.properties" <<PROPS
# comments and blank lines are skipped

client.id = \${file:$work/client-id}
message.timeout.ms=\${env:TEST_TIMEOUT_MS}
PROPS
TEST_TIMEOUT_MS=20000 run_bin produce-good 60 "$bin" produce --input "$work/corpus.jsonl" --kafka "$broker" \
  --topic events --kafka-config "$work/good.properties" --seed 1 --start-time 1700000000
[ "$rc" = 0 ] && pass "produce with --kafka-config" || fail "produce with --kafka-config exited $rc: $(cat "$work/produce-good.err")"
cat >"$work/consumer.properties" <<PROPS
session.timeout.ms=6000
client.id=\${file:$work/client-id}
PROPS
run_bin run-good 120 "$bin" run --source "kafka://$broker/events?group=g1" --kafka-config "$work/consumer.properties" \
  --store "sqlite:$work/good.db" --model "$model" --entities "$entities" --stop-when-idle 2 --summary json
[ "$rc" = 0 ] && grep -q '"records":20' "$work/run-good.out" && pass "run with --kafka-config consumed 20 records" ||
  fail "run with --kafka-config exited $rc: $(cat "$work/run-good.out") $(tail -5 "$work/run-good.err")"
TEST_TIMEOUT_MS= run_bin produce-unset 30 env -u TEST_TIMEOUT_MS "$bin" produce --input "$work/corpus.jsonl" \
  --kafka "$broker" --kafka-config "$work/good.properties"
[ "$rc" = 1 ] && grep -q 'variable TEST_TIMEOUT_MS is not set' "$work/produce-unset.err" &&
  pass "an unset \${env:} variable is named" || fail "unset variable: $rc $(cat "$work/produce-unset.err")"
printf 'sasl.passwd=%s\n' "$S_SASL_FILE" >"$work/typo.properties"
run_bin produce-typo 30 "$bin" produce --input "$work/corpus.jsonl" --kafka "$broker" --kafka-config "$work/typo.properties"
[ "$rc" = 1 ] && grep -q 'sasl.passwd' "$work/produce-typo.err" && pass "an unknown property is named" ||
  fail "unknown property: $rc $(cat "$work/produce-typo.err")"
printf 'no equals sign here\n' >"$work/bad.properties"
run_bin run-badfile 30 "$bin" run --source "kafka://$broker/events?group=g2" --kafka-config "$work/bad.properties" \
  --store "sqlite:$work/bad.db" --model "$model" --entities "$entities"
[ "$rc" = 2 ] && grep -q 'bad.properties line 1: expected name=value' "$work/run-badfile.err" &&
  pass "a malformed line is a usage error naming file and line" || fail "malformed line: $rc $(cat "$work/run-badfile.err")"

# 2. A bad CA path fails at once with librdkafka's reason, for both commands.
printf 'security.protocol=ssl\nssl.ca.location=%s/no-such-ca.pem\nssl.key.password=%s\n' "$work" "$S_KEY_PW" \
  >"$work/badca.properties"
start=$SECONDS
run_bin produce-badca 60 "$bin" produce --input "$work/corpus.jsonl" --kafka "$broker" --kafka-config "$work/badca.properties"
[ "$rc" = 1 ] && grep -q 'ssl.ca.location' "$work/produce-badca.err" && [ $((SECONDS - start)) -lt 10 ] &&
  pass "produce: bad CA path ($((SECONDS - start)) s)" || fail "produce bad CA: $rc in $((SECONDS - start)) s: $(cat "$work/produce-badca.err")"
start=$SECONDS
run_bin run-badca 60 "$bin" run --source "kafka://$broker/events?group=g3" --kafka-config "$work/badca.properties" \
  --store "sqlite:$work/badca.db" --model "$model" --entities "$entities"
[ "$rc" = 1 ] && grep -q 'ssl.ca.location' "$work/run-badca.err" && [ $((SECONDS - start)) -lt 10 ] &&
  pass "run: bad CA path ($((SECONDS - start)) s)" || fail "run bad CA: $rc in $((SECONDS - start)) s: $(cat "$work/run-badca.err")"

# 3. SASL against a broker without it, and TLS against a plaintext listener:
# librdkafka's reason within seconds, never a hang; the password (from a
# variable, from the address) is in no output.
printf 'security.protocol=sasl_plaintext\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=u\nsasl.password=${env:KAFKA_PASSWORD}\n' \
  >"$work/sasl.properties"
start=$SECONDS
KAFKA_PASSWORD="$S_SASL_ENV" run_bin produce-sasl 60 "$bin" produce --input "$work/corpus.jsonl" --kafka "$broker" \
  --kafka-config "$work/sasl.properties"
[ "$rc" = 1 ] && grep -qi 'sasl\|authentication' "$work/produce-sasl.err" && [ $((SECONDS - start)) -lt 20 ] &&
  pass "produce: SASL against the dev broker ($((SECONDS - start)) s)" ||
  fail "produce SASL: $rc in $((SECONDS - start)) s: $(tail -5 "$work/produce-sasl.err")"
start=$SECONDS
KAFKA_PASSWORD="$S_SASL_ENV" SAGAFLOW_LOG_FORMAT=json run_bin run-sasl 60 "$bin" run \
  --source "kafka://$broker/events?group=g4&sasl.password=$S_SASL_URI" --kafka-config "$work/sasl.properties" \
  --store "sqlite:$work/sasl.db" --model "$model" --entities "$entities"
[ "$rc" = 1 ] && grep -qi 'sasl\|authentication' "$work/run-sasl.err" && [ $((SECONDS - start)) -lt 20 ] &&
  pass "run: SASL against the dev broker ($((SECONDS - start)) s)" ||
  fail "run SASL: $rc in $((SECONDS - start)) s: $(tail -5 "$work/run-sasl.err")"
printf 'security.protocol=ssl\nenable.ssl.certificate.verification=false\n' >"$work/tls.properties"
start=$SECONDS
run_bin run-tls 60 "$bin" run --source "kafka://$broker/events?group=g5" --kafka-config "$work/tls.properties" \
  --store "sqlite:$work/tls.db" --model "$model" --entities "$entities"
[ "$rc" = 1 ] && grep -qi 'ssl' "$work/run-tls.err" && [ $((SECONDS - start)) -lt 20 ] &&
  pass "run: TLS against a plaintext listener ($((SECONDS - start)) s)" ||
  fail "run TLS: $rc in $((SECONDS - start)) s: $(tail -5 "$work/run-tls.err")"

# 4. Secrets in store logins and addresses: a ClickHouse store that is not
# there (failure path), a malformed Kafka address holding a password, serve
# with a token and an unreachable store (its probes, errors and metrics).
SAGAFLOW_CLICKHOUSE_PASSWORD="$S_ENV_PW" run_bin run-store 60 "$bin" run --source "$work/corpus.jsonl" \
  --store "clickhouse://u:$S_URI_PW@127.0.0.1:1/db?retry_give_up_s=1&connect_timeout_ms=200" \
  --model "$model" --entities "$entities" --summary json
[ "$rc" != 0 ] || fail "run into a missing ClickHouse succeeded"
run_bin run-store-flag 60 "$bin" run --source "$work/corpus.jsonl" --store-password "$S_FLAG_PW" \
  --store "clickhouse://u:$S_URI_PW@127.0.0.1:1/db?retry_give_up_s=1&connect_timeout_ms=200&bogus=1" \
  --model "$model" --entities "$entities"
[ "$rc" = 2 ] || fail "an unknown store option: $rc"
run_bin run-badkafka 30 "$bin" run --source "kafka://$broker/bad topic?group=g&sasl.password=$S_SASL_URI" \
  --store "sqlite:$work/x.db" --model "$model" --entities "$entities"
[ "$rc" = 2 ] && grep -q 'sasl.password=\*\*\*' "$work/run-badkafka.err" && pass "a malformed Kafka address is shown redacted" ||
  fail "malformed Kafka address: $rc $(cat "$work/run-badkafka.err")"
run_bin run-badscheme 30 "$bin" run --source "ftp://u:$S_URI_PW@host/x" --store "nosuch://u:$S_URI_PW@h/d" \
  --model "$model" --entities "$entities"
[ "$rc" = 2 ] || fail "unsupported addresses: $rc"
run_bin query-store 30 "$bin" query --store "clickhouse://u:$S_URI_PW@127.0.0.1:1/db?retry_give_up_s=1" \
  --store-password "$S_FLAG_PW" sagas
[ "$rc" = 1 ] || fail "query of a missing ClickHouse: $rc"

SAGAFLOW_API_TOKEN="$S_TOKEN_ENV" "$bin" serve --port 0 --host 127.0.0.1 --model "$model" --entities "$entities" \
  --store "clickhouse://u:$S_URI_PW@127.0.0.1:1/db?retry_give_up_s=1&connect_timeout_ms=200" \
  >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
url="$(head -n1 "$work/serve.out")"
if [ -n "$url" ]; then
  for path in /healthz /readyz /metrics /v1/sagas /openapi.json "/v1/top-entities?saga=got"; do
    curl -s -i "$url$path" >>"$work/http.txt"
    curl -s -i -H "Authorization: Bearer $S_TOKEN_ENV" "$url$path" >>"$work/http.txt"
    curl -s -i -H "Authorization: Bearer $S_TOKEN" "$url$path" >>"$work/http.txt"
  done
  code="$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")"
  [ "$code" = 503 ] || fail "serve /readyz with an unreachable store answered $code"
  # The token itself was sent in our requests; only the answers are checked.
  grep -a -v '^Authorization' "$work/http.txt" >"$work/http-answers.txt"
else
  fail "serve did not start: $(cat "$work/serve.err")"
fi
kill -TERM "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null

# Success path with every credential given: a file run into SQLite with
# the ClickHouse password flags and the token variable set (unused there),
# then its summary, queries and the stored rows (sources, dead letters).
"$bin" produce --input "$work/corpus.jsonl" --output "$work/events.jsonl" --seed 1 2>/dev/null
printf 'not json\n' >>"$work/events.jsonl"
SAGAFLOW_CLICKHOUSE_PASSWORD="$S_ENV_PW" SAGAFLOW_API_TOKEN="$S_TOKEN_ENV" run_bin run-ok 60 "$bin" run \
  --source "$work/events.jsonl" --store "sqlite:$work/ok.db" --store-password "$S_FLAG_PW" --model "$model" \
  --entities "$entities" --kafka-config "$work/sasl.properties" --summary json
[ "$rc" = 0 ] || fail "the file run exited $rc: $(tail -3 "$work/run-ok.err")"
run_bin query-ok 30 "$bin" query --store "sqlite:$work/ok.db" rejected --list --format json
[ "$rc" = 0 ] || fail "query rejected --list exited $rc"
if command -v sqlite3 >/dev/null; then sqlite3 "$work/ok.db" .dump >"$work/ok.dump"; else cp "$work/ok.db" "$work/ok.dump"; fi

# 5. The settings file: a password and a store address with one, checked
# by validate (its checklist and its JSON); a malformed line holding a
# password is a usage error naming the file, not the value.
cat >"$work/settings.toml" <<CONF
store = "clickhouse://u:$S_CONF_URI@127.0.0.1:1/db?retry_give_up_s=1&connect_timeout_ms=200"
store-password = "$S_CONF_PW"
model = "$model"
entities = "$entities"
[serve]
api-token = "$S_CONF_PW"
CONF
run_bin validate-conf 60 "$bin" validate --config "$work/settings.toml" --timeout 2
[ "$rc" = 1 ] && grep -q 'settings.toml' "$work/validate-conf.out" && pass "validate --config with secrets: checklist" ||
  fail "validate --config: $rc $(cat "$work/validate-conf.out" "$work/validate-conf.err")"
run_bin validate-conf-json 60 "$bin" validate --config "$work/settings.toml" --timeout 2 --json
[ "$rc" = 1 ] || fail "validate --config --json: $rc"
printf 'store-password "%s"\n' "$S_CONF_BAD" >"$work/broken.toml"
run_bin validate-broken 30 "$bin" --config "$work/broken.toml" validate
[ "$rc" = 2 ] && grep -q 'broken.toml line 1' "$work/validate-broken.err" &&
  pass "a malformed settings line is a usage error naming the file" ||
  fail "malformed settings line: $rc $(cat "$work/validate-broken.err")"

# 6. A Kafka address holding a SASL password on the plaintext listener
# (librdkafka ignores it there): a success path whose stored source address
# and summary must not show it.
# (A new group reads the 20 records section 1 produced.)
run_bin run-kafka-ok 120 "$bin" run --source "kafka://$broker/events?group=g9&sasl.password=$S_KAFKA_OK" \
  --store "sqlite:$work/kafka-ok.db" --model "$model" --entities "$entities" --stop-when-idle 2 --summary json
[ "$rc" = 0 ] && grep -q '"records":20' "$work/run-kafka-ok.out" && pass "run from an address holding a password" ||
  fail "run from an address holding a password: $rc $(tail -5 "$work/run-kafka-ok.err")"
if command -v sqlite3 >/dev/null; then sqlite3 "$work/kafka-ok.db" .dump >"$work/kafka-ok.dump"; else cp "$work/kafka-ok.db" "$work/kafka-ok.dump"; fi
grep -a -q 'events' "$work/kafka-ok.dump" || fail "the stored rows do not name the Kafka stream (nothing to check)"

outputs=("$work"/*.out "$work"/*.err "$work/ok.dump" "$work/kafka-ok.dump")
for f in "$work/sasl.db" "$work/badca.db" "$work/http-answers.txt"; do [ -f "$f" ] && outputs+=("$f"); done
no_secrets "${outputs[@]}"
if [ "$failures" -gt 0 ]; then
  echo "FAIL: $failures checks" >&2
  exit 1
fi
echo "PASS: Kafka properties, fast security failures, no secret in any output" >&2
