// freightgate console: a client of the REST API with the key it signed in with.
// Everything shown comes from the API and is put in the page as text (never as
// HTML), so a sender's hostile strings stay strings.

const KEY = "freightgate.key";
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const status = document.getElementById("status");

/** Timers of the page on screen, cleared when it changes. */
let timers = [];
/** The signed-in key: {business, name, scopes}. */
let session = null;

// ---------------------------------------------------------------- helpers

/** An element with attributes (on… are listeners) and children (strings are text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children (arrays flattened, null and false left out). */
function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return append(el, children);
}

function announce(text) {
  status.textContent = "";
  window.setTimeout(() => (status.textContent = text), 30);
}

function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return h("time", { datetime: iso }, d.toISOString().replace("T", " ").slice(0, 19) + " UTC");
}

function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function may(...scopes) {
  return !!session && (session.scopes.includes("admin") || scopes.some((x) => session.scopes.includes(x)));
}

const OUTCOMES = ["accepted", "accepted_with_warnings", "partially_accepted", "rejected"];
const OUTCOME_LABEL = {
  accepted: "Accepted",
  accepted_with_warnings: "Accepted with warnings",
  partially_accepted: "Partially accepted",
  rejected: "Rejected",
};
function outcomeBadge(outcome) {
  const tone = { accepted: "ok", accepted_with_warnings: "warn", partially_accepted: "warn", rejected: "bad" }[outcome] || "muted";
  return h("span", { class: `badge ${tone}` }, OUTCOME_LABEL[outcome] || outcome);
}
function stateBadge(state) {
  const tone = { delivered: "ok", pending: "warn", failed: "bad" }[state] || "muted";
  const label = state === "failed" ? "failed (dead letter)" : state;
  return h("span", { class: `badge ${tone}` }, label);
}

/** `since` for a period name: an ISO time, or undefined for any time. */
const PERIODS = { "15m": 15, "1h": 60, "24h": 1440, "7d": 10080 };
function sinceOf(period) {
  const minutes = PERIODS[period];
  return minutes ? new Date(Date.now() - minutes * 60000).toISOString() : undefined;
}
function periodSelect(name, value, label = "Received") {
  return h(
    "label",
    {},
    label,
    h(
      "select",
      { name },
      h("option", { value: "", selected: !value }, "any time"),
      h("option", { value: "15m", selected: value === "15m" }, "last 15 minutes"),
      h("option", { value: "1h", selected: value === "1h" }, "last hour"),
      h("option", { value: "24h", selected: value === "24h" }, "last 24 hours"),
      h("option", { value: "7d", selected: value === "7d" }, "last 7 days"),
    ),
  );
}

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the REST API with the session's key; answers the parsed body. */
async function api(method, path, { body, query, raw, contentType } = {}) {
  const key = sessionStorage.getItem(KEY);
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "application/json";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (response.status === 401 && path !== "/v1/key") {
    signOut("Your key was not accepted any more; sign in again.");
    throw new ApiError(401, parsed);
  }
  return { status: response.status, ok: response.ok, body: parsed };
}

/** Like `api`, but a non-2xx answer is an error. */
async function get(path, query) {
  const answer = await api("GET", path, { query });
  if (!answer.ok) throw new ApiError(answer.status, answer.body);
  return answer.body;
}

function problemNotice(error) {
  const problem = error.problem || {};
  return h(
    "div",
    { class: "notice bad", role: "alert" },
    h("strong", {}, problem.code ? `${problem.code}: ` : "Error: "),
    error.message,
    problemList(problem.errors),
  );
}

/** A problem list: each issue's code, what is wrong, and where in the payload. */
function problemList(errors) {
  if (!Array.isArray(errors) || errors.length === 0) return null;
  return h(
    "ul",
    { class: "problems" },
    errors.map((e) =>
      h(
        "li",
        {},
        h("code", {}, e.code || "problem"),
        " ",
        e.detail || e.message || "",
        e.path ? [" — at ", h("code", {}, e.path)] : null,
      ),
    ),
  );
}

function table(caption, columns, rows, { empty = "Nothing to show." } = {}) {
  if (rows.length === 0) return h("p", { class: "notice" }, empty);
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.title)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(row))))),
      ),
    ),
  );
}

function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]),
  );
}

