#!/usr/bin/env bash
# The Debian package installed on a clean Debian 12 (issue 14, item 3):
#  1. `cpack -G DEB` in the build tree makes one .deb; its control file
#     declares the runtime libraries dpkg-shlibdeps found (sqlite, rdkafka,
#     curl, zlib, brotli, spdlog, fmt, simdjson) and holds the binary
#     (stripped), the dictionary, the sample texts and the docs;
#  2. in a container of a fresh Debian 12 base (scripts/base-image, as the
#     compose test), `apt-get install ./sagaflow_*.deb` pulls exactly those
#     dependencies from Debian, then, as a user of the package would:
#     `sagaflow --version`, train a model on the installed sample, produce
#     events, `run` them into SQLite and `query` the store; the answers must
#     equal those of the build tree's binary on the same input here.
#
#   tests/deploy/package_test.sh BUILD_DIR WORK_DIR
# Exit 0 passed, 1 failed, 77 skipped (no podman, or podman cannot run
# containers here); with CI=true a skip is a failure. BASE_IMAGE overrides the
# base (default localhost/sagaflow-base, made by scripts/base-image;
# debian:12-slim from a registry works too).
set -euo pipefail

build="$(cd "$1" && pwd)"
work="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
base="${BASE_IMAGE:-localhost/sagaflow-base}"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  [ "${CI:-}" = true ] && fail "$* (CI=true: a skip is a failure)"
  echo "*** SKIPPED: $* ***" >&2
  exit 77
}
rm -rf "$work"
mkdir -p "$work/pkg"

# 1. The package.
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || fail "cpack: $(tail -20 "$work/cpack.log")"
debs=("$work"/pkg/sagaflow_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack made ${debs[*]}"
deb="${debs[0]}"
version="$("$build/sagaflow" --version)"
depends="$(dpkg-deb --field "$deb" Depends)"
echo "package: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB; Depends: $depends" >&2
for lib in libsqlite3-0 librdkafka1 libcurl4 zlib1g libbrotli1 libspdlog1.10 libfmt9 libsimdjson14 ca-certificates; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
! grep -q -- '-dev\b' <<<"$depends" || fail "Depends has a -dev package: $depends"
[ "$(dpkg-deb --field "$deb" Version)" = "${version#sagaflow }-1" ] ||
  fail "package version $(dpkg-deb --field "$deb" Version), binary says $version"
contents="$(dpkg-deb --contents "$deb" | awk '{print $NF}')"
for f in ./usr/bin/sagaflow ./usr/share/sagaflow/entities/sagas.tsv ./usr/share/sagaflow/sample/train.jsonl \
  ./usr/share/doc/sagaflow/README.md ./usr/share/doc/sagaflow/docs/runbooks.md ./usr/share/doc/sagaflow/copyright \
  ./usr/share/doc/sagaflow/examples/sagaflow.env.example; do
  grep -qx -- "$f" <<<"$contents" || fail "the package has no $f"
done
dpkg-deb --extract "$deb" "$work/extracted"
sections="$(readelf -S "$work/extracted/usr/bin/sagaflow")"
! grep -q '\.debug_info' <<<"$sections" || fail "the packaged binary is not stripped"

# The reference answers: the build tree's binary on the same sample.
ref="$work/ref"
mkdir -p "$ref"
pipeline='set -e
sagaflow train --data "$SAMPLE/train.jsonl" --out "$OUT/model.json" 2>"$OUT/train.log"
sagaflow produce --input "$SAMPLE/test.jsonl" --output "$OUT/events.jsonl" --count 500 --order random --seed 3 \
  --start-time 1700000000 2>/dev/null
sagaflow run --source "$OUT/events.jsonl" --store "sqlite:$OUT/store.db" --model "$OUT/model.json" \
  --entities "$ENTITIES" --progress never --summary json >"$OUT/run.json"
sagaflow query --store "sqlite:$OUT/store.db" --format json sagas >"$OUT/sagas.json"
for saga in got lotr hp; do
  sagaflow query --store "sqlite:$OUT/store.db" --format json top-entities --saga $saga --limit 5 >"$OUT/top-$saga.json"
done'
PATH="$build:$PATH" SAMPLE="$root/data/sample" ENTITIES="$root/data/entities/sagas.tsv" OUT="$ref" \
  bash -c "$pipeline" 2>"$ref/stderr.log" || fail "reference pipeline: $(tail -5 "$ref/stderr.log")"

# 2. A clean Debian 12 container.
command -v podman >/dev/null || skip "podman is not installed (scripts/setup installs it)"
"$root/scripts/podman-setup" >"$work/podman-setup.log" 2>&1 || skip "podman cannot run containers here: $(tail -1 "$work/podman-setup.log")"
if [ "$base" = localhost/sagaflow-base ]; then
  "$root/scripts/base-image" sagaflow-base 2>"$work/base-image.log" || fail "base image: $(tail -5 "$work/base-image.log")"
fi
podman image exists "$base" || podman pull -q "$base" >/dev/null 2>&1 || skip "no base image $base"
mkdir -p "$work/out"
chmod 777 "$work/out"
name="sagaflow-package-test-$$"
trap 'podman rm -f "$name" >/dev/null 2>&1 || true' EXIT
# As root: install (apt resolves the Depends from Debian's mirrors); then the
# pipeline as an unprivileged user, from the installed paths only.
podman run --rm --name "$name" --network host -v "$work/pkg:/pkg:ro" -v "$work/out:/out" \
  -e DEBIAN_FRONTEND=noninteractive -e PIPELINE="$pipeline" "$base" bash -c '
set -e
if command -v sagaflow; then echo "sagaflow is in the base image already"; exit 1; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends /pkg/sagaflow_*.deb >/out/apt.log
dpkg-query -W -f="\${Status}\n" sagaflow >/out/status
command -v sagaflow >/out/which
sagaflow --version >/out/version
useradd --create-home tester
su tester -s /bin/bash -c "SAMPLE=/usr/share/sagaflow/sample ENTITIES=/usr/share/sagaflow/entities/sagas.tsv \
  OUT=/tmp bash -c \"\$PIPELINE\" && cp /tmp/*.json /out/"
' >"$work/container.log" 2>&1 || fail "in the container: $(tail -20 "$work/container.log")"

[ "$(cat "$work/out/status")" = "install ok installed" ] || fail "dpkg status: $(cat "$work/out/status")"
[ "$(cat "$work/out/which")" = /usr/bin/sagaflow ] || fail "sagaflow is $(cat "$work/out/which")"
[ "$(cat "$work/out/version")" = "$version" ] || fail "installed --version: $(cat "$work/out/version"), built: $version"
for f in sagas.json top-got.json top-lotr.json top-hp.json; do
  cmp -s "$ref/$f" "$work/out/$f" || fail "$f differs: $(diff "$ref/$f" "$work/out/$f" | head -5)"
done
events=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$work/out/run.json")
[ "$events" -eq 500 ] || fail "the installed run stored $events of 500 events"
echo "package test passed: $(basename "$deb") installs on $base; $version; 500 events, queries equal the build's" >&2
