// The Ask / App tabs (WAI-ARIA tabs: arrow keys move between them).
import { h, uniqueId } from "./dom";

export type Mode = "ask" | "app";

const MODES: { mode: Mode; label: string }[] = [
  { mode: "ask", label: "Ask" },
  { mode: "app", label: "App" },
];

export class Tabs {
  readonly list: HTMLElement;
  private readonly tabs: Map<Mode, HTMLButtonElement>;
  private current: Mode = "ask";

  constructor(
    private readonly panels: Record<Mode, HTMLElement>,
    private readonly onChange: (mode: Mode) => void,
  ) {
    this.tabs = new Map(
      MODES.map(({ mode, label }) => {
        const tab = h("button", { type: "button", role: "tab", class: "inb-tab", id: uniqueId(`tab-${mode}`) }, label);
        const panel = panels[mode];
        panel.id ||= uniqueId(`panel-${mode}`);
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.id);
        tab.setAttribute("aria-controls", panel.id);
        tab.addEventListener("click", () => this.select(mode));
        return [mode, tab];
      }),
    );
    this.list = h("div", { role: "tablist", class: "inb-tabs", "aria-label": "Mode" }, ...this.tabs.values());
    this.list.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      const next: Mode = this.current === "ask" ? "app" : "ask";
      this.select(next);
      this.tabs.get(next)!.focus();
    });
  }

  get mode(): Mode {
    return this.current;
  }

  select(mode: Mode): void {
    const changed = mode !== this.current;
    this.current = mode;
    for (const [m, tab] of this.tabs) {
      const on = m === mode;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      this.panels[m].hidden = !on;
    }
    if (changed) this.onChange(mode);
  }
}
