// Offline validation of deploy/k8s (issue 7, deliverable 4): no cluster and no
// kustomize here, so this renders the kustomizations itself (the subset of
// kustomize they use; anything else is refused, never ignored) and checks:
//   - every object against the Kubernetes (kubernetes-models) and KEDA
//     (@kubernetes-models/keda) schemas;
//   - every YAML file under deploy/k8s is used by a kustomization;
//   - probe paths answer 200 on a real `run --http-port` and `serve` started with
//     each container's own variables (API token included; only the store, model,
//     source and address are replaced), probes sent as the kubelet does; probe and
//     Service ports resolve to the ports the settings make the binary listen on;
//   - every SAGAFLOW_* variable a container gets (env, envFrom ConfigMaps and
//     Secrets) is one its command reads (`sagaflow [<command>] --help`), and
//     every ConfigMap/Secret referenced exists (but the user-made sagaflow-model);
//   - every credential (a variable named like one, a password inside an
//     address) comes from a Secret, none from a ConfigMap or a literal;
//   - selectors of PDBs, HPAs, NetworkPolicies, the Service and the ScaledObject
//     match the pods; the KEDA trigger names the run ConfigMap's topic, group and
//     brokers; the autoscalers' maxima agree (= partitions); every container has
//     requests and limits and runs as non-root;
//   - the Prometheus operator's objects (components/prometheus-operator) against
//     its schemas (@kubernetes-models/prometheus-operator): the PodMonitor and
//     ServiceMonitor select pods/Services whose named ports serve /metrics on the
//     binary, and the PrometheusRule's groups equal deploy/prometheus/rules/*.yml;
//   - every pod that runs `run` first runs `sagaflow validate` (an init
//     container with run's settings and volumes), and compose's `run` waits
//     for a `validate` service with run's settings (validate_step.mjs);
//   - the batch settings compose and the ConfigMaps give `run` (batch size,
//     bytes, linger) equal the binary's defaults for their store (`sagaflow run
//     --help` prints them per store).
//
//   node tests/deploy/k8s_manifests_test.mjs SAGAFLOW_BINARY
// Exit 0 passed, 1 failed. npm packages: tests/deploy/package.json (scripts/setup).

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { checkComposeValidateStep, checkValidateStep } from "./validate_step.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.resolve(here, "../..");
const k8sDir = path.join(sourceDir, "deploy/k8s");
const require = createRequire(path.join(here, "package.json"));
const YAML = require("yaml");
const binary = process.argv[2];
if (!binary) {
  console.error("usage: k8s_manifests_test.mjs SAGAFLOW_BINARY");
  process.exit(2);
}

// ---------------------------------------------------------------------------
// Schemas: apiVersion/kind -> model class.
function modelClass(apiVersion, kind) {
  if (apiVersion === "keda.sh/v1alpha1") return require("@kubernetes-models/keda/keda.sh/v1alpha1")[kind];
  if (apiVersion === "monitoring.coreos.com/v1") {
    return require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")[kind];
  }
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const mod = group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
  return require(mod)[kind];
}

// ---------------------------------------------------------------------------
// A kustomize subset: resources (files, directories with a kustomization),
// components, namespace, labels (pairs, includeSelectors, includeTemplates),
// images, generatorOptions.disableNameSuffixHash, configMapGenerator and
// secretGenerator with literals (behavior create|merge|replace), and JSON 6902
// patches with a kind/name target.
const KNOWN = new Set(["apiVersion", "kind", "resources", "components", "namespace", "labels", "images",
  "generatorOptions", "configMapGenerator", "secretGenerator", "patches"]);
const usedFiles = new Set();

function readYamlDocs(file) {
  usedFiles.add(path.resolve(file));
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((o) => o);
}

