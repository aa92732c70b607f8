// A layered ("Sugiyama") layout of one directed graph, drawn top to bottom.
//
//   const placed = layeredLayout(nodes, edges);
//   nodes: [{id, width, height}] in a preferred order (forward order of the ops);
//   edges: [{src, dst}] between those ids (repeats and self loops are ignored);
//   placed: {nodes: Map id -> {x, y} (centres), edges: [{src, dst, points}], width, height}.
//
// The steps, each a function below:
//   1. break cycles by reversing the back edges of a depth-first search;
//   2. put each node in a layer: as early as its inputs allow, then as late as its consumers
//      allow, so a weight and its reshape sit just above the matmul that reads them;
//   3. give an edge that skips layers one dummy node per layer, so it bends around nodes (the
//      edges leaving one node share their dummies);
//   4. order each layer by the mean position of its neighbours (barycenters), sweeping down
//      and up, and keep the order with the fewest crossings;
//   5. place each layer's nodes as near as possible to the mean x of their neighbours without
//      overlapping: weighted least squares under order constraints, solved by pooling
//      adjacent violators (an isotonic regression);
//   6. stack the layers, each node centred in its layer's height.
// Nested modules are laid out by calling this once per expanded module (explorer.js), so a
// module's box is one (large) node of its parent's graph.
"use strict";

const LAYOUT = {
  nodeGap: 22,
  layerGap: 34,
  dummyWidth: 6,
  sweeps: 12,
  xPasses: 8,
  sideWeight: 1e-6, // how hard a side input holds its place against its neighbours (step 5)
  dummyWeight: 4,
};

function layeredLayout(nodes, edges) {
  const graph = buildGraph(nodes, edges);
  breakCycles(graph);
  assignLayers(graph);
  addDummies(graph);
  const layers = orderLayers(graph);
  placeX(graph, layers);
  const height = placeY(graph, layers);
  let width = 0;
  for (const n of graph.nodes) width = Math.max(width, n.x + n.width / 2);
  const placedNodes = new Map();
  for (const n of graph.nodes) if (!n.dummy) placedNodes.set(n.id, { x: n.x, y: n.y });
  return { nodes: placedNodes, edges: edgePoints(graph), width, height };
}

function buildGraph(nodes, edges) {
  const byId = new Map();
  const list = nodes.map((n, k) => {
    const node = { id: n.id, width: n.width, height: n.height, order: k, preds: [], succs: [] };
    byId.set(n.id, node);
    return node;
  });
  const seen = new Set();
  const links = [];
  for (const e of edges) {
    const key = e.src + "\u0000" + e.dst;
    if (e.src === e.dst || seen.has(key) || !byId.has(e.src) || !byId.has(e.dst)) continue;
    seen.add(key);
    links.push({ src: byId.get(e.src), dst: byId.get(e.dst), reversed: false, chain: [] });
  }
  return { nodes: list, links };
}

// 1. A back edge of a depth-first search closes a cycle; pointing it the other way for the
// layout leaves a DAG (the edge is still drawn from its source to its target).
function breakCycles(graph) {
  const out = new Map(graph.nodes.map((n) => [n, []]));
  for (const link of graph.links) out.get(link.src).push(link);
  const state = new Map(); // 1: on the stack, 2: done
  for (const root of graph.nodes) {
    if (state.has(root)) continue;
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const links = out.get(top[0]);
      if (top[1] === links.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const link = links[top[1]++];
      if (state.get(link.dst) === 1) link.reversed = true;
      else if (!state.has(link.dst)) {
        state.set(link.dst, 1);
        stack.push([link.dst, 0]);
      }
    }
  }
  for (const link of graph.links) {
    const [a, b] = link.reversed ? [link.dst, link.src] : [link.src, link.dst];
    a.succs.push(b);
    b.preds.push(a);
  }
}

function topologicalOrder(graph) {
  const waiting = new Map(graph.nodes.map((n) => [n, n.preds.length]));
  const ready = graph.nodes.filter((n) => n.preds.length === 0);
  const order = [];
  while (ready.length) {
    const n = ready.shift();
    order.push(n);
    for (const s of n.succs) {
      waiting.set(s, waiting.get(s) - 1);
      if (waiting.get(s) === 0) ready.push(s);
    }
  }
  return order;
}

