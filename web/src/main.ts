// The workspace: one network as a picture with live posteriors; evidence by click; sessions
// with their timeline; the analyst's questions as panels. All state the page shows comes from
// the server through the generated gRPC-web clients (api.ts).
import "./style.css";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  EvidenceChangeSchema,
  EvidenceContextSchema,
  EvidenceSchema,
  EvidenceChange,
  NetworkSummary,
  QueryResponse,
  Revision,
  Evidence as WireEvidence,
} from "./gen/credence/v1/credence_pb";
import {
  ENGINES,
  connect,
  engineName,
  hasToken,
  isCancelled,
  isUnauthenticated,
  messageOf,
  setToken,
} from "./api";
import { GraphView, percent, type Findings, type Marginal, type NodeSpec } from "./graph";
import { drawTimeline, type TimelinePoint } from "./timeline";

const clients = connect();

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

interface SessionView {
  id: string;
  description: string;
  /** The network version the session is bound to. */
  networkHash: string;
  revision: number;
  /** The revision shown, when not the live one. */
  viewing: number | null;
  watch: AbortController | null;
  timeline: TimelinePoint[];
  revisions: Map<number, Revision>;
}

const state = {
  network: "",
  nodes: [] as NodeSpec[],
  byName: new Map<string, NodeSpec>(),
  findings: { hard: new Map(), soft: new Map() } as Findings,
  engine: "auto",
  marginals: new Map<string, Marginal>(),
  logP: 0,
  selected: null as string | null,
  session: null as SessionView | null,
  timelineTargets: [] as string[],
};

const graph = new GraphView(el("viewport"), {
  onState: (variable, value) => void clickState(variable, value),
  onSelect: (variable) => select(variable),
});

// ---------------------------------------------------------------------------------------------
// Messages and dialogs

function say(text: string, kind: "error" | "info" = "error"): void {
  const box = el("message");
  box.textContent = text;
  box.className = text ? kind : "";
}

function busy(on: boolean): void {
  document.body.classList.toggle("busy", on);
}

/** Runs a server call; on UNAUTHENTICATED asks for a token and tries once more. */
async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    if (!isUnauthenticated(error)) throw error;
    const token = await askToken(hasToken() ? messageOf(error) : "");
    if (token === null) throw error;
    return await f();
  }
}

function askToken(problem: string): Promise<string | null> {
  const dialog = el<HTMLDialogElement>("token-dialog");
  const input = el<HTMLInputElement>("token-input");
  el("token-problem").textContent = problem;
  input.value = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok" || input.value.trim() === "") return resolve(null);
      setToken(input.value, el<HTMLInputElement>("token-remember").checked);
      resolve(input.value);
    };
  });
}

/** Asks where a change came from, as every session revision records it. */
function askSource(what: string): Promise<{ source: string; note: string } | null> {
  const dialog = el<HTMLDialogElement>("change-dialog");
  el("change-what").textContent = what;
  const source = el<HTMLInputElement>("change-source");
  const note = el<HTMLTextAreaElement>("change-note");
  note.value = "";
  dialog.showModal();
  source.focus();
  return new Promise((resolve) => {
    dialog.onclose = () =>
      resolve(dialog.returnValue === "ok" ? { source: source.value.trim(), note: note.value.trim() } : null);
  });
}

// ---------------------------------------------------------------------------------------------
// The URL holds the view: /?network=NAME&evidence=VAR=STATE,VAR=STATE&session=ID&revision=N

interface Link {
  network?: string;
  evidence: [string, string][];
  soft: [string, number[]][];
  session?: string;
  revision?: number;
  /** The variables the session's timeline plots. */
  timeline: string[];
}

