import type { Batch, ConnectionRow, Snapshot, StackView, TimelineEvent, TimelineKind } from "../src/console/events.js";
import { ago, bytes, clear, clock, h, setCells, setClass } from "./dom.js";
import { VirtualList } from "./vlist.js";
import "./style.css";

/** What the page keeps: bounded like the server's history, so a long session never grows the tab. */
const MAX_EVENTS = 5000;
const MAX_CLOSED = 200;
const ROW = 28;

const state = {
  connections: new Map<string, ConnectionRow>(),
  events: [] as TimelineEvent[], // oldest first
  stack: undefined as StackView | undefined,
  live: false,
  skipped: 0,
  routes: new Set<string>(),
  functions: new Set<string>(),
};

const filters = { kind: "", connection: "", route: "", fn: "", text: "" };
let paused = false;
let unseen = 0;

// ---- The page's own client connection -------------------------------------------------------

let client: WebSocket | undefined;
let clientId: string | undefined; // learnt from the connect event that matches it
let clientOpenedAt = 0;
const received: Array<{ at: number; text: string }> = [];

// ---- Layout ----------------------------------------------------------------------------------

const status = h("span", { class: "pill", id: "stream-status", role: "status" }, "connecting…");
const applyBadge = h("span", { class: "pill", id: "apply-status", title: "The last apply" }, "no apply yet");
const stackName = h("strong", { id: "stack-name" }, "chatctl dev");
const stageLinks = h("span", { class: "stages" });
const header = h(
  "header",
  {},
  h("span", { class: "logo", "aria-hidden": "true" }, "◆"),
  stackName,
  h("span", { class: "muted" }, "dev console"),
  stageLinks,
  h("span", { class: "grow" }),
  applyBadge,
  status,
);

const connCount = h("span", { class: "count" }, "0 open");
const connFilter = h("input", { type: "search", placeholder: "Filter: id, IP, query…", "aria-label": "Filter connections", id: "conn-filter" });
const connList = new VirtualList<ConnectionRow>({
  rowHeight: ROW,
  label: "Connections",
  empty: () =>
    state.connections.size > 0
      ? "No connection matches the filter."
      : `No connections yet. Connect a client to ${state.stack?.stages[0]?.url ?? "a stage"}, or open one from Drive below.`,
  key: (c) => c.connectionId,
  fill: fillConnection,
  onSelect: (c) => {
    target.value = c.connectionId;
    showConnection(c);
  },
  onActivate: (c) => setFilter("connection", c.connectionId),
  onKey: (e, c) => {
    if (e.key === "Delete" && !c.closed) void kick(c.connectionId);
  },
});
const connHead = h(
  "div",
  { class: "thead conn-cols", "aria-hidden": "true" },
  h("span", {}, "Connection"),
  h("span", {}, "Stage"),
  h("span", {}, "Opened"),
  h("span", {}, "Source IP"),
  h("span", {}, "Query"),
  h("span", { class: "num" }, "In"),
  h("span", { class: "num" }, "Out"),
);
const connPanel = h(
  "section",
  { class: "panel", id: "connections", "aria-labelledby": "conn-title" },
  h("div", { class: "panel-head" }, h("h2", { id: "conn-title" }, "Connections"), connCount, h("span", { class: "grow" }), connFilter),
  connHead,
  connList.el,
);

