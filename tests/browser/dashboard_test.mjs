// Browser test of the dashboard served by `sagaflow serve`.
//
//   node tests/browser/dashboard_test.mjs SAGAFLOW_BINARY SHARED_DIR OUTPUT_DIR
//
// Fills a SQLite store from the shared corpus (exported prototype model,
// `produce --seed 1`, crafted empty and rejected records), starts `sagaflow
// serve --port 0` on it with an API token, opens the page in Debian's
// headless Chromium through playwright-core, enters the token when the page
// asks, picks a saga and a time range, and checks that the charts, the data
// tables and the counts show exactly what the API answers for the same
// question. Saves a screenshot to OUTPUT_DIR/dashboard.png.
//
// Exit status: 0 passed, 1 failed, 77 skipped (shared data or Chromium
// missing; with CI=true that is a failure instead: CI never passes by skipping).
// Environment: SAGAFLOW_SHARED overrides SHARED_DIR, SAGAFLOW_PYTHON (default /usr/bin/python3), SAGAFLOW_CHROMIUM
// (default /usr/bin/chromium), SAGAFLOW_KEEP_WORK=1 keeps the temp directory.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const SKIP = 77;
const sourceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [binary, defaultSharedDir, outputDir] = process.argv.slice(2);
if (!binary || !defaultSharedDir || !outputDir) {
  console.error("usage: dashboard_test.mjs SAGAFLOW_BINARY SHARED_DIR OUTPUT_DIR");
  process.exit(2);
}
const sharedDir = process.env.SAGAFLOW_SHARED || defaultSharedDir;  // as tests/support/shared_data.h
const inCi = process.env.CI === "true";
const python = process.env.SAGAFLOW_PYTHON || "/usr/bin/python3";
const chromiumPath = process.env.SAGAFLOW_CHROMIUM || "/usr/bin/chromium";

function skipOrFail(why) {
  if (inCi) {
    console.error(`FAIL (CI=true): ${why}`);
    process.exit(1);
  }
  console.error(`SKIP: ${why}`);
  process.exit(SKIP);
}

const corpus = path.join(sharedDir, "corpus/texts.jsonl");
const joblib = path.join(sharedDir, "models/classification_pipeline.joblib");
for (const f of [corpus, joblib]) if (!fs.existsSync(f)) skipOrFail(`shared data missing: ${f}`);
if (!fs.existsSync(chromiumPath)) skipOrFail(`no Chromium at ${chromiumPath} (scripts/setup installs Debian's chromium)`);

// playwright-core is a devDependency of web/ (npm ci in scripts/setup).
const { chromium } = createRequire(path.join(sourceDir, "web/package.json"))("playwright-core");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "sagaflow-dashboard-"));
const cleanups = [];
let serverLog = "";  // serve's stderr, shown when the test fails