function render(dir) {
  const kfile = path.join(dir, "kustomization.yaml");
  const [k] = readYamlDocs(kfile);
  for (const key of Object.keys(k)) {
    if (!KNOWN.has(key)) throw new Error(`${kfile}: "${key}" is not supported by this test's renderer`);
  }
  let objects = [];
  for (const r of k.resources || []) {
    const p = path.join(dir, r);
    objects.push(...(fs.statSync(p).isDirectory() ? render(p) : readYamlDocs(p)));
  }
  for (const c of k.components || []) {
    const cdir = path.join(dir, c);
    const [ck] = readYamlDocs(path.join(cdir, "kustomization.yaml"));
    assert.equal(ck.kind, "Component", `${cdir} is not a Component`);
    objects.push(...render(cdir));
  }
  const hash = !(k.generatorOptions && k.generatorOptions.disableNameSuffixHash);
  for (const [kind, gens] of [["ConfigMap", k.configMapGenerator], ["Secret", k.secretGenerator]]) {
    for (const g of gens || []) {
      if (hash) throw new Error(`${kfile}: generators need generatorOptions.disableNameSuffixHash here`);
      const data = Object.fromEntries((g.literals || []).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      const field = kind === "Secret" ? "stringData" : "data";
      const existing = objects.find((o) => o.kind === kind && o.metadata.name === g.name);
      const behavior = g.behavior || "create";
      if (behavior === "create") {
        assert.ok(!existing, `${kfile}: ${kind} ${g.name} exists already`);
        objects.push({ apiVersion: "v1", kind, metadata: { name: g.name }, [field]: data });
      } else {
        assert.ok(existing, `${kfile}: ${behavior} of a missing ${kind} ${g.name}`);
        if (behavior === "replace") existing[field] = data;
        else Object.assign(existing[field], data);
      }
    }
  }
  for (const p of k.patches || []) {
    const ops = YAML.parse(p.patch);
    const targets = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    assert.equal(targets.length, 1, `${kfile}: patch target ${JSON.stringify(p.target)} matches ${targets.length} objects`);
    for (const op of ops) applyJsonPatch(targets[0], op, kfile);
  }
  for (const l of k.labels || []) {
    for (const o of objects) {
      o.metadata.labels = { ...(o.metadata.labels || {}), ...l.pairs };
      const tmpl = o.spec && o.spec.template;
      if (l.includeTemplates && tmpl) tmpl.metadata.labels = { ...(tmpl.metadata.labels || {}), ...l.pairs };
      if (l.includeSelectors) throw new Error(`${kfile}: includeSelectors is not supported here`);
    }
  }
  for (const img of k.images || []) {
    for (const o of objects) {
      for (const c of containers(o)) {
        const [name, tag] = splitImage(c.image);
        if (name === img.name) c.image = `${img.newName || name}:${img.newTag || tag || "latest"}`;
      }
    }
  }
  if (k.namespace) {
    for (const o of objects) if (o.kind !== "Namespace") o.metadata.namespace = k.namespace;
  }
  return objects;
}

function splitImage(image) {
  const i = image.lastIndexOf(":");
  return i > image.lastIndexOf("/") ? [image.slice(0, i), image.slice(i + 1)] : [image, undefined];
}

function applyJsonPatch(obj, op, where) {
  const keys = op.path.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    node = node[key];
    assert.ok(node !== undefined, `${where}: patch path ${op.path} does not exist`);
  }
  const last = keys[keys.length - 1];
  if (op.op === "replace") {
    assert.ok(last in node, `${where}: replace of missing ${op.path}`);
    node[last] = op.value;
  } else if (op.op === "add") {
    if (Array.isArray(node)) node.splice(last === "-" ? node.length : Number(last), 0, op.value);
    else node[last] = op.value;
  } else if (op.op === "remove") {
    assert.ok(last in node, `${where}: remove of missing ${op.path}`);
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    throw new Error(`${where}: patch op ${op.op} is not supported here`);
  }
}

function podSpec(o) {
  if (o.kind === "Deployment" || o.kind === "Job") return o.spec.template.spec;
  return null;
}
function containers(o) {
  const s = podSpec(o);
  return s ? [...(s.initContainers || []), ...s.containers] : [];
}
function matches(selector, labels) {
  return Object.entries(selector.matchLabels || {}).every(([k, v]) => labels[k] === v);
}

// ---------------------------------------------------------------------------
// What the binary reads and serves.
function envNames(args) {
  const p = spawnSync(binary, [...args, "--help"], { encoding: "utf8" });
  if (p.status !== 0) throw new Error(`sagaflow ${args.join(" ")} --help exited ${p.status}: ${p.stderr}`);
  if (args.length) {
    // `sagaflow nosuch --help` prints the main help: the subcommand must be listed there.
    const main = spawnSync(binary, ["--help"], { encoding: "utf8" }).stdout;
    const listed = main.slice(main.indexOf("Subcommands:")).split("\n").some((l) => l.trim().split(/\s+/)[0] === args[0]);
    if (!listed) throw new Error(`sagaflow has no subcommand ${args[0]}`);
  }
  return new Set([...p.stdout.matchAll(/\(Env:(SAGAFLOW_[A-Z0-9_]+)\)/g)].map((m) => m[1]));
}

