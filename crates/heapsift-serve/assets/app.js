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
  return build(document.createElement(tag), attrs, children);
}

function svg(tag, attrs, ...children) {
  return build(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);
}

// Sets attributes and appends children. A null or undefined attribute or
// child is left out: `condition ? node : null` is how pages say "maybe".
function build(element, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    // Through the CSSOM: the page's policy forbids style attributes.
    else if (key === "style") Object.assign(element.style, value);
    else element.setAttribute(key, value);
  }
  return append(element, children);
}

// Appends nodes and texts, arrays flattened; never "null" or "undefined".
function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// Replaces an element's content, with the same rules as h().
function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

// "568 B", "54.4 KB", "3.2 MB": sizes as the CLI prints them.
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
// `1 object`, `2,000 objects`.
const objects = (n) => `${count(n)} ${Number(n) === 1 ? "object" : "objects"}`;

// A size as every page prints it ("54.4 KB", as the CLI does), the exact
// byte count on hover.
function size(n) {
  return h("span", { class: "bytes", title: `${count(n)} bytes` }, bytes(n));
}

// A file path that may wrap after a "/" but never inside a name or a
// "file.rb:123": each part keeps together (CSS), a <wbr> after each slash.
function filePath(text) {
  const parts = text.split(/(?<=\/)/).map((part) => h("span", {}, part));
  return h("span", { class: "path" }, parts.flatMap((part, i) => (i === 0 ? [part] : [h("wbr"), part])));
}

// "88%" of a whole; "under 1%" rather than a misleading "0%".
function share(part, whole) {
  const percent = (100 * part) / Math.max(1, whole);
  return percent > 0 && percent < 1 ? "under 1%" : `${Math.round(percent)}%`;
}

// The served dumps, as /api/dumps lists them, each with a short `label`.
let dumps = [];

// The fewest trailing parts of each path that tell it from the others:
// "3.dump.gz", or "a/3.dump.gz" and "b/3.dump.gz" when two share a name.
function shortNames(paths) {
  const parts = paths.map((name) => name.split("/"));
  const kept = parts.map(() => 1);
  const label = (i) => parts[i].slice(-kept[i]).join("/");
  const clashes = (i) => parts.some((_, j) => j !== i && label(j) === label(i));
  // Labels that clash take one more folder each, while they have one.
  for (;;) {
    const growing = parts.map((_, i) => i).filter((i) => clashes(i) && kept[i] < parts[i].length);
    if (growing.length === 0) break;
    for (const i of growing) kept[i] += 1;
  }
  // Only the same path given twice still clashes: numbered as given.
  return parts.map((_, i) => (clashes(i) ? `${label(i)} (${i + 1})` : label(i)));
}

function dumpLink(d, path, text) {
  return h("a", { href: `#/d/${d}/${path}` }, text);
}

function objectLink(d, row) {
  if (!row || !row.address) return row ? row.description : "";
  return h("a", { href: `#/d/${d}/obj/${row.address}`, class: "object" }, row.description);
}

// d: the dump whose pages are shown, or "suspects" on the front page.
function setNav(d) {
  const front = h("a", { href: "#/", class: d === "suspects" ? "current" : null }, "suspects");
  const links = dumps.map((dump) =>
    h("a", { href: `#/d/${dump.id}`, title: dump.name, class: dump.id === d ? "current" : null }, dump.label),
  );
  // Trend and diff compare dumps: with one, there is nothing to compare.
  const comparisons = dumps.length > 1 ? [h("a", { href: "#/trend" }, "trend"), h("a", { href: "#/diff" }, "diff")] : [];
  fill(document.getElementById("nav"), front, links, comparisons);
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
    fill(body, shown.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null }, c.cell ? c.cell(row) : c.value(row))))));
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

