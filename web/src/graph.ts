// The network as a picture: one card per variable with a bar per state, arcs between them,
// pan and zoom. Cards are built once per network; new posteriors only change widths and text,
// so a click repaints in milliseconds even on a thousand nodes.
import dagre from "@dagrejs/dagre";

export interface NodeSpec {
  name: string;
  states: string[];
  parents: string[];
  /** Where the file put it (NET/XDSL), if it did. */
  position?: { x: number; y: number };
}

export interface Marginal {
  probabilities: number[];
  lower?: number[];
  upper?: number[];
}

export interface Findings {
  hard: Map<string, string>;
  soft: Map<string, number[]>;
}

const CARD_WIDTH = 196;
const HEADER_HEIGHT = 24;
const ROW_HEIGHT = 17;
const PADDING = 6;

function cardHeight(node: NodeSpec): number {
  return HEADER_HEIGHT + node.states.length * ROW_HEIGHT + PADDING;
}

interface Card {
  element: HTMLElement;
  bars: HTMLElement[];
  fills: HTMLElement[];
  intervals: HTMLElement[];
  labels: HTMLElement[];
  x: number;
  y: number;
}

/**
 * Centres of the cards: the file's positions when every node has one, else a layered layout
 * (dagre), kept in this browser's storage under the network's content hash, since on a
 * network of a thousand nodes it takes seconds and depends on nothing but the structure.
 */
export function layout(nodes: NodeSpec[], contentHash = ""): Map<string, { x: number; y: number }> {
  const key = `credence-layout:${contentHash}`;
  if (contentHash) {
    const kept = readKept(key, nodes);
    if (kept) return kept;
  }
  const centres = computeLayout(nodes);
  if (contentHash) {
    try {
      localStorage.setItem(key, JSON.stringify(nodes.map((n) => centres.get(n.name))));
    } catch {
      // Storage full or disabled: the layout is computed again next time.
    }
  }
  return centres;
}

function readKept(key: string, nodes: NodeSpec[]): Map<string, { x: number; y: number }> | null {
  try {
    const kept = JSON.parse(localStorage.getItem(key) ?? "null") as { x: number; y: number }[] | null;
    if (!Array.isArray(kept) || kept.length !== nodes.length) return null;
    return new Map(nodes.map((n, i) => [n.name, kept[i]]));
  } catch {
    return null;
  }
}

