// The explorer page: draws the graph in #graph-data (written by tinygrad_cnn/explorer/data.py)
// with layout.js, and wires the controls. The page is drawn from a small view state:
// which modules are open, the colour mode, the search text, the selected element, the
// backward step and the zoom. Every change re-derives the drawing from that state.
//
// Vocabulary: an element is an op ("o3") or a tensor without a producer ("t0": an input, a
// parameter, a constant). Each op stands for itself and its output tensor. A unit is what is
// drawn as one box: an element, or a closed module ("m2") standing for everything inside it.
// An open module is drawn as a frame around its units, laid out as one node of its parent.
"use strict";

const SIZE = { opHeight: 34, moduleHeight: 40, tensorHeight: 30, pad: 12, label: 24, minWidth: 64 };
const MARGIN = 24;
const READABLE_SCALE = 0.7; // the first view is never smaller: node text stays legible
const MAX_FIT_SCALE = 1.6;
const KIND_COLOURS = {
  elementwise: "#cdeffa",
  activation: "#e4f5c4",
  reduce: "#ffdcae",
  linalg: "#f6c2c4",
  movement: "#e3e3e3",
  window: "#ddd0f4",
  custom: "#fff1a8",
  module: "#f3dcb0",
  input: "#b9cdfb",
  leaf: "#b9cdfb",
  parameter: "#a9e3b8",
  constant: "#ffffff",
};
const HEAT = [
  "#ffffcc",
  "#ffeda0",
  "#fed976",
  "#feb24c",
  "#fd8d3c",
  "#fc4e2a",
  "#e31a1c",
  "#bd0026",
  "#800026",
];
const NONE_COLOUR = "#f2f2f2";
const ZERO_COLOUR = "#8fb8de";
const MODES = {
  kind: { title: "op kind" },
  forward: { title: "forward time", unit: "s", profiled: true },
  backward: { title: "backward time", unit: "s", profiled: true },
  memory: { title: "output memory", unit: "B" },
  grad: { title: "gradient norm", unit: "" },
};
const SVG_NS = "http://www.w3.org/2000/svg";

const data = JSON.parse(document.getElementById("graph-data").textContent);
const ops = new Map(data.ops.map((o) => [o.id, o]));
const tensors = new Map(data.tensors.map((t) => [t.id, t]));
const modules = new Map(data.modules.map((m) => [m.id, m]));
const consumers = new Map(data.tensors.map((t) => [t.id, []]));
for (const o of data.ops) for (const t of o.inputs) consumers.get(t).push(o.id);
const leaves = data.tensors.filter((t) => t.producer === null);
const home = new Map(); // element -> the innermost module it belongs to (null: none)
for (const o of data.ops) home.set(o.id, o.module);
for (const t of leaves) home.set(t.id, t.module ?? constantHome(t));
const moduleOps = new Map(data.modules.map((m) => [m.id, []])); // every op inside, nested too
for (const o of data.ops) for (const m of ancestors(o.module)) moduleOps.get(m).push(o.id);
const moduleOutputs = new Map(data.modules.map((m) => [m.id, outputsOf(m.id)]));
const stepIndex = new Map(data.backward_order.map((id, k) => [id, k]));

const view = {
  open: new Set(
    data.modules.filter((m) => m.parent === null && m.children.length).map((m) => m.id),
  ),
  mode: "kind",
  search: "",
  selected: null,
  step: -1,
  zoom: { s: 1, tx: 0, ty: 0 },
  placed: null,
};

// ---- structure ------------------------------------------------------------------------------

// A one-element constant used only inside one module belongs to it (as draw_graph does).
function constantHome(t) {
  const users = consumers.get(t.id);
  if (t.kind !== "constant" || !users.length) return null;
  const chains = users.map((o) => ancestors(ops.get(o).module));
  let common = chains[0];
  for (const chain of chains) common = common.filter((m, k) => chain[k] === m);
  return common.length ? common[common.length - 1] : null;
}

function ancestors(moduleId) {
  const chain = [];
  for (let m = moduleId; m !== null && m !== undefined; m = modules.get(m).parent) chain.unshift(m);
  return chain;
}

// Tensors made inside the module and used outside it (or the graph's outputs).
function outputsOf(moduleId) {
  const inside = new Set(moduleOps.get(moduleId));
  return data.ops
    .filter((o) => inside.has(o.id))
    .map((o) => o.output)
    .filter((t) => data.outputs.includes(t) || consumers.get(t).some((c) => !inside.has(c)));
}

function unitOf(element) {
  for (const m of ancestors(home.get(element))) if (!view.open.has(m)) return m;
  return element;
}