// Drive: the page's client, raw frames, @connections.
const stageSelect = h("select", { "aria-label": "Stage", id: "client-stage" });
const query = h("input", { type: "text", placeholder: "?name=ada&token=…", "aria-label": "Query string", id: "client-query", spellcheck: "false" });
const connectBtn = h("button", { type: "button", id: "client-connect", onclick: () => toggleClient() }, "Connect");
const clientState = h("span", { class: "muted", id: "client-state" }, "not connected");
const frame = h("textarea", {
  id: "frame",
  rows: 3,
  spellcheck: "false",
  "aria-label": "Frame to send",
  placeholder: '{"action":"sendmessage","message":"hello"}',
});
const sendBtn = h("button", { type: "button", id: "client-send", onclick: () => sendFromClient(frame.value) }, "Send from my client");
const target = h("input", { type: "text", placeholder: "connection id (select one in the list)", "aria-label": "Target connection", id: "target", spellcheck: "false" });
const postBtn = h("button", { type: "button", id: "post", onclick: () => void post(target.value.trim(), frame.value) }, "Post via @connections");
const kickBtn = h("button", { type: "button", class: "danger", id: "kick", onclick: () => void kick(target.value.trim()) }, "Disconnect");
const driveNote = h("div", { class: "note", id: "drive-note", role: "status" });
const inbox = h("ol", { class: "inbox", id: "inbox", "aria-label": "Frames my client received" });
const drivePanel = h(
  "section",
  { class: "panel", id: "drive", "aria-labelledby": "drive-title" },
  h("div", { class: "panel-head" }, h("h2", { id: "drive-title" }, "Drive")),
  h("div", { class: "row" }, h("label", { for: "client-query" }, "My client"), stageSelect, query, connectBtn),
  h("div", { class: "row" }, h("label", {}, ""), clientState),
  h("div", { class: "row" }, frame),
  h("div", { class: "row" }, sendBtn, h("span", { class: "muted small" }, "Ctrl+Enter")),
  h("div", { class: "row" }, h("label", { for: "target" }, "To"), target, postBtn, kickBtn),
  driveNote,
  h("div", { class: "sub" }, "Received by my client"),
  inbox,
);

// Timeline.
const kindSelect = select("Kind", "kind", [
  ["", "All kinds"],
  ["connect", "Connects"],
  ["refused", "Refusals"],
  ["disconnect", "Disconnects"],
  ["in", "Messages in"],
  ["out", "@connections"],
  ["log", "Logs"],
  ["error", "Errors"],
  ["apply", "Applies"],
]);
const connSelectFilter = h("input", { type: "search", placeholder: "connection", "aria-label": "Filter by connection", id: "f-connection", list: "conn-ids" });
const connIds = h("datalist", { id: "conn-ids" });
const routeSelect = select("Route", "route", [["", "All routes"]]);
const fnSelect = select("Function", "fn", [["", "All functions"]]);
const textFilter = h("input", { type: "search", placeholder: "Search  /", "aria-label": "Search the timeline", id: "f-text" });
const pauseBtn = h("button", { type: "button", id: "pause", "aria-pressed": "false", onclick: () => togglePause() }, "Pause");
const eventCount = h("span", { class: "count" }, "");
const timeline = new VirtualList<TimelineEvent>({
  rowHeight: ROW,
  label: "Timeline",
  empty: () => (state.events.length > 0 ? "Nothing matches these filters." : "Nothing has happened yet."),
  key: (e) => String(e.seq),
  fill: fillEvent,
  onSelect: (e) => showEvent(e),
  onActivate: (e) => resend(e),
});
const timelineBody = h("div", { class: "tab-body", id: "timeline-body" }, timeline.el);
const stackBody = h("div", { class: "tab-body stack", id: "stack-body", hidden: true });
const tabTimeline = h("button", { type: "button", role: "tab", class: "tab", "aria-selected": "true", onclick: () => tab("timeline") }, "Timeline");
const tabStack = h("button", { type: "button", role: "tab", class: "tab", "aria-selected": "false", onclick: () => tab("stack") }, "Stack");
const filterBar = h("div", { class: "filters" }, kindSelect, connSelectFilter, connIds, routeSelect, fnSelect, textFilter, pauseBtn);
const timelinePanel = h(
  "section",
  { class: "panel", id: "timeline", "aria-label": "Timeline and stack" },
  h("div", { class: "panel-head" }, h("div", { role: "tablist", class: "tabs" }, tabTimeline, tabStack), eventCount),
  filterBar,
  timelineBody,
  stackBody,
);

const detail = h("section", { class: "panel detail", id: "detail", "aria-live": "polite", "aria-label": "Details" }, h("p", { class: "muted" }, "Select a connection or an event to see it here. Enter on an event re-sends it."));

