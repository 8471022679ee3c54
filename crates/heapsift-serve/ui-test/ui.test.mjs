// Drives `heapsift serve` in a real headless Chromium (Debian's, through
// playwright-core), on two servers:
//   - the three example dumps examples/rails-small/{1,2,3}.dump.gz: the
//     overview of 3.dump.gz, generation 36, the top retainer and its path
//     from a root, the dominator tree, retained size by class and by site,
//     trend and diff; then every kind of page the UI links to, checked for
//     stray null/undefined/NaN text and for numbers or paths cut in two;
//   - ONE dump, written by this test, with 50 generations (more than the
//     histogram labels): every page it offers, checked the same way.
// Saves a screenshot of the object page to target/ui.png.
//   HEAPSIFT_BIN   the heapsift binary (default: target/debug/heapsift)
//   CHROMIUM       the browser (default: /usr/bin/chromium)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const repo = path.resolve(import.meta.dirname, "../../..");
const bin = process.env.HEAPSIFT_BIN || path.join(repo, "target/debug/heapsift");
const examples = path.join(repo, "examples/rails-small");
const screenshot = path.join(repo, "target/ui.png");
const wide = { width: 1280, height: 1000 };

// Words the page must never print: what JavaScript writes for a missing
// value. Repeated, so that "nullnull" (two nulls side by side) counts too.
// What a page must never say: a value that was missing, or "1 objects".
const stray = /\b(?:null|undefined|NaN)+\b|(?<![\d,.])1 (?:objects|generations)\b/;

let scratch;
let browser;
// { server, base, page } for the three example dumps and for the lone dump.
let three;
let lone;
let page;
const requests = [];
const errors = [];

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "heapsift-ui-"));
  const loneDump = path.join(scratch, "many-generations.dump");
  writeFileSync(loneDump, manyGenerationsDump(50));
  // Its context record, as the agent writes it beside a dump; fields it
  // could not know are null.
  writeFileSync(path.join(scratch, "many-generations.json"), JSON.stringify({
    version: 1, time: "2026-11-27T14:03:09.512Z", dyno: "web.1", pid: 4242,
    ruby_description: "ruby 3.4.1 (2024-12-25 revision 48d4efcb85) +PRISM [x86_64-linux]",
    trigger: { kind: "signal", message: "after deploy", request: "9f0c" },
    rss_bytes: 1395864371, rss_peak_bytes: 1400000000, memory_limit_bytes: null, heap_pages_bytes: null,
    gc: { count: 50 }, gc_heap: null,
  }));
  const launching = chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  [three, lone, browser] = await Promise.all([
    serve([1, 2, 3].map((n) => `${examples}/${n}.dump.gz`)),
    serve([loneDump]),
    launching,
  ]);
  for (const site of [three, lone]) site.page = await openPage(site.base);
  page = three.page;
});

after(async () => {
  await browser?.close();
  three?.server.kill();
  lone?.server.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// Starts `heapsift serve` on a free port; resolves to { server, base }.
function serve(dumps) {
  const server = spawn(bin, ["serve", ...dumps, "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const found = out.match(/ at (http:\/\/\S+) /);
      if (found) resolve({ server, base: found[1] });
    });
    server.on("exit", (code) => reject(new Error(`heapsift serve exited with ${code}`)));
  });
}

// A page that records what it asks for and every error, for the last test.
async function openPage(base) {
  const opened = await browser.newPage({ viewport: wide });
  opened.on("request", (request) => requests.push({ url: request.url(), base }));
  opened.on("pageerror", (error) => errors.push(error.message));
  opened.on("response", (response) => response.status() >= 400 && errors.push(`${response.status()} ${response.url()}`));
  opened.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  return opened;
}

// A small dump with one traced String per generation 1..n, all held by an
// Array the VM roots (the two classes and the Array are untraced).
function manyGenerationsDump(generations) {
  const address = (n) => "0x" + (0x7f0000001000 + n * 40).toString(16);
  const strings = Array.from({ length: generations }, (_, i) => ({
    address: address(i + 3), type: "STRING", class: address(0), bytesize: 3, value: "abc",
    file: `app/models/generation_${i + 1}.rb`, line: i + 1, generation: i + 1, memsize: 40 * (i + 1),
  }));
  return [
    { type: "ROOT", root: "vm", references: [address(2)] },
    { address: address(0), type: "CLASS", name: "String", memsize: 960 },
    { address: address(1), type: "CLASS", name: "Array", memsize: 960 },
    { address: address(2), type: "ARRAY", class: address(1), length: generations, references: strings.map((s) => s.address), memsize: 440 },
    ...strings,
  ].map((record) => JSON.stringify(record) + "\n").join("");
}