function containerOf(item) {
  return modules.has(item) ? modules.get(item).parent : home.get(item);
}

// The units drawn now, the open modules framing them, and the edges between units.
function currentView() {
  const units = new Set([...data.ops.map((o) => unitOf(o.id)), ...leaves.map((t) => unitOf(t.id))]);
  const edges = new Map();
  for (const o of data.ops) {
    const dst = unitOf(o.id);
    for (const t of o.inputs) {
      const src = unitOf(tensors.get(t).producer ?? t);
      if (src === dst) continue;
      const key = src + ">" + dst;
      if (!edges.has(key)) edges.set(key, { src, dst, tensors: [] });
      if (!edges.get(key).tensors.includes(t)) edges.get(key).tensors.push(t);
    }
  }
  const frames = new Set();
  for (const u of units)
    for (let c = containerOf(u); c !== null && c !== undefined; c = containerOf(c)) frames.add(c);
  return { units, frames, edges: [...edges.values()] };
}

// ---- layout ---------------------------------------------------------------------------------

const measure = document.createElement("canvas").getContext("2d");
function textWidth(text, size) {
  measure.font = `${size}px system-ui, sans-serif`;
  return measure.measureText(text).width;
}

function shapeText(shape) {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function modulePath(m) {
  return m.path === "" ? "(root)" : m.path;
}

function unitLabel(id) {
  if (modules.has(id)) {
    const m = modules.get(id);
    const out = moduleOutputs.get(id).map((t) => shapeText(tensors.get(t).shape));
    const count = moduleOps.get(id).length;
    return [
      `${modulePath(m)} · ${m.type} ⊞`,
      `${count} op${count === 1 ? "" : "s"}${out.length ? " → " + out.join(" ") : ""}`,
    ];
  }
  if (ops.has(id)) return [ops.get(id).op, shapeText(tensors.get(ops.get(id).output).shape)];
  const t = tensors.get(id);
  if (t.kind === "constant" && t.value) return [formatNumber(t.value.min), "constant"];
  return [t.name || t.kind, shapeText(t.shape)];
}

function frameLabel(id) {
  const m = modules.get(id);
  return `${modulePath(m)}: ${m.repr}  ⊟`;
}

function unitSize(id) {
  const [top, bottom] = unitLabel(id);
  const width = Math.max(SIZE.minWidth, textWidth(top, 12) + 20, textWidth(bottom, 10) + 20);
  const height = modules.has(id)
    ? SIZE.moduleHeight
    : ops.has(id)
      ? SIZE.opHeight
      : SIZE.tensorHeight;
  return { width: Math.ceil(width), height };
}

// Lays out each open module's contents as a graph of its own, innermost first; an edge joins
// the two items it connects at the level of their innermost common frame.
function layoutView(v) {
  const items = new Map(); // container (null: top) -> item ids
  const add = (container, item) => {
    if (!items.has(container)) items.set(container, []);
    items.get(container).push(item);
  };
  for (const u of v.units) add(containerOf(u) ?? null, u);
  for (const f of v.frames) add(modules.get(f).parent, f);
  const lift = (item, container) => {
    for (let c = containerOf(item) ?? null; ; item = c, c = containerOf(c) ?? null) {
      if (c === container) return item;
      if (c === null) return null;
    }
  };
  const sizes = new Map();
  const layouts = new Map();
  const solve = (container) => {
    const ids = (items.get(container) || []).slice().sort((a, b) => firstOp(a) - firstOp(b));
    for (const id of ids) if (v.frames.has(id)) solve(id);
    for (const id of ids) if (!v.frames.has(id)) sizes.set(id, unitSize(id));
    const edges = [];
    for (const e of v.edges) {
      const [src, dst] = [lift(e.src, container), lift(e.dst, container)];
      if (src !== null && dst !== null && src !== dst) edges.push({ src, dst });
    }
    const placed = layeredLayout(
      ids.map((id) => ({ id, ...sizes.get(id) })),
      edges,
    );
    layouts.set(container, placed);
    if (container !== null) {
      const labelWidth = textWidth(frameLabel(container), 11) + 2 * SIZE.pad;
      sizes.set(container, {
        width: Math.ceil(Math.max(placed.width + 2 * SIZE.pad, labelWidth)),
        height: Math.ceil(placed.height + SIZE.label + SIZE.pad),
      });
    }
  };
  solve(null);
  const boxes = new Map(); // item -> {x, y, width, height}: absolute top left corner
  const edgePoints = new Map(); // "src>dst" at the level where the edge is laid out -> points
  const place = (container, left, top) => {
    const placed = layouts.get(container);
    for (const [id, p] of placed.nodes) {
      const size = sizes.get(id);
      const box = { x: left + p.x - size.width / 2, y: top + p.y - size.height / 2, ...size };
      boxes.set(id, box);
      if (v.frames.has(id)) {
        const inner = layouts.get(id);
        place(id, box.x + (box.width - inner.width) / 2, box.y + SIZE.label);
      }
    }
    for (const e of placed.edges) {
      edgePoints.set(
        e.src + ">" + e.dst,
        e.points.map(([x, y]) => [x + left, y + top]),
      );
    }
  };
  const top = layouts.get(null);
  place(null, 0, 0);
  return { boxes, edgePoints, lift, width: top.width, height: top.height };
}

// Items are offered to the layout in forward order: a unit or frame by its first op.
function firstOp(item) {
  const list = modules.has(item)
    ? moduleOps.get(item)
    : ops.has(item)
      ? [item]
      : consumers.get(item);
  return list.length
    ? extreme(list, (o) => Number(o.slice(1)), Math.min) - 0.5 * !ops.has(item)
    : 0;
}

// ---- drawing --------------------------------------------------------------------------------

function el(tag, attrs, parent, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, value] of Object.entries(attrs)) node.setAttribute(k, value);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function render(anchor) {
  const before = anchor && view.placed && view.placed.boxes.get(anchor);
  const v = currentView();
  const placed = layoutView(v);
  view.placed = { ...placed, view: v };
  const root = document.getElementById("viewport");
  root.replaceChildren();
  const frameLayer = el("g", { class: "frames" }, root);
  const edgeLayer = el("g", { class: "edges" }, root);
  const nodeLayer = el("g", { class: "nodes" }, root);
  const byDepth = [...v.frames].sort((a, b) => ancestors(a).length - ancestors(b).length);
  for (const f of byDepth) drawFrame(frameLayer, f, placed.boxes.get(f));
  for (const e of v.edges) drawEdge(edgeLayer, e, placed);
  // in reading order, top to bottom, so the document lists boxes as the eye meets them
  const reading = [...v.units].map((u) => [u, placed.boxes.get(u)]);
  reading.sort(([, a], [, b]) => a.y + a.height / 2 - (b.y + b.height / 2) || a.x - b.x);
  for (const [u, box] of reading) drawUnit(nodeLayer, u, box);
  if (before) {
    // the clicked module keeps its place on screen as the graph around it changes
    const after = placed.boxes.get(anchor);
    view.zoom.tx += (before.x - after.x) * view.zoom.s;
    view.zoom.ty += (before.y - after.y) * view.zoom.s;
    applyZoom();
  }
  applyColours();
  applySearch();
  applyStep();
  applySelection();
  document.getElementById("counts").textContent =
    `${v.units.size} boxes · ${v.frames.size} open modules · ${data.ops.length} ops in all`;
}

