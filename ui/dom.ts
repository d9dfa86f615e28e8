type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** A tiny element builder: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "class") el.className = String(v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** 14:03:27.512, local time: what a person reading a log expects. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
}

export function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

/** Writes a row's cells in place: lists redrawn ten times a second should not build new nodes each time. */
export function setCells(row: HTMLElement, cells: ReadonlyArray<readonly [cls: string, text: string]>): void {
  while (row.children.length > cells.length) row.lastElementChild!.remove();
  for (let i = 0; i < cells.length; i++) {
    let el = row.children[i] as HTMLElement | undefined;
    if (!el) {
      el = document.createElement("span");
      row.append(el);
    }
    const [cls, text] = cells[i]!;
    if (el.className !== cls) el.className = cls;
    if (el.textContent !== text) el.textContent = text;
  }
}

export function setClass(el: HTMLElement, cls: string): void {
  if (el.className !== cls) el.className = cls;
}
