// A session's story: the chosen targets' posteriors at every revision, one line per state.
// Clicking a revision shows the network as it was then.

export interface TimelinePoint {
  revision: number;
  /** Per target, P(state) in state order. */
  posteriors: Map<string, number[]>;
  /** The revision's source and note, for the tooltip. */
  label: string;
}

const COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7480", "#6e7781"];

export function drawTimeline(
  container: HTMLElement,
  points: TimelinePoint[],
  targets: { name: string; states: string[] }[],
  viewing: number | null,
  onRevision: (revision: number) => void,
): void {
  const svgNs = "http://www.w3.org/2000/svg";
  const width = Math.max(container.clientWidth, 300);
  const height = 180;
  const left = 36, right = 10, top = 10, bottom = 34;
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "timeline-chart");
  svg.setAttribute("role", "img");
  const sorted = [...points].sort((a, b) => a.revision - b.revision);
  svg.setAttribute("aria-label", `posteriors over ${sorted.length} revisions`);
  const maxRevision = Math.max(1, ...sorted.map((p) => p.revision));
  const x = (r: number) => left + ((width - left - right) * r) / maxRevision;
  const y = (p: number) => top + (height - top - bottom) * (1 - p);
  const add = (tag: string, attrs: Record<string, string>, text?: string) => {
    const el = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el);
    return el;
  };
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    add("line", { x1: String(left), x2: String(width - right), y1: String(y(tick)), y2: String(y(tick)), class: "grid" });
    add("text", { x: String(left - 4), y: String(y(tick) + 4), class: "axis", "text-anchor": "end" }, `${tick * 100}%`);
  }
  add("text", { x: String(width - right), y: String(height - 2), class: "axis", "text-anchor": "end" }, "revision");
  let colour = 0;
  const legend: { label: string; colour: string }[] = [];
  for (const target of targets) {
    target.states.forEach((state, i) => {
      const c = COLOURS[colour++ % COLOURS.length];
      const coords = sorted
        .filter((p) => p.posteriors.has(target.name))
        .map((p) => `${x(p.revision)},${y(p.posteriors.get(target.name)![i])}`);
      if (coords.length === 0) return;
      add("polyline", { points: coords.join(" "), stroke: c, class: "series" });
      legend.push({ label: `${target.name}=${state}`, colour: c });
    });
  }
  for (const p of sorted) {
    const hit = add("rect", {
      x: String(x(p.revision) - 6),
      y: String(top),
      width: "12",
      height: String(height - top - bottom),
      class: p.revision === viewing ? "revision viewing" : "revision",
      tabindex: "0",
      role: "button",
      "data-revision": String(p.revision),
      "aria-label": `revision ${p.revision}`,
    });
    const title = document.createElementNS(svgNs, "title");
    title.textContent = `revision ${p.revision}${p.label ? `: ${p.label}` : ""}`;
    hit.appendChild(title);
    hit.addEventListener("click", () => onRevision(p.revision));
    hit.addEventListener("keydown", (e) => {
      if ((e as KeyboardEvent).key === "Enter") onRevision(p.revision);
    });
    add("text", { x: String(x(p.revision)), y: String(height - bottom + 12), class: "axis", "text-anchor": "middle" }, String(p.revision));
  }
  const legendBox = document.createElement("div");
  legendBox.className = "legend";
  for (const l of legend) {
    const item = document.createElement("span");
    item.innerHTML = `<i style="background:${l.colour}"></i>`;
    item.append(l.label);
    legendBox.appendChild(item);
  }
  container.replaceChildren(svg, legendBox);
}
