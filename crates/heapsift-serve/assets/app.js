// heapsift's web UI: one page, hash routes, data from /api/ (the same JSON
// as the CLI's --format json). Every text from a dump goes into the page
// through textContent, never as HTML: dumps hold arbitrary strings.
"use strict";

const token = new URLSearchParams(location.search).get("token");

async function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const response = await fetch("/api/" + path, { headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// h("a", {href: "#/"}, "text", child...): an element; strings become text.
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    // Through the CSSOM: the page's policy forbids style attributes.
    else if (key === "style") Object.assign(element.style, value);
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function svg(tag, attrs, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  return n < 0 ? "-" + text : text;
}

const count = (n) => Number(n).toLocaleString("en-US");

let dumps = [];

function dumpLink(d, path, text) {
  return h("a", { href: `#/d/${d}/${path}` }, text);
}

function objectLink(d, row) {
  if (!row || !row.address) return row ? row.description : "";
  return h("a", { href: `#/d/${d}/obj/${row.address}`, class: "object" }, row.description);
}

function setNav(d) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...dumps.map((dump) =>
      h("a", { href: `#/d/${dump.id}`, class: dump.id === d ? "current" : null }, dump.name),
    ),
    dumps.length > 1 ? h("a", { href: "#/trend" }, "trend") : null,
    dumps.length > 1 ? h("a", { href: "#/diff" }, "diff") : null,
  );
}

// A table whose columns sort on a click and whose rows a text box filters.
// columns: [{title, value(row) -> sortable, cell(row) -> node or text, filter?}]
function table(id, columns, rows, options = {}) {
  let sorted = rows.slice();
  let sortColumn = -1;
  let descending = true;
  let filter = "";
  const body = h("tbody");
  const render = () => {
    const shown = sorted.filter((row) =>
      !filter || columns.some((c) => c.filter && String(c.value(row)).toLowerCase().includes(filter)),
    );
    body.replaceChildren(
      ...shown.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell ? c.cell(row) : c.value(row))))),
    );
  };
  const header = h("tr", {}, columns.map((column, i) =>
    h("th", {
      class: column.numeric ? "num sortable" : "sortable",
      title: "sort",
      onclick: () => {
        descending = sortColumn === i ? !descending : column.numeric === true;
        sortColumn = i;
        sorted = rows.slice().sort((a, b) => {
          const x = column.value(a);
          const y = column.value(b);
          const order = x < y ? -1 : x > y ? 1 : 0;
          return descending ? -order : order;
        });
        render();
      },
    }, column.title),
  ));
  render();
  const filterBox = columns.some((c) => c.filter)
    ? h("input", {
        type: "search",
        placeholder: options.placeholder || "filter by path or gem",
        oninput: (event) => {
          filter = event.target.value.toLowerCase();
          render();
        },
      })
    : null;
  return h("div", { class: "table", id }, filterBox, h("table", {}, h("thead", {}, header), body));
}

function histogram(d, buckets, measure, title) {
  const traced = buckets.filter((b) => b.generation !== null);
  const width = 760;
  const height = 140;
  const most = traced.reduce((m, bucket) => Math.max(m, measure(bucket)), 1);
  const step = width / Math.max(1, traced.length);
  const bars = traced.map((bucket, i) => {
    const barHeight = Math.max(1, (measure(bucket) / most) * (height - 20));
    return svg("g", {
      class: "bar",
      "data-generation": bucket.generation,
      onclick: () => { location.hash = `#/d/${d}/gen/${bucket.generation}`; },
    },
      svg("title", {}, `generation ${bucket.generation}: ${count(bucket.count)} objects, ${bytes(bucket.memsize)}`),
      svg("rect", { x: i * step + 1, y: height - 16 - barHeight, width: Math.max(1, step - 2), height: barHeight }),
      traced.length <= 40 || i % Math.ceil(traced.length / 40) === 0
        ? svg("text", { x: i * step + step / 2, y: height - 3, "text-anchor": "middle" }, bucket.generation)
        : null,
    );
  });
  return h("figure", { class: "histogram" },
    h("figcaption", {}, title),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height }, bars),
  );
}