// Goes to a route and waits until the page has rendered it afresh.
async function visit(hash, site = three) {
  const url = `${site.base}${hash}`;
  // Going to the address it is at would not draw the page again (no
  // hashchange) and leave an earlier test's sorting or filter: reload.
  if (site.page.url() === url) await site.page.reload();
  else await site.page.goto(url);
  await ready(hash, site.page);
}

async function ready(hash, on = page) {
  const route = hash.replace(/^#\/?/, "");
  await on.waitForFunction((r) => document.getElementById("main").dataset.ready === r, route);
}

// The page's own text (text nodes, titles, link targets) that reads null,
// undefined, NaN or a plural after 1. An object's record (pre.record) is the dump's own line,
// where null is legitimate JSON: it alone is left out.
function strayText(on) {
  return on.evaluate((pattern) => {
    const stray = new RegExp(pattern);
    const outsideRecord = (node) => !(node.parentElement || node).closest("pre.record");
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode;
      if (outsideRecord(text) && stray.test(text.data)) found.push(`text ${JSON.stringify(text.data)} in <${text.parentElement.localName}>`);
    }
    for (const element of document.body.querySelectorAll("[title], [href]")) {
      for (const name of ["title", "href"]) {
        const value = element.getAttribute(name);
        if (value && outsideRecord(element) && stray.test(value)) found.push(`${name}=${JSON.stringify(value)} on <${element.localName}>`);
      }
    }
    return found;
  }, stray.source);
}

// Tokens that the layout cut over two lines. A token runs between spaces
// and slashes: "10,500", "statement.rb:108", "rubygems-integration"; a path
// may break after a "/", nothing else may. Strings from the dump (its
// record, duplicate string values) may break anywhere and are left out.
function cutTokens(on) {
  return on.evaluate(() => {
    const cut = [];
    const range = document.createRange();
    const walker = document.createTreeWalker(document.getElementById("main"), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode;
      if (text.parentElement.closest("pre.record, code")) continue;
      for (const token of text.data.matchAll(/[^\s/]+/g)) {
        range.setStart(text, token.index);
        range.setEnd(text, token.index + token[0].length);
        const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
        if (lines.size > 1) cut.push(token[0]);
      }
    }
    return [...new Set(cut)];
  });
}

// Every internal link on the page, chart bars included.
function linksOn(on) {
  return on.evaluate(() => [...document.querySelectorAll('a[href^="#/"]')].map((a) => a.getAttribute("href")));
}