function readLink(): Link {
  const query = new URLSearchParams(window.location.search);
  const pairs = (key: string) =>
    (query.get(key) ?? "")
      .split(",")
      .filter((item) => item.includes("="))
      .map((item) => {
        const at = item.indexOf("=");
        return [item.slice(0, at), item.slice(at + 1)] as [string, string];
      });
  const revision = query.get("revision");
  return {
    network: query.get("network") ?? undefined,
    evidence: pairs("evidence"),
    soft: pairs("soft").map(([v, values]) => [v, values.split(":").map(Number)]),
    session: query.get("session") ?? undefined,
    revision: revision !== null && revision !== "" ? Number(revision) : undefined,
    timeline: (query.get("timeline") ?? "").split(",").filter((t) => t !== ""),
  };
}

function writeLink(): void {
  const parts = [`network=${encodeURIComponent(state.network)}`];
  if (state.session) {
    parts.push(`session=${encodeURIComponent(state.session.id)}`);
    if (state.session.viewing !== null) parts.push(`revision=${state.session.viewing}`);
    parts.push(`timeline=${state.timelineTargets.map(encodeURIComponent).join(",")}`);
  } else {
    const hard = [...state.findings.hard].map(([v, s]) => `${encodeURIComponent(v)}=${encodeURIComponent(s)}`);
    if (hard.length) parts.push(`evidence=${hard.join(",")}`);
    const soft = [...state.findings.soft].map(([v, l]) => `${encodeURIComponent(v)}=${l.join(":")}`);
    if (soft.length) parts.push(`soft=${soft.join(",")}`);
  }
  if (state.engine !== "auto") parts.push(`engine=${state.engine}`);
  history.replaceState(null, "", `/?${parts.join("&")}`);
}

// ---------------------------------------------------------------------------------------------
// Networks and stateless queries

function evidenceMessage(findings: Findings): MessageInitShape<typeof EvidenceSchema> {
  return {
    hard: Object.fromEntries(findings.hard),
    soft: Object.fromEntries([...findings.soft].map(([v, values]) => [v, { values }])),
  };
}

function engineValue() {
  return ENGINES.find((e) => e.name === state.engine)!.engine;
}

function marginalsOf(response: QueryResponse): Map<string, Marginal> {
  const marginals = new Map<string, Marginal>();
  for (const p of response.posteriors) marginals.set(p.variable, { probabilities: p.probabilities });
  for (const u of response.uncertainty) {
    const m = marginals.get(u.variable);
    if (m) Object.assign(m, { lower: u.lower, upper: u.upper });
  }
  return marginals;
}

function show(response: QueryResponse, findings: Findings): void {
  state.findings = findings;
  state.marginals = marginalsOf(response);
  state.logP = response.logPEvidence;
  graph.paint(state.marginals, findings);
  performance.mark("credence:painted");
  const lnP = el("log-p-evidence");
  lnP.dataset.logPEvidence = String(response.logPEvidence);
  lnP.textContent = response.logPEvidence.toFixed(4);
  const engine = response.stamp ? engineName(response.stamp.engine) : state.engine;
  const parts = [`engine: ${engine}`];
  if (response.engineReason) parts.push(response.engineReason);
  const s = response.sampling;
  if (s && s.nSamples > 0n) {
    parts.push(`${s.nSamples} samples, ESS ${Math.round(s.ess)}${s.rHat ? `, R-hat ${s.rHat.toFixed(3)}` : ""}`);
    parts.push(...s.warnings.map((w) => `warning: ${w}`));
  }
  el("engine-note").textContent = parts.join(" · ");
  renderFindings();
  writeLink();
}