const footer = h(
  "footer",
  {},
  h("kbd", {}, "/"),
  " search · ",
  h("kbd", {}, "↑"),
  h("kbd", {}, "↓"),
  " move · ",
  h("kbd", {}, "Enter"),
  " on a connection: filter by it, on a message: re-send · ",
  h("kbd", {}, "Del"),
  " disconnect · ",
  h("kbd", {}, "Ctrl+Enter"),
  " send",
);

document.body.append(
  header,
  h("main", {}, h("div", { class: "col left" }, connPanel, drivePanel), h("div", { class: "col right" }, timelinePanel, detail)),
  footer,
);

// ---- Stream ----------------------------------------------------------------------------------

const source = new EventSource("/@console/events");
source.addEventListener("open", () => setLive(true));
source.addEventListener("error", () => setLive(false));
source.addEventListener("snapshot", (m) => applySnapshot(JSON.parse((m as MessageEvent<string>).data) as Snapshot));
source.addEventListener("batch", (m) => applyBatch(JSON.parse((m as MessageEvent<string>).data) as Batch));

function setLive(live: boolean): void {
  state.live = live;
  status.textContent = live ? "live" : "reconnecting…";
  status.className = `pill ${live ? "ok" : "warn"}`;
}

function applySnapshot(s: Snapshot): void {
  state.connections.clear();
  for (const c of s.connections) state.connections.set(c.connectionId, c);
  state.events = [];
  state.routes.clear();
  state.functions.clear();
  state.skipped = s.dropped;
  for (const e of s.events) addEvent(e);
  if (s.stack) setStack(s.stack);
  setLive(true);
  dirty(true);
}

function applyBatch(b: Batch): void {
  state.skipped += b.skipped;
  for (const e of b.events) {
    addEvent(e);
    applyToConnections(e);
  }
  if (b.stack) setStack(b.stack);
  if (paused) unseen += b.events.length;
  dirty(false, b.events.length);
}

/** Kept in the order things happened: a message is recorded when its function returns, after the logs and posts it caused. */
function addEvent(e: TimelineEvent): void {
  const list = state.events;
  let at = list.length;
  while (at > 0 && list[at - 1]!.at > e.at) at--; // nearly always 0 or a few steps
  if (at === list.length) list.push(e);
  else list.splice(at, 0, e);
  // Trimmed in slices: shifting 5,000 entries for every event would cost more than all the rest.
  if (list.length > MAX_EVENTS + 500) state.skipped += list.splice(0, list.length - MAX_EVENTS).length;
  if (e.kind === "in" && e.routeKey) state.routes.add(e.routeKey);
  if ((e.kind === "in" || e.kind === "out" || e.kind === "log" || e.kind === "connect") && e.function) state.functions.add(e.function);
  if (client && clientId === undefined && e.kind === "connect" && e.status === 200 && e.at >= clientOpenedAt - 2000 && e.query === clientQuery()) {
    clientId = e.connectionId;
    clientState.textContent = `connected as ${e.connectionId}`;
  }
}

function applyToConnections(e: TimelineEvent): void {
  if (e.kind === "connect" || e.kind === "disconnect") connectionsChanged = true;
  if (e.kind === "connect" && e.status === 200) {
    state.connections.set(e.connectionId, {
      connectionId: e.connectionId,
      apiId: e.apiId,
      stage: e.stage,
      connectedAt: e.at,
      sourceIp: e.sourceIp,
      userAgent: e.userAgent,
      query: e.query,
      authorizer: undefined,
      messagesIn: 0,
      messagesOut: 0,
      closed: undefined,
    });
  } else if (e.kind === "disconnect") {
    const c = state.connections.get(e.connectionId);
    if (c) c.closed = { at: e.at, code: e.code, reason: e.reason };
  } else if (e.kind === "in") {
    const c = state.connections.get(e.connectionId);
    if (c) c.messagesIn++;
  } else if (e.kind === "out" && e.method === "POST" && e.status === 200) {
    const c = state.connections.get(e.connectionId);
    if (c) c.messagesOut++;
  }
}

