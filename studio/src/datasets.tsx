// Datasets of a workspace: the list, a version (schema, profile, files, tags, pins, lineage),
// and what changed between two versions.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { enc, json } from "./api";
import { ErrorNote, Loading, RowsTable, Section, bytes, href, useLoad, when } from "./ui";
import { LineageGraph, type GraphNode } from "./graph";
import { WorkspacePicker } from "./workspaces";

interface Column {
  name: string;
  type: string;
}
interface ProfileColumn {
  name: string;
  type: string;
  nulls?: number;
  min?: string | number | null;
  max?: string | number | null;
  distinct?: number;
}
export interface Version {
  id: string;
  name: string;
  version: number;
  description?: string;
  tags?: Record<string, string>;
  state: string;
  created_time: string;
  created_by?: string;
  kind: string;
  pinned?: boolean;
  file_count?: number;
  total_bytes?: number;
  schema?: Column[];
  row_count?: number;
  profile?: ProfileColumn[];
  partition_keys?: string[];
  rejected_lines?: number;
  lineage?: { run_id?: string | null; inputs?: { name?: string; version?: number }[] };
}

const base = (ws: string) => `/workspaces/${enc(ws)}`;

function List({ ws }: { ws: string }) {
  const list = useLoad(
    () => json<{ datasets: Version[] }>("workspace", `${base(ws)}/datasets`),
    [ws],
  );
  const [q, setQ] = useState("");
  const shown = (list.data?.datasets ?? []).filter((d) => {
    const s = q.trim().toLowerCase();
    if (!s) return true;
    return (
      d.name.toLowerCase().includes(s) ||
      (d.description ?? "").toLowerCase().includes(s) ||
      Object.entries(d.tags ?? {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(s))
    );
  });
  return (
    <Section title="Datasets">
      <div class="row">
        <label for="ds-search">Search</label>
        <input
          id="ds-search"
          type="search"
          value={q}
          placeholder="name, description or tag"
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </div>
      {list.loading && <Loading what="datasets" />}
      <ErrorNote error={list.error} />
      {list.data && (
        <table aria-label="Datasets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest</th>
              <th>Kind</th>
              <th>Rows</th>
              <th>Size</th>
              <th>Created</th>
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.name}>
                <td>
                  <a href={href("datasets", ws, d.name, String(d.version))}>{d.name}</a>
                </td>
                <td>{d.version}</td>
                <td>{d.kind}</td>
                <td>{d.row_count ?? ""}</td>
                <td>{bytes(d.total_bytes)}</td>
                <td>{when(d.created_time)}</td>
                <td>
                  {Object.entries(d.tags ?? {}).map(([k, v]) => (
                    <span class="tag" key={k}>
                      {k}={v}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  {q ? "Nothing matches." : "No datasets yet."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </Section>
  );
}

interface HistogramData {
  name: string;
  type: string;
  low: number;
  high: number;
  counts: number[];
}

// One column's histogram as bars (uPlot): x is each bin's lower edge.
function HistogramChart({ h }: { h: HistogramData }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || h.counts.length === 0) return;
    const width = (h.high - h.low) / h.counts.length;
    const xs = h.counts.map((_, i) => h.low + i * width);
    const plot = new uPlot(
      {
        width: 220,
        height: 90,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false } },
        axes: [{ show: false }, { show: false }],
        series: [
          {},
          {
            fill: "#54aeff",
            stroke: "#0969da",
            points: { show: false },
            paths: uPlot.paths.bars!({ size: [0.9, 40] }),
          },
        ],
      },
      [xs, h.counts] as uPlot.AlignedData,
      box.current,
    );
    return () => plot.destroy();
  }, [h]);
  const total = h.counts.reduce((a, b) => a + b, 0);
  return (
    <div
      class="hist"
      ref={box}
      role="img"
      aria-label={`Histogram of ${h.name}: ${h.counts.length} bins from ${h.low} to ${h.high}, ${total} values`}
    />
  );
}

function Profile({ ws, v }: { ws: string; v: Version }) {
  const hist = useLoad(
    () =>
      v.profile?.length
        ? json<{ columns: HistogramData[] }>(
            "workspace",
            `${base(ws)}/datasets/${enc(v.name)}/versions/${v.version}/histograms`,
            { query: { bins: 20 } },
          )
        : Promise.resolve({ columns: [] as HistogramData[] }),
    [ws, v.name, v.version],
  );
  if (!v.profile?.length) return <p class="muted">No profile (file datasets have none).</p>;
  const byName = new Map((hist.data?.columns ?? []).map((h) => [h.name, h]));
  return (
    <>
      <table aria-label="Profile">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
            <th>Nulls</th>
            <th>Min</th>
            <th>Max</th>
            <th>Distinct</th>
            <th>Histogram</th>
          </tr>
        </thead>
        <tbody>
          {v.profile.map((c) => {
            const h = byName.get(c.name);
            return (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td class="mono">{c.type}</td>
                <td>{c.nulls ?? ""}</td>
                <td>{c.min ?? ""}</td>
                <td>{c.max ?? ""}</td>
                <td>{c.distinct ?? ""}</td>
                <td>{h ? <HistogramChart h={h} /> : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorNote error={hist.error} />
    </>
  );
}

interface LineageNode {
  kind: "dataset" | "file" | "path";
  dataset?: string;
  version?: number;
  path?: string;
  uri?: string;
  etag?: string;
  size?: number;
  missing?: string;
  repeated?: boolean;
  truncated?: boolean;
  more_files?: boolean;
  via?: { job?: string; run_id?: string; event_time?: string };
  columns?: {
    column: string;
    from: { dataset: string; field: string; transformation?: string }[];
  }[];
  children?: LineageNode[];
}

function LineageTree({ node, ws }: { node: LineageNode; ws: string }) {
  let label;
  if (node.kind === "dataset") {
    label = (
      <a href={href("datasets", ws, node.dataset ?? "", String(node.version ?? ""))}>
        {node.dataset}:{node.version}
      </a>
    );
  } else {
    label = <span class="mono">{node.uri ?? node.path}</span>;
  }
  return (
    <li>
      <span class={"kind " + node.kind}>{node.kind === "dataset" ? "dataset " : "file "}</span>
      {label}
      {node.via?.job && <span class="muted"> via {node.via.job}</span>}
      {node.repeated && <span class="muted"> (shown above)</span>}
      {node.truncated && <span class="muted"> (deeper levels not shown)</span>}
      {node.missing && <span class="muted"> ({node.missing})</span>}
      {node.columns && node.columns.length > 0 && (
        <ul class="columns" aria-label={`Column lineage of ${node.dataset}:${node.version}`}>
          {node.columns.map((c) => (
            <li key={c.column}>
              <span class="mono">{c.column}</span> ←{" "}
              {c.from.map((f, i) => (
                <span key={i}>
                  {i > 0 ? ", " : ""}
                  <span class="mono">
                    {f.dataset}.{f.field}
                  </span>
                  {f.transformation ? (
                    <span class="muted"> ({f.transformation.toLowerCase()})</span>
                  ) : null}
                </span>
              ))}
            </li>
          ))}
        </ul>
      )}
      {node.children && node.children.length > 0 && (
        <ul>
          {node.children.map((c, i) => (
            <LineageTree key={i} node={c} ws={ws} />
          ))}
          {node.more_files && <li class="muted">more files…</li>}
        </ul>
      )}
    </li>
  );
}

function Lineage({ ws, v }: { ws: string; v: Version }) {
  const [direction, setDirection] = useState<"upstream" | "downstream">("upstream");
  const tree = useLoad(
    () =>
      json<{ root: LineageNode }>("workspace", `${base(ws)}/lineage`, {
        query: { dataset: v.name, version: v.version, direction, depth: 6 },
      }),
    [ws, v.name, v.version, direction],
  );
  return (
    <div>
      <div class="row" role="group" aria-label="Direction">
        {(["upstream", "downstream"] as const).map((d) => (
          <button
            key={d}
            type="button"
            aria-pressed={direction === d}
            onClick={() => setDirection(d)}
          >
            {d === "upstream" ? "Where it came from" : "What was made from it"}
          </button>
        ))}
      </div>
      {tree.loading && <Loading what="lineage" />}
      <ErrorNote error={tree.error} />
      {tree.data && (
        <LineageGraph ws={ws} root={tree.data.root as GraphNode} direction={direction} />
      )}
      {tree.data && (
        <ul class="tree" aria-label={`Lineage, ${direction}`}>
          <LineageTree node={tree.data.root} ws={ws} />
        </ul>
      )}
    </div>
  );
}

// The version's first rows as registered, read by tarnd's tabular engine.
function Rows({ ws, v }: { ws: string; v: Version }) {
  const rows = useLoad(
    () =>
      json<{ columns: Column[]; rows: unknown[][] }>(
        "workspace",
        `${base(ws)}/datasets/${enc(v.name)}/versions/${v.version}/preview`,
        { query: { rows: 20 } },
      ),
    [ws, v.name, v.version],
  );
  if (rows.loading) return <Loading what="rows" />;
  if (rows.error) return <ErrorNote error={rows.error} />;
  const d = rows.data!;
  return <RowsTable label="Rows" columns={d.columns} rows={d.rows} />;
}

function Files({ ws, v }: { ws: string; v: Version }) {
  const files = useLoad(
    () =>
      json<{
        files: { index: number; path: string; size: number; etag: string; md5?: string }[];
        next_marker?: string;
      }>("workspace", `${base(ws)}/datasets/${enc(v.name)}/versions/${v.version}/files`, {
        query: { maxresults: 200 },
      }),
    [ws, v.name, v.version],
  );
  if (files.loading) return <Loading what="files" />;
  if (files.error) return <ErrorNote error={files.error} />;
  return (
    <table aria-label="Files">
      <thead>
        <tr>
          <th>#</th>
          <th>Path</th>
          <th>Size</th>
          <th>ETag</th>
        </tr>
      </thead>
      <tbody>
        {(files.data?.files ?? []).map((f) => (
          <tr key={f.index}>
            <td>{f.index}</td>
            <td class="break">{f.path}</td>
            <td>{bytes(f.size)}</td>
            <td class="mono">{f.etag}</td>
          </tr>
        ))}
        {files.data?.next_marker && (
          <tr>
            <td colSpan={4} class="muted">
              The first 200 files are shown.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

// Schema, row count and profile of two versions side by side.
function Diff({ a, b }: { a: Version; b: Version }) {
  const cols = Array.from(new Set([...(a.schema ?? []), ...(b.schema ?? [])].map((c) => c.name)));
  const type = (v: Version, n: string) => v.schema?.find((c) => c.name === n)?.type;
  const prof = (v: Version, n: string) => v.profile?.find((c) => c.name === n);
  return (
    <table aria-label={`Differences between versions ${a.version} and ${b.version}`}>
      <thead>
        <tr>
          <th>What</th>
          <th>Version {a.version}</th>
          <th>Version {b.version}</th>
        </tr>
      </thead>
      <tbody>
        <tr class={a.row_count !== b.row_count ? "changed" : ""}>
          <td>Rows</td>
          <td>{a.row_count ?? ""}</td>
          <td>{b.row_count ?? ""}</td>
        </tr>
        <tr class={a.total_bytes !== b.total_bytes ? "changed" : ""}>
          <td>Size</td>
          <td>{bytes(a.total_bytes)}</td>
          <td>{bytes(b.total_bytes)}</td>
        </tr>
        {cols.map((n) => {
          const pa = prof(a, n);
          const pb = prof(b, n);
          const fmt = (t?: string, p?: ProfileColumn) =>
            t === undefined
              ? "(absent)"
              : `${t}; nulls ${p?.nulls ?? "?"}, ${p?.min ?? "?"}..${p?.max ?? "?"}, ${p?.distinct ?? "?"} distinct`;
          const ta = fmt(type(a, n), pa);
          const tb = fmt(type(b, n), pb);
          return (
            <tr key={n} class={ta !== tb ? "changed" : ""}>
              <td>Column {n}</td>
              <td>{ta}</td>
              <td>{tb}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function VersionView({ ws, name, version }: { ws: string; name: string; version: string }) {
  const v = useLoad(
    () =>
      json<Version>("workspace", `${base(ws)}/datasets/${enc(name)}`, {
        query: { version: version || "latest" },
      }),
    [ws, name, version],
  );
  const versions = useLoad(
    () => json<{ versions: Version[] }>("workspace", `${base(ws)}/datasets/${enc(name)}/versions`),
    [ws, name],
  );
  const [against, setAgainst] = useState("");
  const other = versions.data?.versions.find((x) => String(x.version) === against);
  if (v.loading && !v.data) return <Loading what="the dataset" />;
  if (v.error) return <ErrorNote error={v.error} />;
  const d = v.data!;
  return (
    <div>
      <nav class="crumbs" aria-label="Where you are">
        <a href={href("datasets", ws)}>Datasets</a> / {d.name}
      </nav>
      <h1 class="break">
        {d.name} <span class="muted">version {d.version}</span>
      </h1>
      {d.description && <p>{d.description}</p>}
      <div class="row">
        <label for="version-pick">Version</label>
        <select
          id="version-pick"
          value={String(d.version)}
          onChange={(e) => (location.hash = href("datasets", ws, name, e.currentTarget.value))}
        >
          {(versions.data?.versions ?? []).map((x) => (
            <option key={x.version} value={String(x.version)}>
              {x.version} ({x.state})
            </option>
          ))}
        </select>
        <label for="compare-pick">Compare with</label>
        <select
          id="compare-pick"
          value={against}
          onChange={(e) => setAgainst(e.currentTarget.value)}
        >
          <option value="">—</option>
          {(versions.data?.versions ?? [])
            .filter((x) => x.version !== d.version)
            .map((x) => (
              <option key={x.version} value={String(x.version)}>
                version {x.version}
              </option>
            ))}
        </select>
      </div>
      <dl class="props">
        <dt>Kind</dt>
        <dd>{d.kind}</dd>
        <dt>State</dt>
        <dd>{d.state}</dd>
        <dt>Created</dt>
        <dd>
          {when(d.created_time)} by <span class="mono">{d.created_by}</span>
        </dd>
        <dt>Files</dt>
        <dd>
          {d.file_count} ({bytes(d.total_bytes)})
        </dd>
        {d.row_count !== undefined && (
          <>
            <dt>Rows</dt>
            <dd>{d.row_count}</dd>
          </>
        )}
        <dt>Pins</dt>
        <dd>
          {d.pinned
            ? "its bytes are pinned: changes in the lake do not change this version"
            : "not pinned (an external datastore)"}
        </dd>
        {d.partition_keys?.length ? (
          <>
            <dt>Partitioned by</dt>
            <dd>{d.partition_keys.join(", ")}</dd>
          </>
        ) : null}
        {d.rejected_lines ? (
          <>
            <dt>Rejected lines</dt>
            <dd>{d.rejected_lines}</dd>
          </>
        ) : null}
        <dt>Tags</dt>
        <dd>
          {Object.entries(d.tags ?? {}).map(([k, val]) => (
            <span class="tag" key={k}>
              {k}={val}
            </span>
          ))}
        </dd>
      </dl>
      {other && (
        <Section title={`Version ${d.version} against version ${other.version}`}>
          <Diff
            a={other.version < d.version ? other : d}
            b={other.version < d.version ? d : other}
          />
        </Section>
      )}
      {d.schema && (
        <Section title="Schema">
          <table aria-label="Schema">
            <thead>
              <tr>
                <th>Column</th>
                <th>Type</th>
              </tr>
            </thead>
            <tbody>
              {d.schema.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td class="mono">{c.type}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      <Section title="Profile">
        <Profile ws={ws} v={d} />
      </Section>
      {d.kind === "tabular" && (
        <Section title="First rows">
          <Rows ws={ws} v={d} />
        </Section>
      )}
      <Section title="Lineage">
        <Lineage ws={ws} v={d} />
      </Section>
      <Section title="Files">
        <Files ws={ws} v={d} />
      </Section>
    </div>
  );
}

export function Datasets({ route }: { route: string[] }) {
  const [ws, name, version] = route;
  return (
    <WorkspacePicker ws={ws} page="datasets">
      {ws && !name && <List ws={ws} />}
      {ws && name && <VersionView ws={ws} name={name} version={version ?? ""} />}
    </WorkspacePicker>
  );
}