// The batch settings `run` uses per store when not told otherwise, from
// `sagaflow run --help`: {scheme: {SAGAFLOW_BATCH_SIZE: n, ...}}.
const BATCH_SETTINGS = { SAGAFLOW_BATCH_SIZE: "--batch-size", SAGAFLOW_BATCH_BYTES: "--batch-bytes", SAGAFLOW_LINGER_MS: "--linger-ms" };
function batchDefaults() {
  const help = spawnSync(binary, ["run", "--help"], { encoding: "utf8" }).stdout.replace(/\s+/g, " ");
  const out = {};
  for (const [v, flag] of Object.entries(BATCH_SETTINGS)) {
    const m = help.match(new RegExp(`${flag} [^-]*?(?:-(?!-)[^-]*?)*?\\(default: ([^)]*)\\)`));
    if (!m) throw new Error(`sagaflow run --help: no per-store default for ${flag}`);
    for (const part of m[1].split(", ")) {
      const [value, scheme] = part.split(" for ");
      (out[scheme] = out[scheme] || {})[v] = Number(value);
    }
  }
  return out;
}

// Compose and Kubernetes must give `run` the store's own batch defaults (the
// ones behind the README's throughput): a setting they pass equals it.
function checkBatchSettings(defaults, objects) {
  const scheme = (uri) => uri.split(":")[0];
  const compare = (where, store, values) => {
    const d = defaults[scheme(store)];
    if (!d) return failures.push(`${where}: store ${store} has no defaults in sagaflow run --help`);
    for (const v of Object.keys(BATCH_SETTINGS)) {
      if (values[v] !== undefined) check(Number(values[v]) === d[v], `${where}: ${v}=${values[v]}, but run's default for ${scheme(store)} is ${d[v]}`);
    }
  };
  const cm = (n) => (objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === n) || { data: {} }).data;
  compare("deploy/k8s ConfigMap sagaflow-run", cm("sagaflow-store").SAGAFLOW_STORE, cm("sagaflow-run"));
  // compose: ${VAR:-default} in compose.yaml, and the values of .env.example.
  const composeDir = path.join(sourceDir, "deploy/compose");
  const compose = YAML.parse(fs.readFileSync(path.join(composeDir, "compose.yaml"), "utf8"));
  const fallback = (v) => (String(v).match(/^\$\{\w+:?-([^}]*)\}$/) || [null, v])[1];
  const env = compose.services.run.environment;
  const values = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fallback(v)]));
  compare("deploy/compose/compose.yaml run", values.SAGAFLOW_STORE, values);
  const example = Object.fromEntries(fs.readFileSync(path.join(composeDir, ".env.example"), "utf8").split("\n")
    .filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/\s+#.*$/, "")]));
  compare("deploy/compose/.env.example", values.SAGAFLOW_STORE, example);
  return defaults;
}

async function startAndReadLine(args, pattern, stream, env = process.env) {
  const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"], env });
  const rl = readline.createInterface({ input: child[stream] });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
  for await (const line of rl) {
    const m = line.match(pattern);
    if (m) {
      clearTimeout(timer);
      child[stream].resume();
      return { child, match: m };
    }
  }
  throw new Error(`sagaflow ${args[0]} did not print ${pattern}`);
}