function drawFrame(layer, id, box) {
  const m = modules.get(id);
  const g = el(
    "g",
    { class: "frame", id: `frame-${id}`, "data-id": id, "data-path": m.path },
    layer,
  );
  el("rect", { x: box.x, y: box.y, width: box.width, height: box.height, rx: 8 }, g);
  const title = el("g", { class: "frame-title", "data-id": id }, g);
  el("rect", { x: box.x, y: box.y, width: box.width, height: SIZE.label - 4, rx: 8 }, title);
  el("text", { x: box.x + SIZE.pad, y: box.y + 14 }, title, frameLabel(id));
  el("title", {}, title, `${modulePath(m)}: ${m.repr}\nclick to close`);
  title.addEventListener("click", (event) => {
    event.stopPropagation();
    view.open.delete(id);
    view.selected = id;
    render(id);
  });
}

function drawUnit(layer, id, box) {
  const kind = modules.has(id) ? "module" : ops.has(id) ? "op" : "tensor";
  const attrs = { class: `node ${kind}`, id: `node-${id}`, "data-id": id, "data-kind": kind };
  attrs.transform = `translate(${box.x},${box.y})`;
  if (kind === "module") attrs["data-path"] = modules.get(id).path;
  if (kind === "op") {
    attrs["data-op"] = ops.get(id).op;
    attrs["data-path"] = ops.get(id).module === null ? "" : modules.get(ops.get(id).module).path;
  }
  if (kind === "op" && data.outputs.includes(ops.get(id).output)) attrs.class += " output";
  if (kind === "module" && moduleOutputs.get(id).some((t) => data.outputs.includes(t)))
    attrs.class += " output";
  const g = el("g", attrs, layer);
  if (kind === "module")
    el("rect", { class: "shadow", x: 4, y: 4, width: box.width, height: box.height, rx: 4 }, g);
  el("rect", { class: "body", width: box.width, height: box.height, rx: kind === "op" ? 8 : 4 }, g);
  const [top, bottom] = unitLabel(id);
  el("text", { class: "l1", x: box.width / 2, y: box.height / 2 - 2 }, g, top);
  el("text", { class: "l2", x: box.width / 2, y: box.height / 2 + 11 }, g, bottom);
  el("title", {}, g, tooltip(id));
  g.addEventListener("click", (event) => {
    event.stopPropagation();
    if (view.dragged) return;
    view.selected = id;
    if (kind === "module") {
      view.open.add(id);
      render(id);
    } else {
      applySelection();
    }
  });
}