async function openNetwork(name: string, link?: Link): Promise<void> {
  busy(true);
  try {
    closeSession();
    const response = await call(() => clients.networks.getNetwork({ name }));
    state.network = name;
    state.nodes = response.variables.map((v) => ({
      name: v.name,
      states: v.states,
      parents: v.parents,
      position: v.position ? { x: v.position.x, y: v.position.y } : undefined,
    }));
    state.byName = new Map(state.nodes.map((n) => [n.name, n]));
    state.selected = null;
    el<HTMLSelectElement>("network").value = name;
    const summary = response.summary;
    el("network-note").textContent = summary
      ? `${summary.nVariables} variables, ${summary.nArcs} arcs`
      : "";
    const names = el("variable-names");
    names.replaceChildren(
      ...state.nodes.map((n) => Object.assign(document.createElement("option"), { value: n.name })),
    );
    performance.mark("credence:network-received");
    graph.draw(state.nodes, response.summary?.contentHash ?? "");
    performance.mark("credence:drawn");
    renderSelection();
    el("answers").replaceChildren();
    const findings: Findings = {
      hard: new Map(link?.evidence ?? []),
      soft: new Map(link?.soft ?? []),
    };
    const wanted = (link?.timeline ?? []).filter((t) => state.byName.has(t));
    if (wanted.length) state.timelineTargets = wanted;
    if (link?.session) {
      await openSession(link.session, link.revision);
    } else if (!(await query(findings))) {
      await query({ hard: new Map(), soft: new Map() });
    }
    await listSessions();
  } catch (error) {
    say(messageOf(error));
  } finally {
    busy(false);
  }
}

/** Asks for posteriors under `findings`; on refusal keeps the previous view and says why. */
async function query(findings: Findings): Promise<boolean> {
  busy(true);
  try {
    const response = await call(() =>
      clients.inference.query({
        network: state.network,
        evidence: evidenceMessage(findings),
        engine: engineValue(),
      }),
    );
    show(response, findings);
    say("");
    return true;
  } catch (error) {
    say(messageOf(error));
    return false;
  } finally {
    busy(false);
  }
}

function copyFindings(findings: Findings): Findings {
  return { hard: new Map(findings.hard), soft: new Map(findings.soft) };
}

async function clickState(variable: string, value: string): Promise<void> {
  const observed = state.findings.hard.get(variable) === value;
  if (state.session) {
    const change: MessageInitShape<typeof EvidenceChangeSchema> = observed
      ? { change: { case: "retract", value: variable } }
      : { change: { case: "setHard", value: { variable, state: value } } };
    await sessionChange(change, observed ? `retract ${variable}` : `${variable} = ${value}`);
    return;
  }
  const next = copyFindings(state.findings);
  if (observed) next.hard.delete(variable);
  else next.hard.set(variable, value);
  await query(next);
}

async function refresh(): Promise<void> {
  if (state.session) await showSessionRevision(state.session.viewing);
  else await query(state.findings);
}

// ---------------------------------------------------------------------------------------------
// The side panel: findings, soft evidence for the selected variable

function select(variable: string | null): void {
  state.selected = variable;
  graph.select(variable);
  renderSelection();
}

function renderFindings(): void {
  const list = el("findings");
  const items: HTMLElement[] = [];
  const add = (variable: string, text: string) => {
    const li = document.createElement("li");
    const remove = Object.assign(document.createElement("button"), {
      type: "button",
      textContent: "×",
      title: `clear the finding on ${variable}`,
    });
    remove.setAttribute("aria-label", `clear the finding on ${variable}`);
    remove.addEventListener("click", () => void clearFinding(variable));
    const label = document.createElement("button");
    label.type = "button";
    label.className = "link";
    label.textContent = text;
    label.addEventListener("click", () => graph.reveal(variable));
    li.append(label, remove);
    items.push(li);
  };
  for (const [v, s] of state.findings.hard) add(v, `${v} = ${s}`);
  for (const [v, l] of state.findings.soft) add(v, `${v} ~ (${l.map((x) => x.toPrecision(3)).join(", ")})`);
  list.replaceChildren(...items);
  el("no-findings").hidden = items.length > 0;
}

async function clearFinding(variable: string): Promise<void> {
  if (state.session) {
    await sessionChange({ change: { case: "retract", value: variable } }, `retract ${variable}`);
    return;
  }
  const next = copyFindings(state.findings);
  next.hard.delete(variable);
  next.soft.delete(variable);
  await query(next);
}

