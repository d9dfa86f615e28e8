/**
 * A list that only builds the rows in view: thousands of connections or events
 * cost the DOM some forty rows. Rows have one fixed height; `fill` writes an
 * item into a pooled row element.
 */
export interface VirtualListOptions<T> {
  readonly rowHeight: number;
  readonly label: string;
  /** Shown while the list is empty. */
  readonly empty: () => string;
  readonly fill: (row: HTMLElement, item: T, selected: boolean) => void;
  readonly key: (item: T) => string;
  readonly onSelect?: (item: T) => void;
  readonly onActivate?: (item: T) => void;
  readonly onKey?: (e: KeyboardEvent, item: T) => void;
}

export class VirtualList<T> {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly emptyNote: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private items: readonly T[] = [];
  private selectedKey: string | undefined;
  private scheduled = false;

  constructor(private readonly opts: VirtualListOptions<T>) {
    this.el = document.createElement("div");
    this.el.className = "vlist";
    this.el.tabIndex = 0;
    this.el.setAttribute("role", "listbox");
    this.el.setAttribute("aria-label", opts.label);
    this.spacer = document.createElement("div");
    this.spacer.className = "vspacer";
    this.emptyNote = document.createElement("p");
    this.emptyNote.className = "empty";
    this.el.append(this.spacer, this.emptyNote);
    this.el.addEventListener("scroll", () => this.schedule());
    this.el.addEventListener("keydown", (e) => this.key(e));
    this.el.addEventListener("click", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>(".vrow");
      const item = row ? this.items[Number(row.dataset.index)] : undefined;
      if (item !== undefined) this.select(item, true);
    });
    this.el.addEventListener("dblclick", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>(".vrow");
      const item = row ? this.items[Number(row.dataset.index)] : undefined;
      if (item !== undefined) this.opts.onActivate?.(item);
    });
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  get selected(): T | undefined {
    return this.selectedKey === undefined ? undefined : this.items.find((i) => this.opts.key(i) === this.selectedKey);
  }

  /** New contents; `shiftedBy` rows were added above the view (kept still rather than pushed down). */
  set(items: readonly T[], shiftedBy = 0): void {
    this.items = items;
    if (shiftedBy > 0 && this.el.scrollTop > 0) this.el.scrollTop += shiftedBy * this.opts.rowHeight;
    this.schedule();
  }

  select(item: T, notify: boolean): void {
    this.selectedKey = this.opts.key(item);
    this.schedule();
    if (notify) this.opts.onSelect?.(item);
  }

  refresh(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private render(): void {
    const { rowHeight } = this.opts;
    this.spacer.style.height = `${this.items.length * rowHeight}px`;
    this.emptyNote.hidden = this.items.length > 0;
    if (this.items.length === 0) this.emptyNote.textContent = this.opts.empty();
    const first = Math.max(0, Math.floor(this.el.scrollTop / rowHeight) - 5);
    const count = Math.min(this.items.length - first, Math.ceil(this.el.clientHeight / rowHeight) + 10);
    while (this.pool.length < count) {
      const row = document.createElement("div");
      row.className = "vrow";
      row.setAttribute("role", "option");
      row.style.height = `${rowHeight}px`;
      this.pool.push(row);
      this.el.append(row);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i]!;
      const item = i < count ? this.items[first + i] : undefined;
      if (item === undefined) {
        if (!row.hidden) {
          row.hidden = true;
          row.replaceChildren(); // a spare row holds nothing stale (for search in page, or a screen reader)
        }
        continue;
      }
      row.hidden = false;
      row.dataset.index = String(first + i);
      const y = `translateY(${(first + i) * rowHeight}px)`;
      if (row.style.transform !== y) row.style.transform = y;
      const selected = this.opts.key(item) === this.selectedKey;
      this.opts.fill(row, item, selected);
      row.classList.toggle("selected", selected);
      if (row.getAttribute("aria-selected") !== String(selected)) row.setAttribute("aria-selected", String(selected));
    }
  }

  private key(e: KeyboardEvent): void {
    if (this.items.length === 0) return;
    const at = this.selectedKey === undefined ? -1 : this.items.findIndex((i) => this.opts.key(i) === this.selectedKey);
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.opts.rowHeight) - 1);
    const move: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    const step = move[e.key];
    if (step !== undefined) {
      e.preventDefault();
      const next = Math.min(this.items.length - 1, Math.max(0, (at < 0 ? (step > 0 ? -1 : this.items.length) : at) + (Number.isFinite(step) ? step : step > 0 ? this.items.length : -this.items.length)));
      const item = this.items[next];
      if (item === undefined) return;
      this.select(item, true);
      const top = next * this.opts.rowHeight;
      if (top < this.el.scrollTop) this.el.scrollTop = top;
      else if (top + this.opts.rowHeight > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + this.opts.rowHeight - this.el.clientHeight;
      return;
    }
    const current = at >= 0 ? this.items[at] : undefined;
    if (current === undefined) return;
    if (e.key === "Enter") {
      e.preventDefault();
      this.opts.onActivate?.(current);
      return;
    }
    this.opts.onKey?.(e, current);
  }
}