function tooltip(id) {
  if (modules.has(id))
    return `${modulePath(modules.get(id))}: ${modules.get(id).repr}\nclick to open`;
  const [top, bottom] = unitLabel(id);
  return `${top} ${bottom}\nmodule ${homeName(id)}`;
}

// A spline through the edge's dummies, leaving the source's bottom and entering the target's
// top (the other way round for an edge that closes a cycle and so points up); where an end sits
// inside an open module, the edge first crosses that frame's border.
function drawEdge(layer, e, placed) {
  const [s, d] = [placed.boxes.get(e.src), placed.boxes.get(e.dst)];
  let common = null;
  for (const c of [null, ...ancestors(containerOf(e.src))].reverse()) {
    if (placed.lift(e.dst, c) !== null && placed.lift(e.src, c) !== null) {
      common = c;
      break;
    }
  }
  const [ls, ld] = [placed.lift(e.src, common), placed.lift(e.dst, common)];
  const up = d.y + d.height <= s.y;
  const bottom = (box) => box.y + box.height;
  const [leave, enter] = up ? [(b) => b.y, bottom] : [bottom, (b) => b.y];
  const shift = up ? 10 : 0; // beside the edge that runs down between the same two boxes
  const [sx, dx] = [s.x + s.width / 2 + shift, d.x + d.width / 2 + shift];
  const points = [[sx, leave(s)]];
  if (ls !== e.src) points.push([sx, leave(placed.boxes.get(ls))]);
  points.push(...(placed.edgePoints.get(ls + ">" + ld) || []));
  if (ld !== e.dst) points.push([dx, enter(placed.boxes.get(ld))]);
  points.push([dx, enter(d)]);
  let path = `M${points[0][0]},${points[0][1]}`;
  for (let k = 1; k < points.length; k++) {
    const [[x0, y0], [x1, y1]] = [points[k - 1], points[k]];
    const bend = Math.max(12, Math.abs(y1 - y0) / 2) * (up ? -1 : 1);
    path += ` C${x0},${y0 + bend} ${x1},${y1 - bend} ${x1},${y1}`;
  }
  const attrs = { class: "edge", d: path, "data-src": e.src, "data-dst": e.dst };
  const g = el("path", { ...attrs, "marker-end": "url(#arrow)" }, layer);
  const carried = e.tensors.map(
    (t) => `${shapeText(tensors.get(t).shape)} ${tensors.get(t).dtype}`,
  );
  el("title", {}, g, carried.join("\n"));
}

// ---- colour modes ---------------------------------------------------------------------------

function sum(values) {
  const known = values.filter((x) => x !== null && x !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) : null;
}

function gradNorm(tensorId) {
  const g = tensors.get(tensorId).grad;
  return g && g.norm !== undefined ? g.norm : null;
}

function unitValue(id, mode) {
  if (modules.has(id)) {
    const inside = moduleOps.get(id).map((o) => ops.get(o));
    if (mode === "forward") return sum(inside.map((o) => o.forward_s));
    if (mode === "backward") return sum(inside.map((o) => o.backward_s));
    if (mode === "memory") return sum(inside.map((o) => tensors.get(o.output).bytes));
    const norms = moduleOutputs.get(id).map(gradNorm);
    return norms.some((n) => n === null) ? null : Math.sqrt(sum(norms.map((n) => n * n)));
  }
  const o = ops.get(id);
  if (mode === "forward") return o ? o.forward_s : null;
  if (mode === "backward") return o ? o.backward_s : null;
  if (mode === "memory") return tensors.get(o ? o.output : id).bytes;
  return gradNorm(o ? o.output : id);
}

function unitKind(id) {
  if (modules.has(id)) return "module";
  return ops.has(id) ? ops.get(id).kind : tensors.get(id).kind;
}

function heat(fraction) {
  const x = Math.min(1, Math.max(0, fraction)) * (HEAT.length - 1);
  const k = Math.min(HEAT.length - 2, Math.floor(x));
  const [a, b] = [HEAT[k], HEAT[k + 1]].map((c) =>
    [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)),
  );
  const mix = a.map((v, i) => Math.round(v + (b[i] - v) * (x - k)));
  return `rgb(${mix.join(",")})`;
}