function page(title, ...children) {
  document.title = `${title} · freightgate console`;
  fill(main, h("h1", {}, title));
  append(main, children);
  main.focus({ preventScroll: false });
}

function busy(button, work) {
  return async (event) => {
    event?.preventDefault?.();
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
    }
  };
}

// ---------------------------------------------------------------- session

/** A message for the sign-in page, shown once. */
let loginMessage = null;

function signOut(message) {
  sessionStorage.removeItem(KEY);
  session = null;
  renderChrome();
  loginMessage = message || null;
  if (location.hash === "#/login") showLogin();
  else location.hash = "#/login"; // the router shows the sign-in page
}

function showLogin() {
  const message = loginMessage;
  loginMessage = null;
  document.title = "Sign in · freightgate console";
  const input = h("input", { id: "api-key", name: "key", type: "password", autocomplete: "off", required: true, "aria-describedby": "key-help" });
  const error = h("div", { id: "login-error" });
  if (message) fill(error, h("p", { class: "notice bad", role: "alert" }, message));
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    {},
    h("label", { for: "api-key" }, "API key", input),
    h("p", { id: "key-help" }, "A key from ", h("code", {}, "freightgate keys create"), ". It stays in this tab only and is sent to this gateway's API."),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    sessionStorage.setItem(KEY, input.value.trim());
    const answer = await api("GET", "/v1/key").catch((e) => ({ ok: false, body: { detail: e.message } }));
    button.disabled = false;
    if (!answer.ok) {
      sessionStorage.removeItem(KEY);
      fill(error,
        h("p", { class: "notice bad", role: "alert" }, (answer.body && answer.body.detail) || "The key was not accepted."),
      );
      input.focus();
      return;
    }
    session = answer.body;
    renderChrome();
    announce(`Signed in to ${session.business} as ${session.name}`);
    // Back to the page asked for before signing in, or the overview.
    if (!location.hash.startsWith("#/") || location.hash === "#/login") location.hash = "#/";
    else route();
  });
  fill(main, h("div", { class: "login" }, h("h1", {}, "Sign in to the console"), form));
  input.focus();
  if (message) announce(message);
}

function renderChrome() {
  if (!session) {
    nav.hidden = true;
    fill(nav);
    fill(who);
    return;
  }
  const links = [["#/", "Overview"]];
  if (may("ingest", "read")) links.push(["#/payloads", "Payloads"], ["#/rules", "Rules"]);
  if (may("webhooks")) links.push(["#/webhooks", "Webhooks"]);
  fill(nav, h("ul", {}, links.map(([href, label]) => h("li", {}, h("a", { href }, label)))));
  nav.hidden = false;
  fill(who,
    h("span", {}, `${session.business} · ${session.name}`),
    h("a", { href: "/graphql", target: "_blank", rel: "noopener" }, "GraphiQL"),
    h("button", { class: "link", type: "button", onclick: () => signOut("Signed out.") }, "Sign out"),
  );
  markCurrent();
}

function markCurrent() {
  const current = (location.hash || "#/").split("?")[0];
  for (const a of nav.querySelectorAll("a")) {
    const href = a.getAttribute("href");
    const here = href === "#/" ? current === "#/" : current.startsWith(href);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// ---------------------------------------------------------------- router

function params() {
  const [, query = ""] = (location.hash || "").split("?");
  return new URLSearchParams(query);
}

function go(path, query) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) if (value) search.set(name, value);
  const text = search.toString();
  location.hash = `#${path}${text ? `?${text}` : ""}`;
}