function computeLayout(nodes: NodeSpec[]): Map<string, { x: number; y: number }> {
  const centres = new Map<string, { x: number; y: number }>();
  if (nodes.length > 0 && nodes.every((n) => n.position)) {
    // File coordinates are for smaller boxes: spread them so cards do not overlap.
    const xs = nodes.map((n) => n.position!.x);
    const ys = nodes.map((n) => n.position!.y);
    const spanX = Math.max(...xs) - Math.min(...xs) || 1;
    const spanY = Math.max(...ys) - Math.min(...ys) || 1;
    const scale = Math.max(1, (Math.sqrt(nodes.length) * CARD_WIDTH * 1.4) / Math.max(spanX, spanY));
    for (const n of nodes) centres.set(n.name, { x: n.position!.x * scale, y: n.position!.y * scale });
    return centres;
  }
  const g = new dagre.graphlib.Graph();
  // Longest-path ranking is linear; network simplex gives slightly tidier layers but takes
  // seconds on a thousand nodes.
  g.setGraph({
    rankdir: "TB",
    nodesep: 24,
    ranksep: 56,
    ranker: nodes.length > 300 ? "longest-path" : "network-simplex",
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.name, { width: CARD_WIDTH, height: cardHeight(n) });
  for (const n of nodes) for (const p of n.parents) g.setEdge(p, n.name);
  dagre.layout(g);
  for (const n of nodes) {
    const placed = g.node(n.name);
    centres.set(n.name, { x: placed.x, y: placed.y });
  }
  return centres;
}

export interface GraphEvents {
  /** A state's bar was clicked (or Enter/Space on it). */
  onState(variable: string, state: string): void;
  /** A card's title was clicked: the variable is selected for the side panel. */
  onSelect(variable: string): void;
}

export class GraphView {
  private readonly viewport: HTMLElement;
  private readonly world: HTMLElement;
  private readonly cards = new Map<string, Card>();
  private scale = 1;
  private tx = 0;
  private ty = 0;
  private width = 0;
  private height = 0;
  private selected: string | null = null;

  constructor(viewport: HTMLElement, private readonly events: GraphEvents) {
    this.viewport = viewport;
    this.world = document.createElement("div");
    this.world.className = "world";
    viewport.replaceChildren(this.world);
    this.installPanZoom();
  }

  /** Builds the cards and arcs of a network. */
  draw(nodes: NodeSpec[], contentHash = ""): void {
    this.cards.clear();
    this.selected = null;
    const centres = layout(nodes, contentHash);
    performance.mark("credence:laid-out");
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const n of nodes) {
      const c = centres.get(n.name)!;
      const h = cardHeight(n);
      minX = Math.min(minX, c.x - CARD_WIDTH / 2);
      maxX = Math.max(maxX, c.x + CARD_WIDTH / 2);
      minY = Math.min(minY, c.y - h / 2);
      maxY = Math.max(maxY, c.y + h / 2);
    }
    if (nodes.length === 0) minX = minY = maxX = maxY = 0;
    const margin = 40;
    const offsetX = margin - minX;
    const offsetY = margin - minY;
    this.width = maxX - minX + 2 * margin;
    this.height = maxY - minY + 2 * margin;

    const fragment = document.createDocumentFragment();
    fragment.appendChild(this.arcs(nodes, centres, offsetX, offsetY));
    for (const n of nodes) {
      const c = centres.get(n.name)!;
      const card = this.card(n, c.x + offsetX, c.y + offsetY);
      this.cards.set(n.name, card);
      fragment.appendChild(card.element);
    }
    this.world.style.width = `${this.width}px`;
    this.world.style.height = `${this.height}px`;
    this.world.replaceChildren(fragment);
    this.overview();
  }

  /**
   * The first view: the whole network when it fits at a readable size; otherwise readable
   * cards at the top centre (wide layered layouts, such as link's, would shrink to dots), from
   * where pan, zoom, Find and Fit reach the rest.
   */
  private overview(): void {
    this.fit();
    const readable = 0.3;
    if (this.scale >= readable) return;
    this.scale = readable;
    this.tx = (this.viewport.clientWidth || 800) / 2 - (this.width * readable) / 2;
    this.ty = 0;
    this.apply();
  }

  private arcs(
    nodes: NodeSpec[],
    centres: Map<string, { x: number; y: number }>,
    offsetX: number,
    offsetY: number,
  ): SVGSVGElement {
    const svgNs = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNs, "svg");
    svg.setAttribute("class", "arcs");
    svg.setAttribute("width", String(this.width));
    svg.setAttribute("height", String(this.height));
    const heights = new Map(nodes.map((n) => [n.name, cardHeight(n)]));
    let d = "";
    for (const n of nodes) {
      const to = centres.get(n.name)!;
      for (const p of n.parents) {
        const from = centres.get(p);
        if (!from) continue;
        const x1 = from.x + offsetX;
        const y1 = from.y + offsetY + heights.get(p)! / 2;
        const x2 = to.x + offsetX;
        const y2 = to.y + offsetY - heights.get(n.name)! / 2;
        const bend = Math.max(20, (y2 - y1) / 2);
        d += `M${x1},${y1}C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
      }
    }
    // One path for all arcs: a thousand separate elements would cost layout time for nothing.
    const path = document.createElementNS(svgNs, "path");
    path.setAttribute("d", d);
    path.setAttribute("class", "arc");
    svg.appendChild(path);
    // An arrow head where arcs enter a card.
    const heads = document.createElementNS(svgNs, "g");
    heads.setAttribute("class", "heads");
    for (const n of nodes) {
      const to = centres.get(n.name)!;
      if (n.parents.length === 0) continue;
      const x = to.x + offsetX;
      const y = to.y + offsetY - heights.get(n.name)! / 2;
      const head = document.createElementNS(svgNs, "path");
      head.setAttribute("d", `M${x - 4},${y - 7}L${x},${y}L${x + 4},${y - 7}z`);
      heads.appendChild(head);
    }
    svg.appendChild(heads);
    return svg;
  }

  private card(node: NodeSpec, cx: number, cy: number): Card {
    const element = document.createElement("section");
    element.className = "node";
    element.dataset.node = node.name;
    element.style.left = `${cx - CARD_WIDTH / 2}px`;
    element.style.top = `${cy - cardHeight(node) / 2}px`;
    element.style.width = `${CARD_WIDTH}px`;
    const title = document.createElement("button");
    title.className = "title";
    title.type = "button";
    title.textContent = node.name;
    title.title = `${node.name}: select for soft evidence and questions`;
    title.addEventListener("click", () => this.events.onSelect(node.name));
    element.appendChild(title);
    const bars: HTMLElement[] = [];
    const fills: HTMLElement[] = [];
    const intervals: HTMLElement[] = [];
    const labels: HTMLElement[] = [];
    for (const state of node.states) {
      const bar = document.createElement("div");
      bar.className = "state";
      bar.tabIndex = 0;
      bar.setAttribute("role", "button");
      bar.dataset.variable = node.name;
      bar.dataset.state = state;
      bar.setAttribute("aria-label", `${node.name} = ${state}`);
      const name = document.createElement("span");
      name.className = "state-name";
      name.textContent = state;
      const track = document.createElement("span");
      track.className = "track";
      const fill = document.createElement("span");
      fill.className = "fill";
      const interval = document.createElement("span");
      interval.className = "interval";
      track.append(fill, interval);
      const label = document.createElement("span");
      label.className = "percent";
      bar.append(name, track, label);
      const act = () => this.events.onState(node.name, state);
      bar.addEventListener("click", act);
      bar.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          act();
        }
      });
      element.appendChild(bar);
      bars.push(bar);
      fills.push(fill);
      intervals.push(interval);
      labels.push(label);
    }
    return { element, bars, fills, intervals, labels, x: cx, y: cy };
  }

  /** Writes posteriors into the bars, and marks the findings. */
  paint(marginals: Map<string, Marginal>, findings: Findings): void {
    for (const [name, card] of this.cards) {
      const marginal = marginals.get(name);
      const observed = findings.hard.get(name);
      card.element.classList.toggle("observed", observed !== undefined);
      card.element.classList.toggle("soft", findings.soft.has(name));
      card.bars.forEach((bar, i) => {
        const p = marginal?.probabilities[i];
        bar.classList.toggle("chosen", observed === bar.dataset.state);
        bar.setAttribute("aria-pressed", String(observed === bar.dataset.state));
        if (p === undefined) {
          delete bar.dataset.probability;
          card.fills[i].style.width = "0";
          card.labels[i].textContent = "";
          card.intervals[i].style.display = "none";
          return;
        }
        // The full-precision number the server sent (JavaScript prints the shortest
        // round-trip form).
        bar.dataset.probability = String(p);
        card.fills[i].style.width = `${(p * 100).toFixed(2)}%`;
        card.labels[i].textContent = percent(p);
        const lower = marginal?.lower?.[i];
        const upper = marginal?.upper?.[i];
        const interval = card.intervals[i];
        if (lower !== undefined && upper !== undefined) {
          interval.style.display = "block";
          interval.style.left = `${(lower * 100).toFixed(2)}%`;
          interval.style.width = `${Math.max(0.5, (upper - lower) * 100).toFixed(2)}%`;
          bar.title = `${name} = ${bar.dataset.state}: ${percent(p)}, 95% interval ${percent(lower)} to ${percent(upper)}`;
        } else {
          interval.style.display = "none";
          bar.title = `${name} = ${bar.dataset.state}: ${percent(p)}`;
        }
      });
    }
  }

  select(name: string | null): void {
    if (this.selected) this.cards.get(this.selected)?.element.classList.remove("selected");
    this.selected = name;
    if (name) this.cards.get(name)?.element.classList.add("selected");
  }

  names(): string[] {
    return [...this.cards.keys()];
  }

  /** Centres the view on a node and flashes it. */
  reveal(name: string): boolean {
    const card = this.cards.get(name);
    if (!card) return false;
    this.scale = Math.max(this.scale, 0.9);
    this.tx = this.viewport.clientWidth / 2 - card.x * this.scale;
    this.ty = this.viewport.clientHeight / 2 - card.y * this.scale;
    this.apply();
    card.element.classList.remove("flash");
    void card.element.offsetWidth;
    card.element.classList.add("flash");
    (card.bars[0] ?? card.element).focus({ preventScroll: true });
    return true;
  }

  fit(): void {
    const w = this.viewport.clientWidth || 800;
    const h = this.viewport.clientHeight || 600;
    this.scale = Math.min(1, w / this.width, h / this.height);
    this.tx = (w - this.width * this.scale) / 2;
    this.ty = Math.max(0, (h - this.height * this.scale) / 2);
    this.apply();
  }

  zoom(factor: number, atX?: number, atY?: number): void {
    const x = atX ?? this.viewport.clientWidth / 2;
    const y = atY ?? this.viewport.clientHeight / 2;
    const next = Math.min(4, Math.max(0.02, this.scale * factor));
    this.tx = x - ((x - this.tx) * next) / this.scale;
    this.ty = y - ((y - this.ty) * next) / this.scale;
    this.scale = next;
    this.apply();
  }

  private apply(): void {
    this.world.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.scale})`;
    this.viewport.classList.toggle("far", this.scale < 0.35);
  }

  private installPanZoom(): void {
    const v = this.viewport;
    v.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const rect = v.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
    let drag: { x: number; y: number; tx: number; ty: number } | null = null;
    v.addEventListener("pointerdown", (e) => {
      if ((e.target as HTMLElement).closest(".state, .title")) return;
      drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty };
      v.setPointerCapture(e.pointerId);
      v.classList.add("dragging");
    });
    v.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.tx = drag.tx + e.clientX - drag.x;
      this.ty = drag.ty + e.clientY - drag.y;
      this.apply();
    });
    const end = () => {
      drag = null;
      v.classList.remove("dragging");
    };
    v.addEventListener("pointerup", end);
    v.addEventListener("pointercancel", end);
    v.addEventListener("keydown", (e) => {
      if ((e.target as HTMLElement).closest(".state, .title, input, select")) {
        if (e.key !== "+" && e.key !== "-") return;
      }
      const step = 60;
      const moves: Record<string, () => void> = {
        "+": () => this.zoom(1.25),
        "=": () => this.zoom(1.25),
        "-": () => this.zoom(0.8),
        "0": () => this.fit(),
        ArrowLeft: () => ((this.tx += step), this.apply()),
        ArrowRight: () => ((this.tx -= step), this.apply()),
        ArrowUp: () => ((this.ty += step), this.apply()),
        ArrowDown: () => ((this.ty -= step), this.apply()),
      };
      const move = moves[e.key];
      if (move) {
        e.preventDefault();
        move();
      }
    });
  }
}

export function percent(p: number): string {
  const v = p * 100;
  if (v === 0) return "0%";
  if (v < 0.1) return "<0.1%";
  if (v > 99.9 && v < 100) return ">99.9%";
  return `${v.toFixed(1)}%`;
}
