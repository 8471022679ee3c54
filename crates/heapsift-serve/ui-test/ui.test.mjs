// Drives `heapsift serve` in a real headless Chromium (Debian's, through
// playwright-core): the overview of rails-small/3.dump.gz, generation 36,
// the top retainer and its path from a root, the dominator tree, trend and
// diff. Saves a screenshot of the object page to target/ui.png.
//   HEAPSIFT_BIN   the heapsift binary (default: target/debug/heapsift)
//   CHROMIUM       the browser (default: /usr/bin/chromium)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { chromium } from "playwright-core";

const repo = path.resolve(import.meta.dirname, "../../..");
const bin = process.env.HEAPSIFT_BIN || path.join(repo, "target/debug/heapsift");
const fixtures = path.resolve(repo, "../shared/fixtures/rails-small");
const screenshot = path.join(repo, "target/ui.png");

let server;
let base;
let browser;
let page;
const requests = [];
const errors = [];

before(async () => {
  server = spawn(bin, ["serve", ...[1, 2, 3].map((n) => `${fixtures}/${n}.dump.gz`), "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/ at (http:\/\/\S+) /);
      if (found) resolve(found[1]);
    });
    server.on("exit", (code) => reject(new Error(`heapsift serve exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("response", (response) => response.status() >= 400 && errors.push(`${response.status()} ${response.url()}`));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
});

after(async () => {
  await browser?.close();
  server?.kill();
});

// Goes to a route and waits until the page has rendered it.
async function visit(hash) {
  await page.goto(`${base}${hash}`);
  await ready(hash);
}

async function ready(hash) {
  const route = hash.replace(/^#\/?/, "");
  await page.waitForFunction((r) => document.getElementById("main").dataset.ready === r, route);
}

test("the overview of 3.dump.gz shows generations, top sites and retainers", async () => {
  await visit("#/d/2");
  const main = await page.textContent("main");
  assert.match(main, /sqlite3\/statement\.rb:108/);
  assert.match(main, /LeakyCache/);
  assert.ok((await page.locator(".histogram").first().locator(".bar").count()) > 3);
  assert.match(await page.textContent("#banner"), /secrets/);
});

test("clicking generation 36 opens its report, statement.rb:108 on top of memory", async () => {
  await visit("#/d/2");
  await page.locator('.histogram .bar[data-generation="36"]').first().click();
  await ready("#/d/2/gen/36");
  assert.equal(await page.textContent("h1"), "Generation 36");
  const top = await page.textContent("#memory tbody tr:first-child");
  assert.match(top, /sqlite3\/statement\.rb:108/);
  // Filtering by a gem keeps only its rows.
  await page.fill("#memory input", "activemodel");
  const rows = await page.locator("#memory tbody tr").allTextContents();
  assert.ok(rows.length > 0);
  assert.ok(rows.every((row) => row.includes("activemodel")), rows.join("\n"));
  // Sorting by location puts the rows in name order.
  await page.fill("#memory input", "");
  await page.click("#memory th >> text=location");
  const names = await page.locator("#memory tbody tr td:first-child").allTextContents();
  assert.ok(names.length > 1);
  assert.deepEqual(names, [...names].sort());
});

test("the top retainer opens with its record and its path from a root", async () => {
  await visit("#/d/2");
  const link = page.locator("#top-retainers tbody tr:first-child a.object");
  const description = await link.textContent();
  await link.click();
  await page.waitForSelector("#path li.root");
  assert.equal(await page.textContent("h1"), description);
  const address = (await page.textContent("dl.facts dd")).trim();
  assert.match(await page.textContent("pre.record"), new RegExp(`"address":"${address}"`));
  assert.match(await page.textContent("#path li.root"), /^root: /);
  await page.screenshot({ path: screenshot, fullPage: true });
});

test("a path goes through LeakyCache, each hop a link", async () => {
  await visit("#/d/2/tree");
  await page.click(".icicle-label a.object >> text=module LeakyCache");
  await page.waitForSelector("#path li.root");
  const hops = await page.locator("#path li a.object").allTextContents();
  assert.equal(hops.at(-1), "module LeakyCache");
});

test("the dominator tree drills down from LeakyCache to its Hash", async () => {
  await visit("#/d/2/tree");
  const bar = page.locator(".icicle-row", { hasText: "module LeakyCache" }).locator("a.icicle-bar");
  await bar.click();
  await page.waitForSelector(".crumbs a.object");
  assert.match(await page.textContent(".crumbs"), /module LeakyCache/);
  assert.match(await page.textContent(".icicle-row:first-child"), /Hash \(100 entries\)/);
});

test("trend and diff compare the three dumps", async () => {
  await visit("#/trend");
  const top = await page.textContent("#trend tbody tr:first-child");
  assert.match(top, /steady/);
  assert.match(top, /statement\.rb:108/);
  await visit("#/diff");
  assert.match(await page.textContent("h1"), /still alive/);
  assert.match(await page.textContent("#diff tbody tr:first-child"), /STRING.*3,465.*statement\.rb:108/);
});

test("the page asks nothing of other hosts and logs no errors", () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter((url) => !url.startsWith(base));
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
});