async function route() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/")) return; // in-page links such as "skip to content"
  for (const t of timers) window.clearInterval(t);
  timers = [];
  if (!session) {
    const key = sessionStorage.getItem(KEY);
    if (key) {
      const answer = await api("GET", "/v1/key").catch(() => ({ ok: false }));
      if (answer.ok) session = answer.body;
    }
    if (!session) return showLogin();
    renderChrome();
  }
  markCurrent();
  const path = hash.slice(1).split("?")[0];
  let m;
  try {
    if (path === "/" || path === "/login") await overview();
    else if (path === "/payloads") await payloads();
    else if ((m = path.match(/^\/payloads\/([^/]+)$/))) await payload(decodeURIComponent(m[1]));
    else if (path === "/rules") await rules();
    else if (path === "/webhooks") await webhooks();
    else if ((m = path.match(/^\/webhooks\/endpoints\/(\d+)$/))) await endpoint(m[1]);
    else page("Not found", h("p", {}, "No such page. "), h("a", { href: "#/" }, "Back to the overview"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    page("Something went wrong", problemNotice(error));
  }
}

// ---------------------------------------------------------------- overview

async function overview() {
  const figures = h("div", { class: "cards" });
  const chart = h("div");
  const backlog = h("div");
  const samples = [];
  page(
    "Overview",
    h("p", {}, `What ${session.business} received in the last hour, minute by minute, and its webhook queue. It refreshes every 10 seconds.`),
    figures,
    h("h2", {}, "Payloads by outcome"),
    chart,
    may("webhooks", "read") ? [h("h2", {}, "Webhook queue"), backlog] : null,
  );
  if (!may("ingest", "read")) {
    fill(chart, h("p", { class: "notice" }, "This key may not read payloads (it needs the ingest or read scope)."));
    return;
  }
  const refresh = async () => {
    const activity = await get("/v1/activity", { minutes: 60 });
    const totals = Object.fromEntries(OUTCOMES.map((o) => [o, activity.minutes.reduce((n, m) => n + m[o], 0)]));
    const cards = [
      ["Accepted, last hour", totals.accepted, "#/payloads?outcome=accepted&period=1h"],
      ["Accepted with warnings, last hour", totals.accepted_with_warnings, "#/payloads?outcome=accepted_with_warnings&period=1h"],
      ["Partially accepted, last hour", totals.partially_accepted, "#/payloads?outcome=partially_accepted&period=1h"],
      ["Rejected, last hour", totals.rejected, "#/payloads?outcome=rejected&period=1h"],
    ];
    if (activity.deliveries) {
      if (may("webhooks")) {
        cards.push(["Deliveries pending now", activity.deliveries.pending, "#/webhooks?state=pending"]);
        cards.push(["Dead letters now", activity.deliveries.failed, "#/webhooks?state=failed"]);
      }
      samples.push({ at: new Date(), pending: activity.deliveries.pending, failed: activity.deliveries.failed });
      if (samples.length > 60) samples.shift();
      fill(backlog, backlogChart(samples));
    }
    fill(figures,
      ...cards.map(([label, value, href]) => h("div", { class: "card" }, h("div", { class: "figure" }, String(value)), h("a", { href }, label))),
    );
    fill(chart, outcomeChart(activity.minutes));
  };
  await refresh();
  timers.push(window.setInterval(() => refresh().catch(() => {}), 10000));
}

/** Stacked bars per minute; the same numbers as a table for screen readers. */
function outcomeChart(minutes) {
  const width = 720, height = 200, pad = 28;
  const max = Math.max(1, ...minutes.map((m) => OUTCOMES.reduce((n, o) => n + m[o], 0)));
  const barWidth = (width - pad) / minutes.length;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height + 20}`, class: "chart", role: "img", "aria-labelledby": "chart-title" });
  const total = minutes.reduce((n, m) => n + OUTCOMES.reduce((k, o) => k + m[o], 0), 0);
  const rejected = minutes.reduce((n, m) => n + m.rejected, 0);
  svg.append(s("title", { id: "chart-title" }, `${total} payloads in the last ${minutes.length} minutes, ${rejected} rejected; the busiest minute had ${max === 1 && total === 0 ? 0 : max}.`));
  svg.append(s("line", { x1: pad, y1: height, x2: width, y2: height, stroke: "#4a5361" }));
  svg.append(s("text", { x: 0, y: 12, "font-size": 11, fill: "#4a5361" }, String(max)));
  svg.append(s("text", { x: 0, y: height, "font-size": 11, fill: "#4a5361" }, "0"));
  minutes.forEach((m, i) => {
    let y = height;
    for (const o of OUTCOMES) {
      if (!m[o]) continue;
      const barHeight = (m[o] / max) * (height - 10);
      y -= barHeight;
      svg.append(s("rect", { x: pad + i * barWidth + 1, y, width: Math.max(1, barWidth - 2), height: barHeight, class: `s-${o}` }));
    }
    if (i % 15 === 0 || i === minutes.length - 1) {
      const last = i === minutes.length - 1;
      svg.append(s("text", { x: last ? width : pad + i * barWidth, y: height + 15, "font-size": 11, fill: "#4a5361", "text-anchor": last ? "end" : "start" }, new Date(m.minute).toISOString().slice(11, 16)));
    }
  });
  const busy = minutes.filter((m) => OUTCOMES.some((o) => m[o]));
  return h(
    "figure",
    {},
    svg,
    h("ul", { class: "legend" }, OUTCOMES.map((o) => h("li", {}, h("span", { class: `swatch s-${o}`, "aria-hidden": "true" }), OUTCOME_LABEL[o]))),
    h(
      "details",
      {},
      h("summary", {}, "The numbers behind the chart"),
      table(
        "Payloads per minute by outcome",
        [{ title: "Minute (UTC)", cell: (m) => new Date(m.minute).toISOString().slice(11, 16) }].concat(
          OUTCOMES.map((o) => ({ title: OUTCOME_LABEL[o], num: true, cell: (m) => String(m[o]) })),
        ),
        busy,
        { empty: "No payloads in this window." },
      ),
    ),
  );
}

function backlogChart(samples) {
  const last = samples[samples.length - 1];
  const width = 720, height = 120;
  const max = Math.max(1, ...samples.map((x) => Math.max(x.pending, x.failed)));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": `Now ${last.pending} deliveries pending and ${last.failed} dead letters.` });
  for (const [field, colour] of [["pending", "#c98a00"], ["failed", "#c62828"]]) {
    const points = samples.map((x, i) => `${(i / Math.max(1, samples.length - 1)) * (width - 10) + 5},${height - 5 - (x[field] / max) * (height - 15)}`);
    svg.append(s("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 3 }));
  }
  return h(
    "figure",
    {},
    svg,
    h("figcaption", {}, `Sampled every 10 seconds since this page opened. Now: ${last.pending} pending (amber), ${last.failed} dead letters (red).`),
  );
}

// ---------------------------------------------------------------- payloads

async function payloads() {
  const p = params();
  const field = (name, label, attrs = {}) => h("label", {}, label, h("input", { name, value: p.get(name) || "", ...attrs }));
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter payloads" },
    h(
      "label",
      {},
      "Outcome",
      h("select", { name: "outcome" }, h("option", { value: "" }, "any"), OUTCOMES.map((o) => h("option", { value: o, selected: p.get("outcome") === o }, OUTCOME_LABEL[o]))),
    ),
    periodSelect("period", p.get("period")),
    field("rule", "Rule"),
    field("code", "Problem code"),
    field("key", "Key name"),
    field("reference", "Reference"),
    h("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go("/payloads", Object.fromEntries(new FormData(form)));
  });
  const results = h("div");
  page("Payloads", h("p", {}, "Every payload received, newest first. Open one to read why it was refused and to reprocess it."), form, results);
  const query = {
    outcome: p.get("outcome"),
    rule: p.get("rule"),
    code: p.get("code"),
    key: p.get("key"),
    reference: p.get("reference"),
    since: sinceOf(p.get("period")),
    limit: 50,
  };
  const rows = [];
  const more = async (after) => {
    let listing;
    try {
      listing = await get("/v1/ingest", { ...query, after });
    } catch (error) {
      fill(results, problemNotice(error));
      return;
    }
    rows.push(...listing.items);
    const next = listing.next_cursor;
    fill(results,
      h("p", {}, `${rows.length} payload${rows.length === 1 ? "" : "s"} shown${next ? " (more below)" : ""}.`),
      table(
        "Payloads",
        [
          { title: "Received", cell: (r) => when(r.received_at) },
          { title: "Logging id", cell: (r) => h("a", { href: `#/payloads/${encodeURIComponent(r.logging_id)}` }, r.logging_id) },
          { title: "Outcome", cell: (r) => outcomeBadge(r.outcome) },
          { title: "Rule", cell: (r) => r.rule || "—" },
          { title: "Problems", cell: (r) => (r.problem_codes.length ? r.problem_codes.map((c) => h("code", {}, c, " ")) : "—") },
          { title: "References", cell: (r) => r.references.join(", ") || "—" },
          { title: "Key", cell: (r) => r.key || "—" },
          { title: "Source", cell: (r) => r.source || "—" },
        ],
        rows,
        { empty: "No payload matches these filters." },
      ),
      next ? h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => more(next) }, "Load more")) : null,
    );
  };
  await more();
}