// What a histogram plots: a bucket's value, how a value reads, the y axis.
const MEMORY = {
  title: "Memory per generation",
  axis: "memory",
  of: (bucket) => bucket.memsize,
  show: size,
  scale: memoryScale,
};
const OBJECTS = {
  title: "Objects per generation",
  axis: "objects",
  of: (bucket) => bucket.count,
  show: (n) => objects(n),
  scale: (most) => ({ ticks: roundTicks(most), label: count }),
};

// Ticks from 0 to at least `most`, 1, 2 or 5 times a power of ten apart
// (in units of `unit`), so that labels read "200 KB" rather than "195.3 KB".
function roundTicks(most, unit = 1) {
  const rough = most / unit / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  // A step under one byte or one object would repeat labels.
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) * unit);
  return Array.from({ length: Math.ceil(most / step) + 1 }, (_, i) => i * step);
}

// A y scale for bytes, in the largest unit the highest bar reaches.
function memoryScale(most) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let power = 0;
  while (power < units.length - 1 && most >= 1024 ** (power + 1)) power += 1;
  const unit = 1024 ** power;
  const label = (value) => (value === 0 ? "0" : `${Number((value / unit).toFixed(1))} ${units[power]}`);
  return { ticks: roundTicks(most, unit), label };
}

// The memory and object charts of dump `d`, or why there are none.
function charts(d, summary) {
  const heap = {
    dump: d,
    traced: summary.generations.filter((b) => b.generation !== null),
    untraced: summary.generations.find((b) => b.generation === null),
    total: summary.total,
  };
  if (heap.traced.length === 0) {
    return h("p", { class: "hint" }, "No object has a generation (allocation tracing was off): nothing to chart.");
  }
  return [MEMORY, OBJECTS].map((measure) => histogram(heap, measure));
}

// The SVG's size, and the margins around the plot: room on the left for
// the y labels, below for the generation numbers and the x axis title.
const CHART = { width: 760, height: 196, left: 64, right: 8, top: 24, bottom: 34 };

// One bar per traced generation, each a link to that generation's report.
function histogram({ dump, traced, untraced, total }, measure) {
  const scale = measure.scale(traced.reduce((most, bucket) => Math.max(most, measure.of(bucket)), 1));
  const plot = plotArea(traced.length, scale.ticks[scale.ticks.length - 1]);
  return h("figure", { class: "histogram" },
    h("figcaption", {}, measure.title),
    svg("svg", { viewBox: `0 0 ${CHART.width} ${CHART.height}`, width: CHART.width, height: CHART.height },
      yAxis(plot, scale, measure.axis),
      traced.map((bucket, i) => bar(dump, bucket, plot, i, measure.of(bucket))),
      xAxis(plot, traced)),
    untraced ? leftOut(measure, untraced, total) : null,
  );
}

// Where bar i and a value fall: `bars` bars side by side, `top` at the top.
function plotArea(bars, top) {
  const height = CHART.height - CHART.top - CHART.bottom;
  const step = (CHART.width - CHART.left - CHART.right) / bars;
  return {
    left: CHART.left,
    right: CHART.width - CHART.right,
    step,
    x: (i) => CHART.left + i * step,
    y: (value) => CHART.top + height - (value / top) * height,
  };
}

function bar(dump, bucket, plot, i, value) {
  const height = Math.max(1, plot.y(0) - plot.y(value));
  return svg("a", { class: "bar", href: `#/d/${dump}/gen/${bucket.generation}`, "data-generation": bucket.generation },
    svg("title", {}, `generation ${bucket.generation}: ${objects(bucket.count)}, ${bytes(bucket.memsize)}`),
    svg("rect", { x: plot.x(i) + 1, y: plot.y(0) - height, width: Math.max(1, plot.step - 2), height }),
  );
}

// Gridlines at the scale's ticks, labelled in its unit.
function yAxis(plot, scale, title) {
  return svg("g", { class: "y-axis" },
    scale.ticks.map((tick) => [
      svg("line", { class: "grid", x1: plot.left, x2: plot.right, y1: plot.y(tick), y2: plot.y(tick) }),
      svg("text", { class: "tick", x: plot.left - 6, y: plot.y(tick) + 3, "text-anchor": "end" }, scale.label(tick)),
    ]),
    svg("text", { class: "axis-title", x: plot.left - 6, y: 10, "text-anchor": "end" }, title),
  );
}