async function overview(d) {
  const [summary, all, retainers] = await Promise.all([
    api(`dumps/${d}/summary`),
    api(`dumps/${d}/generations/all?lines=10`).catch(() => null),
    api(`dumps/${d}/retained?by=object&top=10`),
  ]);
  const untraced = summary.generations.find((b) => b.generation === null);
  return [
    h("h1", {}, dumps[d].name),
    h("p", { class: "totals" },
      `${count(summary.total.count)} objects, ${bytes(summary.total.memsize)} in ${summary.total.generations} generations`,
      untraced ? ` (${count(untraced.count)} objects allocated while tracing was off)` : ""),
    h("p", { class: "hint" }, "Click a generation to see where its objects were allocated."),
    histogram(d, summary.generations, (b) => b.memsize, "Memory per generation"),
    histogram(d, summary.generations, (b) => b.count, "Objects per generation"),
    h("section", { id: "top-sites" },
      h("h2", {}, "Top allocation sites by memory ", dumpLink(d, "gen/all", "(all generations)")),
      all
        ? table("sites", [
            { title: "location", value: (r) => r.location, filter: true },
            { title: "bytes", value: (r) => r.value, cell: (r) => bytes(r.value), numeric: true },
          ], all.allocated_by_memory.rows)
        : h("p", {}, "No object in this dump was traced (allocation tracing was off)."),
    ),
    h("section", { id: "top-retainers" },
      h("h2", {}, "Top retainers ", dumpLink(d, "tree", "(dominator tree)"), " ", dumpLink(d, "retained/class", "by class"), " ", dumpLink(d, "retained/location", "by site")),
      h("p", { class: "hint" },
        `Reachable from the GC roots: ${count(retainers.reachable.objects)} objects (${bytes(retainers.reachable.bytes)}); unreachable: ${count(retainers.unreachable.objects)} (${bytes(retainers.unreachable.bytes)}).`),
      retainedTable(d, retainers),
    ),
  ];
}

function retainedTable(d, report) {
  const columns = [
    { title: "retained", value: (r) => r.retained_bytes, cell: (r) => bytes(r.retained_bytes), numeric: true },
    { title: "objects", value: (r) => r.retained_count, cell: (r) => count(r.retained_count), numeric: true },
    { title: "own", value: (r) => r.own_bytes, cell: (r) => bytes(r.own_bytes), numeric: true },
    {
      title: report.by === "object" ? "object" : report.by,
      value: (r) => r.description || r.class_name || r.location || "",
      cell: (r) => (report.by === "object" ? objectLink(d, r) : r.description || r.class_name || r.location || "(none)"),
      filter: true,
    },
    { title: "allocated at", value: (r) => (report.by === "object" ? r.location || "" : ""), filter: true },
  ];
  return table("retained", columns, report.rows);
}

async function retainedPage(d, by) {
  const report = await api(`dumps/${d}/retained?by=${by}&top=200`);
  return [h("h1", {}, `Retained size by ${by}`), retainedTable(d, report)];
}