async function payload(loggingId) {
  const record = await get(`/v1/ingest/${encodeURIComponent(loggingId)}`);
  const answer = record.response || {};
  const itemErrors = (answer.results || []).flatMap((r) => (r.errors || []).map((e) => ({ ...e, item: r.index })));
  const itemWarnings = (answer.results || []).flatMap((r) => r.warnings || []);
  const why = [];
  if (record.outcome !== "accepted") {
    if (answer.code) why.push(h("p", {}, h("code", {}, answer.code), " ", answer.detail || ""));
    const listed = (answer.errors && answer.errors.length ? answer.errors : itemErrors);
    why.push(problemList(listed));
    if (itemWarnings.length) why.push(h("h3", {}, "Warnings"), problemList(itemWarnings));
  }
  const output = h("div", { "aria-live": "polite" });
  const actions = h("div", { class: "actions" });
  if (may("ingest")) {
    const explain = h("button", { type: "button", class: "secondary" }, "Explain with the current rules");
    explain.addEventListener(
      "click",
      busy(explain, async () => {
        const result = await api("POST", `/v1/ingest/${encodeURIComponent(loggingId)}/reprocess`, { query: { dry_run: "true" } });
        fill(output, h("h2", {}, "What the current rules make of it"), result.ok ? h("pre", {}, pretty(result.body)) : problemNotice(new ApiError(result.status, result.body)));
        announce("Explanation ready.");
      }),
    );
    const reprocess = h("button", { type: "button" }, "Reprocess");
    reprocess.addEventListener(
      "click",
      busy(reprocess, async () => {
        const result = await api("POST", `/v1/ingest/${encodeURIComponent(loggingId)}/reprocess`);
        const body = result.body || {};
        const outcome = body.status || (result.ok ? "accepted" : "rejected");
        const link = body.logging_id ? h("a", { href: `#/payloads/${encodeURIComponent(body.logging_id)}` }, body.logging_id) : null;
        fill(output,
          h("h2", {}, "Reprocessed"),
          h("p", { class: `notice ${result.ok ? "ok" : "bad"}`, role: "alert" }, "Outcome: ", outcomeBadge(outcome), link ? [" — new record ", link] : null),
          result.ok ? null : problemList(body.errors),
          h("details", {}, h("summary", {}, "The answer"), h("pre", {}, pretty(body))),
        );
      }),
    );
    actions.append(explain, reprocess);
  }
  page(
    `Payload ${record.logging_id}`,
    h("p", {}, h("a", { href: "#/payloads" }, "← All payloads")),
    facts([
      ["Outcome", outcomeBadge(record.outcome)],
      ["Received", when(record.received_at)],
      ["Rule", record.rule],
      ["Operation", record.operation && `${record.operation} ${record.entity || ""}`],
      ["Key", record.key],
      ["Source", record.source],
      ["Content type", record.content_type],
      record.reprocess_of && ["Reprocess of", h("a", { href: `#/payloads/${encodeURIComponent(record.reprocess_of)}` }, record.reprocess_of)],
    ]),
    why.length ? [h("h2", {}, "Why"), ...why] : null,
    actions,
    output,
    h("h2", {}, "Body as received"),
    h("pre", { tabindex: "0", "aria-label": "Body as received" }, pretty(record.body)),
    h("h2", {}, "Answer sent"),
    h("pre", { tabindex: "0", "aria-label": "Answer sent" }, pretty(record.response)),
  );
}