// Fills for the visible units, and the legend's content; heat maps are on a log scale.
function colours() {
  const units = [...view.placed.view.units];
  const mode = MODES[view.mode];
  if (view.mode === "kind") {
    const fills = new Map(units.map((u) => [u, KIND_COLOURS[unitKind(u)] || KIND_COLOURS.custom]));
    const kinds = [...new Set(units.map(unitKind))].sort();
    return {
      fills,
      legend: { swatches: kinds.map((k) => [KIND_COLOURS[k] || KIND_COLOURS.custom, k]) },
    };
  }
  if (mode.profiled && !data.profiled) {
    return {
      fills: new Map(units.map((u) => [u, NONE_COLOUR])),
      legend: {
        note:
          "no profile: run the step inside `with tc.profile() as prof:` and pass " +
          "profile=prof to tc.explore",
      },
    };
  }
  const values = new Map(units.map((u) => [u, unitValue(u, view.mode)]));
  const logs = [...values.values()].filter((x) => x !== null && x > 0).map(Math.log10);
  const itself = (x) => x;
  const [lo, hi] = logs.length
    ? [extreme(logs, itself, Math.min), extreme(logs, itself, Math.max)]
    : [0, 0];
  const fills = new Map();
  for (const [u, x] of values) {
    fills.set(
      u,
      x === null
        ? NONE_COLOUR
        : x <= 0
          ? ZERO_COLOUR
          : heat(hi > lo ? (Math.log10(x) - lo) / (hi - lo) : 0.5),
    );
  }
  const swatches = [[NONE_COLOUR, "none"]];
  if ([...values.values()].some((x) => x !== null && x <= 0)) swatches.push([ZERO_COLOUR, "zero"]);
  return {
    fills,
    legend: {
      bar: logs.length
        ? [formatValue(10 ** lo, mode.unit), formatValue(10 ** hi, mode.unit)]
        : null,
      swatches,
    },
  };
}

function applyColours() {
  const { fills, legend } = colours();
  for (const [u, fill] of fills) {
    const body = document.querySelector(`#node-${u} rect.body`);
    body.setAttribute("fill", fill);
    const dark =
      /^rgb/.test(fill) &&
      fill
        .match(/\d+/g)
        .slice(0, 3)
        .reduce((a, b) => a + Number(b), 0) < 330;
    document.getElementById(`node-${u}`).classList.toggle("dark", dark);
  }
  drawLegend(legend);
}

function drawLegend(legend) {
  const box = document.getElementById("legend");
  box.replaceChildren();
  const title = document.createElement("div");
  title.className = "legend-title";
  title.textContent = MODES[view.mode].title + (legend.bar ? " (log scale)" : "");
  box.appendChild(title);
  if (legend.note) {
    const note = document.createElement("div");
    note.className = "legend-note";
    note.textContent = legend.note;
    box.appendChild(note);
  }
  if (legend.bar) {
    const row = document.createElement("div");
    row.className = "legend-bar";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.background = `linear-gradient(to right, ${HEAT.join(",")})`;
    const [lo, hi] = legend.bar.map((text) =>
      Object.assign(document.createElement("span"), { textContent: text }),
    );
    row.append(lo, bar, hi);
    box.appendChild(row);
  }
  for (const [colour, name] of legend.swatches || []) {
    const item = document.createElement("span");
    item.className = "swatch";
    const chip = document.createElement("i");
    chip.style.background = colour;
    item.append(chip, name);
    box.appendChild(item);
  }
}

function formatValue(x, unit) {
  if (x === null || x === undefined) return "–";
  if (unit === "s")
    return x >= 1
      ? `${x.toPrecision(3)} s`
      : x >= 1e-3
        ? `${(x * 1e3).toPrecision(3)} ms`
        : `${(x * 1e6).toPrecision(3)} µs`;
  if (unit === "B")
    return x >= 2 ** 20
      ? `${(x / 2 ** 20).toFixed(1)} MiB`
      : x >= 1024
        ? `${(x / 1024).toFixed(1)} KiB`
        : `${x} B`;
  return formatNumber(x);
}

function formatNumber(x) {
  if (x === null || x === undefined) return "–";
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0)
    ? x.toExponential(3)
    : x.toPrecision(4);
}

// ---- search ---------------------------------------------------------------------------------

function matches(element, query) {
  const m = home.get(element);
  const path = m === null || m === undefined ? "" : modules.get(m).path;
  const name = ops.has(element) ? ops.get(element).op : tensors.get(element).name;
  return name.toLowerCase().includes(query) || path.toLowerCase().includes(query);
}