// ---- Rendering (batched: at most once a frame) -----------------------------------------------

let renderQueued = false;
let fullRender = false;
let added = 0;

function dirty(full: boolean, newEvents = 0): void {
  fullRender ||= full;
  added += newEvents;
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render(fullRender, added);
    fullRender = false;
    added = 0;
  });
}

let shownConnections: ConnectionRow[] = [];
let shownEvents: TimelineEvent[] = [];

let connectionsChanged = true;
let openCount = 0;
let closedCount = 0;

function render(full: boolean, newEvents: number): void {
  if (full || connectionsChanged) renderConnections();
  else connList.refresh(); // only counts changed: redraw the rows in view
  connectionsChanged = false;
  if (full || newEvents > 0) updateIdOptions();
  renderEvents(full);
}

/** Open ones newest first, then the closed ones (bounded), faded. */
function renderConnections(): void {
  const openRows: ConnectionRow[] = [];
  const closedRows: ConnectionRow[] = [];
  for (const c of state.connections.values()) (c.closed ? closedRows : openRows).push(c);
  if (closedRows.length > MAX_CLOSED) {
    closedRows.sort((a, b) => a.closed!.at - b.closed!.at);
    for (const c of closedRows.splice(0, closedRows.length - MAX_CLOSED)) state.connections.delete(c.connectionId);
  }
  openRows.sort((a, b) => b.connectedAt - a.connectedAt);
  closedRows.sort((a, b) => b.closed!.at - a.closed!.at);
  const needle = connFilter.value.trim().toLowerCase();
  const all = [...openRows, ...closedRows];
  shownConnections = needle ? all.filter((c) => `${c.connectionId} ${c.sourceIp} ${c.query} ${c.stage}`.toLowerCase().includes(needle)) : all;
  connList.set(shownConnections);
  openCount = openRows.length;
  closedCount = closedRows.length;
  connCount.textContent = `${openCount} open${closedCount ? ` · ${closedCount} closed` : ""}`;
}

function renderEvents(full: boolean): void {
  if (!paused || full) {
    const topSeq = shownEvents.reduce((m, e, i) => (i < 50 && e.seq > m ? e.seq : m), 0);
    shownEvents = [];
    for (let i = state.events.length - 1; i >= 0; i--) {
      const e = state.events[i]!;
      if (matches(e)) shownEvents.push(e);
    }
    let above = 0; // new rows above the view: a reader scrolled down is not pushed along
    while (above < shownEvents.length && shownEvents[above]!.seq > topSeq) above++;
    timeline.set(shownEvents, full ? 0 : above);
  }
  const hidden = state.events.length - shownEvents.length;
  eventCount.textContent =
    `${shownEvents.length} event${shownEvents.length === 1 ? "" : "s"}` +
    (hidden > 0 ? ` (${hidden} filtered out)` : "") +
    (state.skipped > 0 ? ` · ${state.skipped} older not kept` : "") +
    (paused && unseen > 0 ? ` · ${unseen} new while paused` : "");
  const shown = detailOf === undefined ? undefined : state.connections.get(detailOf);
  if (shown) showConnection(shown);
  updateOptions(routeSelect, state.routes, "All routes");
  updateOptions(fnSelect, state.functions, "All functions");
}

let idOptionsAt = 0;
function updateIdOptions(): void {
  const now = Date.now();
  if (now - idOptionsAt < 2000) return; // a datalist of 1,000 ids is not rebuilt every frame
  idOptionsAt = now;
  connIds.replaceChildren(...shownConnections.filter((c) => !c.closed).slice(0, 500).map((c) => h("option", { value: c.connectionId })));
}