// ---------------------------------------------------------------- rules

async function rules() {
  const st = await get("/v1/rules");
  const reload = st.last_reload;
  const reloadFacts = reload
    ? [h("span", { class: `badge ${reload.ok ? "ok" : "bad"}` }, reload.ok ? "succeeded" : "failed"), " at ", when(reload.at)]
    : "none since start-up";
  const input = h("textarea", { id: "playground-body", name: "body", spellcheck: "false" });
  const type = h(
    "select",
    { id: "playground-type", name: "type" },
    h("option", { value: "application/json" }, "JSON"),
    h("option", { value: "application/x-ndjson" }, "NDJSON"),
    h("option", { value: "text/csv" }, "CSV"),
  );
  const output = h("div", { "aria-live": "polite" });
  const explain = h("button", { type: "submit" }, "Explain");
  const form = h(
    "form",
    { "aria-label": "Rules playground" },
    h("label", { for: "playground-body" }, "Payload, in the sender's shape", input),
    h("div", { class: "actions" }, h("label", { for: "playground-type" }, "Content type", type), explain),
  );
  form.addEventListener(
    "submit",
    busy(explain, async () => {
      const result = await api("POST", "/v1/ingest/explain", { raw: input.value, contentType: type.value });
      fill(output, result.ok ? h("pre", { tabindex: "0", "aria-label": "Explanation" }, pretty(result.body)) : problemNotice(new ApiError(result.status, result.body)));
      announce(result.ok ? "Explanation ready." : "The payload could not be explained.");
    }),
  );
  page(
    "Rules",
    facts([
      ["Version", h("code", {}, st.version)],
      ["Rules", String(st.rules)],
      ["Loaded", when(st.loaded_at)],
      ["Last reload", reloadFacts],
    ]),
    reload && !reload.ok
      ? h("div", { class: "notice bad", role: "alert" }, h("strong", {}, "The last reload failed; the rules above stay in use."), h("ul", {}, reload.errors.map((e) => h("li", {}, h("code", {}, typeof e === "string" ? e : pretty(e))))))
      : null,
    st.warnings.length ? [h("h2", {}, "Warnings"), h("ul", {}, st.warnings.map((w) => h("li", {}, w)))] : null,
    h("h2", {}, "Files"),
    h("ol", {}, st.files.map((f) => h("li", {}, h("code", {}, f)))),
    h("h2", {}, "Playground"),
    h("p", {}, "Paste a payload to see which rule matches it, what it maps to and what would be refused. Nothing is stored."),
    form,
    output,
  );
}

