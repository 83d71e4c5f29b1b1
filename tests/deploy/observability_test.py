#!/usr/bin/python3
"""The dashboards and alert rules against what the binary really exports (issue 7, deliverable 5).

    /usr/bin/python3 tests/deploy/observability_test.py SAGAFLOW_BINARY WORK_DIR

1. Starts `sagaflow dev-broker`, produces the sample events (data/sample, plus
   blank and malformed records) into it, runs `sagaflow run --source kafka://...
   --http-port 0` into SQLite and reads its /metrics once every event is
   stored; starts `sagaflow serve` on that store, sends a few requests (one
   404) and reads its /metrics.
2. Every metric name used by deploy/grafana/dashboards/*.json (panels and
   template variables) and deploy/prometheus/rules/*.yml must be a family of
   that output (histogram _bucket/_sum/_count included), every label they
   group by must be one those families carry, and none of them selects a
   scrape job by name (the dashboard through its $job variable, the rules
   not at all), so they work wherever Prometheus scrapes sagaflow.
   Both outputs carry the process families (CPU, resident memory, open and
   max descriptors, start time: plausible values) and
   sagaflow_build_info{version,revision}: CMake's project version and the
   source tree's git commit (or "unknown" outside a git checkout).
3. Debian's promtool accepts the rules and the configuration (`check rules`,
   `check config`) and the rules' unit tests pass (`test rules
   tests/deploy/prometheus_rules_test.yml`: each alert fires on its situation).
4. Grafana: the dashboards pick their Prometheus with a `datasource`
   variable and their targets with `job` and `instance` variables (every $var
   used is defined); the provisioned data sources are of Grafana's built-in
   types and compose installs no plugin (Grafana starts offline); the
   dashboard provider's path is where compose mounts the dashboards.
5. Every alert has a runbook_url whose section exists in docs/runbooks.md.

Needs no shared data: the model is trained from data/sample. Exit 0 passed,
1 failed, 77 skipped (promtool missing; with CI=true that fails instead).
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(SOURCE_DIR, "deploy")
SKIP = 77
# Labels Prometheus adds (target, histogram buckets), valid in any `by (...)`.
SCRAPE_LABELS = {"instance", "job", "le"}


class Failure(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def get(url, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=body,
                                 headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.2)
    raise Failure(f"timed out waiting for {what}")


def parse_metrics(text):
    """{family: {"type": t, "labels": set(label names)}} from Prometheus text format."""
    families = {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            families.setdefault(m.group(1), {"type": m.group(2), "labels": set()})["type"] = m.group(2)
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        if not m:
            raise Failure(f"unparsable /metrics line: {line!r}")
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        fam = families.get(name) or families.get(base)
        if fam is None:
            fam = families.setdefault(name, {"type": "untyped", "labels": set()})
        fam["labels"].update(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
    return families


def expressions():
    """(where, PromQL expression) of every dashboard panel target, variable query and rule."""
    out = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "grafana", "dashboards", "*.json"))):
        dash = json.load(open(path))
        for panel in dash["panels"]:
            for t in panel.get("targets", []):
                if t.get("datasource", {}).get("type") == "prometheus":
                    out.append((f"{os.path.basename(path)}: {panel['title']}", t["expr"]))
        for var in dash.get("templating", {}).get("list", []):
            if var["type"] == "query":
                m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", var["definition"])
                if not m:
                    raise Failure(f"{path}: variable {var['name']}: only label_values(selector, label) is checked here")
                out.append((f"{os.path.basename(path)}: variable {var['name']}",
                            f"count by ({m.group(2)}) ({m.group(1)})"))
    for path in sorted(glob.glob(os.path.join(DEPLOY, "prometheus", "rules", "*.yml"))):
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                out.append((f"{os.path.basename(path)}: {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return out


def metric_names(expr):
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or labels."""
    expr = re.sub(r'"[^"]*"', '""', expr)                 # label values
    expr = re.sub(r"\{[^}]*\}", "{}", expr)               # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)                # ranges
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word, rest = m.group(0), expr[m.end():].lstrip()
        if rest.startswith("(") or word in {"and", "or", "unless", "bool", "offset"}:
            continue  # a function call or an operator
        if re.fullmatch(r"\d+(e\d+)?", word):
            continue
        names.add(word)
    return names