function renderSelection(): void {
  const box = el("selection");
  const name = state.selected;
  el("selected-name").textContent = name ?? "none: click a node's title";
  const node = name ? state.byName.get(name) : undefined;
  box.hidden = !node;
  if (!node) return;
  const current = state.findings.soft.get(node.name);
  const inputs = node.states.map((s, i) => {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), {
      type: "number",
      min: "0",
      step: "any",
      value: String(current?.[i] ?? 1),
    });
    input.dataset.state = s;
    label.append(s, input);
    return label;
  });
  el("soft-inputs").replaceChildren(...inputs);
  for (const id of ["voi-target", "explain-target", "do-target"]) el(id).textContent = node.name;
}

async function applySoft(): Promise<void> {
  const node = state.selected ? state.byName.get(state.selected) : undefined;
  if (!node) return;
  const values = [...el("soft-inputs").querySelectorAll("input")].map((i) => Number(i.value));
  if (values.some((v) => !Number.isFinite(v) || v < 0) || values.every((v) => v === 0)) {
    say(`the likelihood of ${node.name} needs one non-negative number per state, not all zero`);
    return;
  }
  if (state.session) {
    await sessionChange(
      { change: { case: "setSoft", value: { variable: node.name, values } } },
      `likelihood on ${node.name}`,
    );
    return;
  }
  const next = copyFindings(state.findings);
  next.soft.set(node.name, values);
  await query(next);
}

// ---------------------------------------------------------------------------------------------
// Sessions: the analyst's story

async function listSessions(): Promise<void> {
  try {
    const sessions = [];
    let pageToken = "";
    do {
      const page = await call(() => clients.sessions.listSessions({ pageSize: 500, pageToken }));
      sessions.push(...page.sessions.filter((s) => s.network === state.network));
      pageToken = page.nextPageToken;
    } while (pageToken && sessions.length < 2000);
    const select = el<HTMLSelectElement>("session-list");
    const options = sessions.map((s) =>
      Object.assign(document.createElement("option"), {
        value: s.id,
        textContent: `${s.description || s.id} (revision ${s.revision})`,
      }),
    );
    select.replaceChildren(
      Object.assign(document.createElement("option"), { value: "", textContent: "(no session: scratch evidence)" }),
      ...options,
    );
    select.value = state.session?.id ?? "";
  } catch (error) {
    say(messageOf(error));
  }
}

function closeSession(): void {
  state.session?.watch?.abort();
  state.session = null;
  document.body.classList.remove("in-session", "past");
  el("session-info").textContent = "";
  el("timeline").replaceChildren();
  el("revisions").replaceChildren();
}

async function createSession(): Promise<void> {
  const description = el<HTMLInputElement>("session-description").value.trim();
  try {
    const session = await call(() =>
      clients.sessions.createSession({ network: state.network, description }),
    );
    el<HTMLInputElement>("session-description").value = "";
    await openSession(session.id);
    await listSessions();
  } catch (error) {
    say(messageOf(error));
  }
}

function applyChange(findings: Findings, change: EvidenceChange): void {
  const c = change.change;
  if (c.case === "setHard") {
    findings.hard.set(c.value.variable, c.value.state);
    findings.soft.delete(c.value.variable);
  } else if (c.case === "setSoft") {
    findings.soft.set(c.value.variable, c.value.values);
    findings.hard.delete(c.value.variable);
  } else if (c.case === "retract") {
    findings.hard.delete(c.value);
    findings.soft.delete(c.value);
  }
}

function findingsOf(evidence: WireEvidence | undefined): Findings {
  return {
    hard: new Map(Object.entries(evidence?.hard ?? {})),
    soft: new Map(Object.entries(evidence?.soft ?? {}).map(([v, l]) => [v, l.values])),
  };
}

function describeChange(change: EvidenceChange): string {
  const c = change.change;
  if (c.case === "setHard") return `${c.value.variable} = ${c.value.state}`;
  if (c.case === "setSoft") return `${c.value.variable} ~ likelihood`;
  if (c.case === "retract") return `retract ${c.value}`;
  return "";
}

