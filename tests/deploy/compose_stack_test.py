#!/usr/bin/python3
"""The compose stack started for real under podman (issue 7, deliverable 3).

    /usr/bin/python3 tests/deploy/compose_stack_test.py SAGAFLOW_BINARY SHARED_DIR WORK_DIR

1. Builds the images: a Debian 12 base from Debian's packages (cached by name),
   the sagaflow image with the already built binary (Containerfile target
   runtime-prebuilt; checks its libraries resolve, it runs as non-root and has
   no compiler), ClickHouse and Prometheus from Debian packages
   (deploy/compose/test/).
2. Starts deploy/compose/compose.yaml + compose.test.yaml with podman-compose:
   `sagaflow dev-broker` as Kafka, ClickHouse, the `migrate` and `validate` jobs
   (must exit 0; validate must have checked the topic and the store),
   two `run` replicas in one consumer group, `serve` (API token, published on
   a free loopback port), Prometheus.
3. Produces the shared corpus events (and blank texts) into the dev broker at
   a fixed rate from a producer container; SIGKILLs one `run` replica
   (`podman kill`) once about a third of them is stored; waits until the
   store holds every event and Prometheus reports no lag.
4. Checks through serve's API (/v1/sagas, /v1/rejected, /v1/top-entities per
   saga by mentions and by readers) that the analytics equal those of the
   embedded pipeline (`run --source file --store sqlite:` + `query --format
   json`) on the same events; and that Prometheus, scraping the containers,
   has the pipeline's counters, the per-partition lag and the alert rules.
5. Removes everything it made (containers, network, volumes), also on failure
   or SIGTERM; the images stay cached.

Exit status: 0 passed, 1 failed, 77 skipped (podman cannot run containers
here, podman-compose missing, or no shared data). With CI=true a skip is a
failure: CI never passes by skipping.
Environment: SAGAFLOW_SHARED overrides SHARED_DIR; SAGAFLOW_PYTHON (default
/usr/bin/python3) exports the model; SAGAFLOW_KEEP_STACK=1 leaves the stack
running for inspection (remove it with the printed command).
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE_DIR = os.path.join(SOURCE_DIR, "deploy", "compose")
SHIM = os.path.join(SOURCE_DIR, "tests", "deploy", "podman-compose-shim")
IMAGE = "localhost/sagaflow:deploy-test"
BASE_IMAGE = "localhost/sagaflow-base"
PARTITIONS = 8
REPLICAS = 2
TOPIC = "events"
SAGAS = ["got", "lotr", "hp"]
PRODUCE_RATE = 200  # events/s: the stream lasts long enough to kill a consumer in it
# Metric names the stack must expose (deploy/grafana and deploy/prometheus use them).
LAG_METRIC = "sagaflow_kafka_consumer_lag"
EVENTS_METRIC = "sagaflow_events_total"
START = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - START:6.1f}s] {msg}", file=sys.stderr, flush=True)


class Skip(Exception):
    pass


class Failure(Exception):
    pass


def run(cmd, *, check=True, timeout=600, env=None, capture=True, input=None):
    """Runs cmd; returns CompletedProcess; raises Failure with its output when check fails."""
    p = subprocess.run(cmd, env=env, timeout=timeout, input=input, text=True,
                       stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {p.returncode}\n--- stdout\n{(p.stdout or '')[-4000:]}"
                      f"\n--- stderr\n{(p.stderr or '')[-4000:]}")
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, token=None, timeout=10):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read().decode())


def wait_for(what, fn, timeout, interval=0.5):
    """Calls fn until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError, Failure) as e:
            last_error = e
        time.sleep(interval)
    raise Failure(f"timed out after {timeout} s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Stack:
    """The compose project: podman-compose with the shim, and its cleanup."""

    def __init__(self, work, env):
        self.project = f"sagaflowtest{os.getpid()}"
        self.work = work
        self.env = env
        self.log_path = os.path.join(work, "podman-compose.log")

    def compose(self, *args, check=True):
        cmd = ["podman-compose", "--podman-path", SHIM, "-p", self.project,
               "-f", os.path.join(COMPOSE_DIR, "compose.yaml"),
               "-f", os.path.join(COMPOSE_DIR, "compose.test.yaml"), *args]
        p = run(cmd, check=False, env=self.env, timeout=900)
        with open(self.log_path, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
        if check and p.returncode != 0:
            raise Failure(f"podman-compose {' '.join(args)} exited {p.returncode}: {p.stderr[-3000:]}")
        return p

    def container(self, service, n=1):
        return f"{self.project}_{service}_{n}"

    def logs(self, name):
        return run(["podman", "logs", name], check=False).stderr + run(["podman", "logs", name], check=False).stdout

    def state(self, name):
        p = run(["podman", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name], check=False)
        if p.returncode != 0:
            return ("missing", None)
        status, code = p.stdout.split()
        return status, int(code)

    def dump_logs(self):
        p = run(["podman", "ps", "-a", "--filter", f"label=io.podman.compose.project={self.project}",
                 "--format", "{{.Names}} {{.Status}}"], check=False)
        print(f"--- containers\n{p.stdout}", file=sys.stderr)
        for name in p.stdout.split("\n"):
            name = name.split(" ")[0]
            if name:
                print(f"--- logs of {name} (last 40 lines)", file=sys.stderr)
                print("\n".join(self.logs(name).splitlines()[-40:]), file=sys.stderr)

    def remove(self):
        """Removes every container, network and volume of the project (also after a failed start)."""
        label = f"label=io.podman.compose.project={self.project}"
        self.compose("down", "-v", "-t", "5", check=False)
        ids = run(["podman", "ps", "-aq", "--filter", label], check=False).stdout.split()
        ids += run(["podman", "ps", "-aq", "--filter", f"name=^{self.project}_"], check=False).stdout.split()
        if ids:
            run(["podman", "rm", "-f", "-t", "0", *sorted(set(ids))], check=False)
        vols = run(["podman", "volume", "ls", "-q", "--filter", label], check=False).stdout.split()
        vols += [v for v in run(["podman", "volume", "ls", "-q"], check=False).stdout.split()
                 if v.startswith(self.project + "_")]
        if vols:
            run(["podman", "volume", "rm", "-f", *sorted(set(vols))], check=False)
        nets = [n for n in run(["podman", "network", "ls", "--format", "{{.Name}}"], check=False).stdout.split()
                if n.startswith(self.project + "_")]
        if nets:
            run(["podman", "network", "rm", "-f", *nets], check=False)
        left = (run(["podman", "ps", "-aq", "--filter", label], check=False).stdout.split() +
                [v for v in run(["podman", "volume", "ls", "-q"], check=False).stdout.split()
                 if v.startswith(self.project + "_")] +
                [n for n in run(["podman", "network", "ls", "--format", "{{.Name}}"], check=False).stdout.split()
                 if n.startswith(self.project + "_")])
        if left:
            raise Failure(f"cleanup left {left}")
        log(f"removed the stack {self.project} (containers, network, volumes)")


def build_images(binary):
    env = dict(os.environ, BASE_IMAGE=BASE_IMAGE)
    run([os.path.join(SOURCE_DIR, "scripts", "base-image"), BASE_IMAGE.split("/")[-1]], env=env, capture=False)
    old = run(["podman", "image", "inspect", "--format", "{{.Id}}", IMAGE], check=False).stdout.strip()
    t = time.monotonic()
    run([os.path.join(SOURCE_DIR, "scripts", "container-image"), "prebuilt", binary, IMAGE], env=env, capture=False)
    new = run(["podman", "image", "inspect", "--format", "{{.Id}} {{.Size}}", IMAGE]).stdout.split()
    log(f"image {IMAGE}: {int(new[1]) / 1e6:.0f} MB, built in {time.monotonic() - t:.0f} s")
    if old and old != new[0]:
        run(["podman", "rmi", old], check=False)  # the previous run's image, untagged now
    # The image as the issue asks: every library found, non-root, no compiler.
    ldd = run(["podman", "run", "--rm", "--entrypoint", "ldd", IMAGE, "/usr/local/bin/sagaflow"]).stdout
    if "not found" in ldd:
        raise Failure(f"libraries missing in the image (add their packages to the Containerfile):\n{ldd}")
    uid = run(["podman", "run", "--rm", "--entrypoint", "id", IMAGE, "-u"]).stdout.strip()
    if uid == "0":
        raise Failure("the image runs as root")
    compilers = run(["podman", "run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                     "for c in cc gcc g++ c++ clang cmake; do command -v $c; done; true"]).stdout.strip()
    if compilers:
        raise Failure(f"the runtime image has a compiler: {compilers}")
    if run(["podman", "run", "--rm", IMAGE, "--version"]).returncode != 0:
        raise Failure("the image's entrypoint does not run sagaflow")
    for sub in ("clickhouse", "prometheus"):
        t = time.monotonic()
        run(["podman", "build", "--quiet", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t",
             f"localhost/sagaflow-test-{sub}:latest", os.path.join(COMPOSE_DIR, "test", sub)])
        log(f"image localhost/sagaflow-test-{sub} ready in {time.monotonic() - t:.0f} s")


def make_inputs(binary, shared, work):
    """The model, the events file (reference) and the producer's inputs."""
    models = os.path.join(work, "models")
    os.makedirs(models)
    python = os.environ.get("SAGAFLOW_PYTHON", "/usr/bin/python3")
    run([python, os.path.join(SOURCE_DIR, "tools", "export_sklearn_model.py"), "--labels", "got,lotr,hp",
         os.path.join(shared, "models", "classification_pipeline.joblib"), os.path.join(models, "model.json")])
    inputs = os.path.join(work, "inputs")
    os.makedirs(inputs)
    # Blank texts become "empty" events (saga null) with their readers.
    with open(os.path.join(inputs, "blank.jsonl"), "w") as f:
        for i in range(25):
            f.write(json.dumps({"id": f"blank-{i}", "text": " " * (i % 3) + "\n" * (i % 2)}) + "\n")
    for d in (work, models, inputs):
        os.chmod(d, 0o755)  # the containers run as uid 10001
    for d in (models, inputs):
        for name in os.listdir(d):
            os.chmod(os.path.join(d, name), 0o644)
    events = os.path.join(work, "events.jsonl")
    with open(events, "w") as out:
        for args in produce_args("/dev/null", os.path.join(shared, "corpus", "texts.jsonl")):
            p = subprocess.run([binary, *args], stdout=out, stderr=subprocess.PIPE, text=True,
                               cwd=inputs, timeout=120)
            if p.returncode != 0:
                raise Failure(f"produce failed: {p.stderr}")
    with open(events) as f:
        count = sum(1 for _ in f)
    return models, inputs, events, count


def produce_args(kafka, corpus):
    """The two producer runs, identical for the reference file and the broker (blank.jsonl relative)."""
    common = ["--start-time", "2024-03-01T00:00:00Z", "--interval", "7"]
    sink = ["--output", "-"] if kafka == "/dev/null" else ["--kafka", kafka, "--topic", TOPIC,
                                                           "--rate", str(PRODUCE_RATE)]
    return [["produce", "--input", corpus, "--seed", "11", *common, *sink],
            ["produce", "--input", "blank.jsonl", "--seed", "12", *common, *sink]]


def reference(binary, models, events, work):
    """The embedded pipeline on the same events: SQLite store and `query --format json`."""
    store = "sqlite:" + os.path.join(work, "reference.db")
    entities = os.path.join(SOURCE_DIR, "data", "entities", "sagas.tsv")
    run([binary, "run", "--source", "file:" + events, "--store", store, "--model",
         os.path.join(models, "model.json"), "--entities", entities, "--progress", "never"])
    answers = {}

    def q(key, *args):
        answers[key] = json.loads(run([binary, "query", "--store", store, "--format", "json", *args]).stdout)

    q("sagas", "sagas")
    q("rejected", "rejected")
    for saga in SAGAS:
        for by in ("mentions", "readers"):
            q(f"top-{saga}-{by}", "top-entities", "--saga", saga, "--by", by, "--limit", "50")
    return answers


def api_answers(base, token):
    answers = {}

    def q(key, path, **params):
        url = f"{base}{path}" + (("?" + urllib.parse.urlencode(params)) if params else "")
        status, body = http_json(url, token)
        answers[key] = body

    q("sagas", "/v1/sagas")
    q("rejected", "/v1/rejected")
    for saga in SAGAS:
        for by in ("mentions", "readers"):
            q(f"top-{saga}-{by}", "/v1/top-entities", saga=saga, by=by, limit=50)
    return answers


def stored_events(base, token):
    status, rows = http_json(f"{base}/v1/sagas", token)
    return sum(r["events"] for r in rows)


def prometheus_query(base, expr):
    status, body = http_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if body.get("status") != "success":
        raise Failure(f"Prometheus query {expr} failed: {body}")
    return body["data"]["result"]


def run_metrics_ports(stack):
    """The metrics port each live `run` replica logged (they share the dev broker's network namespace)."""
    ports = []
    for n in range(1, REPLICAS + 1):
        name = stack.container("run", n)
        if stack.state(name)[0] != "running":
            continue
        found = re.findall(r"metrics and probes on http://[^:/]+:(\d+)", stack.logs(name))
        if not found:
            return None
        ports.append(int(found[-1]))
    return ports


def write_targets(stack, targets_dir):
    ports = wait_for("the run replicas' metrics ports in their logs", lambda: run_metrics_ports(stack), 60)
    tmp = os.path.join(targets_dir, "run.json.tmp")
    with open(tmp, "w") as f:
        json.dump([{"targets": [f"kafka:{p}" for p in ports]}], f)
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(targets_dir, "run.json"))
    return ports


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, shared, work_parent = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    shared = os.environ.get("SAGAFLOW_SHARED") or shared
    for rel in ("corpus/texts.jsonl", "models/classification_pipeline.joblib"):
        if not os.path.exists(os.path.join(shared, rel)):
            raise Skip(f"shared data missing: {os.path.join(shared, rel)}")
    if not shutil.which("podman") or not shutil.which("podman-compose"):
        raise Skip("podman or podman-compose is not installed (scripts/setup installs them)")
    p = run([os.path.join(SOURCE_DIR, "scripts", "podman-setup")], check=False)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise Skip(f"podman cannot run containers here: {p.stderr.strip()}")
    p = run(["podman", "run", "--rm", "--network", "none", BASE_IMAGE, "true"], check=False) \
        if run(["podman", "image", "exists", BASE_IMAGE], check=False).returncode == 0 else None
    if p is not None and p.returncode != 0:
        raise Skip(f"podman cannot start a container: {p.stderr.strip()}")

    os.makedirs(work_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="compose-", dir=work_parent)
    build_images(binary)
    models, inputs, events, expected = make_inputs(binary, shared, work)
    log(f"{expected} events ({events}); reference run into SQLite")
    ref = reference(binary, models, events, work)

    targets = os.path.join(work, "prometheus-targets")
    os.makedirs(targets)
    os.chmod(targets, 0o755)
    token = secrets.token_hex(16)
    serve_port, prom_port = free_port(), free_port()
    env = dict(os.environ,
               SAGAFLOW_IMAGE=IMAGE, BASE_IMAGE=BASE_IMAGE,
               SAGAFLOW_MODEL_DIR=models,
               SAGAFLOW_CLICKHOUSE_PASSWORD=secrets.token_hex(12),
               SAGAFLOW_API_TOKEN=token,
               GRAFANA_ADMIN_PASSWORD=secrets.token_hex(12),
               SAGAFLOW_PARTITIONS=str(PARTITIONS), SAGAFLOW_TOPIC=TOPIC,
               SAGAFLOW_RUN_REPLICAS=str(REPLICAS), SAGAFLOW_RUN_HTTP_PORT="0",
               # A dead member's partitions move after 6 s instead of 45.
               SAGAFLOW_KAFKA_OPTIONS="&session.timeout.ms=6000&heartbeat.interval.ms=500",
               SAGAFLOW_PUBLISH_HOST="127.0.0.1", SAGAFLOW_SERVE_PORT=str(serve_port),
               PROMETHEUS_PORT=str(prom_port), SAGAFLOW_TEST_TARGETS_DIR=targets,
               SAGAFLOW_LOG_FORMAT="human")
    stack = Stack(work, env)
    keep = os.environ.get("SAGAFLOW_KEEP_STACK") == "1"
    ok = False
    try:
        ok = exercise(stack, shared, inputs, ref, expected, token, serve_port, prom_port, targets)
    finally:
        if not ok:
            stack.dump_logs()
            print(f"--- podman-compose log: {stack.log_path}", file=sys.stderr)
        if keep:
            log(f"stack kept (SAGAFLOW_KEEP_STACK=1); remove it with: podman ps -a --filter "
                f"label=io.podman.compose.project={stack.project}")
        else:
            stack.remove()
    if ok and not keep:
        shutil.rmtree(work, ignore_errors=True)  # kept after a failure, for its logs
    return 0


def exercise(stack, shared, inputs, ref, expected, token, serve_port, prom_port, targets):
    stack.compose("up", "-d", "kafka")
    kafka = stack.container("kafka")
    address = wait_for("the dev broker's address", lambda: re.search(
        r"^(127\.0\.0\.1:\d+)$", run(["podman", "logs", kafka], check=False).stdout, re.M), 30).group(1)
    log(f"dev broker (Kafka) at {address} in {kafka}'s network namespace")
    stack.env["SAGAFLOW_KAFKA_BROKERS"] = address
    stack.compose("up", "-d", "run", "serve", "prometheus")

    migrate = stack.container("migrate")
    wait_for("the migrate job to exit 0", lambda: stack.state(migrate) == ("exited", 0), 120)
    log("migrate job exited 0")
    validate = stack.container("validate")
    wait_for("the validate job to exit 0", lambda: stack.state(validate) == ("exited", 0), 120)
    checklist = [line for line in stack.logs(validate).splitlines() if re.match(r"^(ok|FAIL|skip) ", line)]
    if not any(re.match(r"^ok +kafka topic ", line) for line in checklist) or \
            not any(re.match(r"^ok +store privileges ", line) for line in checklist):
        raise Failure("validate exited 0 without checking the topic and the store:\n" + "\n".join(checklist))
    log(f"validate job exited 0 ({len(checklist)} checks)")
    serve = f"http://127.0.0.1:{serve_port}"
    wait_for("serve /readyz", lambda: http_json(f"{serve}/readyz", token)[0] == 200, 90)
    ports = write_targets(stack, targets)
    log(f"run replicas' metrics on kafka:{ports}; serve ready at {serve}")
    prom = f"http://127.0.0.1:{prom_port}"
    wait_for("Prometheus to scrape every target", lambda: len(
        [r for r in prometheus_query(prom, 'up{job=~"sagaflow-.*"}') if r["value"][1] == "1"]) == REPLICAS + 1, 60)

    # Produce from a container in the dev broker's network namespace.
    producer = [
        "podman", "run", "--rm", "--network", f"container:{stack.container('kafka')}",
        "-v", f"{inputs}:/inputs:ro", "-w", "/inputs",
        "-v", f"{os.path.abspath(os.path.join(shared, 'corpus', 'texts.jsonl'))}:/corpus/texts.jsonl:ro", IMAGE]
    t0 = time.monotonic()
    procs = []
    for args in produce_args(address, "/corpus/texts.jsonl"):
        procs.append(subprocess.Popen(producer + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        if len(procs) == 1:
            # Kill a replica mid-stream, once about a third of the events is stored.
            wait_for("a third of the events stored",
                     lambda: stored_events(serve, token) >= expected // 3, 120, interval=0.2)
            victim = stack.container("run", 1)
            stored = stored_events(serve, token)
            run(["podman", "kill", "--signal", "KILL", victim])
            log(f"podman kill -s KILL {victim} with {stored} of {expected} events stored")
    for p in procs:
        out, err = p.communicate(timeout=300)
        if p.returncode != 0:
            raise Failure(f"producer exited {p.returncode}: {err[-3000:]}")
    log(f"produced {expected} events in {time.monotonic() - t0:.1f} s")

    wait_for(f"all {expected} events stored", lambda: stored_events(serve, token) >= expected, 180)
    log(f"the store holds {stored_events(serve, token)} events")
    time.sleep(2)  # anything stored twice would show up now

    api = api_answers(serve, token)
    diffs = [k for k in ref if ref[k] != api[k]]
    if diffs:
        for k in diffs:
            print(f"--- {k}\nreference: {json.dumps(ref[k])[:1500]}\nserve API: {json.dumps(api[k])[:1500]}",
                  file=sys.stderr)
        raise Failure(f"the stack's analytics differ from the embedded pipeline's: {diffs}")
    total = sum(r["events"] for r in api["sagas"])
    if total != expected:
        raise Failure(f"serve reports {total} events, {expected} were produced")
    log(f"serve's API equals the embedded pipeline on {len(ref)} queries ({total} events, one consumer killed)")

    write_targets(stack, targets)  # the live replicas (a restarted one listens on a new port)
    check_prometheus(prom)
    return True


def lag_settled(prom):
    series = prometheus_query(prom, LAG_METRIC)
    partitions = {s["metric"].get("partition") for s in series}
    return len(partitions) == PARTITIONS and all(float(s["value"][1]) == 0 for s in series)


def check_prometheus(prom):
    """The real Prometheus, scraping the containers, has the pipeline's counters, the lag and the rules."""
    wait_for("Prometheus to report zero lag on every partition", lambda: lag_settled(prom), 60)
    events = prometheus_query(prom, f'sum({EVENTS_METRIC}{{job="sagaflow-run"}})')
    if not events or float(events[0]["value"][1]) <= 0:
        raise Failure(f"Prometheus has no {EVENTS_METRIC} from the run replicas: {events}")
    lag = prometheus_query(prom, f'count by (partition) ({LAG_METRIC}{{job="sagaflow-run"}})')
    if len(lag) != PARTITIONS:
        raise Failure(f"Prometheus has lag for {len(lag)} partitions, expected {PARTITIONS}: {lag}")
    http = prometheus_query(prom, 'sum(sagaflow_http_requests_total{job="sagaflow-serve"})')
    if not http or float(http[0]["value"][1]) <= 0:
        raise Failure(f"Prometheus has no sagaflow_http_requests_total from serve: {http}")
    status, rules = http_json(f"{prom}/api/v1/rules")
    groups = [g["name"] for g in rules["data"]["groups"]]
    alerts = [r["name"] for g in rules["data"]["groups"] for r in g["rules"] if r["type"] == "alerting"]
    unhealthy = [r["name"] for g in rules["data"]["groups"] for r in g["rules"] if r.get("health") == "err"]
    if not alerts or unhealthy:
        raise Failure(f"Prometheus rules: groups {groups}, alerts {alerts}, failing {unhealthy}")
    log(f"Prometheus: {EVENTS_METRIC} {events[0]['value'][1]}, lag for {len(lag)} partitions, "
        f"{len(alerts)} alert rules loaded")


if __name__ == "__main__":
    in_ci = os.environ.get("CI") == "true"

    def on_signal(sig, frame):
        raise Failure(f"stopped by signal {sig}")  # runs the cleanup in main's finally

    signal.signal(signal.SIGTERM, on_signal)
    try:
        status = main()
        if status == 0:
            log("PASS")
    except Skip as e:
        if in_ci:
            print(f"FAIL (CI=true): {e}", file=sys.stderr)
            status = 1
        else:
            print(f"\n*** SKIPPED: {e} ***\n", file=sys.stderr)
            status = SKIP
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        status = 1
    sys.exit(status)