// ---------------------------------------------------------------- webhooks

async function webhooks() {
  const p = params();
  const [{ endpoints }, { event_types: types }] = await Promise.all([get("/v1/webhooks/endpoints"), get("/v1/webhooks/event-types")]);
  const healths = await Promise.all(endpoints.map((e) => get(`/v1/webhooks/endpoints/${e.id}/health`).catch(() => null)));
  const endpointTable = table(
    "Endpoints",
    [
      { title: "Endpoint", cell: (r) => h("a", { href: `#/webhooks/endpoints/${r.e.id}` }, r.e.url) },
      { title: "State", cell: (r) => (r.e.disabled ? h("span", { class: "badge bad" }, "disabled") : h("span", { class: "badge ok" }, "enabled")) },
      { title: "Success (24 h)", num: true, cell: (r) => (r.h && r.h.success_rate !== null ? `${Math.round(r.h.success_rate * 100)} %` : "—") },
      { title: "Failing since", cell: (r) => when(r.h && r.h.failing_since) },
      { title: "Backlog", num: true, cell: (r) => String(r.h ? r.h.backlog : "—") },
      { title: "Dead letters", num: true, cell: (r) => String(r.h ? r.h.dead_letters : "—") },
    ],
    endpoints.map((e, i) => ({ e, h: healths[i] })),
    { empty: "No endpoints yet: register one with POST /v1/webhooks/endpoints." },
  );
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter deliveries" },
    h(
      "label",
      {},
      "State",
      h(
        "select",
        { name: "state" },
        h("option", { value: "" }, "any"),
        ["pending", "delivered", "failed"].map((x) => h("option", { value: x, selected: p.get("state") === x }, x === "failed" ? "failed (dead letters)" : x)),
      ),
    ),
    h("label", {}, "Endpoint", h("select", { name: "endpoint" }, h("option", { value: "" }, "all"), endpoints.map((e) => h("option", { value: e.id, selected: p.get("endpoint") === String(e.id) }, e.url)))),
    h("label", {}, "Event type", h("select", { name: "event_type" }, h("option", { value: "" }, "all"), types.map((t) => h("option", { value: t.type, selected: p.get("event_type") === t.type }, t.type)))),
    periodSelect("period", p.get("period"), "Written"),
    h("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go("/webhooks", Object.fromEntries(new FormData(form)));
  });
  const filter = { state: p.get("state"), endpoint: p.get("endpoint"), event_type: p.get("event_type"), since: sinceOf(p.get("period")) };
  const deliveries = h("div");
  const replayAll = h("button", { type: "button", class: "secondary" }, "Replay every matching delivery");
  const replayNote = h("div", { "aria-live": "polite" });
  replayAll.addEventListener(
    "click",
    busy(replayAll, async () => {
      const body = { state: filter.state === "delivered" ? "delivered" : "failed" };
      if (filter.endpoint) body.endpoint = Number(filter.endpoint);
      if (filter.event_type) body.event_type = filter.event_type;
      if (filter.since) body.since = filter.since;
      if (!window.confirm(`Send again every ${body.state} delivery matching these filters?`)) return;
      const result = await api("POST", "/v1/webhooks/deliveries/replay", { body });
      fill(replayNote,
        result.ok ? h("p", { class: "notice ok", role: "alert" }, `${result.body.requeued} deliveries queued again.`) : problemNotice(new ApiError(result.status, result.body)),
      );
      await listDeliveries(deliveries, filter, endpoints);
    }),
  );
  page(
    "Webhooks",
    h("h2", {}, "Endpoints"),
    endpointTable,
    h("h2", {}, "Deliveries"),
    form,
    h("div", { class: "actions" }, replayAll),
    replayNote,
    deliveries,
    h("h2", {}, "Event types"),
    h("p", {}, "What an endpoint can subscribe to, with an example of each push body."),
    types.map((t) => h("details", {}, h("summary", {}, h("code", {}, t.type), " — ", t.description), h("pre", {}, pretty(t.example)))),
  );
  await listDeliveries(deliveries, filter, endpoints);
}