async function openSession(id: string, revision?: number): Promise<void> {
  closeSession();
  try {
    const session = await call(() => clients.sessions.getSession({ id }));
    state.session = {
      id: session.id,
      description: session.description,
      networkHash: session.networkHash,
      revision: Number(session.revision),
      viewing: revision !== undefined && revision !== Number(session.revision) ? revision : null,
      watch: null,
      timeline: [],
      revisions: new Map(),
    };
    state.findings = findingsOf(session.evidence);
    document.body.classList.add("in-session");
    el<HTMLSelectElement>("session-list").value = session.id;
    if (state.timelineTargets.length === 0 || !state.byName.has(state.timelineTargets[0])) {
      state.timelineTargets = [defaultTarget()];
    }
    renderTimelineTargets();
    await loadHistory();
    await showSessionRevision(state.session.viewing);
    startWatch();
  } catch (error) {
    closeSession();
    say(messageOf(error));
  }
}

/** A sink of the graph (a variable no other depends on) reads best as the story's subject. */
function defaultTarget(): string {
  const hasChild = new Set(state.nodes.flatMap((n) => n.parents));
  return (state.nodes.find((n) => !hasChild.has(n.name)) ?? state.nodes[0]).name;
}

function renderSessionInfo(): void {
  const s = state.session;
  if (!s) return;
  const at = s.viewing === null ? `live, revision ${s.revision}` : `revision ${s.viewing} of ${s.revision} (read-only)`;
  const version = s.networkHash ? `, on network version ${s.networkHash.slice(0, 12)}` : "";
  el("session-info").textContent = `${s.description || s.id}: ${at}${version}`;
  document.body.classList.toggle("past", s.viewing !== null);
}

/** Every revision of a session, following the history's pages. */
async function fullHistory(id: string): Promise<Revision[]> {
  const revisions: Revision[] = [];
  let pageToken = "";
  do {
    const page = await call(() => clients.sessions.getHistory({ id, pageSize: 500, pageToken }));
    revisions.push(...page.revisions);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return revisions;
}

async function loadHistory(): Promise<void> {
  const s = state.session!;
  for (const r of await fullHistory(s.id)) s.revisions.set(Number(r.number), r);
  renderRevisions();
  await loadTimeline();
}

function renderRevisions(): void {
  const s = state.session!;
  const items = [...s.revisions.values()]
    .sort((a, b) => Number(b.number) - Number(a.number))
    .map((r) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.revision = String(r.number);
      const when = r.applied ? new Date(Number(r.applied.seconds) * 1000).toLocaleString() : "";
      button.textContent = `#${r.number} ${r.changes.map(describeChange).join("; ")}`;
      button.title = [r.source && `source: ${r.source}`, r.note && `note: ${r.note}`, when].filter(Boolean).join("\n");
      button.addEventListener("click", () => void viewRevision(Number(r.number)));
      const meta = document.createElement("small");
      meta.textContent = [r.source, r.note].filter(Boolean).join(" · ");
      li.append(button, meta);
      return li;
    });
  el("revisions").replaceChildren(...items);
}

async function loadTimeline(): Promise<void> {
  const s = state.session!;
  const targets = state.timelineTargets;
  const revisions = Array.from({ length: s.revision + 1 }, (_, r) => r).slice(-200);
  const points = await Promise.all(
    revisions.map(async (revision) => {
      const response = await call(() =>
        clients.sessions.getPosteriors({ id: s.id, targets, revision: BigInt(revision), atRevision: true }),
      );
      return point(revision, response);
    }),
  );
  s.timeline = points;
  renderTimeline();
}

function point(revision: number, response: QueryResponse): TimelinePoint {
  const r = state.session?.revisions.get(revision);
  return {
    revision,
    posteriors: new Map(response.posteriors.map((p) => [p.variable, p.probabilities])),
    label: r ? [r.changes.map(describeChange).join("; "), r.source, r.note].filter(Boolean).join(" · ") : "no evidence",
  };
}

function renderTimeline(): void {
  const s = state.session;
  if (!s) return;
  const targets = state.timelineTargets
    .map((t) => state.byName.get(t))
    .filter((n): n is NodeSpec => n !== undefined);
  drawTimeline(el("timeline"), s.timeline, targets, s.viewing ?? s.revision, (r) => void viewRevision(r));
}