function matches(e: TimelineEvent): boolean {
  if (filters.kind) {
    if (filters.kind === "refused") {
      if (e.kind !== "connect" || e.status === 200) return false;
    } else if (e.kind !== filters.kind) return false;
  }
  if (filters.connection && !("connectionId" in e && e.connectionId.startsWith(filters.connection))) return false;
  if (filters.route && !(e.kind === "in" && e.routeKey === filters.route)) return false;
  if (filters.fn && !("function" in e && e.function === filters.fn)) return false;
  if (filters.text) return summary(e).toLowerCase().includes(filters.text) || ("connectionId" in e && e.connectionId.toLowerCase().includes(filters.text));
  return true;
}

function fillConnection(row: HTMLElement, c: ConnectionRow): void {
  setClass(row, `vrow conn-cols${c.closed ? " closed" : ""}${c.connectionId === clientId ? " mine" : ""}`);
  row.title = c.connectionId === clientId ? "my client (opened from this page)" : c.closed ? `closed ${c.closed.code}${c.closed.reason ? ` ${c.closed.reason}` : ""}` : c.userAgent ?? "";
  setCells(row, [
    ["mono id", c.connectionId],
    ["", c.stage],
    ["muted", clock(c.connectedAt).slice(0, 8)],
    ["mono", c.sourceIp],
    c.closed ? ["mono close-code", `closed ${c.closed.code}${c.closed.reason ? ` · ${c.closed.reason}` : ""}`] : ["mono query", c.query || "—"],
    ["num", String(c.messagesIn)],
    ["num", String(c.messagesOut)],
  ]);
}

const KIND_LABEL: Record<TimelineKind, string> = { connect: "connect", disconnect: "disconnect", in: "in", out: "out", log: "log", error: "error", apply: "apply" };

function kindOf(e: TimelineEvent): { label: string; cls: string } {
  if (e.kind === "connect" && e.status !== 200) return { label: `refused ${e.status}`, cls: "refused" };
  if (e.kind === "in" && e.outcome !== "ok") return { label: "in", cls: "in failed" };
  if (e.kind === "out" && e.status !== 200 && e.status !== 204) return { label: `out ${e.status}`, cls: "out failed" };
  if (e.kind === "out" && e.method === "DELETE") return { label: "kick", cls: "out" };
  if (e.kind === "apply") return { label: "apply", cls: e.ok ? "apply" : "apply failed" };
  return { label: KIND_LABEL[e.kind], cls: e.kind };
}

function summary(e: TimelineEvent): string {
  switch (e.kind) {
    case "connect":
      return `${e.stage}${e.query} from ${e.sourceIp}${e.function ? ` · ${e.function}` : ""}`;
    case "disconnect":
      return `code ${e.code}${e.reason ? ` · ${e.reason}` : ""}`;
    case "in":
      return `${e.routeKey ?? "(no route)"} → ${e.function ?? "—"} · ${e.preview}`;
    case "out":
      return `${e.method} ${e.method === "POST" ? bytes(e.bytes) : ""} from ${e.function ?? "an unsigned caller"}${e.preview ? ` · ${e.preview}` : ""}`;
    case "log":
      return `${e.function}${e.level && e.level !== "INFO" ? ` ${e.level}` : ""} · ${e.message}`;
    case "error":
      return e.message;
    case "apply":
      return e.summary;
  }
}

function figure(e: TimelineEvent): string {
  if ((e.kind === "in" || e.kind === "connect") && e.durationMs !== undefined) return `${e.durationMs.toFixed(e.durationMs < 10 ? 1 : 0)} ms`;
  if (e.kind === "in" && e.outcome !== "ok") return e.outcome;
  return "";
}

function fillEvent(row: HTMLElement, e: TimelineEvent): void {
  const k = kindOf(e);
  setClass(row, "vrow ev-cols");
  setCells(row, [
    ["muted mono", clock(e.at)],
    [`badge ${k.cls}`, k.label],
    ["mono id", "connectionId" in e ? e.connectionId : ""],
    ["text", summary(e)],
    ["num muted", figure(e)],
  ]);
}