async function generation(d, g) {
  const report = await api(`dumps/${d}/generations/${g}?lines=200`);
  const location = { title: "location", value: (r) => r.location, filter: true };
  const sections = [
    ["memory", `Allocated by memory (${count(report.allocated_by_memory.total)} bytes)`,
      table("memory", [location, { title: "bytes", value: (r) => r.value, cell: (r) => count(r.value), numeric: true }], report.allocated_by_memory.rows)],
    ["objects", `Object count (${count(report.object_count.total)})`,
      table("objects", [location, { title: "objects", value: (r) => r.value, cell: (r) => count(r.value), numeric: true }], report.object_count.rows)],
    ["classes", "Object counts by class",
      table("classes", [
        { title: "class", value: (r) => r.class_name, filter: true },
        { title: "objects", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
      ], report.object_counts_by_class, { placeholder: "filter by class" })],
    ["references", "High reference counts",
      table("references", [location, { title: "references", value: (r) => r.value, cell: (r) => count(r.value), numeric: true }], report.high_ref_counts)],
    ["strings", "Duplicate strings",
      table("duplicates", [
        { title: "string", value: (r) => r.value, cell: (r) => h("code", {}, r.value), filter: true },
        { title: "copies", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
        { title: "allocated at", value: (r) => r.locations.map((l) => l.location).join(" "), cell: (r) => r.locations.slice(0, 3).map((l) => h("div", {}, `${count(l.value)} × ${l.location}`)), filter: true },
      ], report.duplicate_strings, { placeholder: "filter by value or path" })],
  ];
  return [
    h("h1", {}, g === "all" ? "All generations" : `Generation ${g}`),
    h("p", { class: "hint" }, "Click a column to sort; type to filter rows by path or gem."),
    sections.map(([id, title, content]) => h("section", { id: "section-" + id }, h("h2", {}, title), content)),
  ];
}

function rowList(d, rows, total) {
  const items = rows.map((row) => h("li", {}, objectLink(d, row), row.location ? h("span", { class: "site" }, ` ${row.location}`) : null, h("span", { class: "size" }, ` retains ${bytes(row.retained_bytes)}`)));
  const more = total > rows.length ? h("li", { class: "hint" }, `… and ${count(total - rows.length)} more`) : null;
  return h("ul", { class: "objects" }, items, more);
}

async function objectPage(d, address) {
  const [details, path] = await Promise.all([
    api(`dumps/${d}/objects/${address}`),
    api(`dumps/${d}/objects/${address}/path`).catch((error) => ({ error: error.message })),
  ]);
  const object = details.object;
  const hops = path.error
    ? h("p", { class: "hint" }, path.error)
    : h("ol", { class: "path" },
        h("li", { class: "root" }, `root: ${path.root}`),
        path.hops.map((hop) => h("li", {}, objectLink(d, hop), hop.location ? h("span", { class: "site" }, ` ${hop.location}`) : null, h("span", { class: "size" }, ` retains ${bytes(hop.retained_bytes)}`))));
  return [
    h("h1", {}, object.description),
    h("dl", { class: "facts" },
      h("dt", {}, "address"), h("dd", {}, object.address),
      h("dt", {}, "type"), h("dd", {}, object.type),
      h("dt", {}, "own size"), h("dd", {}, bytes(object.own_bytes)),
      h("dt", {}, "retains"), h("dd", {}, `${bytes(object.retained_bytes)} in ${count(object.retained_count)} objects `, dumpLink(d, `tree/${object.address}`, "(dominator tree below)")),
      h("dt", {}, "allocated at"), h("dd", {}, object.location || "not traced"),
      h("dt", {}, "held by"), h("dd", {}, details.root ? `GC root (${details.root})` : details.dominator ? objectLink(d, details.dominator) : "nothing: unreachable"),
    ),
    h("h2", {}, "Record"),
    h("pre", { class: "record" }, details.record || "(not found)"),
    h("section", { id: "path" }, h("h2", {}, "Path from a GC root"), hops),
    h("h2", {}, `References (${count(details.reference_count)})`),
    rowList(d, details.references, details.reference_count),
    h("h2", {}, `Referrers (${count(details.referrer_count)})`),
    rowList(d, details.referrers, details.referrer_count),
  ];
}

async function tree(d, address) {
  const query = address ? `?of=${address}&top=40` : "?top=40";
  const node = await api(`dumps/${d}/dominators${query}`);
  const whole = node.parent ? node.parent.retained_bytes : node.total_bytes;
  const bars = node.children.map((child) => {
    const share = Math.max(0.5, (100 * child.retained_bytes) / Math.max(1, whole));
    return h("div", { class: "icicle-row" },
      h("a", { class: "icicle-bar", href: `#/d/${d}/tree/${child.address}`, style: { width: `${share}%` }, title: `${child.description}: ${bytes(child.retained_bytes)}` }),
      h("span", { class: "icicle-label" }, objectLink(d, child), ` ${bytes(child.retained_bytes)} in ${count(child.retained_count)} objects`, child.location ? h("span", { class: "site" }, ` ${child.location}`) : null));
  });
  return [
    h("h1", {}, "Dominator tree"),
    h("p", { class: "hint" }, "Each object retains what only it keeps alive. Click a bar to go down; the width is its share of the object above."),
    h("p", { class: "crumbs" }, dumpLink(d, "tree", "GC roots"), node.parent ? [" › ", objectLink(d, node.parent), ` (${bytes(node.parent.retained_bytes)})`] : ""),
    h("div", { class: "icicle" }, bars),
    node.child_count > node.children.length ? h("p", { class: "hint" }, `… and ${count(node.child_count - node.children.length)} smaller ones`) : null,
  ];
}

async function trendPage(by) {
  const report = await api(`trend?by=${by}&top=100`);
  const name = (r) => (by === "class" ? r.class_name : r.location) || (by === "class" ? "(no class name)" : "(not traced)");
  return [
    h("h1", {}, `Growth across ${report.dumps.length} dumps`),
    h("p", { class: "hint" }, `${report.steady_groups} of ${report.groups} groups rose in every dump (steady). `,
      by === "class" ? h("a", { href: "#/trend/location" }, "by allocation site") : h("a", { href: "#/trend/class" }, "by class")),
    table("trend", [
      { title: "growth", value: (r) => r.growth_bytes, cell: (r) => bytes(r.growth_bytes), numeric: true },
      { title: "steady", value: (r) => (r.steady ? 1 : 0), cell: (r) => (r.steady ? "steady" : ""), numeric: true },
      { title: "type", value: (r) => r.type },
      { title: by === "class" ? "class" : "location", value: name, filter: true },
      { title: "objects per dump", value: (r) => r.counts[r.counts.length - 1], cell: (r) => r.counts.map(count).join(" → ") },
    ], report.rows),
  ];
}

async function diffPage(query) {
  const params = new URLSearchParams(query);
  const before = params.get("before") ?? "0";
  const after = params.get("after") ?? "1";
  const retained = params.get("retained") ?? (dumps.length > 2 ? "2" : "");
  const choose = (label, key, value, optional) => h("label", {}, `${label} `, h("select", {
    onchange: (event) => {
      params.set(key, event.target.value);
      location.hash = "#/diff?" + new URLSearchParams({ before, after, retained, [key]: event.target.value });
    },
  }, optional ? h("option", { value: "" }, "(none)") : null, dumps.map((dump) => h("option", { value: dump.id, selected: String(dump.id) === value ? "" : null }, dump.name))));
  const report = await api(`diff?before=${before}&after=${after}${retained !== "" ? "&retained=" + retained : ""}`);
  return [
    h("h1", {}, report.retained ? "Allocated between two dumps and still alive" : "Allocated between two dumps"),
    h("p", {}, choose("before", "before", before), " ", choose("after", "after", after), " ", choose("retained in", "retained", retained, true)),
    h("p", { class: "hint" }, `${bytes(report.total_bytes)} in ${count(report.groups.reduce((n, g) => n + g.count, 0))} objects`),
    table("diff", [
      { title: "type", value: (r) => r.type },
      { title: "objects", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
      { title: "bytes", value: (r) => r.bytes, cell: (r) => bytes(r.bytes), numeric: true },
      { title: "location", value: (r) => (r.file ? `${r.file}:${r.line ?? ""}` : "(not traced)"), filter: true },
    ], report.groups),
  ];
}

// Bumped by each navigation: an answer that arrives after the user moved
// on is dropped rather than drawn over the newer page.
let navigation = 0;

async function route() {
  const current = ++navigation;
  const main = document.getElementById("main");
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  let d = 0;
  if (parts[0] === "d") d = Number(parts[1]);
  const rest = parts[0] === "d" ? parts.slice(2) : parts;
  setNav(parts[0] === "d" || parts.length === 0 ? d : -1);
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    let content;
    if (rest[0] === "trend") content = await trendPage(rest[1] || "location");
    else if (rest[0] === "diff") content = await diffPage(query || "");
    else if (rest[0] === "gen") content = await generation(d, rest[1]);
    else if (rest[0] === "obj") content = await objectPage(d, rest[1]);
    else if (rest[0] === "tree") content = await tree(d, rest[1]);
    else if (rest[0] === "retained") content = await retainedPage(d, rest[1] || "object");
    else content = await overview(d);
    if (current !== navigation) return;
    main.replaceChildren(...[content].flat(2));
  } catch (error) {
    if (current !== navigation) return;
    main.replaceChildren(h("p", { class: "error" }, error.message));
  }
  main.setAttribute("data-ready", hash);
}

async function start() {
  dumps = await api("dumps");
  window.addEventListener("hashchange", route);
  await route();
}

start().catch((error) => {
  document.getElementById("main").replaceChildren(h("p", { class: "error" }, error.message));
});