// Generation numbers under the bars: about one per 30 pixels, so with many
// bars every second (third...) one is labelled.
function xAxis(plot, traced) {
  const labelEvery = Math.ceil(30 / plot.step);
  return svg("g", { class: "x-axis" },
    svg("line", { class: "axis", x1: plot.left, x2: plot.right, y1: plot.y(0), y2: plot.y(0) }),
    traced.map((bucket, i) => (i % labelEvery === 0
      ? svg("text", { class: "tick", x: plot.x(i) + plot.step / 2, y: plot.y(0) + 13, "text-anchor": "middle" }, bucket.generation)
      : null)),
    svg("text", { class: "axis-title", x: (plot.left + plot.right) / 2, y: CHART.height - 3, "text-anchor": "middle" }, "generation"),
  );
}

// The nil bucket is often most of the heap (everything allocated before
// tracing began): too tall to chart beside the rest, too big to omit silently.
function leftOut(measure, untraced, total) {
  const value = measure.of(untraced);
  return h("p", { class: "left-out hint" }, "Not shown: ", measure.show(value),
    ` (${share(value, measure.of(total))} of the heap) with no generation, allocated while allocation tracing was off.`);
}

// The generations with objects of their own: the untraced (nil) bucket is
// not one, though heapy's "active" count includes it.
function generationCount(summary) {
  const traced = summary.generations.filter((b) => b.generation !== null).length;
  return `${count(traced)} ${traced === 1 ? "generation" : "generations"}`;
}

// The process around the dump, from its context record (as `heapsift info`
// says it): its RSS against the dump's objects, and what triggered the dump.
function processSection(info) {
  const p = info.process;
  if (!p) {
    return info.context_url
      ? h("p", { class: "hint", id: "no-context" }, "No context record beside this dump (", filePath(info.context_url),
          "): the process's RSS, and what triggered the dump, are not known.")
      : null;
  }
  const fact = (title, ...value) => (value.some((v) => v === null || v === undefined) ? null : [h("dt", {}, title), h("dd", {}, value)]);
  const who = [p.dyno, p.pid === null ? null : `pid ${p.pid}`, p.time].filter((x) => x !== null).join(" ");
  const limit = p.memory_limit_bytes;
  return h("section", { id: "process" },
    h("h2", {}, "The process"),
    p.gap ? h("p", { class: "gap" }, p.gap.charAt(0).toUpperCase() + p.gap.slice(1) + ".") : null,
    h("dl", { class: "facts" },
      fact("process", who || null),
      fact("Ruby", p.ruby_description),
      fact("dumped on", p.triggered_by),
      fact("RSS", p.rss_bytes === null ? null : size(p.rss_bytes)),
      fact("peak RSS", p.rss_peak_bytes === null ? null : size(p.rss_peak_bytes)),
      fact("memory limit", limit === null ? null : size(limit),
        limit && p.rss_bytes !== null ? ` (RSS at ${share(p.rss_bytes, limit)} of it)` : ""),
      fact("Ruby objects", size(p.objects_bytes)),
      fact("outside them", p.gap_bytes === null ? null : size(Math.max(0, p.gap_bytes))),
      fact("GC heap pages", p.heap_pages_bytes === null ? null : size(p.heap_pages_bytes)),
    ),
  );
}