function renderTimelineTargets(): void {
  el("timeline-targets").textContent = state.timelineTargets.join(", ");
}

async function addTimelineTarget(): Promise<void> {
  const name = state.selected;
  if (!name || !state.session) return;
  state.timelineTargets = state.timelineTargets.includes(name)
    ? state.timelineTargets.filter((t) => t !== name)
    : [...state.timelineTargets, name].slice(-4);
  if (state.timelineTargets.length === 0) state.timelineTargets = [name];
  renderTimelineTargets();
  writeLink();
  await loadTimeline();
}

async function viewRevision(revision: number): Promise<void> {
  const s = state.session;
  if (!s) return;
  s.viewing = revision === s.revision ? null : revision;
  await showSessionRevision(s.viewing);
  renderTimeline();
}

async function showSessionRevision(revision: number | null): Promise<void> {
  const s = state.session!;
  busy(true);
  try {
    const response = await call(() =>
      clients.sessions.getPosteriors({
        id: s.id,
        revision: BigInt(revision ?? 0),
        atRevision: revision !== null,
        engine: engineValue(),
      }),
    );
    const findings =
      revision === null
        ? state.findings
        : revision === 0
          ? { hard: new Map(), soft: new Map() }
          : findingsOf(s.revisions.get(revision)?.evidence);
    if (revision === null && s.viewing === null) state.findings = findings;
    show(response, findings);
    renderSessionInfo();
    say("");
  } catch (error) {
    say(messageOf(error));
  } finally {
    busy(false);
  }
}

function startWatch(): void {
  const s = state.session!;
  const abort = new AbortController();
  s.watch = abort;
  void (async () => {
    try {
      const stream = clients.sessions.watch(
        { id: s.id, targets: [] },
        { signal: abort.signal },
      );
      for await (const update of stream) {
        if (state.session !== s) return;
        await onWatch(s, update.revision, update.changes, update.posteriors);
      }
    } catch (error) {
      if (!isCancelled(error) && state.session === s) say(`the live view stopped: ${messageOf(error)}`);
    }
  })();
}

async function onWatch(
  s: SessionView,
  revisionNumber: bigint,
  changes: EvidenceChange[],
  posteriors: QueryResponse | undefined,
): Promise<void> {
  const revision = Number(revisionNumber);
  if (revision > s.revision) {
    s.revision = revision;
    for (const change of changes) applyChange(state.findings, change);
    if (!s.revisions.has(revision)) {
      // The Watch message carries the changes; the history carries source, note and time.
      for (const r of await fullHistory(s.id)) s.revisions.set(Number(r.number), r);
      renderRevisions();
    }
  }
  if (posteriors && s.viewing === null) {
    if (state.engine === "auto") show(posteriors, state.findings);
    else await showSessionRevision(null);
    renderSessionInfo();
  }
  if (posteriors && !s.timeline.some((p) => p.revision === revision)) {
    const targets = new Set(state.timelineTargets);
    const picked = { ...posteriors, posteriors: posteriors.posteriors.filter((p) => targets.has(p.variable)) };
    s.timeline.push(point(revision, picked as QueryResponse));
    renderTimeline();
  }
}

async function sessionChange(change: MessageInitShape<typeof EvidenceChangeSchema>, what: string): Promise<void> {
  const s = state.session!;
  if (s.viewing !== null) {
    say(`you are looking at revision ${s.viewing}: go back to the live revision to change the evidence`);
    return;
  }
  const answer = await askSource(what);
  if (!answer) return;
  busy(true);
  try {
    await call(() =>
      clients.sessions.updateEvidence({
        id: s.id,
        changes: [change],
        source: answer.source,
        note: answer.note,
        expectedRevision: BigInt(s.revision),
        checkRevision: true,
      }),
    );
    say("");
    // The Watch stream brings the new revision to this page as to every other watcher.
  } catch (error) {
    say(messageOf(error));
  } finally {
    busy(false);
  }
}