function applySearch() {
  const query = view.search.trim().toLowerCase();
  const found = new Set();
  if (query) {
    for (const id of [...ops.keys(), ...leaves.map((t) => t.id)])
      if (matches(id, query)) found.add(id);
  }
  const lit = new Set([...found].map(unitOf));
  for (const u of view.placed.view.units) {
    const node = document.getElementById(`node-${u}`);
    node.classList.toggle("match", lit.has(u));
    node.classList.toggle("dim", query !== "" && !lit.has(u));
  }
  document.getElementById("search-count").textContent = query
    ? `${found.size} found in ${lit.size} box${lit.size === 1 ? "" : "es"}`
    : "";
}

// ---- node panel -----------------------------------------------------------------------------

function esc(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
  return String(text).replace(/[&<>"]/g, (c) => entities[c]);
}

// The module path an element belongs to, "(none)" outside modules.
function homeName(element) {
  const m = home.get(element);
  return m === null || m === undefined ? "(none)" : modulePath(modules.get(m));
}

function table(rows, attrs = "") {
  const body = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("");
  return `<table ${attrs}>${body}</table>`;
}

// One array as a list item: shape (class "shape", for the tests), dtype, then a note.
function arrayItem(shape, dtype, note) {
  return `<li><code class="shape">${shapeText(shape)}</code> ${dtype} ${note}</li>`;
}

function tensorItem(id) {
  const t = tensors.get(id);
  return arrayItem(t.shape, t.dtype, `<span class="muted">${t.kind} ${esc(t.name)}</span>`);
}

function histogram(stats) {
  if (!stats.hist) return "";
  const [w, h] = [200, 44];
  const top = Math.max(...stats.hist);
  const step = w / stats.hist.length;
  const bars = stats.hist.map((count, k) => {
    const height = top ? (count / top) * (h - 2) : 0;
    const [x, y] = [k * step, h - height].map((v) => v.toFixed(1));
    const size = `width="${(step - 1).toFixed(1)}" height="${height.toFixed(1)}"`;
    return `<rect x="${x}" y="${y}" ${size}><title>${count}</title></rect>`;
  });
  const [lo, hi] = stats.hist_range.map((v) => esc(formatNumber(v)));
  const axis =
    `<text x="0" y="${h + 11}">${lo}</text>` +
    `<text x="${w}" y="${h + 11}" text-anchor="end">${hi}</text>`;
  return `<svg class="hist" width="${w}" height="${h + 12}">${bars.join("")}${axis}</svg>`;
}

// A value's or a gradient's statistics: a table and a histogram.
function statsBlock(title, stats, kind) {
  if (!stats) {
    const why =
      kind === "value"
        ? "released by backward, or empty"
        : data.released
          ? "no .grad: only leaves keep one once backward has released the graph"
          : "no gradient reaches it";
    return `<h3>${title}</h3><p class="muted">${why}</p>`;
  }
  const rows = ["min", "max", "mean", "std", "norm"].map((k) => [k, formatNumber(stats[k])]);
  rows.push(
    ["zeros", `${(stats.zeros * 100).toFixed(1)}%`],
    ["NaN", stats.nan],
    ["Inf", stats.inf],
  );
  const attrs = `class="stats ${kind}" data-stats="${kind}"`;
  return `<h3>${title}</h3>${table(rows, attrs)}${histogram(stats)}`;
}

function valueAndGradient(t) {
  // after a backward that released the graph, what is left is the .grad that backward filled
  const gradient = data.released ? ".grad left by backward" : "gradient";
  return statsBlock("value", t.value, "value") + statsBlock(gradient, t.grad, "grad");
}

function opPanel(o) {
  const out = tensors.get(o.output);
  const stepped = stepIndex.has(o.id);
  const step = stepped
    ? `backward step ${stepIndex.get(o.id) + 1} of ${data.backward_order.length}`
    : "no backward step";
  const backward = stepped ? formatValue(o.backward_s, "s") : "none";
  const times = `forward ${formatValue(o.forward_s, "s")} · backward ${backward}`;
  const attrs = Object.entries(o.attrs);
  const saved = o.saved.map((a) => arrayItem(a.shape, a.dtype, formatValue(a.bytes, "B")));
  return `<h2>${esc(o.op)} <span class="muted">${o.id} · ${o.kind}</span></h2>
    <p>module <b class="module-path">${esc(homeName(o.id))}</b> · ${step}</p>
    ${data.profiled ? `<p>${times}</p>` : ""}
    ${attrs.length ? table(attrs, 'class="attrs"') : ""}
    <h3>inputs</h3><ul class="inputs">${o.inputs.map(tensorItem).join("")}</ul>
    <h3>output</h3>
    <ul class="output">${arrayItem(out.shape, out.dtype, formatValue(out.bytes, "B"))}</ul>
    <h3>saved for backward: ${formatValue(o.saved_bytes, "B")}</h3>
    <ul>${saved.join("") || '<li class="muted">nothing held now</li>'}</ul>
    ${valueAndGradient(out)}`;
}

function tensorPanel(t) {
  const users = consumers.get(t.id).map((o) => esc(ops.get(o).op));
  return `<h2>${esc(t.name || t.kind)} <span class="muted">${t.id} · ${t.kind}</span></h2>
    <p>module <b class="module-path">${esc(homeName(t.id))}</b></p>
    <ul class="output">${arrayItem(t.shape, t.dtype, formatValue(t.bytes, "B"))}</ul>
    <p>used by ${users.join(", ")}</p>
    ${valueAndGradient(t)}`;
}

function modulePanel(m) {
  const counts = {};
  for (const o of moduleOps.get(m.id)) counts[ops.get(o).op] = (counts[ops.get(o).op] || 0) + 1;
  const list = Object.entries(counts).map(([op, n]) => `${esc(op)} ×${n}`);
  const totals = ["forward", "backward", "memory", "grad"].map((mode) => {
    const { title, unit } = MODES[mode];
    return [title, formatValue(unitValue(m.id, mode), unit)];
  });
  const outs = moduleOutputs.get(m.id);
  return `<h2>${esc(modulePath(m))} <span class="muted">${m.id} · ${esc(m.type)}</span></h2>
    <p><code>${esc(m.repr)}</code></p>
    <p>${moduleOps.get(m.id).length} ops: ${list.join(", ")}</p>
    ${table(totals, 'class="attrs"')}
    <h3>output</h3><ul class="output">${outs.map(tensorItem).join("")}</ul>
    ${outs.length === 1 ? valueAndGradient(tensors.get(outs[0])) : ""}`;
}

function applySelection() {
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
  const panel = document.getElementById("panel-body");
  const id = view.selected;
  if (id === null) {
    panel.innerHTML = '<p class="muted">Click a box to see its details.</p>';
    document.body.dataset.selected = "";
    return;
  }
  const node = document.getElementById(`node-${id}`);
  if (node) node.classList.add("selected");
  panel.innerHTML = modules.has(id)
    ? modulePanel(modules.get(id))
    : ops.has(id)
      ? opPanel(ops.get(id))
      : tensorPanel(tensors.get(id));
  document.body.dataset.selected = id;
}

// ---- backward stepper -----------------------------------------------------------------------

function applyStep() {
  document
    .querySelectorAll(".step-current, .step-done")
    .forEach((n) => n.classList.remove("step-current", "step-done"));
  document.querySelectorAll(".edge.grad-flow").forEach((n) => n.classList.remove("grad-flow"));
  document.querySelectorAll(".grad-badge").forEach((n) => n.remove());
  const status = document.getElementById("step-status");
  const order = data.backward_order;
  document.body.dataset.step = String(view.step);
  document.body.dataset.stepOp = view.step >= 0 && view.step < order.length ? order[view.step] : "";
  if (view.step < 0) {
    status.textContent = order.length
      ? `backward: ${order.length} steps (press n)`
      : "backward: no gradient flows";
    return;
  }
  if (view.step >= order.length) {
    status.textContent = "backward done: the leaves' .grad now hold the sums that reached them";
    return;
  }
  for (const id of order.slice(0, view.step))
    document.getElementById(`node-${unitOf(id)}`)?.classList.add("step-done");
  const o = ops.get(order[view.step]);
  const unit = unitOf(o.id);
  const node = document.getElementById(`node-${unit}`);
  node.classList.remove("step-done");
  node.classList.add("step-current");
  // the gradient arrives along the edges from the consumers of the op's output
  for (const u of consumers.get(o.output).map(unitOf)) {
    const edge = document.querySelector(`.edge[data-src="${unit}"][data-dst="${u}"]`);
    if (edge) edge.classList.add("grad-flow");
  }
  const box = view.placed.boxes.get(unit);
  showBox(box);
  const g = tensors.get(o.output).grad;
  const arriving = g
    ? `∇ ${shapeText(tensors.get(o.output).shape)} |g|=${formatNumber(g.norm)}`
    : "∇";
  const at = { class: "grad-badge", x: box.x + box.width + 6, y: box.y + box.height / 2 + 4 };
  el("text", at, document.getElementById("viewport"), arriving);
  const users = consumers.get(o.output).map((c) => ops.get(c).op);
  const source = users.length ? `from ${users.join(" + ")}` : "(the output: seeded with ones)";
  const where = o.module === null ? "" : ` in ${homeName(o.id)}`;
  const count = `${view.step + 1}/${order.length}`;
  status.textContent = `backward step ${count}: ${o.op}${where} receives ${arriving} ${source}`;
}

function step(delta) {
  const n = data.backward_order.length;
  view.step = Math.max(-1, Math.min(n, view.step + delta));
  if (view.step >= 0 && view.step < n) view.selected = data.backward_order[view.step];
  applyStep();
  applySelection();
}

// ---- zoom and pan ---------------------------------------------------------------------------

function applyZoom() {
  const { s, tx, ty } = view.zoom;
  document
    .getElementById("viewport")
    .setAttribute("transform", `translate(${tx},${ty}) scale(${s})`);
  document.body.dataset.scale = s.toFixed(3);
}

function fit(readable) {
  const svg = document.getElementById("canvas");
  const [w, h] = [svg.clientWidth, svg.clientHeight];
  const { width, height } = view.placed;
  let s = Math.min(
    (w - 2 * MARGIN) / Math.max(width, 1),
    (h - 2 * MARGIN) / Math.max(height, 1),
    MAX_FIT_SCALE,
  );
  const small = readable && s < READABLE_SCALE;
  if (small) s = READABLE_SCALE;
  view.zoom = {
    s,
    tx: Math.max(MARGIN, (w - width * s) / 2),
    ty: small ? MARGIN : (h - height * s) / 2,
  };
  applyZoom();
}

// Pans (at the same zoom) so that the box is on screen, if it is not.
function showBox(box) {
  const svg = document.getElementById("canvas");
  const { s, tx, ty } = view.zoom;
  const [left, top] = [tx + box.x * s, ty + box.y * s];
  const [right, bottom] = [left + box.width * s, top + box.height * s];
  if (left >= 0 && top >= 0 && right <= svg.clientWidth && bottom <= svg.clientHeight) return;
  view.zoom.tx = svg.clientWidth / 2 - (box.x + box.width / 2) * s;
  view.zoom.ty = svg.clientHeight / 2 - (box.y + box.height / 2) * s;
  applyZoom();
}

function zoomAt(factor, px, py) {
  const z = view.zoom;
  const s = Math.min(8, Math.max(0.02, z.s * factor));
  view.zoom = { s, tx: px - ((px - z.tx) * s) / z.s, ty: py - ((py - z.ty) * s) / z.s };
  applyZoom();
}

function wirePanZoom() {
  const svg = document.getElementById("canvas");
  svg.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const r = svg.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - r.left, event.clientY - r.top);
    },
    { passive: false },
  );
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, tx: view.zoom.tx, ty: view.zoom.ty };
    view.dragged = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const [dx, dy] = [event.clientX - drag.x, event.clientY - drag.y];
    if (Math.abs(dx) + Math.abs(dy) > 3) view.dragged = true;
    if (!view.dragged) return;
    view.zoom.tx = drag.tx + dx;
    view.zoom.ty = drag.ty + dy;
    applyZoom();
  });
  const end = () => {
    drag = null;
    setTimeout(() => (view.dragged = false), 0);
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointerleave", end);
}

