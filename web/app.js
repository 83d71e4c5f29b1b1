// The analysts' dashboard: reads the analytics API of `sagaflow serve`
// (/v1/sagas, /v1/top-entities, /v1/saga-trend, /v1/rejected) and draws it
// with Chart.js. Times are UTC throughout, like the API's buckets.
//
// For tests and debugging, window.sagaflowDashboard exposes the Chart.js
// instances and the API answers last drawn; <body data-state> is
// "loading" | "ready" | "error", data-requested numbers the latest question
// asked and data-generation the latest one drawn.
"use strict";

(() => {
  const TOKEN_KEY = "sagaflow.apiToken";
  const SAGA_COLORS = { got: "#9b2226", lotr: "#2d6a4f", hp: "#3f51b5" };
  const OTHER_COLORS = ["#b36b00", "#00838f", "#6a1b9a", "#5d4037", "#c2185b"];
  const DAY = 86400;
  const number = new Intl.NumberFormat("en-US");

  const $ = (id) => document.getElementById(id);
  const form = $("controls");
  const fields = {
    saga: $("saga"), from: $("from"), to: $("to"), by: $("by"), limit: $("limit"), bucket: $("bucket"),
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---- API access (with the bearer token when the server asks for one) ----

  let tokenPrompt = null;  // one dialog for all the requests that got a 401

  function askToken(reason) {
    if (!tokenPrompt) {
      tokenPrompt = new Promise((resolve, reject) => {
        const dialog = $("token-dialog");
        const input = $("token");
        $("token-reason").textContent = reason;
        input.value = "";
        dialog.addEventListener("close", () => {
          tokenPrompt = null;
          const token = input.value.trim();
          if (dialog.returnValue === "ok" && token) {
            sessionStorage.setItem(TOKEN_KEY, token);
            resolve();
          } else {
            reject(new ApiError(401, "this server requires an API token (none given; press Show to enter one)"));
          }
        }, { once: true });
        dialog.returnValue = "";
        dialog.showModal();
        input.focus();
      });
    }
    return tokenPrompt;
  }

  async function api(path, params = {}) {
    const url = new URL(path, window.location.href);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    for (;;) {
      const headers = { Accept: "application/json" };
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) headers.Authorization = `Bearer ${token}`;
      let response;
      try {
        response = await fetch(url, { headers });
      } catch (e) {
        throw new ApiError(0, `${path}: cannot reach the server (${e.message})`);
      }
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(response.status, `${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
      }
      if (response.status === 401) {
        const said = body?.error?.message ?? "unauthorized";
        if (token) sessionStorage.removeItem(TOKEN_KEY);
        await askToken(token ? `The token was refused (${said}).` : `This server requires an API token (${said}).`);
        continue;
      }
      if (!response.ok) {
        const message = body?.error?.message ?? text.slice(0, 200);
        throw new ApiError(response.status, `${path}: ${message} (HTTP ${response.status})`);
      }
      return body;
    }
  }

  // ---- Times: <input type=datetime-local> values read as UTC ----

  function toInputValue(unixSeconds) {
    return new Date(unixSeconds * 1000).toISOString().slice(0, 19);
  }

  function fromInputValue(value) {
    if (!value) return undefined;
    const withSeconds = value.length === 16 ? `${value}:00` : value;
    const ms = Date.parse(`${withSeconds}Z`);
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
  }

  function formatTime(unixSeconds) {
    return toInputValue(unixSeconds).replace("T", " ");
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // A short two-line axis tick for an hour bucket: ["13:00", "Mar 1"].
  function hourTick(unixSeconds) {
    const d = new Date(unixSeconds * 1000);
    return [d.toISOString().slice(11, 16), `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`];
  }

  function bucketLabel(unixSeconds, bucket) {
    const iso = new Date(unixSeconds * 1000).toISOString();
    return bucket === "day" ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  }

  // ---- Rendering ----

  function sagaColor(saga, index) {
    return SAGA_COLORS[saga] ?? OTHER_COLORS[index % OTHER_COLORS.length];
  }

  function fillTable(table, header, rows) {
    if (header) {
      const thead = table.tHead;
      thead.replaceChildren();
      const tr = thead.insertRow();
      for (const name of header) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = name;
        tr.append(th);
      }
    }
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    for (const cells of rows) {
      const tr = tbody.insertRow();
      cells.forEach((cell, i) => {
        const td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) td.scope = "row";
        td.textContent = typeof cell === "number" ? number.format(cell) : cell;
        tr.append(td);
      });
    }
  }

  function setCount(id, value) {
    const dd = $(id);
    dd.textContent = value === undefined ? "–" : number.format(value);
    dd.dataset.value = value === undefined ? "" : String(value);
  }

  const charts = { top: null, trend: null };
  let trendShown = { times: [], bucket: "day" };  // for the axis ticks
  let topShown = { rows: [], other: "readers" };  // for the bar tooltips

  function drawTop(rows, saga, by) {
    const other = by === "mentions" ? "readers" : "mentions";
    const title = `Top ${rows.length} entities of ${saga} by ${by}`;
    $("top-title").textContent = `Top entities of ${saga} by ${by}`;
    $("top-empty").hidden = rows.length > 0;
    const canvas = $("top-chart");
    canvas.setAttribute("aria-label", `Bar chart: ${title}`);
    canvas.parentElement.style.height = `${Math.max(160, 26 * rows.length + 70)}px`;
    const data = {
      labels: rows.map((r) => r.entity),
      datasets: [{
        label: by,
        data: rows.map((r) => r[by]),
        backgroundColor: sagaColor(saga, 0),
        borderRadius: 3,
      }],
    };
    topShown = { rows, other };
    if (charts.top) {
      charts.top.data = data;
      charts.top.update();
    } else {
      charts.top = new Chart(canvas, {
        type: "bar",
        data,
        options: {
          indexAxis: "y",
          maintainAspectRatio: false,
          animation: false,
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                footer: (items) => {
                  const row = topShown.rows[items[0].dataIndex];
                  return row ? `${topShown.other}: ${number.format(row[topShown.other])}` : "";
                },
              },
            },
          },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    }
    $("top-table").caption.textContent = title;
    fillTable($("top-table"), null, rows.map((r) => [r.entity, r.mentions, r.readers]));
  }

  function drawTrend(rows, sagas, bucket) {
    const times = [...new Set(rows.map((r) => r.time))].sort((a, b) => a - b);
    const column = new Map(times.map((t, i) => [t, i]));
    const labels = times.map((t) => bucketLabel(t, bucket));
    const series = sagas.map(() => new Array(times.length).fill(0));
    const index = new Map(sagas.map((s, i) => [s, i]));
    for (const r of rows) {
      if (r.saga !== null && index.has(r.saga)) series[index.get(r.saga)][column.get(r.time)] = r.readers;
    }
    trendShown = { times, bucket };
    $("trend-empty").hidden = times.length > 0;
    $("trend-title").textContent = `Readers per saga per ${bucket}`;
    $("trend-chart").setAttribute("aria-label",
      `Line chart: readers per saga per ${bucket} (UTC), ${times.length} ${bucket}s, sagas ${sagas.join(", ")}`);
    const data = {
      labels,
      datasets: sagas.map((saga, i) => ({
        label: saga,
        data: series[i],
        borderColor: sagaColor(saga, i),
        backgroundColor: sagaColor(saga, i),
        pointRadius: times.length > 60 ? 0 : 2,
        borderWidth: 2,
        tension: 0.2,
      })),
    };
    if (charts.trend) {
      charts.trend.data = data;
      charts.trend.options.scales.x.title.text = `${bucket} (UTC)`;
      charts.trend.update();
    } else {
      charts.trend = new Chart($("trend-chart"), {
        type: "line",
        data,
        options: {
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { position: "bottom" } },
          scales: {
            y: { beginAtZero: true, title: { display: true, text: "readers" } },
            x: {
              title: { display: true, text: `${bucket} (UTC)` },
              ticks: {
                maxRotation: 0,
                autoSkipPadding: 12,
                callback: (value, index) => {
                  const t = trendShown.times[index];
                  return trendShown.bucket === "hour" ? hourTick(t) : bucketLabel(t, "day");
                },
              },
            },
          },
        },
      });
    }
    $("trend-table").caption.textContent = `Readers per saga per ${bucket} (UTC)`;
    fillTable($("trend-table"), [`${bucket} (UTC)`, ...sagas], labels.map((label, c) => [label, ...series.map((s) => s[c])]));
  }

  function drawCounts(sagaRows, rejectedRows, saga) {
    const row = sagaRows.find((r) => r.saga === saga);
    const empty = sagaRows.find((r) => r.saga === null);
    for (const span of document.querySelectorAll('[data-field="saga-name"]')) span.textContent = saga;
    setCount("count-saga-events", row?.events ?? 0);
    setCount("count-saga-readers", row?.readers ?? 0);
    setCount("count-empty", empty?.events ?? 0);
    setCount("count-empty-readers", empty?.readers ?? 0);
    setCount("count-rejected", rejectedRows.reduce((sum, r) => sum + r.events, 0));
    fillTable($("sagas-table"), null, sagaRows.map((r) => [r.saga ?? "(empty text)", r.events, r.readers]));
    fillTable($("rejected-table"), null,
      rejectedRows.length ? rejectedRows.map((r) => [r.reason, r.events]) : [["(none)", 0]]);
  }

  // ---- State ----

  function showError(error) {
    const box = $("error");
    box.textContent = error ? `Error: ${error.message}` : "";
    box.hidden = !error;
    if (error) document.body.dataset.state = "error";
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  // The whole range of the data: the first and last day with events.
  async function dataRange() {
    const days = await api("/v1/saga-trend", { bucket: "day" });
    if (days.length === 0) return null;
    const first = Math.min(...days.map((r) => r.time));
    const last = Math.max(...days.map((r) => r.time));
    return { from: first, to: last + DAY - 1 };
  }

  function readForm() {
    return {
      saga: fields.saga.value,
      from: fromInputValue(fields.from.value),
      to: fromInputValue(fields.to.value),
      by: fields.by.value,
      limit: fields.limit.value,
      bucket: fields.bucket.value,
    };
  }

  function saveToUrl(q) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") params.set(k, v);
    history.replaceState(null, "", `${window.location.pathname}?${params}`);
  }

  let generation = 0;
  const last = { query: null, sagas: null, top: null, trend: null, rejected: null };

  async function refresh() {
    const mine = ++generation;
    const q = readForm();
    if (!q.saga) return;
    document.body.dataset.requested = String(mine);
    document.body.dataset.state = "loading";
    setStatus("Loading…");
    const range = { from: q.from, to: q.to };
    try {
      const [sagaRows, top, trend, rejected] = await Promise.all([
        api("/v1/sagas", range),
        api("/v1/top-entities", { saga: q.saga, ...range, limit: q.limit, by: q.by }),
        api("/v1/saga-trend", { bucket: q.bucket, ...range }),
        api("/v1/rejected"),
      ]);
      if (mine !== generation) return;  // a newer refresh is under way
      const sagas = sagaRows.filter((r) => r.saga !== null).map((r) => r.saga);
      drawCounts(sagaRows, rejected, q.saga);
      drawTop(top, q.saga, q.by);
      drawTrend(trend, sagas, q.bucket);
      Object.assign(last, { query: q, sagas: sagaRows, top, trend, rejected });
      saveToUrl(q);
      showError(null);
      const from = q.from === undefined ? "the beginning" : formatTime(q.from);
      const to = q.to === undefined ? "now" : formatTime(q.to);
      setStatus(`Showing ${q.saga} from ${from} to ${to} UTC.`);
      document.body.dataset.generation = String(mine);
      document.body.dataset.state = "ready";
    } catch (error) {
      if (mine !== generation) return;
      setStatus("Failed");
      showError(error);
    }
  }

  async function applyWholeRange() {
    const range = await dataRange();
    fields.from.value = range ? toInputValue(range.from) : "";
    fields.to.value = range ? toInputValue(range.to) : "";
    return range;
  }

  let initialized = false;  // the saga list and the default range are known

  async function init() {
    try {
      const sagaRows = await api("/v1/sagas");
      const sagas = sagaRows.filter((r) => r.saga !== null);
      fields.saga.replaceChildren(...sagas.map((r) => new Option(r.saga, r.saga)));
      if (sagas.length === 0) throw new ApiError(0, "the store knows no saga");

      const wanted = new URLSearchParams(window.location.search);
      const range = await applyWholeRange();
      fields.bucket.value = range && range.to - range.from < 3 * DAY ? "hour" : "day";
      for (const name of Object.keys(fields)) {
        const v = wanted.get(name);
        if (v === null) continue;
        if (name === "from" || name === "to") {
          const t = /^\d+$/.test(v) ? Number(v) : fromInputValue(v.replace(/Z$/, ""));
          if (t !== undefined) fields[name].value = toInputValue(t);
        } else {
          fields[name].value = v;
        }
      }
      if (!fields.saga.value) fields.saga.value = sagas[0].saga;
      if (!range) setStatus("The store has no events yet.");
      initialized = true;
    } catch (error) {
      setStatus("Failed");
      showError(error);
      return;
    }
    await refresh();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!initialized) init();
    else if (form.reportValidity()) refresh();
  });
  for (const name of ["saga", "by", "bucket"]) fields[name].addEventListener("change", () => refresh());
  $("whole-range").addEventListener("click", async () => {
    try {
      await applyWholeRange();
      await refresh();
    } catch (error) {
      showError(error);
    }
  });

  window.sagaflowDashboard = { charts, last, refresh };
  if (typeof Chart === "undefined") {
    showError(new Error("the chart library did not load (assets/chart.umd.js)"));
    return;
  }
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
  init();
})();