// ---------------------------------------------------------------------------------------------
// The questions

function context(): MessageInitShape<typeof EvidenceContextSchema> {
  const s = state.session;
  if (s) {
    return {
      source: {
        case: "session",
        value: { id: s.id, revision: BigInt(s.viewing ?? 0), atRevision: s.viewing !== null },
      },
    };
  }
  return {
    source: {
      case: "stateless",
      value: { network: state.network, evidence: evidenceMessage(state.findings) },
    },
  };
}

function table(headers: string[], rows: (string | number)[][]): HTMLTableElement {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of headers) head.appendChild(Object.assign(document.createElement("th"), { textContent: h }));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = String(cell);
  }
  return t;
}

async function answer(title: string, f: () => Promise<HTMLElement[]>): Promise<void> {
  const box = el("answers");
  busy(true);
  try {
    const parts = await call(f);
    const heading = Object.assign(document.createElement("h3"), { textContent: title });
    box.replaceChildren(heading, ...parts);
    say("");
  } catch (error) {
    say(messageOf(error));
  } finally {
    busy(false);
  }
}

function needTarget(): string | null {
  if (!state.selected) say("select a target first: click a node's title");
  return state.selected;
}

async function valueOfInformation(): Promise<void> {
  const target = needTarget();
  if (!target) return;
  await answer(`What to watch next for ${target}`, async () => {
    const r = await clients.analysis.valueOfInformation({ context: context(), target });
    const rows = r.ranking
      .slice(0, 15)
      .map((i) => [i.variable, i.mutualInformation.toFixed(4), r.entropy > 0 ? percent(i.mutualInformation / r.entropy) : "-"]);
    const note = Object.assign(document.createElement("p"), {
      textContent: `Entropy of ${target} now: ${r.entropy.toFixed(4)} nats. Observing a variable removes, on average, its mutual information.`,
    });
    return [note, table(["variable", "mutual information (nats)", "share of entropy"], rows)];
  });
}

async function explain(): Promise<void> {
  const target = needTarget();
  if (!target) return;
  await answer(`Why ${target} moved`, async () => {
    const r = await clients.analysis.explain({ context: context(), target });
    const rows = r.items.map((i) => [
      i.state ? `${i.variable} = ${i.state}` : `${i.variable} (likelihood)`,
      i.totalVariation.toFixed(4),
      i.posteriorWithout.map((p) => percent(p)).join(" / "),
      i.conflictContribution.toFixed(3),
    ]);
    const summary = Object.assign(document.createElement("p"), {
      textContent: `${target} (${r.states.join(" / ")}): prior ${r.prior.map(percent).join(" / ")}, now ${r.posterior.map(percent).join(" / ")}. Conflict ${r.conflict.toFixed(3)}${r.conflicting ? ": the findings pull against each other" : ""}.`,
    });
    return [summary, table(["finding", "impact (total variation)", `${target} without it`, "conflict share"], rows)];
  });
}

async function intervene(): Promise<void> {
  const target = needTarget();
  if (!target) return;
  const [variable, value] = el<HTMLInputElement>("do-assignment").value.split("=").map((x) => x.trim());
  if (!variable || !value) {
    say("write the intervention as VARIABLE=STATE");
    return;
  }
  await answer(`do(${variable} = ${value}) beside observing it, on ${target}`, async () => {
    const r = await clients.analysis.intervene({
      context: context(),
      interventions: [{ variable, state: value }],
      targets: [target],
    });
    const states = state.byName.get(target)?.states ?? [];
    const done = r.interventional[0]?.probabilities ?? [];
    const seen = r.observational[0]?.probabilities ?? [];
    const rows = states.map((s, i) => [s, percent(done[i] ?? NaN), seen.length ? percent(seen[i]) : "impossible"]);
    return [table(["state", `P(${target} | do(${variable}=${value}))`, `P(${target} | ${variable}=${value})`], rows)];
  });
}