function deliveryColumns(endpoints, onReplay) {
  const urls = Object.fromEntries(endpoints.map((e) => [e.id, e.url]));
  return [
    { title: "Written", cell: (d) => when(d.created_at) },
    { title: "Endpoint", cell: (d) => h("a", { href: `#/webhooks/endpoints/${d.endpoint_id}` }, urls[d.endpoint_id] || `#${d.endpoint_id}`) },
    { title: "Event type", cell: (d) => d.event_type || "—" },
    { title: "State", cell: (d) => stateBadge(d.state) },
    { title: "Attempts", num: true, cell: (d) => String(d.attempts) },
    { title: "Last answer", cell: (d) => [d.last_status ? `HTTP ${d.last_status}` : "", d.last_error ? ` ${d.last_error}` : ""].join("") || "—" },
    {
      title: "Action",
      cell: (d) => {
        const button = h("button", { type: "button", class: "secondary", "aria-label": `Replay delivery ${d.id}` }, "Replay");
        button.addEventListener("click", busy(button, () => onReplay(d)));
        return d.state === "pending" ? "—" : button;
      },
    },
  ];
}

async function replayOne(d) {
  const result = await api("POST", `/v1/webhooks/endpoints/${d.endpoint_id}/deliveries/${d.id}/replay`);
  announce(result.ok ? `Delivery ${d.id} queued again.` : `Replay failed: ${(result.body && result.body.detail) || result.status}`);
  return result;
}

async function listDeliveries(into, filter, endpoints) {
  const listing = await get("/v1/webhooks/deliveries", { ...filter, limit: 50 });
  fill(into,
    table(
      "Deliveries",
      deliveryColumns(endpoints, async (d) => {
        await replayOne(d);
        await new Promise((r) => window.setTimeout(r, 1500));
        await listDeliveries(into, filter, endpoints);
      }),
      listing.items,
      { empty: "No delivery matches these filters." },
    ),
    listing.next_cursor ? h("p", {}, "Showing the 50 newest; narrow the filters to see older ones.") : null,
  );
}