function run(command, args) {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stderr}`);
  }
  return r.stdout;
}

// ---- The store: 3,000 shared-corpus events one minute apart (~2 days), plus
// crafted empty texts and rejected records inside the same time span.

const START = Date.parse("2024-03-01T00:00:00Z") / 1000;

function buildStore() {
  const model = path.join(work, "model.json");
  run(python, [path.join(sourceDir, "tools/export_sklearn_model.py"), "--labels", "got,lotr,hp", joblib, model]);
  const events = path.join(work, "events.jsonl");
  run(binary, ["produce", "--input", corpus, "--output", events, "--seed", "1", "--count", "3000",
    "--order", "random", "--start-time", String(START), "--interval", "60"]);
  const crafted = [
    { id: "empty-1", time: START + 3600 * 5, readers: 700, text: "" },
    { id: "empty-2", time: START + 3600 * 30 + 17, readers: 1234, text: "  \n\t " },
    { id: "empty-3", time: START + 3600 * 47, readers: 99, text: "\u3000" },
  ].map((e) => JSON.stringify(e));
  crafted.push('{"id": "broken", "time": 1', '{"id": "no-time", "readers": 5, "text": "x"}',
    '{"id": "typed", "time": 1709251200, "readers": "5", "text": "x"}', "[1, 2]");
  fs.appendFileSync(events, `${crafted.join("\n")}\n`);
  const store = path.join(work, "store.db");
  run(binary, ["run", "--source", `file:${events}`, "--store", `sqlite:${store}`, "--model", model,
    "--entities", path.join(sourceDir, "data/entities/sagas.tsv"), "--progress", "never"]);
  return { model, store };
}

// ---- The server: `serve --port 0` prints its address on its first stdout line.

async function startServer(model, store, token) {
  const child = spawn(binary, ["serve", "--model", model, "--entities", path.join(sourceDir, "data/entities/sagas.tsv"),
    "--store", `sqlite:${store}`, "--host", "127.0.0.1", "--port", "0"],
  { env: { ...process.env, SAGAFLOW_API_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr.on("data", (chunk) => { serverLog += chunk; });
  cleanups.push(() => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  }));
  const firstLine = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve printed no address in 30 s")), 30000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before listening`));
    });
    readline.createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
  const m = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):(\d+)/.exec(firstLine);
  if (!m) throw new Error(`no host:port in serve's first stdout line: ${JSON.stringify(firstLine)}`);
  return `http://${m[1]}:${m[2]}`;
}

// ---- Expectations, computed from direct API answers.

function apiClient(base, token) {
  return async (route, params = {}) => {
    const url = new URL(route, base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const body = await response.json();
    assert.equal(response.status, 200, `${url}: ${JSON.stringify(body)}`);
    return body;
  };
}

const iso = (t) => new Date(t * 1000).toISOString();
const bucketLabel = (t, bucket) => (bucket === "day" ? iso(t).slice(0, 10) : `${iso(t).slice(0, 10)} ${iso(t).slice(11, 16)}`);

// What the page must show for one question, from the API's own answers.
async function expected(api, q) {
  const range = { from: q.from, to: q.to };
  const [sagaRows, top, trend, rejected] = await Promise.all([
    api("/v1/sagas", range),
    api("/v1/top-entities", { saga: q.saga, ...range, limit: q.limit, by: q.by }),
    api("/v1/saga-trend", { bucket: q.bucket, ...range }),
    api("/v1/rejected"),
  ]);
  const sagas = sagaRows.filter((r) => r.saga !== null).map((r) => r.saga);
  const times = [...new Set(trend.map((r) => r.time))].sort((a, b) => a - b);
  const lines = sagas.map((saga) => ({
    label: saga,
    data: times.map((t) => trend.find((r) => r.saga === saga && r.time === t)?.readers ?? 0),
  }));
  const empty = sagaRows.find((r) => r.saga === null);
  const own = sagaRows.find((r) => r.saga === q.saga);
  return {
    top: { labels: top.map((r) => r.entity), datasets: [{ label: q.by, data: top.map((r) => r[q.by]) }] },
    topTable: top.map((r) => [r.entity, r.mentions, r.readers]),
    trend: { labels: times.map((t) => bucketLabel(t, q.bucket)), datasets: lines },
    counts: {
      "count-saga-events": own.events,
      "count-saga-readers": own.readers,
      "count-empty": empty.events,
      "count-empty-readers": empty.readers,
      "count-rejected": rejected.reduce((sum, r) => sum + r.events, 0),
    },
    raw: { sagaRows, top, trend, rejected },
  };
}

// What the page shows: the Chart.js instances' data, the tables, the counts.
async function shown(page) {
  return page.evaluate(() => {
    const chartData = (chart) => ({
      labels: [...chart.data.labels],
      datasets: chart.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })),
    });
    const { charts } = window.sagaflowDashboard;
    const digits = (s) => Number(s.replace(/[^0-9]/g, ""));
    const counts = {};
    for (const dd of document.querySelectorAll("#counts dd")) {
      counts[dd.id] = { text: digits(dd.textContent), value: Number(dd.dataset.value) };
    }
    const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) =>
      [...tr.cells].map((c, i) => (i === 0 ? c.textContent : digits(c.textContent))));
    return {
      top: chartData(charts.top),
      trend: chartData(charts.trend),
      topTable: rows("top-table"),
      trendTable: rows("trend-table"),
      counts,
      canvases: [...document.querySelectorAll("canvas")].map((c) => [c.width, c.height]),
    };
  });
}

