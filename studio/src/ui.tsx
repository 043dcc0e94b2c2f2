// Small pieces every page uses. Everything shown from the server goes through JSX text, which
// Preact sets as text nodes: a name like "<img src=x onerror=...>" shows as those characters.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describe } from "./api";

export function href(...parts: string[]): string {
  return "#/" + parts.map((p) => encodeURIComponent(p)).join("/");
}

export function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, "")
      .split("/")
      .filter((s) => s !== "")
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const f = () => setRoute(parse());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}

// Loads once per change of deps; .reload() runs it again.
export function useLoad<T>(f: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    f().then(
      (data) => live && setState({ data, loading: false }),
      (e) => live && setState({ error: describe(e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function ErrorNote({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="panel" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function bytes(n: number | undefined): string {
  if (n === undefined || n === null || Number.isNaN(n)) return "";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`;
}

export function when(s: string | number | undefined): string {
  if (s === undefined || s === "") return "";
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleString();
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div class="progress">
      <progress value={value} max={max || 1} aria-label={label} />
      <span>
        {label}: {pct}% ({bytes(value)} of {bytes(max)})
      </span>
    </div>
  );
}

function cellText(x: unknown): string {
  if (x === null || x === undefined) return "";
  return typeof x === "object" ? JSON.stringify(x) : String(x);
}

// Typed rows as tarnd's previews answer them: a column's type is its header's title.
export function RowsTable(p: {
  label: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}) {
  return (
    <div class="scroll-x">
      <table aria-label={p.label}>
        <thead>
          <tr>
            {p.columns.map((c, i) => (
              <th key={i} title={c.type}>
                {c.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r, i) => (
            <tr key={i}>
              {r.map((x, j) => (
                <td key={j} class={typeof x === "number" ? "num" : ""}>
                  {cellText(x)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