// The variables a container gets from the rendered objects, as the kubelet
// builds them: envFrom ConfigMaps and Secrets in order, then env (values and
// key references).
function containerEnv(objects, c) {
  const find = (kind, n) => objects.find((o) => o.kind === kind && o.metadata.name === n);
  const values = (src) => {
    if (!src) return {};
    const out = { ...(src.stringData || {}) };
    for (const [k, v] of Object.entries(src.data || {})) {
      out[k] = src.kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v;
    }
    return out;
  };
  const env = {};
  for (const ef of c.envFrom || []) {
    Object.assign(env, values(find(ef.configMapRef ? "ConfigMap" : "Secret", (ef.configMapRef || ef.secretRef).name)));
  }
  for (const e of c.env || []) {
    if ("value" in e) env[e.name] = e.value;
    const ref = e.valueFrom && (e.valueFrom.secretKeyRef || e.valueFrom.configMapKeyRef);
    if (ref) env[e.name] = values(find(e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap", ref.name))[ref.key];
  }
  return env;
}

// The status of each probe path of a container started with the manifests'
// own variables (the API token included) and no others; only what points at
// the cluster is replaced by flags: the store (a local SQLite file), the model,
// the source (stdin), the address (a free loopback port). The probes are sent
// as the kubelet sends them: without credentials, with the probe's
// httpGet.httpHeaders if any.
const probeCache = new Map();
async function probeAnswers(work, command, env, probes) {
  const key = JSON.stringify([command, env, probes]);
  if (probeCache.has(key)) return probeCache.get(key);
  const model = path.join(work, "model.json");
  if (!fs.existsSync(model)) {
    const t = spawnSync(binary, ["train", "--data", path.join(sourceDir, "data/sample/train.jsonl"), "--out", model,
      "--stop-words", "english", "--labels", "got,lotr,hp"], { encoding: "utf8" });
    assert.equal(t.status, 0, `train failed: ${t.stderr}`);
  }
  const local = ["--store", `sqlite:${path.join(work, "store.db")}`, "--model", model,
    "--entities", path.join(sourceDir, "data/entities/sagas.tsv")];
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SAGAFLOW_")));
  Object.assign(childEnv, env);
  const proc = command === "run"
    ? await startAndReadLine(["run", "--source", "-", ...local, "--http-port", "0", "--http-host", "127.0.0.1"],
      /metrics and probes on http:\/\/[^:/]+:(\d+)/, "stderr", childEnv)
    : await startAndReadLine(["serve", ...local, "--port", "0", "--host", "127.0.0.1"], /^http:\/\/[^:/]+:(\d+)/,
      "stdout", childEnv);
  const answers = {};
  try {
    for (const { path: p, headers } of probes) {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetch(`http://127.0.0.1:${proc.match[1]}${p}`, { headers })
          .catch(() => ({ status: 0 }))).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      answers[p] = status;
    }
  } finally {
    if (command === "run") proc.child.stdin.end();
    proc.child.kill("SIGTERM");
  }
  probeCache.set(key, answers);
  return answers;
}

// Every probe of every container of a rendering, answered, and the paths the
// Prometheus annotations and monitors (PodMonitor, ServiceMonitor) scrape.
async function renderingAnswers(work, objects) {
  const out = new Map();
  const scraped = objects.filter((o) => o.kind === "PodMonitor" || o.kind === "ServiceMonitor")
    .flatMap((o) => (o.spec.podMetricsEndpoints || o.spec.endpoints || []).map((ep) => ep.path || "/metrics"));
  for (const o of objects) {
    for (const c of containers(o)) {
      const command = c.args[0];
      if (command !== "run" && command !== "serve") continue;
      const probes = ["livenessProbe", "readinessProbe", "startupProbe"].filter((k) => c[k]).map((k) => ({
        path: c[k].httpGet.path,
        headers: Object.fromEntries((c[k].httpGet.httpHeaders || []).map((h) => [h.name, h.value])),
      }));
      const ann = o.spec.template.metadata.annotations || {};
      if (ann["prometheus.io/path"]) probes.push({ path: ann["prometheus.io/path"], headers: {} });
      for (const p of scraped) probes.push({ path: p, headers: {} });
      out.set(c, await probeAnswers(work, command, containerEnv(objects, c), probes));
    }
  }
  return out;
}

// A credential in a ConfigMap or a literal value: a variable named like one,
// or a password inside an address (userinfo, a librdkafka secret property).
const SECRET_NAME = /(PASSWORD|TOKEN|SECRET|CREDENTIAL|_KEY$)/;
const SECRET_IN_VALUE = /(:\/\/[^/@\s]*:[^/@\s]*@|sasl\.password|ssl\.key\.password|ssl\.keystore\.password)/i;

// ---------------------------------------------------------------------------
const failures = [];
function check(cond, msg) {
  if (!cond) failures.push(msg);
}

function checkSet(name, objects, env, answers) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const find = (kind, n) => objects.find((o) => o.kind === kind && o.metadata.name === n);
  // Schemas.
  for (const o of objects) {
    const Model = modelClass(o.apiVersion, o.kind);
    if (!Model) {
      failures.push(`${name}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      failures.push(`${name}: ${o.kind} ${o.metadata.name}: ${e.message}`);
    }
  }
  const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  check(new Set(names).size === names.length, `${name}: duplicate objects ${names}`);
  const pods = byKind("Deployment").concat(byKind("Job")).map((o) => ({ o, labels: o.spec.template.metadata.labels }));

  for (const o of objects) {
    for (const c of containers(o)) {
      const where = `${name}: ${o.kind} ${o.metadata.name} container ${c.name}`;
      const command = c.args[0];
      const allowed = env[command];
      check(allowed, `${where}: command ${command} is not a sagaflow subcommand with --help`);
      // Variables: env and envFrom.
      const vars = new Map();
      for (const e of c.env || []) {
        vars.set(e.name, "env");
        const ref = e.valueFrom && (e.valueFrom.secretKeyRef || e.valueFrom.configMapKeyRef);
        if (ref) {
          const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap";
          const src = find(kind, ref.name);
          check(src, `${where}: ${kind} ${ref.name} does not exist`);
          const data = src && { ...(src.data || {}), ...(src.stringData || {}) };
          check(!src || ref.key in data, `${where}: ${kind} ${ref.name} has no key ${ref.key}`);
        }
      }
      for (const ef of c.envFrom || []) {
        const ref = ef.configMapRef || ef.secretRef;
        const src = find(ef.configMapRef ? "ConfigMap" : "Secret", ref.name);
        check(src, `${where}: envFrom ${ref.name} does not exist`);
        for (const k of Object.keys((src && { ...(src.data || {}), ...(src.stringData || {}) }) || {})) vars.set(k, ref.name);
      }
      for (const [v, from] of vars) {
        check(!allowed || !v.startsWith("SAGAFLOW_") || allowed.has(v),
          `${where}: ${v} (from ${from}) is not read by \`sagaflow ${command}\``);
      }
      // Credentials come from Secrets only.
      const fromSecret = new Set((c.env || []).filter((e) => e.valueFrom && e.valueFrom.secretKeyRef).map((e) => e.name));
      for (const ef of c.envFrom || []) {
        if (!ef.secretRef) continue;
        const src = find("Secret", ef.secretRef.name);
        for (const k of Object.keys((src && { ...(src.data || {}), ...(src.stringData || {}) }) || {})) fromSecret.add(k);
      }
      for (const [v, value] of Object.entries(containerEnv(objects, c))) {
        if (fromSecret.has(v)) continue;
        check(!SECRET_NAME.test(v), `${where}: ${v} is a credential but does not come from a Secret`);
        check(!SECRET_IN_VALUE.test(String(value)), `${where}: ${v} holds a credential but does not come from a Secret`);
      }
      // Resources and security.
      check(c.resources && c.resources.requests && c.resources.limits, `${where}: requests and limits missing`);
      const podSec = podSpec(o).securityContext || {};
      check(podSec.runAsNonRoot === true, `${where}: not runAsNonRoot`);
      check(c.securityContext && c.securityContext.allowPrivilegeEscalation === false, `${where}: allowPrivilegeEscalation`);
      // Probes and ports.
      const listenVar = { run: "SAGAFLOW_HTTP_PORT", serve: "SAGAFLOW_PORT" }[command];
      const portValue = (n) => {
        for (const src of [...(c.envFrom || [])].reverse()) {
          const cm = src.configMapRef && find("ConfigMap", src.configMapRef.name);
          if (cm && cm.data && n in cm.data) return Number(cm.data[n]);
        }
        const e = (c.env || []).find((x) => x.name === n);
        return e ? Number(e.value) : undefined;
      };
      for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        const probe = c[kind];
        if (!probe) {
          // One-shot commands (the migration Job, the validate init container) have no probes.
          check(kind === "startupProbe" || command === "migrate" || command === "validate", `${where}: no ${kind}`);
          continue;
        }
        const port = typeof probe.httpGet.port === "number" ? probe.httpGet.port
          : (c.ports || []).find((p) => p.name === probe.httpGet.port)?.containerPort;
        check(port !== undefined, `${where}: ${kind} port ${probe.httpGet.port} is not a container port`);
        check(port === portValue(listenVar), `${where}: ${kind} port ${port} but ${listenVar}=${portValue(listenVar)}`);
        const answer = answers.get(c) && answers.get(c)[probe.httpGet.path];
        check(answer === 200, `${where}: ${kind} ${probe.httpGet.path} answers ${answer}, not 200, on \`sagaflow ${command}\` ` +
          "started with the container's variables (token included)");
        check(kind !== "livenessProbe" || probe.httpGet.path === "/healthz", `${where}: liveness must be /healthz`);
        check(kind !== "readinessProbe" || probe.httpGet.path === "/readyz", `${where}: readiness must be /readyz`);
      }
      const ann = o.spec.template.metadata.annotations || {};
      if (ann["prometheus.io/port"] && listenVar) {  // the pod's serving container, not an init container
        check(Number(ann["prometheus.io/port"]) === portValue(listenVar), `${where}: prometheus.io/port is not ${listenVar}`);
        check(answers.get(c) && answers.get(c)[ann["prometheus.io/path"]] === 200, `${where}: metrics path`);
      }
      for (const v of podSpec(o).volumes || []) {
        if (v.configMap) check(v.configMap.name === "sagaflow-model" || find("ConfigMap", v.configMap.name),
          `${where}: volume ConfigMap ${v.configMap.name} missing`);
      }
    }
  }
  // Selectors.
  for (const o of [...byKind("PodDisruptionBudget"), ...byKind("Service"), ...byKind("NetworkPolicy")]) {
    const sel = o.kind === "Service" ? { matchLabels: o.spec.selector } : (o.spec.selector || o.spec.podSelector);
    check(pods.some((p) => matches(sel, p.labels)), `${name}: ${o.kind} ${o.metadata.name} selects no pod`);
  }
  for (const svc of byKind("Service")) {
    for (const port of svc.spec.ports) {
      check(pods.some((p) => matches({ matchLabels: svc.spec.selector }, p.labels) &&
        p.o.spec.template.spec.containers.some((c) => (c.ports || []).some((cp) => cp.name === port.targetPort || cp.containerPort === port.targetPort))),
      `${name}: Service ${svc.metadata.name} targetPort ${port.targetPort} is no container port`);
    }
  }
  for (const o of [...byKind("HorizontalPodAutoscaler"), ...byKind("ScaledObject")]) {
    check(find("Deployment", o.spec.scaleTargetRef.name), `${name}: ${o.kind} ${o.metadata.name} scales a missing Deployment`);
  }
  // Prometheus operator: what the monitors select serves /metrics on a named port.
  for (const pm of byKind("PodMonitor")) {
    const selected = pods.filter((p) => matches(pm.spec.selector, p.labels));
    check(selected.length > 0, `${name}: PodMonitor ${pm.metadata.name} selects no pod`);
    for (const ep of pm.spec.podMetricsEndpoints) {
      for (const p of selected) {
        const c = p.o.spec.template.spec.containers.find((x) => (x.ports || []).some((cp) => cp.name === ep.port));
        check(c, `${name}: PodMonitor ${pm.metadata.name} port ${ep.port} is no container port of ${p.o.metadata.name}`);
        check(c && answers.get(c) && answers.get(c)[ep.path || "/metrics"] === 200,
          `${name}: PodMonitor ${pm.metadata.name} path ${ep.path} does not answer 200`);
      }
    }
  }
  for (const sm of byKind("ServiceMonitor")) {
    const svcs = byKind("Service").filter((svc) => matches(sm.spec.selector, svc.metadata.labels || {}));
    check(svcs.length > 0, `${name}: ServiceMonitor ${sm.metadata.name} selects no Service`);
    for (const ep of sm.spec.endpoints) {
      for (const svc of svcs) {
        check(svc.spec.ports.some((p) => p.name === ep.port), `${name}: ServiceMonitor port ${ep.port} is not a port of Service ${svc.metadata.name}`);
        const pod = pods.find((p) => matches({ matchLabels: svc.spec.selector }, p.labels));
        const c = pod && pod.o.spec.template.spec.containers[0];
        const cmd = c && c.args[0];
        check(c && answers.get(c) && answers.get(c)[ep.path || "/metrics"] === 200,
          `${name}: ServiceMonitor ${sm.metadata.name} path ${ep.path} does not answer 200 on \`sagaflow ${cmd}\``);
      }
    }
  }
  for (const pr of byKind("PrometheusRule")) {
    const files = fs.readdirSync(path.join(sourceDir, "deploy/prometheus/rules")).filter((f) => /\.ya?ml$/.test(f)).sort();
    const groups = files.flatMap((f) => YAML.parse(fs.readFileSync(path.join(sourceDir, "deploy/prometheus/rules", f), "utf8")).groups);
    try {
      assert.deepEqual(pr.spec.groups, groups);
    } catch (e) {
      failures.push(`${name}: PrometheusRule ${pr.metadata.name} differs from deploy/prometheus/rules: ${e.message.slice(0, 2000)}`);
    }
  }
  for (const so of byKind("ScaledObject")) {
    const source = find("ConfigMap", "sagaflow-run").data.SAGAFLOW_SOURCE;
    const m = source.match(/^kafka:\/\/([^/]+)\/([^?]+)\?(.*)$/);
    check(m, `${name}: SAGAFLOW_SOURCE ${source} is not a kafka:// address`);
    const group = m && new URLSearchParams(m[3]).get("group");
    for (const t of so.spec.triggers) {
      check(t.type === "kafka", `${name}: ScaledObject trigger ${t.type}`);
      check(m && t.metadata.bootstrapServers === m[1], `${name}: KEDA brokers ${t.metadata.bootstrapServers} vs ${m && m[1]}`);
      check(m && t.metadata.topic === m[2], `${name}: KEDA topic ${t.metadata.topic} vs ${m && m[2]}`);
      check(t.metadata.consumerGroup === group, `${name}: KEDA group ${t.metadata.consumerGroup} vs ${group}`);
      check(Number(t.metadata.lagThreshold) > 0, `${name}: lagThreshold`);
    }
  }
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "sagaflow-k8s-"));
  try {
    const env = {};
    const globalVars = envNames([]);
    for (const cmd of ["run", "serve", "migrate", "validate"]) {
      try {
        env[cmd] = new Set([...globalVars, ...envNames([cmd])]);
      } catch (e) {
        failures.push(`${e.message.split("\n")[0]} (the migration Job runs \`sagaflow migrate\`)`);
      }
    }
    const sets = {
      base: render(path.join(k8sDir, "base")),
      "overlays/dev": render(path.join(k8sDir, "overlays/dev")),
    };
    for (const c of fs.readdirSync(path.join(k8sDir, "components"))) {
      const objs = render(path.join(k8sDir, "base"));
      objs.push(...render(path.join(k8sDir, "components", c)));
      sets[`base + components/${c}`] = objs;
    }
    for (const [name, objects] of Object.entries(sets)) checkSet(name, objects, env, await renderingAnswers(work, objects));
    const helpers = { check, podSpec, containerEnv };
    for (const [name, objects] of Object.entries(sets)) checkValidateStep(name, objects, env.validate, helpers);
    const compose = YAML.parse(fs.readFileSync(path.join(sourceDir, "deploy/compose/compose.yaml"), "utf8"));
    checkComposeValidateStep(compose, env.validate, check);
    const defaults = checkBatchSettings(batchDefaults(), sets.base);
    // The two autoscalers of the consumers stop at the same count (= partitions).
    const keda = sets["base + components/keda"].find((o) => o.kind === "ScaledObject");
    const hpa = sets["base + components/hpa-cpu"].find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "sagaflow-run");
    check(keda && hpa && keda.spec.maxReplicaCount === hpa.spec.maxReplicas,
      `KEDA maxReplicaCount ${keda && keda.spec.maxReplicaCount} != HPA maxReplicas ${hpa && hpa.spec.maxReplicas}`);
    const dev = sets["overlays/dev"];
    check(dev.every((o) => o.kind === "Namespace" || o.metadata.namespace === "sagaflow-dev"), "dev: objects outside sagaflow-dev");
    check(dev.filter((o) => o.kind === "Secret").every((o) => !JSON.stringify(o).includes("REPLACE-ME")), "dev: placeholder secrets");
    // No orphan manifests.
    const all = [];
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : /\.ya?ml$/.test(e.name) && all.push(path.join(d, e.name)));
    walk(k8sDir);
    for (const f of all) check(usedFiles.has(path.resolve(f)), `${path.relative(sourceDir, f)} is used by no kustomization`);
    const count = Object.values(sets).reduce((n, s) => n + s.length, 0);
    if (failures.length) {
      console.error(`FAIL:\n  ${failures.join("\n  ")}`);
      process.exit(1);
    }
    console.error(`PASS: ${Object.keys(sets).length} renderings, ${count} objects valid; probes, ports and variables match the binary; ` +
      `batch settings equal run's defaults ${JSON.stringify(defaults)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