async function overview(d) {
  const [summary, info, all, retainers] = await Promise.all([
    api(`dumps/${d}/summary`),
    api(`dumps/${d}/info`),
    api(`dumps/${d}/generations/all?lines=10`).catch(() => null),
    api(`dumps/${d}/retained?by=object&top=10`),
  ]);
  const untraced = summary.generations.find((b) => b.generation === null);
  return [
    h("h1", {}, filePath(dumps[d].name)),
    h("p", { class: "totals" },
      `${objects(summary.total.count)}, `, size(summary.total.memsize), ` in ${generationCount(summary)}`,
      untraced ? ` (${objects(untraced.count)} allocated while tracing was off)` : null),
    processSection(info),
    h("p", { class: "hint" }, "Click a generation to see where its objects were allocated."),
    charts(d, summary),
    h("section", { id: "top-sites" },
      h("h2", {}, "Top allocation sites by memory ", dumpLink(d, "gen/all", "(all generations)")),
      all
        ? table("sites", [locationColumn, memoryColumn], all.allocated_by_memory.rows)
        : h("p", {}, "No object in this dump was traced (allocation tracing was off)."),
    ),
    h("section", { id: "top-retainers" },
      h("h2", {}, "Top retainers ", dumpLink(d, "tree", "(dominator tree)"), " ", dumpLink(d, "retained/class", "by class"), " ", dumpLink(d, "retained/location", "by site")),
      h("p", { class: "hint" },
        `Reachable from the GC roots: ${objects(retainers.reachable.objects)} (`, size(retainers.reachable.bytes),
        `); unreachable: ${count(retainers.unreachable.objects)} (`, size(retainers.unreachable.bytes), ")."),
      retainedTable(d, retainers),
    ),
  ];
}

// Columns of the rows {location, value} that the generation reports list.
const locationColumn = { title: "location", value: (r) => r.location, cell: (r) => filePath(r.location), filter: true };
const memoryColumn = { title: "memory", value: (r) => r.value, cell: (r) => size(r.value), numeric: true };
const countColumn = (title) => ({ title, value: (r) => r.value, cell: (r) => count(r.value), numeric: true });

const NO_CLASS = "(no class name)";
const NOT_TRACED = "(not traced)";

// How a `retained` report names its rows. By object, a row is one object
// (a link) and where it was allocated; by class or by site, a row is a
// group: the API leaves its address, type and name null and names it by
// class_name or location, with `objects` its member count.
const RETAINED_NAMES = {
  object: (d) => [
    { title: "object", value: (r) => r.description, cell: (r) => objectLink(d, r), filter: true },
    { title: "allocated at", value: (r) => r.location || "", cell: (r) => (r.location ? filePath(r.location) : null), filter: true },
  ],
  class: () => [
    { title: "members", value: (r) => r.objects, cell: (r) => count(r.objects), numeric: true },
    { title: "class", value: (r) => r.class_name || NO_CLASS, filter: true },
  ],
  location: () => [
    { title: "members", value: (r) => r.objects, cell: (r) => count(r.objects), numeric: true },
    { title: "location", value: (r) => r.location || NOT_TRACED, cell: (r) => (r.location ? filePath(r.location) : NOT_TRACED), filter: true },
  ],
};

function retainedTable(d, report) {
  const sizes = [
    { title: "retained", value: (r) => r.retained_bytes, cell: (r) => size(r.retained_bytes), numeric: true },
    { title: "objects", value: (r) => r.retained_count, cell: (r) => count(r.retained_count), numeric: true },
    { title: "own", value: (r) => r.own_bytes, cell: (r) => size(r.own_bytes), numeric: true },
  ];
  const placeholder = report.by === "class" ? "filter by class" : undefined;
  return table("retained", [...sizes, ...RETAINED_NAMES[report.by](d)], report.rows, { placeholder });
}

const RETAINED_BY = { object: "object", class: "class", location: "allocation site" };

async function retainedPage(d, by) {
  const report = await api(`dumps/${d}/retained?by=${by}&top=200`);
  return [h("h1", {}, `Retained size by ${RETAINED_BY[report.by]}`), retainedTable(d, report)];
}