def grouping_labels(expr):
    labels = set()
    for m in re.finditer(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        labels.update(x.strip() for x in m.group(1).split(",") if x.strip())
    return labels


def selected_jobs(expr):
    """Job names an expression selects literally (a $variable is not one)."""
    return {j for j in re.findall(r'job\s*=~?\s*"([^"]+)"', expr) if not j.startswith("$")}


def live_metrics(binary, work):
    """/metrics of `run --http-port` (Kafka source, SQLite store) and of `serve` on the same store."""
    model = os.path.join(work, "model.json")
    subprocess.run([binary, "train", "--data", os.path.join(SOURCE_DIR, "data", "sample", "train.jsonl"),
                    "--out", model, "--stop-words", "english", "--labels", "got,lotr,hp"],
                   check=True, capture_output=True, timeout=300)
    entities = os.path.join(SOURCE_DIR, "data", "entities", "sagas.tsv")
    procs = []
    try:
        broker = subprocess.Popen([binary, "dev-broker", "--partitions", "3"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(broker)
        address = broker.stdout.readline().strip()
        if not re.fullmatch(r"[\w.\-]+:\d+", address):
            raise Failure(f"dev-broker printed {address!r}")
        inputs = os.path.join(work, "inputs.jsonl")
        with open(inputs, "w") as f:
            for line in open(os.path.join(SOURCE_DIR, "data", "sample", "test.jsonl")):
                f.write(line)
            f.write(json.dumps({"id": "blank", "text": "  "}) + "\n")
        subprocess.run([binary, "produce", "--input", inputs, "--kafka", address, "--topic", "events"],
                       check=True, capture_output=True, timeout=120)
        expected = sum(1 for _ in open(inputs))
        store = "sqlite:" + os.path.join(work, "store.db")
        started = {"run": time.time()}
        run = subprocess.Popen([binary, "run", "--source", f"kafka://{address}/events?group=obs", "--store", store,
                                "--model", model, "--entities", entities, "--http-port", "0", "--progress", "never"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(run)
        port = None
        for line in run.stderr:
            m = re.search(r"metrics and probes on http://[^:/]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise Failure("run --http-port 0 did not log its port")
        threading_drain(run.stderr)
        url = f"http://127.0.0.1:{port}"
        wait_for("run /readyz", lambda: get(f"{url}/readyz")[0] == 200, 60)
        wait_for("every sample event stored", lambda: stored(get(f"{url}/metrics")[1]) >= expected, 60)
        run_text = get(f"{url}/metrics")[1]

        started["serve"] = time.time()
        serve = subprocess.Popen([binary, "serve", "--store", store, "--model", model, "--entities", entities,
                                  "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(serve)
        base = serve.stdout.readline().strip()
        if not base.startswith("http://"):
            raise Failure(f"serve printed {base!r}")
        base = base.replace("0.0.0.0", "127.0.0.1")
        wait_for("serve /readyz", lambda: get(f"{base}/readyz")[0] == 200, 30)
        get(f"{base}/v1/sagas")
        get(f"{base}/v1/top-entities?saga=got")
        get(f"{base}/no-such-route")
        get(f"{base}/predict", "POST", b'{"text": "Frodo"}')
        serve_text = get(f"{base}/metrics")[1]
        return run_text, serve_text, started
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def threading_drain(stream):
    import threading
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def stored(metrics_text):
    return sum(float(v) for v in re.findall(r'^sagaflow_events_total\{[^}]*\} (\S+)$', metrics_text, re.M))


def check_metrics(families, problems):
    used = set()
    for where, expr in expressions():
        names = metric_names(expr)
        labels = set(SCRAPE_LABELS)
        for name in names:
            if name == "up":
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            fam = families.get(name) or (families.get(base) if families.get(base, {}).get("type") == "histogram" else None)
            if fam is None:
                problems.append(f"{where}: metric {name} is not exported by run or serve")
                continue
            used.add(name)
            labels |= fam["labels"]
        missing = grouping_labels(expr) - labels
        if missing:
            problems.append(f"{where}: groups by {sorted(missing)}, which none of {sorted(names)} carries")
        for job in selected_jobs(expr):
            problems.append(f"{where}: selects job {job!r} by name: it must work whatever the scrape jobs are called")
    return used


PROCESS_FAMILIES = {"process_cpu_seconds_total": "counter", "process_resident_memory_bytes": "gauge",
                    "process_open_fds": "gauge", "process_max_fds": "gauge", "process_start_time_seconds": "gauge"}


def samples(text, name):
    """[(labels dict, value)] of one metric in an exposition."""
    out = []
    for m in re.finditer(r"^" + re.escape(name) + r"(?:\{([^}]*)\})? (\S+)$", text, re.M):
        out.append((dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or "")), float(m.group(2))))
    return out


def expected_revision():
    """What sagaflow_build_info's revision must start with for this source tree."""
    p = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=SOURCE_DIR, capture_output=True, text=True)
    lines = p.stdout.split()
    if p.returncode != 0 or len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(SOURCE_DIR):
        return "unknown"
    return lines[1]


def check_process_metrics(name, text, started, problems):
    for family, kind in PROCESS_FAMILIES.items():
        if not re.search(rf"^# TYPE {family} {kind}$", text, re.M):
            problems.append(f"{name}: /metrics has no {kind} {family}")
    value = {f: (samples(text, f) or [({}, float("nan"))])[0][1] for f in PROCESS_FAMILIES}
    now = time.time()
    if not started - 5 <= value["process_start_time_seconds"] <= now + 1:
        problems.append(f"{name}: process_start_time_seconds {value['process_start_time_seconds']} is not when it "
                        f"started ({started:.0f})")
    if not 0 < value["process_open_fds"] < value["process_max_fds"]:
        problems.append(f"{name}: process_open_fds {value['process_open_fds']}, max {value['process_max_fds']}")
    if not value["process_resident_memory_bytes"] > 1 << 20:
        problems.append(f"{name}: process_resident_memory_bytes {value['process_resident_memory_bytes']}")
    if not value["process_cpu_seconds_total"] > 0:
        problems.append(f"{name}: process_cpu_seconds_total {value['process_cpu_seconds_total']}")
    info = samples(text, "sagaflow_build_info")
    version = re.search(r"project\(sagaflow VERSION (\S+)", open(os.path.join(SOURCE_DIR, "CMakeLists.txt")).read())
    revision = expected_revision()
    if len(info) != 1 or info[0][1] != 1:
        problems.append(f"{name}: sagaflow_build_info: {info}")
        return
    labels = info[0][0]
    if labels.get("version") != version.group(1):
        problems.append(f"{name}: sagaflow_build_info version {labels.get('version')!r}, CMakeLists.txt says "
                        f"{version.group(1)}")
    got = labels.get("revision", "")
    if not (got == revision or (revision != "unknown" and got == revision + "-dirty")):
        problems.append(f"{name}: sagaflow_build_info revision {got!r}, the sources are at {revision!r} "
                        "(rebuild after committing?)")


def check_promtool(work, problems):
    rules = sorted(glob.glob(os.path.join(DEPLOY, "prometheus", "rules", "*.yml")))
    p = subprocess.run(["promtool", "check", "rules", *rules], capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"promtool check rules: {p.stdout}{p.stderr}")
    # check config resolves rule_files: a copy whose rule paths point at the repository.
    for config in (os.path.join(DEPLOY, "prometheus", "prometheus.yml"),
                   os.path.join(DEPLOY, "compose", "test", "prometheus", "prometheus.yml")):
        text = open(config).read().replace("/etc/prometheus/rules/", os.path.join(DEPLOY, "prometheus", "rules") + "/")
        copy = os.path.join(work, "prometheus-" + os.path.basename(os.path.dirname(config)) + ".yml")
        open(copy, "w").write(text)
        p = subprocess.run(["promtool", "check", "config", "--syntax-only", copy], capture_output=True, text=True)
        if p.returncode != 0:
            problems.append(f"promtool check config {config}: {p.stdout}{p.stderr}")
    p = subprocess.run(["promtool", "test", "rules", "prometheus_rules_test.yml"], capture_output=True, text=True,
                       cwd=os.path.dirname(os.path.abspath(__file__)))
    if p.returncode != 0:
        problems.append(f"promtool test rules: {p.stdout}{p.stderr}")


BUILTIN_DATASOURCES = {"prometheus", "loki", "tempo", "jaeger", "zipkin", "elasticsearch", "graphite", "influxdb",
                       "mysql", "postgres", "mssql", "cloudwatch", "testdata", "alertmanager"}


def check_grafana(problems):
    prov = yaml.safe_load(open(os.path.join(DEPLOY, "grafana", "provisioning", "datasources", "sagaflow.yml")))
    types = {d["type"] for d in prov["datasources"]}
    for d in prov["datasources"]:
        if d["type"] not in BUILTIN_DATASOURCES:
            problems.append(f"data source {d['name']}: type {d['type']} is a plugin Grafana would have to download")
    providers = yaml.safe_load(open(os.path.join(DEPLOY, "grafana", "provisioning", "dashboards", "sagaflow.yml")))
    compose = yaml.safe_load(open(os.path.join(DEPLOY, "compose", "compose.yaml")))
    grafana = compose["services"]["grafana"]
    mounts = grafana["volumes"]
    for p in providers["providers"]:
        if not any(m.split(":")[1] == p["options"]["path"] and "dashboards" in m.split(":")[0] for m in mounts):
            problems.append(f"dashboard provider path {p['options']['path']} is not where compose mounts deploy/grafana/dashboards")
    env = grafana["environment"]
    for var in ("GF_INSTALL_PLUGINS", "GF_PLUGINS_PREINSTALL", "GF_PLUGINS_PREINSTALL_SYNC"):
        if var in env:
            problems.append(f"compose's Grafana sets {var}: it would download plugins at start (offline: fails)")
    for d in prov["datasources"]:
        for var in re.findall(r"\$(\w+)", json.dumps(d)):
            if var not in env:
                problems.append(f"data source {d['name']} reads ${var}, which compose does not give Grafana")
    for path in sorted(glob.glob(os.path.join(DEPLOY, "grafana", "dashboards", "*.json"))):
        dash = json.load(open(path))
        where = os.path.basename(path)
        ids = [p["id"] for p in dash["panels"]]
        if len(ids) != len(set(ids)):
            problems.append(f"{where}: duplicate panel ids")
        variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
        ds = variables.get("datasource")
        if not ds or ds["type"] != "datasource" or ds["query"] != "prometheus" or "prometheus" not in types:
            problems.append(f"{where}: no `datasource` variable of type prometheus (provisioned: {sorted(types)})")
        for name in ("job", "instance"):
            v = variables.get(name)
            if not v or v["type"] != "query" or not v.get("includeAll") or v.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{where}: no `{name}` query variable (multi, with All) on ${{datasource}}")
        uses = []
        for panel in dash["panels"]:
            for obj in [panel] + panel.get("targets", []):
                if "datasource" in obj and obj["datasource"].get("uid") != "${datasource}":
                    problems.append(f"{where}: {panel['title']}: data source {obj['datasource']} is not ${{datasource}}")
            uses += [(panel["title"], t.get("expr", "")) for t in panel.get("targets", [])]
            uses.append((panel["title"], panel.get("title", "")))
            if panel.get("targets") and not all(re.search(r'job=~"\$job"', t["expr"]) for t in panel["targets"]):
                problems.append(f"{where}: {panel['title']}: a target does not select job=~\"$job\"")
        uses += [(f"variable {v['name']}", v.get("definition", "")) for v in variables.values()]
        for title, text in uses:
            for var in re.findall(r"\$\{?(\w+)", text):
                if not var.startswith("__") and var not in variables:
                    problems.append(f"{where}: {title}: ${var} is not a dashboard variable")


def check_runbooks(problems):
    runbooks = os.path.join(SOURCE_DIR, "docs", "runbooks.md")
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.*)$", open(runbooks).read(), re.M)}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "prometheus", "rules", "*.yml"))):
        for group in yaml.safe_load(open(path))["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                url = rule.get("annotations", {}).get("runbook_url", "")
                m = re.fullmatch(r"docs/runbooks\.md#([\w-]+)", url)
                if not m or m.group(1) not in anchors:
                    problems.append(f"{rule['alert']}: runbook_url {url!r} is not a section of docs/runbooks.md")
                elif m.group(1) != rule["alert"].lower():
                    problems.append(f"{rule['alert']}: runbook_url {url!r} is another alert's section")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, work_parent = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not shutil.which("promtool"):
        why = "promtool is missing (Debian's prometheus package; scripts/setup installs it)"
        if os.environ.get("CI") == "true":
            raise Failure(why)
        log(f"\n*** SKIPPED: {why} ***\n")
        return SKIP
    os.makedirs(work_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="observability-", dir=work_parent)
    run_text, serve_text, started = live_metrics(binary, work)
    run_fams, serve_fams = parse_metrics(run_text), parse_metrics(serve_text)
    families = {}
    for fams in (run_fams, serve_fams):  # both have the HTTP families: merge their labels
        for name, fam in fams.items():
            merged = families.setdefault(name, {"type": fam["type"], "labels": set()})
            merged["labels"] |= fam["labels"]
    log(f"run exports {len(run_fams)} families, serve {len(serve_fams)}")
    problems = []
    used = check_metrics(families, problems)
    check_process_metrics("run", run_text, started["run"], problems)
    check_process_metrics("serve", serve_text, started["serve"], problems)
    check_promtool(work, problems)
    check_grafana(problems)
    check_runbooks(problems)
    if problems:
        raise Failure("\n  " + "\n  ".join(problems))
    shutil.rmtree(work, ignore_errors=True)
    log(f"PASS: {len(expressions())} expressions use {len(used)} metrics, all exported; promtool accepts the rules")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
