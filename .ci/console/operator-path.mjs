// The operator's path through the console, in Debian's Chromium: sign in, find a
// rejected payload, read why, fix the rule file, reprocess the payload so it is
// accepted, find a dead-lettered delivery, replay it and see it delivered. Every
// page also passes axe-core with no serious or critical violation, at desktop and
// phone widths. Screenshots go to $SCREENSHOTS.
//
// Environment: BASE_URL, API_KEY, RULES_DIR (the server's rules directory, a copy
// this script may edit), RECEIVER_PORT (where nothing listens until the script
// starts the receiver), FEEDS (sample payloads), SCREENSHOTS, CHROMIUM.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env("BASE_URL");
const KEY = env("API_KEY");
const RULES = env("RULES_DIR");
const RECEIVER_PORT = Number(env("RECEIVER_PORT"));
const FEEDS = env("FEEDS");
const SHOTS = env("SCREENSHOTS");
mkdirSync(SHOTS, { recursive: true });
const AXE = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

const steps = [];
function step(text) {
  steps.push(text);
  console.log(`  ok ${steps.length} ${text}`);
}

async function rest(method, path, body, contentType = "application/json") {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": contentType, Accept: "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function eventually(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** axe-core on the page as it is: no serious or critical violation. */
const axeReport = [];
async function accessible(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    // Evaluated through the debugging protocol: the console's Content-Security-Policy
    // (scripts from the gateway only) stays on, as users get it.
    await page.evaluate(AXE);
  }
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }),
  );
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport.push({ page: name, violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`),
    [],
    `axe found serious violations on ${name}`,
  );
  // Nothing wider than the window: every table scrolls inside its own region.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name} is ${overflow}px wider than the window`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// ------------------------------------------------------------------ setting the scene

// An endpoint whose receiver is down: with one attempt allowed (the server runs with
// a one-entry retry schedule), the push is dead-lettered at once.
const receiverUrl = `http://127.0.0.1:${RECEIVER_PORT}/hooks`;
const created = await rest("POST", "/v1/webhooks/endpoints", { url: receiverUrl, description: "Warehouse receiver" });
assert.equal(created.status, 201, JSON.stringify(created.body));
const endpointId = created.body.id;

// A TMS order with an add-on the rules' lookup does not know: rejected.
const bad = readFileSync(join(FEEDS, "bad/unknown-addon.json"), "utf8");
const rejected = await rest("POST", "/v1/ingest", bad);
assert.equal(rejected.status, 422, JSON.stringify(rejected.body));
const rejectedId = rejected.body.logging_id;
assert.ok(rejectedId, "the refusal names its logging id");

// A shipment that is accepted, whose push goes to the receiver that is down.
const good = readFileSync(join(FEEDS, "wms-shipment-with-orders.json"), "utf8");
const accepted = await rest("POST", "/v1/ingest", good);
assert.ok([200, 201].includes(accepted.status), JSON.stringify(accepted.body));
await eventually("a dead-lettered delivery", async () => {
  const listing = await rest("GET", `/v1/webhooks/deliveries?state=failed&endpoint=${endpointId}`);
  return listing.body.items.length > 0;
});

// ------------------------------------------------------------------ the browser

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(`${message.text()} (${message.location().url})`);
  });

  // Sign in, with the keyboard only.
  await page.goto(`${BASE}/console`);
  await accessible(page, "sign-in");
  await shot(page, "01-sign-in");
  await page.getByLabel("API key").focus();
  await page.keyboard.type("fgk_not_a_key");
  await page.keyboard.press("Enter");
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /key/i);
  await page.getByLabel("API key").fill("");
  await page.keyboard.type(KEY);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  await page.getByText("Rejected, last hour").waitFor();
  assert.equal(await page.locator(".card", { hasText: "Rejected, last hour" }).locator(".figure").textContent(), "1");
  step("signed in with the keyboard; the overview counts the rejected payload");
  await accessible(page, "overview");
  await shot(page, "02-overview");

  // Find the rejected payload.
  await page.getByRole("link", { name: "Rejected, last hour" }).click();
  await page.getByRole("heading", { name: "Payloads" }).waitFor();
  assert.equal(await page.getByRole("combobox", { name: "Outcome" }).inputValue(), "rejected");
  const row = page.getByRole("row", { name: new RegExp(rejectedId) });
  await row.waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1, "only the rejected payload is listed");
  step("found the rejected payload by outcome and time");
  await accessible(page, "payloads");
  await shot(page, "03-payloads-rejected");

  // Read why.
  await row.getByRole("link", { name: rejectedId }).click();
  await page.getByRole("heading", { name: `Payload ${rejectedId}` }).waitFor();
  const why = page.locator(".problems");
  await why.waitFor();
  const whyText = await why.textContent();
  assert.match(whyText, /LIFTGATE_PREMIUM/, "the reason names the unknown value");
  assert.match(whyText, /addons/, "the reason points into the payload");
  step(`read why: ${whyText.replace(/\s+/g, " ").trim()}`);
  await accessible(page, "payload");
  await shot(page, "04-payload-why");

  // Fix the rule file: the lookup learns the add-on.
  const before = (await rest("GET", "/v1/rules")).body.version;
  const lookups = join(RULES, "00-lookups.toml");
  const text = readFileSync(lookups, "utf8");
  assert.match(text, /\[lookup\.tms_addons\]\n/);
  const fixed = text.replace("[lookup.tms_addons]\n", '[lookup.tms_addons]\nLIFTGATE_PREMIUM = "TAIL_LIFT"\n');
  writeFileSync(lookups, fixed);
  await page.getByRole("link", { name: "Rules" }).click();
  await page.getByRole("heading", { name: "Rules" }).waitFor();
  await eventually("the fixed rules to load", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "Rules" }).waitFor();
    const version = await page.locator("dl.facts dd code").first().textContent();
    return version !== before && (await page.getByText("succeeded").count()) > 0;
  });
  step("fixed the rule file; the rules page shows the new version and a good reload");
  await accessible(page, "rules");
  await shot(page, "05-rules-reloaded");

  // The playground explains the payload with the fixed rules.
  await page.getByLabel("Payload, in the sender's shape").fill(bad);
  await page.getByRole("button", { name: "Explain" }).click();
  const explanation = page.getByLabel("Explanation");
  await explanation.waitFor();
  assert.match(await explanation.textContent(), /tms-order-create/);
  step("the playground explains the payload with the fixed rule");

  // Reprocess it: accepted, under a new logging id linked to the original.
  await page.goto(`${BASE}/console#/payloads/${encodeURIComponent(rejectedId)}`);
  await page.getByRole("heading", { name: `Payload ${rejectedId}` }).waitFor();
  await page.getByRole("button", { name: "Explain with the current rules" }).click();
  await page.getByRole("heading", { name: "What the current rules make of it" }).waitFor();
  await page.getByRole("button", { name: "Reprocess", exact: true }).click();
  const notice = page.locator(".notice.ok");
  await notice.waitFor();
  assert.match(await notice.textContent(), /Accepted/);
  const newId = await notice.getByRole("link").textContent();
  assert.notEqual(newId, rejectedId);
  await notice.getByRole("link").click();
  await page.getByRole("heading", { name: `Payload ${newId}` }).waitFor();
  const facts = await page.locator("dl.facts").textContent();
  assert.match(facts, /Accepted/);
  assert.match(facts, new RegExp(`Reprocess of\\s*${rejectedId}`));
  step(`reprocessed: accepted as ${newId}, linked to ${rejectedId}`);
  await shot(page, "06-reprocessed");

  // Find the dead-lettered delivery.
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", exact: true }).waitFor();
  await page.getByRole("combobox", { name: "State" }).selectOption("failed");
  await page.getByRole("button", { name: "Filter" }).click();
  const dead = page.locator("tbody tr", { hasText: "failed (dead letter)" }).first();
  await dead.waitFor();
  assert.match(await dead.textContent(), /Warehouse receiver|127\.0\.0\.1/);
  step("found the dead-lettered delivery among all deliveries");
  await accessible(page, "webhooks");
  await shot(page, "07-dead-letter");

  // The receiver comes back; replay the delivery and see it delivered.
  const pushes = [];
  const receiver = createServer((request, response) => {
    const chunks = [];
    request.on("data", (c) => chunks.push(c));
    request.on("end", () => {
      pushes.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(RECEIVER_PORT, "127.0.0.1", resolve));
  try {
    await dead.getByRole("button", { name: /Replay/ }).click();
    await page.getByRole("link", { name: receiverUrl }).first().click();
    await page.getByRole("heading", { name: `Endpoint ${receiverUrl}` }).waitFor();
    await eventually("the replayed delivery to be delivered", async () => {
      await page.reload();
      await page.getByRole("heading", { name: `Endpoint ${receiverUrl}` }).waitFor();
      await page.getByRole("region", { name: "Deliveries of this endpoint" }).waitFor();
      return (await page.locator("tbody tr", { hasText: "delivered" }).count()) > 0;
    });
    assert.ok(pushes.length >= 1, "the receiver got the push");
    assert.match(pushes[0].headers["webhook-signature"] || "", /^v1,/, "the push is signed");
    step(`replayed: delivered, ${pushes.length} signed push at the receiver`);
    await accessible(page, "endpoint");
    await shot(page, "08-delivered");
  } finally {
    receiver.close();
  }

  // A phone: the same pages in one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, name] of [["#/", "overview"], ["#/payloads?outcome=rejected", "payloads"], ["#/webhooks", "webhooks"]]) {
    await page.goto(`${BASE}/console${hash}`);
    await page.locator("main h1").waitFor();
    await page.waitForLoadState("networkidle");
    await accessible(page, `${name} on a phone`);
    await shot(page, `09-phone-${name}`);
  }
  step("the overview, payloads and webhooks pages fit a phone and pass axe");

  // GraphiQL loads from the gateway itself (nothing else is reachable here).
  const outside = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(BASE) && !request.url().startsWith(BASE.replace("http", "ws")) && !request.url().startsWith("data:")) outside.push(request.url());
  });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${BASE}/graphql`);
  await page.locator(".graphiql-container").waitFor();
  assert.deepEqual(outside, [], "GraphiQL asked for nothing outside the gateway");
  step("GraphiQL loads from the gateway's own assets");
  await shot(page, "10-graphiql");

  // Signing out forgets the key: the console asks for one again.
  await page.goto(`${BASE}/console#/payloads`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("freightgate.key")), null);
  await page.goto(`${BASE}/console#/webhooks`);
  await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
  step("signing out forgets the key; a page asked for afterwards needs a key again");

  // A wrong key's 401 is the one error the console may log (the browser reports
  // every failed request).
  const unexpected = pageErrors.filter((e) => !/status of 401/.test(e) || !/\/v1\/key/.test(e));
  assert.deepEqual(unexpected, [], "the console logged no script errors");
} finally {
  await browser.close();
  console.log(`axe: ${JSON.stringify(axeReport)}`);
}
console.log(`console: ${steps.length} steps passed; screenshots in ${SHOTS}`);