async function mostProbable(): Promise<void> {
  await answer("Most probable explanation", async () => {
    const r = await clients.analysis.mostProbableExplanation({ context: context(), variables: [] });
    const p = Math.exp(r.logProbability - r.logPEvidence);
    const note = Object.assign(document.createElement("p"), {
      textContent: `The likeliest joint state of the unobserved variables, with probability ${p.toPrecision(3)} given the evidence.`,
    });
    return [note, table(["variable", "state"], r.assignment.map((a) => [a.variable, a.state]))];
  });
}

// ---------------------------------------------------------------------------------------------
// Start

function wire(): void {
  const engine = el<HTMLSelectElement>("engine");
  engine.replaceChildren(
    ...ENGINES.map((e) => Object.assign(document.createElement("option"), { value: e.name, textContent: e.label })),
  );
  engine.value = state.engine;
  engine.addEventListener("change", () => {
    state.engine = engine.value;
    void refresh();
  });
  el<HTMLSelectElement>("network").addEventListener("change", (e) =>
    void openNetwork((e.target as HTMLSelectElement).value),
  );
  el("find").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = el<HTMLInputElement>("find-input").value.trim();
    const match =
      state.byName.get(name)?.name ??
      state.nodes.find((n) => n.name.toLowerCase().includes(name.toLowerCase()))?.name;
    if (match && graph.reveal(match)) {
      select(match);
      say("");
    } else say(`no variable named '${name}' in ${state.network}`);
  });
  el("zoom-in").addEventListener("click", () => graph.zoom(1.25));
  el("zoom-out").addEventListener("click", () => graph.zoom(0.8));
  el("zoom-fit").addEventListener("click", () => graph.fit());
  el("soft-apply").addEventListener("click", () => void applySoft());
  el("session-list").addEventListener("change", (e) => {
    const id = (e.target as HTMLSelectElement).value;
    if (id) void openSession(id);
    else {
      closeSession();
      void query({ hard: new Map(), soft: new Map() });
    }
  });
  el("session-create").addEventListener("click", () => void createSession());
  el("back-to-live").addEventListener("click", () => void viewRevision(state.session?.revision ?? 0));
  el("timeline-add").addEventListener("click", () => void addTimelineTarget());
  el("ask-voi").addEventListener("click", () => void valueOfInformation());
  el("ask-explain").addEventListener("click", () => void explain());
  el("ask-do").addEventListener("click", () => void intervene());
  el("ask-mpe").addEventListener("click", () => void mostProbable());
  el("token-button").addEventListener("click", async () => {
    if ((await askToken("")) !== null) await boot();
  });
  window.addEventListener("resize", () => renderTimeline());
}

async function boot(): Promise<void> {
  const link = readLink();
  if (link.revision !== undefined && !Number.isInteger(link.revision)) {
    say(`revision '${new URLSearchParams(location.search).get("revision")}' in the link is not a number`);
    link.revision = undefined;
  }
  const engine = new URLSearchParams(location.search).get("engine");
  if (engine && ENGINES.some((e) => e.name === engine)) {
    state.engine = engine;
    el<HTMLSelectElement>("engine").value = engine;
  }
  let networks: NetworkSummary[];
  try {
    networks = (await call(() => clients.networks.listNetworks({}))).networks;
  } catch (error) {
    say(messageOf(error));
    return;
  }
  const select = el<HTMLSelectElement>("network");
  select.replaceChildren(
    ...networks.map((n) => Object.assign(document.createElement("option"), { value: n.name, textContent: n.name })),
  );
  if (networks.length === 0) {
    say("the server holds no network: start it with --networks DIR, or upload one");
    return;
  }
  const wanted = link.network ?? networks.find((n) => n.name.startsWith("sino"))?.name ?? networks[0].name;
  if (!networks.some((n) => n.name === wanted)) {
    say(`no network named '${wanted}' on this server`);
    await openNetwork(networks[0].name);
    return;
  }
  await openNetwork(wanted, link);
}

wire();
void boot();