function setStack(s: StackView): void {
  state.stack = s;
  stackName.textContent = s.stack || "chatctl dev";
  document.title = `${s.stack} · chatctl dev console`;
  clear(stageLinks);
  const current = stageSelect.value;
  clear(stageSelect);
  for (const st of s.stages) {
    stageLinks.append(h("code", { class: "url", title: "WebSocket URL" }, st.url));
    stageSelect.append(h("option", { value: st.url }, st.stage));
  }
  if (current) stageSelect.value = current;
  if (s.lastApply) {
    applyBadge.textContent = `${s.lastApply.ok ? "applied" : "apply failed"} · ${clock(s.lastApply.at)}`;
    applyBadge.className = `pill ${s.lastApply.ok ? "ok" : "bad"}`;
    applyBadge.title = s.lastApply.summary;
  }
  renderStack(s);
}

function renderStack(s: StackView): void {
  clear(stackBody);
  stackBody.append(
    h("div", { class: `apply-outcome ${s.lastApply?.ok === false ? "bad" : "ok"}` }, s.lastApply ? `${clock(s.lastApply.at)} · ${s.lastApply.summary}` : "Not applied yet."),
    h("h3", {}, "Stages"),
    h("ul", { class: "plain" }, ...s.stages.map((st) => h("li", {}, h("strong", {}, st.stage), " ", h("code", {}, st.url)))),
    h("h3", {}, `Resources (${s.resources.length}) · ${s.region}`),
    h(
      "table",
      { class: "resources" },
      h("thead", {}, h("tr", {}, h("th", {}, "Kind"), h("th", {}, "Name"), h("th", {}, "State"))),
      h("tbody", {}, ...s.resources.map((r) => h("tr", {}, h("td", { class: "muted" }, r.kind), h("td", { class: "mono" }, r.name), h("td", { class: `state ${r.state}` }, r.state)))),
    ),
  );
}

// ---- Details ---------------------------------------------------------------------------------

function facts(rows: Array<[string, string | Node | undefined]>): HTMLElement {
  return h("dl", {}, ...rows.filter(([, v]) => v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v!)]));
}

/** What the details pane shows; a connection's facts are redrawn as they change (counts, close). */
let detailOf: string | undefined;

function showConnection(c: ConnectionRow): void {
  detailOf = c.connectionId;
  const full = state.connections.get(c.connectionId) ?? c;
  detail.replaceChildren(
    h("div", { class: "detail-head" }, h("h2", {}, "Connection ", h("code", {}, full.connectionId)), h("span", { class: "grow" }), full.closed ? null : h("button", { type: "button", class: "danger", onclick: () => void kick(full.connectionId) }, "Disconnect"), h("button", { type: "button", onclick: () => setFilter("connection", full.connectionId) }, "Show its events")),
    facts([
      ["Stage", full.stage],
      ["Connected", `${clock(full.connectedAt)} (${ago(full.connectedAt, Date.now())})`],
      ["Source IP", full.sourceIp],
      ["User agent", full.userAgent],
      ["Query", full.query || "—"],
      ["Principal", full.authorizer?.principalId],
      ["Authorizer", full.authorizer?.context ? JSON.stringify(full.authorizer.context) : undefined],
      ["Messages", `${full.messagesIn} in · ${full.messagesOut} out`],
      ["Closed", full.closed ? `${clock(full.closed.at)} · code ${full.closed.code}${full.closed.reason ? ` · ${full.closed.reason}` : ""}` : undefined],
    ]),
  );
}