function checkPage(got, want, what) {
  assert.deepEqual(got.top, want.top, `${what}: bar chart data`);
  assert.deepEqual(got.topTable, want.topTable, `${what}: top entities table`);
  assert.deepEqual(got.trend, want.trend, `${what}: line chart data`);
  assert.deepEqual(got.trendTable,
    want.trend.labels.map((label, i) => [label, ...want.trend.datasets.map((d) => d.data[i])]),
    `${what}: trend table`);
  for (const [id, value] of Object.entries(want.counts)) {
    assert.equal(got.counts[id].value, value, `${what}: ${id}`);
    assert.equal(got.counts[id].text, value, `${what}: ${id} as shown`);
  }
  for (const [w, h] of got.canvases) assert.ok(w > 100 && h > 100, `${what}: a chart is drawn (${w}x${h})`);
}

// Waits until the page drew the answer of its latest question (newer than
// draw number `before`), or shows an error.
async function nextDraw(page, before) {
  await page.waitForFunction((g) => {
    const { state, generation, requested } = document.body.dataset;
    return state === "error" || (state === "ready" && generation === requested && Number(generation) > g);
  }, before);
  const error = await page.locator("#error").textContent();
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", `page error: ${error}`);
}

const generation = (page) => page.evaluate(() => Number(document.body.dataset.generation || 0));
// Playwright fills datetime-local inputs with minutes ("YYYY-MM-DDTHH:MM").
const inputValue = (t) => {
  assert.equal(t % 60, 0, "whole minutes");
  return iso(t).slice(0, 16);
};
// A datetime-local value read as UTC (Chromium drops ":00" seconds).
const inputTime = (v) => Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`) / 1000;

async function main() {
  const { model, store } = buildStore();
  const token = randomBytes(16).toString("hex");
  const base = await startServer(model, store, token);
  const api = apiClient(base, token);
  console.log(`serve at ${base}`);

  // The whole range of the data, as the page must default to it.
  const days = await api("/v1/saga-trend", { bucket: "day" });
  const dataFrom = Math.min(...days.map((r) => r.time));
  const dataTo = Math.max(...days.map((r) => r.time)) + 86399;

  // A fresh profile (user data dir) per run.
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(work, "chromium-")), {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 },
  });
  cleanups.unshift(() => context.close());
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The first API calls answer 401 before the token is entered: expected.
    // So does the bad range of step 5 (400).
    if (m.type() === "error" && !/status of 40[01]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  // Nothing but the server itself: no CDN, no fonts, no network at run time.
  await page.route("**/*", (r) => {
    if (r.request().url().startsWith(`${base}/`)) return r.continue();
    problems.push(`request outside the server: ${r.request().url()}`);
    return r.abort();
  });

  // 1. The server requires the token: the page asks for it.
  await page.goto(`${base}/`);
  const dialog = page.getByRole("dialog", { name: "API token required" });
  await dialog.waitFor({ state: "visible", timeout: 15000 });
  await dialog.getByLabel("Token", { exact: true }).fill(token);
  await dialog.getByRole("button", { name: "Use token" }).click();
  await nextDraw(page, 0);

  // 2. Defaults: the first saga, the whole range of the data, hour buckets (it spans under 3 days).
  const defaults = {
    saga: await page.getByLabel("Saga", { exact: true }).inputValue(),
    from: inputTime(await page.getByLabel("From (UTC)", { exact: true }).inputValue()),
    to: inputTime(await page.getByLabel("To (UTC)", { exact: true }).inputValue()),
    bucket: await page.getByLabel("Trend per", { exact: true }).inputValue(),
  };
  assert.deepEqual(defaults, { saga: "got", from: dataFrom, to: dataTo, bucket: "hour" });
  const whole = await expected(api, { saga: "got", from: dataFrom, to: dataTo, limit: 8, by: "mentions", bucket: "hour" });
  checkPage(await shown(page), whole, "defaults");
  assert.ok(whole.counts["count-empty"] === 3 && whole.counts["count-rejected"] === 4,
    `the crafted records are counted by the API: ${JSON.stringify(whole.counts)}`);

  // 3. An analyst's question: lotr from noon on day 1 to 18:30 on day 2, by readers, top 5.
  const q = { saga: "lotr", from: START + 12 * 3600, to: START + 42 * 3600 + 1800, limit: 5, by: "readers", bucket: "hour" };
  let g = await generation(page);
  await page.getByLabel("Saga", { exact: true }).selectOption(q.saga);
  await nextDraw(page, g);
  await page.getByLabel("From (UTC)", { exact: true }).fill(inputValue(q.from));
  await page.getByLabel("To (UTC)", { exact: true }).fill(inputValue(q.to));
  await page.getByLabel("Rank entities by", { exact: true }).selectOption(q.by);
  await page.getByLabel("Entities", { exact: true }).fill(String(q.limit));
  g = await generation(page);
  await page.getByRole("button", { name: "Show" }).click();
  await nextDraw(page, g);
  const want = await expected(api, q);
  const got = await shown(page);
  checkPage(got, want, "lotr, narrowed range, by readers");
  // The question matters: its answer differs from the whole range's.
  const lotrWhole = await expected(api, { ...q, from: dataFrom, to: dataTo });
  assert.notDeepEqual(want.top, lotrWhole.top, "the range changes the top entities");
  assert.equal(want.counts["count-empty"], 1, "1 of the 3 empty texts is in the range");
  assert.equal(want.top.labels.length, 5);

  const screenshot = path.join(outputDir, "dashboard.png");
  fs.mkdirSync(outputDir, { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);

  // 4. Day buckets and mentions, through the selects alone.
  g = await generation(page);
  await page.getByLabel("Trend per", { exact: true }).selectOption("day");
  await nextDraw(page, g);
  g = await generation(page);
  await page.getByLabel("Rank entities by", { exact: true }).selectOption("mentions");
  await nextDraw(page, g);
  checkPage(await shown(page), await expected(api, { ...q, by: "mentions", bucket: "day" }), "day buckets, by mentions");

  // 5. An API error is shown, not swallowed: "from" after "to".
  await page.getByLabel("From (UTC)", { exact: true }).fill(inputValue(q.to + 60));
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForFunction(() => document.body.dataset.state === "error");
  const message = await page.getByRole("alert").textContent();
  const direct = await fetch(`${base}/v1/sagas?from=${q.to + 60}&to=${q.to}`, { headers: { Authorization: `Bearer ${token}` } });
  const apiMessage = (await direct.json()).error.message;
  assert.equal(direct.status, 400);
  assert.ok(message.includes(apiMessage), `the page shows the API's message "${apiMessage}": "${message}"`);

  assert.deepEqual(problems, [], "no page errors and no requests outside the server");
  console.log(`PASS: ${want.top.labels.length} top entities, ${want.trend.labels.length} hour buckets x ` +
    `${want.trend.datasets.length} sagas, empty ${want.counts["count-empty"]}, rejected ${want.counts["count-rejected"]}`);
}

let status = 0;
try {
  await main();
} catch (e) {
  console.error(`FAIL: ${e.stack || e}`);
  if (serverLog) console.error(`serve's stderr (last 4 kB):\n${serverLog.slice(-4096)}`);
  status = 1;
} finally {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (e) {
      console.error(`cleanup: ${e}`);
    }
  }
  if (status === 0 && process.env.SAGAFLOW_KEEP_WORK !== "1") fs.rmSync(work, { recursive: true, force: true });
  else console.error(`work directory kept: ${work}`);
}
process.exit(status);