async function generation(d, g) {
  const report = await api(`dumps/${d}/generations/${g}?lines=200`);
  const sections = [
    ["memory", ["Allocated by memory (", size(report.allocated_by_memory.total), ")"],
      table("memory", [locationColumn, memoryColumn], report.allocated_by_memory.rows)],
    ["objects", `Object count (${count(report.object_count.total)})`,
      table("objects", [locationColumn, countColumn("objects")], report.object_count.rows)],
    ["classes", "Object counts by class",
      table("classes", [
        { title: "class", value: (r) => r.class_name, filter: true },
        { title: "objects", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
      ], report.object_counts_by_class, { placeholder: "filter by class" })],
    ["references", "High reference counts",
      table("references", [locationColumn, countColumn("references")], report.high_ref_counts)],
    ["strings", "Duplicate strings",
      table("duplicates", [
        { title: "string", value: (r) => r.value, cell: (r) => h("code", {}, r.value), filter: true },
        { title: "copies", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
        { title: "allocated at", value: (r) => r.locations.map((l) => l.location).join(" "), cell: (r) => r.locations.slice(0, 3).map((l) => h("div", {}, `${count(l.value)} × `, filePath(l.location))), filter: true },
      ], report.duplicate_strings, { placeholder: "filter by value or path" })],
  ];
  return [
    h("h1", {}, g === "all" ? "All generations" : `Generation ${g}`),
    h("p", { class: "hint" }, "Click a column to sort; type to filter rows by path or gem."),
    sections.map(([id, title, content]) => h("section", { id: "section-" + id }, h("h2", {}, title), content)),
  ];
}

// An object as the lists of objects show it: link, site, what it retains.
function objectItem(d, row) {
  return h("li", {},
    objectLink(d, row),
    row.location ? h("span", { class: "site" }, " ", filePath(row.location)) : null,
    h("span", { class: "size" }, " retains ", size(row.retained_bytes)));
}

function rowList(d, rows, total) {
  const more = total > rows.length ? h("li", { class: "hint" }, `… and ${count(total - rows.length)} more`) : null;
  return h("ul", { class: "objects" }, rows.map((row) => objectItem(d, row)), more);
}

async function objectPage(d, address) {
  const [details, path] = await Promise.all([
    api(`dumps/${d}/objects/${address}`),
    api(`dumps/${d}/objects/${address}/path`).catch((error) => ({ error: error.message })),
  ]);
  const object = details.object;
  const hops = path.error
    ? h("p", { class: "hint" }, path.error)
    : h("ol", { class: "path" }, h("li", { class: "root" }, `root: ${path.root}`), path.hops.map((hop) => objectItem(d, hop)));
  return [
    h("h1", {}, object.description),
    h("dl", { class: "facts" },
      h("dt", {}, "address"), h("dd", {}, object.address),
      h("dt", {}, "type"), h("dd", {}, object.type),
      h("dt", {}, "own size"), h("dd", {}, size(object.own_bytes)),
      h("dt", {}, "retains"), h("dd", {}, size(object.retained_bytes), ` in ${objects(object.retained_count)} `, dumpLink(d, `tree/${object.address}`, "(dominator tree below)")),
      h("dt", {}, "allocated at"), h("dd", {}, object.location ? filePath(object.location) : "not traced"),
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
  // As many children as the API gives by default (DominatorQuery::DEFAULT_TOP).
  const query = address ? `?of=${address}` : "";
  const node = await api(`dumps/${d}/dominators${query}`);
  const whole = node.parent ? node.parent.retained_bytes : node.total_bytes;
  const bars = node.children.map((child) => {
    const width = Math.max(0.5, (100 * child.retained_bytes) / Math.max(1, whole));
    return h("div", { class: "icicle-row" },
      h("a", { class: "icicle-bar", href: `#/d/${d}/tree/${child.address}`, style: { width: `${width}%` }, title: `${child.description}: ${bytes(child.retained_bytes)}` }),
      h("span", { class: "icicle-label" }, objectLink(d, child), " ", size(child.retained_bytes), ` in ${objects(child.retained_count)}`,
        child.location ? h("span", { class: "site" }, " ", filePath(child.location)) : null));
  });
  const hidden = node.child_count - node.children.length;
  return [
    h("h1", {}, "Dominator tree"),
    h("p", { class: "hint" }, "Each object retains what only it keeps alive. Click a bar to go down; the width is its share of the object above."),
    h("p", { class: "crumbs" }, dumpLink(d, "tree", "GC roots"), node.parent ? [" › ", objectLink(d, node.parent), " (", size(node.parent.retained_bytes), ")"] : null),
    h("div", { class: "icicle" }, bars),
    node.children.length === 0 ? h("p", { class: "hint" }, "It keeps nothing else alive on its own.") : null,
    hidden > 0 ? h("p", { class: "hint" }, `… and ${count(hidden)} smaller ones`) : null,
  ];
}

// "3,570 → 7,035 → 10,500", wrapping only before an arrow.
function progression(counts) {
  return counts.map((n, i) => [i === 0 ? null : " ", h("span", { class: "step" }, i === 0 ? "" : "→ ", count(n))]);
}

async function trendPage(by) {
  const report = await api(`trend?by=${by}&top=100`);
  const name = (r) => (by === "class" ? r.class_name || NO_CLASS : r.location || NOT_TRACED);
  return [
    h("h1", {}, `Growth across ${report.dumps.length} dumps`),
    h("p", { class: "hint" }, `${report.steady_groups} of ${report.groups} groups rose in every dump (steady). `,
      by === "class" ? h("a", { href: "#/trend/location" }, "by allocation site") : h("a", { href: "#/trend/class" }, "by class")),
    table("trend", [
      { title: "growth", value: (r) => r.growth_bytes, cell: (r) => size(r.growth_bytes), numeric: true },
      { title: "steady", value: (r) => (r.steady ? 1 : 0), cell: (r) => (r.steady ? "steady" : ""), numeric: true },
      { title: "type", value: (r) => r.type },
      { title: by === "class" ? "class" : "location", value: name, cell: (r) => (by === "class" || !r.location ? name(r) : filePath(r.location)), filter: true },
      { title: "objects per dump", value: (r) => r.counts[r.counts.length - 1], cell: (r) => progression(r.counts) },
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
  }, optional ? h("option", { value: "" }, "(none)") : null, dumps.map((dump) => h("option", { value: dump.id, title: dump.name, selected: String(dump.id) === value ? "" : null }, dump.label))));
  const report = await api(`diff?before=${before}&after=${after}${retained !== "" ? "&retained=" + retained : ""}`);
  const site = (r) => (r.file ? `${r.file}:${r.line ?? ""}` : NOT_TRACED);
  return [
    h("h1", {}, report.retained ? "Allocated between two dumps and still alive" : "Allocated between two dumps"),
    h("p", {}, choose("before", "before", before), " ", choose("after", "after", after), " ", choose("retained in", "retained", retained, true)),
    h("p", { class: "hint" }, size(report.total_bytes), ` in ${objects(report.groups.reduce((n, g) => n + g.count, 0))}`),
    table("diff", [
      { title: "type", value: (r) => r.type },
      { title: "objects", value: (r) => r.count, cell: (r) => count(r.count), numeric: true },
      { title: "memory", value: (r) => r.bytes, cell: (r) => size(r.bytes), numeric: true },
      { title: "location", value: site, cell: (r) => (r.file ? filePath(site(r)) : NOT_TRACED), filter: true },
    ], report.groups),
  ];
}

// The front page: the leak suspects of the loaded dumps, as
// `heapsift suspects` gives them (the last dump's collections, measured in
// every dump, growing ones first).
async function suspectsPage() {
  const report = await api("suspects");
  const last = dumps.length - 1;
  const tracing = report.tracing
    ? [" Tracing allocations takes ", size(report.tracing.bytes), ` (${share(report.tracing.bytes, report.reachable.bytes)}), set apart below.`]
    : null;
  const excluded = report.excluded.map((e) =>
    h("li", {}, objectLink(last, e), " ", size(e.retained_bytes), `: ${e.reason}`));
  return [
    h("h1", {}, dumps.length > 1 ? `Leak suspects in ${count(dumps.length)} dumps` : "Leak suspects"),
    h("p", { class: "hint" }, "Reachable heap of the last dump: ", size(report.reachable.bytes), ` in ${objects(report.reachable.objects)}.`, tracing),
    report.suspects.length === 0 ? h("p", {}, "No collection holds a noticeable share of the heap.") : null,
    h("ol", { id: "suspects", class: "suspects" }, report.suspects.map((suspect) => suspectItem(last, suspect, report.reachable.bytes))),
    excluded.length ? [h("h2", {}, "Set apart: not the app's data"), h("ul", { class: "objects" }, excluded)] : null,
  ];
}

function suspectItem(d, suspect, reachable) {
  const verdict = suspect.growing === null ? null
    : h("span", { class: suspect.growing ? "growing" : "stable" }, suspect.growing ? "growing" : "stable");
  return h("li", { class: "suspect" },
    h("h2", {}, `#${suspect.rank} `, verdict, " ", objectLink(d, suspect.accumulation_point), " ",
      size(suspect.retained_bytes), ` (${share(suspect.retained_bytes, reachable)})`),
    suspect.retained_bytes_per_dump ? perDump(suspect.retained_bytes_per_dump) : null,
    h("p", { class: "summary" }, prose(suspect.summary)),
    h("p", {}, dumpLink(d, `tree/${suspect.address}`, "what it retains"), " · ",
      dumpLink(d, `obj/${suspect.address}`, "its object page")),
    h("ol", { class: "path" }, h("li", { class: "root" }, `root: ${suspect.root}`), suspect.path.map((hop) => objectItem(d, hop))));
}

// Text whose file paths break only after a slash, as in the tables.
function prose(text) {
  return text.split(/( )/).map((word) => (word.includes("/") ? filePath(word) : word));
}

// A small bar chart of a suspect's retained size in each dump.
function perDump(values) {
  const width = 24, gap = 6, height = 40;
  const top = Math.max(1, ...values);
  const bars = values.map((value, i) => {
    const tall = Math.max(1, (height * value) / top);
    return svg("rect", { class: "bar", x: i * (width + gap), y: height - tall, width, height: tall },
      svg("title", {}, `dump ${i + 1}: ${bytes(value)}`));
  });
  return svg("svg", { class: "per-dump", width: values.length * (width + gap), height, role: "img",
    "aria-label": "retained size per dump" }, bars);
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
  const front = parts.length === 0 || parts[0] === "suspects";
  setNav(front ? "suspects" : parts[0] === "d" ? d : -1);
  fill(main, h("p", { class: "loading" }, "Loading…"));
  try {
    if (!dumps[d]) throw new Error(`No such dump: #/${path}`);
    let content;
    if (front) content = await suspectsPage();
    else if (rest[0] === "trend") content = await trendPage(rest[1] || "location");
    else if (rest[0] === "diff") content = await diffPage(query || "");
    else if (rest[0] === "gen") content = await generation(d, rest[1] || "all");
    else if (rest[0] === "obj") content = await objectPage(d, rest[1]);
    else if (rest[0] === "tree") content = await tree(d, rest[1]);
    else if (rest[0] === "retained") content = await retainedPage(d, rest[1] || "object");
    else content = await overview(d);
    if (current !== navigation) return;
    fill(main, content);
  } catch (error) {
    if (current !== navigation) return;
    fill(main, h("p", { class: "error" }, error.message));
  }
  main.setAttribute("data-ready", hash);
}

async function start() {
  const listed = await api("dumps");
  const labels = shortNames(listed.map((dump) => dump.name));
  dumps = listed.map((dump, i) => ({ ...dump, label: labels[i] }));
  window.addEventListener("hashchange", route);
  await route();
}

start().catch((error) => {
  fill(document.getElementById("main"), h("p", { class: "error" }, error.message));
});