// 2. Longest path from the sources, then every node with consumers moved down to just above
// its earliest consumer (visited bottom-up, so a whole side chain moves together).
function assignLayers(graph) {
  const order = topologicalOrder(graph);
  for (const n of order) n.layer = extreme(n.preds, (p) => p.layer + 1, Math.max, 0);
  for (const n of order.slice().reverse()) {
    if (n.succs.length) n.layer = extreme(n.succs, (s) => s.layer, Math.min) - 1;
  }
}

// 3. One dummy per skipped layer; the link remembers its chain to draw the edge through it.
// The long links leaving one node share one chain (a trunk), each leaving it just above its
// target: a weight read at every step of a loop of n steps then adds n dummies, not n^2 / 2,
// and is drawn as one line that branches off to each step.
function addDummies(graph) {
  const trunks = new Map(); // upper end -> its dummies, one per layer below it
  for (const link of graph.links) {
    const [a, b] = link.reversed ? [link.dst, link.src] : [link.src, link.dst];
    if (b.layer - a.layer < 2) continue;
    a.succs.splice(a.succs.indexOf(b), 1);
    b.preds.splice(b.preds.indexOf(a), 1);
    if (!trunks.has(a)) trunks.set(a, []);
    const trunk = trunks.get(a);
    for (let layer = a.layer + 1 + trunk.length; layer < b.layer; layer++) {
      const previous = trunk.length ? trunk[trunk.length - 1] : a;
      const dummy = {
        id: null,
        dummy: true,
        width: LAYOUT.dummyWidth,
        height: 0,
        layer,
        order: (a.order + b.order) / 2,
        preds: [previous],
        succs: [],
      };
      previous.succs.push(dummy);
      graph.nodes.push(dummy);
      trunk.push(dummy);
    }
    link.chain = trunk.slice(0, b.layer - a.layer - 1);
    const last = link.chain[link.chain.length - 1];
    last.succs.push(b);
    b.preds.push(last);
    if (link.reversed) link.chain.reverse();
  }
}

// 4. Barycenter sweeps; ties keep the previous order (Array.prototype.sort is stable).
function orderLayers(graph) {
  const count = extreme(graph.nodes, (n) => n.layer, Math.max, 0) + 1;
  const layers = Array.from({ length: count }, () => []);
  for (const n of graph.nodes.slice().sort((a, b) => a.order - b.order)) layers[n.layer].push(n);
  const positions = () => layers.forEach((layer) => layer.forEach((n, k) => (n.pos = k)));
  positions();
  let best = layers.map((layer) => layer.slice());
  let fewest = crossings(layers);
  for (let sweep = 0; sweep < LAYOUT.sweeps && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    const range = [...Array(count).keys()];
    for (const k of down ? range.slice(1) : range.reverse().slice(1)) {
      const key = (n) => {
        const near = down ? n.preds : n.succs;
        return near.length ? near.reduce((s, m) => s + m.pos, 0) / near.length : n.pos;
      };
      const keys = new Map(layers[k].map((n) => [n, key(n)]));
      layers[k].sort((a, b) => keys.get(a) - keys.get(b));
      layers[k].forEach((n, i) => (n.pos = i));
    }
    const now = crossings(layers);
    if (now < fewest) {
      fewest = now;
      best = layers.map((layer) => layer.slice());
    }
  }
  best.forEach((layer) => layer.forEach((n, k) => (n.pos = k)));
  return best;
}

function crossings(layers) {
  let total = 0;
  for (let k = 0; k + 1 < layers.length; k++) {
    const pairs = [];
    for (const n of layers[k]) for (const s of n.succs) pairs.push([n.pos, s.pos]);
    for (let i = 0; i < pairs.length; i++) {
      for (let j = i + 1; j < pairs.length; j++) {
        const [a, b] = [pairs[i], pairs[j]];
        if ((a[0] - b[0]) * (a[1] - b[1]) < 0) total++;
      }
    }
  }
  return total;
}