async function endpoint(id) {
  const [e, health, { event_types: types }] = await Promise.all([
    get(`/v1/webhooks/endpoints/${id}`),
    get(`/v1/webhooks/endpoints/${id}/health`),
    get("/v1/webhooks/event-types"),
  ]);
  const output = h("div", { "aria-live": "polite" });
  const show = (result, okText) =>
    fill(output, result.ok ? h("p", { class: "notice ok", role: "alert" }, okText(result.body)) : problemNotice(new ApiError(result.status, result.body)));
  const deliveries = h("div");
  const attempts = h("div");
  const refresh = async () => {
    const [{ deliveries: ds }, { attempts: as }] = await Promise.all([
      get(`/v1/webhooks/endpoints/${id}/deliveries`, { limit: 50 }),
      get(`/v1/webhooks/endpoints/${id}/attempts`, { limit: 50 }),
    ]);
    fill(deliveries,
      table(
        "Deliveries of this endpoint",
        deliveryColumns([e], async (d) => {
          await replayOne(d);
          await new Promise((r) => window.setTimeout(r, 1500));
          await refresh();
        }),
        ds,
        { empty: "No deliveries yet." },
      ),
    );
    fill(attempts,
      table(
        "Attempts of this endpoint",
        [
          { title: "At", cell: (a) => when(a.attempted_at) },
          { title: "Delivery", num: true, cell: (a) => String(a.delivery_id) },
          { title: "Attempt", num: true, cell: (a) => String(a.attempt) },
          { title: "Status", cell: (a) => (a.status_code ? `HTTP ${a.status_code}` : "no answer") },
          { title: "Time", num: true, cell: (a) => `${a.duration_ms} ms` },
          { title: "Error or answer", cell: (a) => a.error || (a.response_body ? a.response_body.slice(0, 200) : "—") },
        ],
        as,
        { empty: "No attempts yet." },
      ),
    );
  };
  const testType = h("select", { id: "test-type" }, types.map((t) => h("option", { value: t.type }, t.type)));
  const testButton = h("button", { type: "button" }, "Send a test event");
  testButton.addEventListener(
    "click",
    busy(testButton, async () => {
      const result = await api("POST", `/v1/webhooks/endpoints/${id}/test`, { body: { event_type: testType.value } });
      show(result, (d) => `Test event sent as delivery ${d.id}; its attempt appears below.`);
      await new Promise((r) => window.setTimeout(r, 1500));
      await refresh();
    }),
  );
  const recoverPeriod = periodSelect("recover-period", "24h", "Dead letters written");
  const recoverButton = h("button", { type: "button", class: "secondary" }, "Recover dead letters");
  recoverButton.addEventListener(
    "click",
    busy(recoverButton, async () => {
      const since = sinceOf(recoverPeriod.querySelector("select").value) || new Date(0).toISOString();
      const result = await api("POST", `/v1/webhooks/endpoints/${id}/recover`, { body: { since } });
      show(result, (r) => `${r.requeued} deliveries queued again.`);
      await refresh();
    }),
  );
  const toggle = h("button", { type: "button", class: e.disabled ? "" : "danger" }, e.disabled ? "Enable" : "Disable");
  toggle.addEventListener(
    "click",
    busy(toggle, async () => {
      const result = await api("POST", `/v1/webhooks/endpoints/${id}/${e.disabled ? "enable" : "disable"}`);
      if (result.ok) return route();
      show(result, () => "");
    }),
  );
  const rotate = h("button", { type: "button", class: "secondary" }, "Rotate the secret");
  rotate.addEventListener(
    "click",
    busy(rotate, async () => {
      if (!window.confirm("Rotate the signing secret? The old one keeps signing beside the new one for the overlap.")) return;
      const result = await api("POST", `/v1/webhooks/endpoints/${id}/rotate-secret`, { body: {} });
      fill(output,
        result.ok
          ? h("div", { class: "notice ok", role: "alert" }, "The new secret (shown once, copy it to the receiver): ", h("code", {}, result.body.secret || ""))
          : problemNotice(new ApiError(result.status, result.body)),
      );
    }),
  );
  page(
    `Endpoint ${e.url}`,
    h("p", {}, h("a", { href: "#/webhooks" }, "← All webhooks")),
    facts([
      ["State", e.disabled ? `disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ""}` : "enabled"],
      ["Event types", e.event_types ? e.event_types.join(", ") : "all"],
      ["Facilities", e.facilities ? e.facilities.join(", ") : "all"],
      ["Success (24 h)", health.success_rate === null ? "no attempts" : `${Math.round(health.success_rate * 100)} % of ${health.attempts} attempts`],
      ["Last success", when(health.last_success_at)],
      ["Failing since", when(health.failing_since)],
      ["Backlog", String(health.backlog)],
      ["Dead letters", String(health.dead_letters)],
    ]),
    h("div", { class: "actions" }, h("label", { for: "test-type" }, "Event type", testType), testButton),
    h("div", { class: "actions" }, recoverPeriod, recoverButton, rotate, toggle),
    output,
    h("h2", {}, "Deliveries"),
    deliveries,
    h("h2", {}, "Attempts"),
    attempts,
  );
  await refresh();
}

// ---------------------------------------------------------------- start

window.addEventListener("hashchange", route);
route();