// A route with its addresses, generation numbers and dump number made
// general: one page of each kind is visited.
function kindOf(route) {
  return route
    .replace(/0x[0-9a-f]+/g, "ADDR")
    .replace(/\/gen\/\d+/, "/gen/G")
    .replace(/^#\/d\/\d+/, "#/d/N");
}

// Visits `start` and then, breadth first, the first page of every kind the
// pages link to, calling `check` on each; returns the kinds it visited.
async function crawl(site, start, check) {
  const queue = [...start];
  const visited = new Map();
  while (queue.length > 0) {
    const route = queue.shift();
    if (visited.has(kindOf(route))) continue;
    visited.set(kindOf(route), route);
    await visit(route, site);
    await check(route);
    queue.push(...(await linksOn(site.page)));
  }
  return [...visited.keys()];
}

// The texts in the column headed `title` of the table inside `selector`.
function column(selector, title, on = page) {
  return on.evaluate(([selector, title]) => {
    const table = document.querySelector(`${selector} table`);
    const titles = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    const index = titles.indexOf(title);
    if (index < 0) throw new Error(`no column ${title} in ${selector}: ${titles.join(", ")}`);
    return [...table.querySelectorAll("tbody tr")].map((tr) => tr.children[index].textContent);
  }, [selector, title]);
}

// The titles of the columns that are empty in every row.
function emptyColumns(selector, on = page) {
  return on.evaluate((selector) => {
    const table = document.querySelector(`${selector} table`);
    const rows = [...table.querySelectorAll("tbody tr")];
    return [...table.querySelectorAll("thead th")]
      .filter((th, i) => rows.every((tr) => tr.children[i].textContent.trim() === ""))
      .map((th) => th.textContent);
  }, selector);
}

// Sizes read as heapsift's CLI prints them: "568 B", "54.4 KB", "3.2 MB".
const size = /^\d+(\.\d)? (B|KB|MB|GB|TB)$/;

test("the front page names the leak, and a click opens its object", async () => {
  await visit("#/");
  const first = page.locator("#suspects > li").first();
  const heading = await first.locator("h2").textContent();
  assert.match(heading, /^#1 growing Hash \(100 entries\)/);
  assert.match(await first.locator(".summary").textContent(), /held by module LeakyCache/);
  // Its size in each of the three dumps, growing.
  assert.equal(await first.locator("svg.per-dump rect").count(), 3);
  // The tracer's table is set apart, not a suspect.
  assert.doesNotMatch(await page.textContent("#suspects"), /allocation_info_tracer/);
  assert.match(await page.textContent("main"), /Set apart/);
  await first.locator("h2 a.object").click();
  await ready("#/d/2/obj/0x7fd331d6e5f0");
  assert.equal(await page.textContent("h1"), "Hash (100 entries)");
  await page.waitForSelector("#path li.root");
  assert.match(await page.textContent("#path"), /module LeakyCache/);
});

test("the overview of 3.dump.gz shows generations, top sites and retainers", async () => {
  await visit("#/d/2");
  const main = await page.textContent("main");
  assert.match(main, /sqlite3\/statement\.rb:108/);
  assert.match(main, /LeakyCache/);
  assert.ok((await page.locator(".histogram").first().locator(".bar").count()) > 3);
  assert.match(await page.textContent("#banner"), /secrets/);
});

test("the overview sets the process's RSS against the dump's objects, from its context record", async () => {
  await visit("#/d/0", lone);
  const process = await lone.page.textContent("#process");
  assert.match(process, /The Ruby heap's objects account for [\d.]+ KB of 1\.3 GB RSS; 1\.3 GB are outside Ruby objects: native memory or fragmentation/);
  assert.match(process, /dumped ona signal: "after deploy" \(request 9f0c\)/);
  assert.match(process, /peak RSS1\.3 GB/);
  assert.match(process, /web\.1 pid 4242 2026-11-27T14:03:09\.512Z/);
  // What the record leaves null is left out, not shown as "null".
  assert.doesNotMatch(process, /memory limit|heap pages/);
  // The example dumps have none: the overview says where it looked.
  await visit("#/d/2");
  assert.match(await page.textContent("#no-context"), /No context record beside this dump \(.*3\.json\)/);
  assert.equal(await page.locator("#process").count(), 0);
});

test("the nav names each dump by its file name, the full path on hover", async () => {
  await visit("#/d/2");
  const links = page.locator("#nav a");
  assert.deepEqual(await links.allTextContents(), ["suspects", "1.dump.gz", "2.dump.gz", "3.dump.gz", "trend", "diff"]);
  const titles = await links.evaluateAll((as) => as.slice(1, 4).map((a) => a.title));
  assert.deepEqual(titles, [1, 2, 3].map((n) => `${examples}/${n}.dump.gz`));
  // Two dumps of the same file name are told apart by their folders (as
  // few as it takes), the same file given twice by its place in the list.
  const names = await page.evaluate(() => [
    shortNames(["/srv/a/web/3.dump.gz", "/srv/b/web/3.dump.gz", "/srv/a/1.dump.gz", "2.dump.gz"]),
    shortNames(["3.dump.gz", "old/3.dump.gz"]),
    shortNames(["x/1.dump.gz", "x/1.dump.gz"]),
  ]);
  assert.deepEqual(names, [
    ["a/web/3.dump.gz", "b/web/3.dump.gz", "1.dump.gz", "2.dump.gz"],
    ["3.dump.gz", "old/3.dump.gz"],
    ["x/1.dump.gz (1)", "x/1.dump.gz (2)"],
  ]);
});

test("the charts have axes with units and say what they leave out", async () => {
  await visit("#/d/2");
  const [memory, objects] = await page.locator("figure.histogram").all();
  const ticks = (chart) => chart.locator(".y-axis .tick").allTextContents();
  const memoryTicks = await ticks(memory);
  assert.ok(memoryTicks.length >= 3, memoryTicks.join(", "));
  assert.equal(memoryTicks[0], "0");
  assert.ok(memoryTicks.slice(1).every((tick) => size.test(tick)), memoryTicks.join(", "));
  assert.match(await memory.locator(".y-axis .axis-title").textContent(), /memory/);
  const objectTicks = await ticks(objects);
  assert.ok(objectTicks.length >= 3 && objectTicks.every((tick) => /^\d[\d,]*$/.test(tick)), objectTicks.join(", "));
  assert.match(await objects.locator(".y-axis .axis-title").textContent(), /objects/);
  // Generation numbers along x, one under each bar of the 9 generations.
  assert.deepEqual(await memory.locator(".x-axis .tick").allTextContents(), ["31", "32", "33", "34", "35", "36", "37", "38", "39"]);
  assert.match(await memory.locator(".x-axis .axis-title").textContent(), /generation/);
  // The nil bucket (objects allocated while tracing was off) is most of
  // the heap: each chart says it is not shown, and how big it is.
  assert.match(await memory.locator(".left-out").textContent(), /not shown.*27\.3 MB.*88%/i);
  assert.match(await objects.locator(".left-out").textContent(), /not shown.*79,435 objects.*71%/i);
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

test("a generation prints sizes as the other pages do, raw bytes on hover", async () => {
  await visit("#/d/2/gen/36");
  assert.match(await page.textContent("#section-memory h2"), /^Allocated by memory \(765\.3 KB\)$/);
  const sizes = await column("#memory", "memory");
  assert.ok(sizes.length > 1 && sizes.every((text) => size.test(text)), sizes.join(", "));
  assert.equal(sizes[0], "212.0 KB");
  assert.equal(await page.getAttribute("#memory tbody tr:first-child .bytes", "title"), "217,081 bytes");
  // The overview's sites table prints the same sizes the same way.
  await visit("#/d/2");
  const sites = await column("#sites", "memory");
  assert.ok(sites.every((text) => size.test(text)), sites.join(", "));
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

test("retained size by class and by site name each group in its column", async () => {
  await visit("#/d/2/retained/class");
  const classes = await column("#retained", "class");
  assert.ok(classes.includes("String") && classes.includes("Hash"), classes.slice(0, 10).join(", "));
  assert.ok(!classes.some((name) => /^\d+ objects$/.test(name)), classes.slice(0, 10).join(", "));
  assert.deepEqual(await emptyColumns("#retained"), []);
  const members = await column("#retained", "members");
  assert.ok(members.every((text) => /^\d[\d,]*$/.test(text)), members.slice(0, 10).join(", "));

  await visit("#/d/2/retained/location");
  const sites = await column("#retained", "location");
  assert.ok(sites.some((site) => site.endsWith("sqlite3/statement.rb:108")), sites.slice(0, 10).join("\n"));
  assert.ok(sites.every((site) => /:\d+$/.test(site) || site === "(not traced)"), sites.slice(0, 10).join("\n"));
  assert.deepEqual(await emptyColumns("#retained"), []);
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

test("no page of the three dumps shows null, undefined or NaN, or cuts a number or a path", async () => {
  // Narrow, as a window beside an editor: long paths must wrap, at a "/".
  await page.setViewportSize({ width: 700, height: 1000 });
  try {
    const kinds = await crawl(three, ["#/", "#/d/2", "#/d/2/retained"], async (route) => {
      assert.deepEqual(await strayText(page), [], route);
      assert.deepEqual(await cutTokens(page), [], route);
    });
    for (const kind of ["#/", "#/d/N", "#/d/N/gen/G", "#/d/N/retained", "#/d/N/retained/class", "#/d/N/retained/location",
      "#/d/N/tree", "#/d/N/tree/ADDR", "#/d/N/obj/ADDR", "#/trend", "#/diff"]) {
      assert.ok(kinds.includes(kind), `${kind} not visited: ${kinds.join(" ")}`);
    }
  } finally {
    await page.setViewportSize(wide);
  }
});

test("with one dump, no page shows null (nor nullnull), however many generations", async () => {
  const kinds = await crawl(lone, ["#/", "#/d/0"], async (route) => {
    assert.deepEqual(await strayText(lone.page), [], route);
  });
  for (const kind of ["#/", "#/d/N", "#/d/N/gen/G", "#/d/N/retained/class", "#/d/N/retained/location",
    "#/d/N/tree", "#/d/N/tree/ADDR", "#/d/N/obj/ADDR"]) {
    assert.ok(kinds.includes(kind), `${kind} not visited: ${kinds.join(" ")}`);
  }
  // Nothing to compare one dump with: no trend, no diff.
  await visit("#/d/0", lone);
  assert.deepEqual(await lone.page.locator("#nav a").allTextContents(), ["suspects", "many-generations.dump"]);
  // 50 bars, and fewer generation numbers under them, each a number.
  const chart = lone.page.locator("figure.histogram").first();
  assert.equal(await chart.locator(".bar").count(), 50);
  const labels = await chart.locator(".x-axis .tick").allTextContents();
  assert.ok(labels.length > 5 && labels.length < 50 && labels.every((label) => /^\d+$/.test(label)), labels.join(", "));
});

test("the page asks nothing of other hosts and logs no errors", () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter(({ url, base }) => !url.startsWith(base)).map(({ url }) => url);
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
});