// 5. Each pass pulls a layer toward its upper (or lower) neighbours; the last pass uses both.
// A side input (no inputs, one consumer: a weight, a bias, a constant) can sit anywhere beside
// its consumer, so it neither pulls the consumer toward itself (see strongest) nor pushes a
// neighbour aside; a chain with a side input at every step would otherwise lean a little
// further each step. A dummy hangs below the one above it and pushes hardest, so long edges
// run straight.
function placeX(graph, layers) {
  for (const layer of layers) {
    let x = 0;
    for (const n of layer) {
      n.x = x + n.width / 2;
      x += n.width + LAYOUT.nodeGap;
    }
  }
  const side = (n) => !n.dummy && n.preds.length === 0 && n.succs.length === 1;
  const weight = (n) => (side(n) ? LAYOUT.sideWeight : n.dummy ? LAYOUT.dummyWeight : 1);
  for (let pass = 0; pass <= LAYOUT.xPasses; pass++) {
    const last = pass === LAYOUT.xPasses;
    const down = pass % 2 === 0;
    const range = [...layers.keys()];
    for (const k of down ? range : range.reverse()) {
      const layer = layers[k];
      const desired = layer.map((n) => {
        const both = n.preds.concat(n.succs);
        const near = n.dummy ? n.preds : last ? both : down ? n.preds : n.succs;
        const pulling = strongest(near, side);
        return pulling.length ? pulling.reduce((s, m) => s + m.x, 0) / pulling.length : n.x;
      });
      const xs = nearestSpaced(
        desired,
        layer.map((n) => n.width),
        layer.map(weight),
      );
      layer.forEach((n, i) => (n.x = xs[i]));
    }
  }
  const left = extreme(graph.nodes, (n) => n.x - n.width / 2, Math.min);
  for (const n of graph.nodes) n.x -= left;
}

// The neighbours a node is placed among: its real ones (not side inputs) if it has any, else
// the dummies of long edges, else the side inputs. A step of a chain then sits under the step
// before it, with a weight, a constant or a passing edge beside it rather than half-way to it.
function strongest(near, side) {
  const real = near.filter((m) => !m.dummy && !side(m));
  if (real.length) return real;
  const dummies = near.filter((m) => m.dummy);
  return dummies.length ? dummies : near;
}

// The xs closest to ``desired`` (least squares, each squared distance times its node's
// weight) with each node at least a gap right of the previous one. With offsets c (the packed
// positions) and x = y + c, the constraint is y non-decreasing: a weighted isotonic
// regression of desired - c, solved by pooling adjacent violators.
function nearestSpaced(desired, widths, weights) {
  const offsets = [0];
  for (let i = 1; i < widths.length; i++) {
    offsets.push(offsets[i - 1] + (widths[i - 1] + widths[i]) / 2 + LAYOUT.nodeGap);
  }
  const blocks = []; // [weighted sum, total weight, count]
  desired.forEach((d, i) => {
    blocks.push([(d - offsets[i]) * weights[i], weights[i], 1]);
    while (blocks.length > 1) {
      const [b, a] = [blocks[blocks.length - 1], blocks[blocks.length - 2]];
      if (a[0] / a[1] <= b[0] / b[1]) break;
      blocks.pop();
      a[0] += b[0];
      a[1] += b[1];
      a[2] += b[2];
    }
  });
  const xs = [];
  for (const [sum, weight, n] of blocks) {
    for (let k = 0; k < n; k++) xs.push(sum / weight + offsets[xs.length]);
  }
  return xs;
}

// 6. Returns the total height.
function placeY(graph, layers) {
  let y = 0;
  layers.forEach((layer, k) => {
    const height = extreme(layer, (n) => n.height, Math.max, 0);
    for (const n of layer) n.y = y + height / 2;
    y += height + (k + 1 < layers.length ? LAYOUT.layerGap : 0);
  });
  return y;
}

// The largest (pick = Math.max) or smallest key over the items, from ``start``. Spreading a
// long array into Math.max overflows the call stack (beyond about 100k items in Chromium).
function extreme(items, key, pick, start = pick === Math.max ? -Infinity : Infinity) {
  let found = start;
  for (const item of items) found = pick(found, key(item));
  return found;
}

function edgePoints(graph) {
  return graph.links.map((link) => ({
    src: link.src.id,
    dst: link.dst.id,
    points: link.chain.map((d) => [d.x, d.y]),
  }));
}

if (typeof module !== "undefined") module.exports = { layeredLayout, nearestSpaced, extreme };