// ---- controls -------------------------------------------------------------------------------

function wireControls() {
  const mode = document.getElementById("colour-mode");
  mode.addEventListener("change", () => {
    view.mode = mode.value;
    document.body.dataset.mode = view.mode;
    applyColours();
  });
  const search = document.getElementById("search");
  search.addEventListener("input", () => {
    view.search = search.value;
    applySearch();
  });
  document.getElementById("fit").addEventListener("click", () => fit(false));
  document.getElementById("expand-all").addEventListener("click", () => {
    view.open = new Set(modules.keys());
    render();
    fit(true);
  });
  document.getElementById("collapse-all").addEventListener("click", () => {
    view.open = new Set();
    render();
    fit(true);
  });
  document.getElementById("step").addEventListener("click", () => step(1));
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const actions = {
      n: () => step(1),
      ArrowRight: () => step(1),
      p: () => step(-1),
      ArrowLeft: () => step(-1),
      Escape: () => step(-view.step - 1),
      f: () => fit(false),
      "+": () => zoomAt(1.25, innerWidth / 2, innerHeight / 2),
      "-": () => zoomAt(0.8, innerWidth / 2, innerHeight / 2),
      "/": () => search.focus(),
    };
    if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  });
}

wireControls();
wirePanZoom();
render();
fit(true);
document.body.dataset.mode = view.mode;
document.body.dataset.ready = "true";
// The page's state and actions, for the browser console and the tests.
window.explorer = { data, view, render, fit, step, unitOf };
