# Sourced by the ClickHouse end-to-end tests.
#
# compare_stores BIN STORE_A STORE_B START WORK
#   Runs every query of `sagaflow query` (top-entities for each saga, both
#   measures, with and without windows and limits; sagas with and without
#   windows; rejected and its list; trend hour/day with and without a saga;
#   unknown names and injection attempts) against both stores and compares
#   the JSON output, the exit status and the error message. START is the
#   time of the first event (windows are placed after it). Returns 1 if any
#   query differs, printing the differences.
compare_stores() {
  local bin="$1" a="$2" b="$3" start="$4" work="$5"
  local queries=() saga by entity bucket q store s failures=0 compared=0
  for saga in got lotr hp; do
    for by in mentions readers; do
      queries+=("top-entities --saga $saga --by $by")
      queries+=("top-entities --saga $saga --by $by --limit 0")
      queries+=("top-entities --saga $saga --by $by --limit 3 --from $((start + 30000)) --to $((start + 150000))")
      queries+=("top-entities --saga $saga --by $by --from 2023-11-14T23:00:00Z")
      queries+=("top-entities --saga $saga --by $by --to $((start + 97 * 100))")
    done
  done
  queries+=("sagas" "sagas --from $((start + 50000))" "sagas --from $start --to $((start + 97 * 10))" "sagas --to 0")
  queries+=("rejected" "rejected --list --limit 0")
  for entity in "Jon Snow" "Frodo Baggins" "Harry Potter" "Gandalf" "Hermione Granger" "Tyrion Lannister"; do
    for bucket in hour day; do
      queries+=("trend --entity '$entity' --bucket $bucket")
      queries+=("trend --entity '$entity' --bucket $bucket --saga got --from $((start + 3600))")
    done
  done
  # Errors: unknown names, hints, injection attempts.
  queries+=("top-entities --saga narnia" "top-entities --saga \"got' OR '1'='1\"" "trend --entity 'jon snow'"
    "trend --entity Nobody" "trend --entity 'Jon Snow' --saga narnia"
    "trend --entity \"x'); DROP TABLE fact_readers; --\"" "trend --entity 'Snow'")

  for q in "${queries[@]}"; do
    for store in a b; do
      if [ $store = a ]; then s="$a"; else s="$b"; fi
      set +e
      eval "\"$bin\" query --store \"$s\" --format json $q" >"$work/out.$store" 2>"$work/err.$store"
      echo "exit $?" >>"$work/out.$store"
      set -e
      # Error lines without their timestamp and without the store's address.
      grep -E '^[0-9-]+ [0-9:.]+ error ' "$work/err.$store" | sed -E -e 's/^[0-9-]+ [0-9:.]+ error //' -e "s|$s||g" \
        >>"$work/out.$store" || true
    done
    compared=$((compared + 1))
    if ! cmp -s "$work/out.a" "$work/out.b"; then
      failures=$((failures + 1))
      echo "DIFFERENT: query $q" >&2
      diff "$work/out.a" "$work/out.b" | head -20 >&2 || true
    fi
  done
  echo "compared $compared queries: $failures different" >&2
  [ $failures -eq 0 ]
}