function showEvent(e: TimelineEvent): void {
  detailOf = undefined;
  const k = kindOf(e);
  const buttons: Node[] = [];
  if (e.kind === "in") buttons.push(h("button", { type: "button", onclick: () => resend(e) }, client ? "Re-send from my client" : "Re-send (connect first)"));
  if (e.kind === "out" && e.method === "POST") buttons.push(h("button", { type: "button", onclick: () => resend(e) }, "Post it again"));
  if (e.kind === "in" || e.kind === "out") buttons.push(h("button", { type: "button", onclick: () => (frame.value = e.preview) }, "Copy to frame"));
  if ("connectionId" in e && e.connectionId) buttons.push(h("button", { type: "button", onclick: () => setFilter("connection", e.connectionId) }, "This connection only"));
  const body = e.kind === "in" || e.kind === "out" ? e.preview : e.kind === "log" ? e.message : e.kind === "error" ? e.message : e.kind === "apply" ? e.summary : "";
  detail.replaceChildren(
    h("div", { class: "detail-head" }, h("span", { class: `badge ${k.cls}` }, k.label), h("span", { class: "muted" }, clock(e.at)), h("span", { class: "grow" }), ...buttons),
    facts([
      ["Connection", "connectionId" in e ? e.connectionId : undefined],
      ["Route", e.kind === "in" ? e.routeKey ?? "none matched" : undefined],
      ["Function", "function" in e ? e.function : undefined],
      ["Duration", (e.kind === "in" || e.kind === "connect") && e.durationMs !== undefined ? `${e.durationMs.toFixed(1)} ms` : undefined],
      ["Outcome", e.kind === "in" ? e.outcome : undefined],
      ["Status", e.kind === "connect" || e.kind === "out" ? String(e.status) : undefined],
      ["Close", e.kind === "disconnect" ? `${e.code}${e.reason ? ` · ${e.reason}` : ""}` : undefined],
      ["Size", e.kind === "in" || e.kind === "out" ? bytes(e.bytes) : undefined],
      ["Query", e.kind === "connect" ? e.query || "—" : undefined],
    ]),
    ...(body ? [h("pre", {}, pretty(body))] : []),
  );
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// ---- Driving ---------------------------------------------------------------------------------

function clientQuery(): string {
  const q = query.value.trim();
  return q === "" || q === "?" ? "" : q.startsWith("?") ? q : `?${q}`;
}

function toggleClient(): void {
  if (client) {
    client.close(1000, "closed from the console");
    return;
  }
  const base = stageSelect.value;
  if (!base) return note("No stage yet: the stack is still being applied.", true);
  // The page is served from the same port as the stages; keep the host the page was opened on.
  const url = new URL(base);
  url.host = location.host;
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${url.toString().replace(/\?.*$/, "")}${clientQuery()}`);
  client = ws;
  clientId = undefined;
  clientOpenedAt = Date.now();
  connectBtn.textContent = "Close";
  clientState.textContent = "connecting…";
  ws.addEventListener("open", () => {
    if (clientId === undefined) clientState.textContent = "connected";
    matchClient();
  });
  ws.addEventListener("message", (m) => {
    received.unshift({ at: Date.now(), text: typeof m.data === "string" ? m.data : "(binary)" });
    received.splice(50);
    inbox.replaceChildren(...received.map((r) => h("li", {}, h("span", { class: "muted mono" }, clock(r.at)), " ", h("code", {}, r.text))));
  });
  ws.addEventListener("close", (c) => {
    if (client !== ws) return;
    client = undefined;
    clientState.textContent = c.code === 1006 && clientId === undefined ? "refused (see the timeline)" : `closed ${c.code}${c.reason ? ` · ${c.reason}` : ""}`;
    connectBtn.textContent = "Connect";
    dirty(false);
  });
}

/** The connect event may have arrived before the socket's open. */
function matchClient(): void {
  if (clientId !== undefined) return;
  for (let i = state.events.length - 1; i >= 0; i--) {
    const e = state.events[i]!;
    if (e.at < clientOpenedAt - 2000) break;
    if (e.kind === "connect" && e.status === 200 && e.query === clientQuery()) {
      clientId = e.connectionId;
      clientState.textContent = `connected as ${e.connectionId}`;
      dirty(false);
      return;
    }
  }
}

function sendFromClient(text: string): void {
  if (!client || client.readyState !== WebSocket.OPEN) return note("Connect your client first.", true);
  client.send(text);
  note(`Sent ${bytes(new TextEncoder().encode(text).length)} from my client.`);
}

function connectionsUrl(id: string): string | undefined {
  const c = state.connections.get(id);
  if (c?.apiId) return `/${encodeURIComponent(c.apiId)}/${encodeURIComponent(c.stage)}/@connections/${encodeURIComponent(id)}`;
  const stage = c?.stage ?? state.stack?.stages[0]?.stage;
  return stage ? `/${encodeURIComponent(stage)}/@connections/${encodeURIComponent(id)}` : undefined;
}

async function post(id: string, text: string): Promise<void> {
  if (!id) return note("Pick a connection first (select it in the list).", true);
  const url = connectionsUrl(id);
  if (!url) return note("No stage yet.", true);
  const res = await fetch(url, { method: "POST", body: text, headers: { "x-chatctl-caller": "console" } });
  note(res.ok ? `Posted to ${id}: ${res.status}` : `Post to ${id}: ${res.status} ${res.status === 410 ? "Gone (the connection is closed)" : res.statusText}`, !res.ok);
}

async function kick(id: string): Promise<void> {
  if (!id) return note("Pick a connection first (select it in the list).", true);
  const url = connectionsUrl(id);
  if (!url) return note("No stage yet.", true);
  const res = await fetch(url, { method: "DELETE", headers: { "x-chatctl-caller": "console" } });
  note(res.ok ? `Disconnected ${id}.` : `Disconnect ${id}: ${res.status} ${res.status === 410 ? "Gone (already closed)" : res.statusText}`, !res.ok);
}

function resend(e: TimelineEvent): void {
  if (e.kind === "in") sendFromClient(e.preview);
  else if (e.kind === "out" && e.method === "POST") void post(e.connectionId, e.preview);
}

function note(text: string, bad = false): void {
  driveNote.textContent = text;
  driveNote.className = `note ${bad ? "bad" : "ok"}`;
}

// ---- Filters, tabs, keys ---------------------------------------------------------------------

function select(label: string, key: keyof typeof filters, options: Array<[string, string]>): HTMLSelectElement {
  const el = h("select", { "aria-label": label, id: `f-${key}` }, ...options.map(([v, t]) => h("option", { value: v }, t)));
  el.addEventListener("change", () => setFilter(key, el.value));
  return el;
}

function updateOptions(el: HTMLSelectElement, values: Set<string>, all: string): void {
  if (el.options.length === values.size + 1) return;
  const current = el.value;
  el.replaceChildren(h("option", { value: "" }, all), ...[...values].sort().map((v) => h("option", { value: v }, v)));
  el.value = current;
}

function setFilter(key: keyof typeof filters, value: string): void {
  filters[key] = key === "text" ? value.trim().toLowerCase() : value.trim();
  if (key === "connection") connSelectFilter.value = value;
  tab("timeline");
  dirty(true);
}

connSelectFilter.addEventListener("input", () => setFilter("connection", connSelectFilter.value));
textFilter.addEventListener("input", () => setFilter("text", textFilter.value));
connFilter.addEventListener("input", () => {
  connectionsChanged = true;
  dirty(false);
});
frame.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    if (e.shiftKey && target.value.trim()) void post(target.value.trim(), frame.value);
    else sendFromClient(frame.value);
  }
});
query.addEventListener("keydown", (e) => {
  if (e.key === "Enter") toggleClient();
});

function togglePause(): void {
  paused = !paused;
  unseen = 0;
  pauseBtn.textContent = paused ? "Resume" : "Pause";
  pauseBtn.setAttribute("aria-pressed", String(paused));
  dirty(true);
}

function tab(which: "timeline" | "stack"): void {
  const t = which === "timeline";
  tabTimeline.setAttribute("aria-selected", String(t));
  tabStack.setAttribute("aria-selected", String(!t));
  timelineBody.hidden = !t;
  filterBar.hidden = !t;
  stackBody.hidden = t;
  if (t) timeline.refresh();
}

document.addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement;
  if (typing) {
    if (e.key === "Escape") (e.target as HTMLElement).blur();
    return;
  }
  if (e.key === "/") {
    e.preventDefault();
    textFilter.focus();
  }
});

// Connected-at "ago" and counts stay fresh without a message arriving.
setInterval(() => connList.refresh(), 5000);
