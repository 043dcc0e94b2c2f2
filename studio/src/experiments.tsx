// Experiments and runs, from the MLflow tracking API the workspace serves: a runs table with
// parameters and metrics as columns, and charts of several runs' metrics overlaid.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { call, describe, enc, encPath, json, saveBlob } from "./api";
import { ErrorNote, Loading, Section, href, useLoad, when } from "./ui";
import { WorkspacePicker } from "./workspaces";

interface KV {
  key: string;
  value: string;
}
interface Metric {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}
interface Run {
  info: {
    run_id: string;
    run_name?: string;
    status: string;
    start_time?: number;
    end_time?: number;
    experiment_id: string;
    user_id?: string;
    artifact_uri?: string;
  };
  data: { metrics?: Metric[]; params?: KV[]; tags?: KV[] };
  inputs?: { dataset_inputs?: { dataset: { name: string; digest?: string; source?: string } }[] };
}

const mlflow = (ws: string, path: string) => `/workspaces/${enc(ws)}/mlflow/api/2.0/mlflow/${path}`;

function post<T>(ws: string, path: string, body: unknown) {
  return json<T>("tracking", mlflow(ws, path), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function ExperimentList({ ws }: { ws: string }) {
  const list = useLoad(
    () =>
      post<{ experiments?: { experiment_id: string; name: string; creation_time?: number }[] }>(
        ws,
        "experiments/search",
        { max_results: 1000 },
      ),
    [ws],
  );
  return (
    <Section title="Experiments">
      {list.loading && <Loading what="experiments" />}
      <ErrorNote error={list.error} />
      {list.data && (
        <table aria-label="Experiments">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {(list.data.experiments ?? []).map((e) => (
              <tr key={e.experiment_id}>
                <td>
                  <a href={href("experiments", ws, e.experiment_id)}>{e.name}</a>
                </td>
                <td class="mono">{e.experiment_id}</td>
                <td>{when(e.creation_time)}</td>
              </tr>
            ))}
            {(list.data.experiments ?? []).length === 0 && (
              <tr>
                <td colSpan={3} class="muted">
                  No experiments yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </Section>
  );
}

const last = (r: Run, k: string) => r.data.metrics?.find((m) => m.key === k)?.value;
const param = (r: Run, k: string) => r.data.params?.find((p) => p.key === k)?.value;
const runName = (r: Run) => r.info.run_name || r.info.run_id.slice(0, 8);

function Chart({ ws, runs, metric }: { ws: string; runs: Run[]; metric: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let plot: uPlot | null = null;
    let live = true;
    Promise.all(
      runs.map((r) =>
        json<{ metrics?: Metric[] }>("tracking", mlflow(ws, "metrics/get-history"), {
          query: { run_id: r.info.run_id, metric_key: metric, max_results: 25000 },
        }).then((h) => h.metrics ?? []),
      ),
    ).then(
      (histories) => {
        if (!live || !box.current) return;
        const steps = Array.from(new Set(histories.flatMap((h) => h.map((m) => m.step)))).sort(
          (a, b) => a - b,
        );
        const series = histories.map((h) => {
          const at = new Map(h.map((m) => [m.step, m.value]));
          return steps.map((s) => at.get(s) ?? null);
        });
        const colours = [
          "#1f6feb",
          "#d1242f",
          "#1a7f37",
          "#9a6700",
          "#8250df",
          "#bf3989",
          "#0a7ea4",
          "#57606a",
        ];
        plot = new uPlot(
          {
            width: Math.max(320, box.current.clientWidth - 8),
            height: 260,
            title: metric,
            scales: { x: { time: false } },
            axes: [{ label: "step" }, { label: metric }],
            series: [
              { label: "step" },
              ...runs.map((r, i) => ({
                label: runName(r),
                stroke: colours[i % colours.length],
                spanGaps: true,
                width: 2,
              })),
            ],
          },
          [steps, ...series] as uPlot.AlignedData,
          box.current,
        );
      },
      (e) => live && setError(String(e.message ?? e)),
    );
    return () => {
      live = false;
      plot?.destroy();
    };
  }, [ws, metric, runs.map((r) => r.info.run_id).join(",")]);
  return (
    <figure class="chart">
      <div
        ref={box}
        role="img"
        aria-label={`${metric} by step for ${runs.map(runName).join(", ")}`}
      />
      <ErrorNote error={error} />
    </figure>
  );
}

function Runs({ ws, id }: { ws: string; id: string }) {
  const runs = useLoad(
    () =>
      post<{ runs?: Run[] }>(ws, "runs/search", {
        experiment_ids: [id],
        max_results: 1000,
        order_by: ["attributes.start_time DESC"],
      }),
    [ws, id],
  );
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ col: string; desc: boolean }>({ col: "start", desc: true });
  const [picked, setPicked] = useState<string[]>([]);
  const [metric, setMetric] = useState("");
  const all = runs.data?.runs ?? [];
  const paramKeys = Array.from(
    new Set(all.flatMap((r) => (r.data.params ?? []).map((p) => p.key))),
  ).sort();
  const metricKeys = Array.from(
    new Set(all.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key))),
  ).sort();
  const f = filter.trim().toLowerCase();
  const shown = all
    .filter(
      (r) =>
        !f ||
        runName(r).toLowerCase().includes(f) ||
        r.info.status.toLowerCase().includes(f) ||
        (r.data.params ?? []).some((p) => `${p.key}=${p.value}`.toLowerCase().includes(f)),
    )
    .sort((a, b) => {
      const val = (r: Run): string | number | undefined =>
        sort.col === "start"
          ? r.info.start_time
          : sort.col === "name"
            ? runName(r)
            : sort.col.startsWith("m:")
              ? last(r, sort.col.slice(2))
              : param(r, sort.col.slice(2));
      const x = val(a),
        y = val(b);
      if (x === y) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c =
        typeof x === "number" && typeof y === "number"
          ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
      return sort.desc ? -c : c;
    });
  const header = (col: string, label: string) => (
    <th aria-sort={sort.col === col ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button
        type="button"
        class="link"
        onClick={() => setSort({ col, desc: sort.col === col ? !sort.desc : false })}
      >
        {label}
        {sort.col === col ? (sort.desc ? " ↓" : " ↑") : ""}
      </button>
    </th>
  );
  const chosen = all.filter((r) => picked.includes(r.info.run_id));
  const chartMetric = metric || metricKeys[0] || "";
  return (
    <div>
      <nav class="crumbs" aria-label="Where you are">
        <a href={href("experiments", ws)}>Experiments</a> / {id}
      </nav>
      <Section title="Runs">
        <div class="row">
          <label for="run-filter">Filter</label>
          <input
            id="run-filter"
            type="search"
            value={filter}
            placeholder="name, status or param=value"
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
        </div>
        {runs.loading && <Loading what="runs" />}
        <ErrorNote error={runs.error} />
        {runs.data && (
          <div class="scroll-x">
            <table aria-label="Runs">
              <thead>
                <tr>
                  <th>Compare</th>
                  {header("name", "Run")}
                  <th>Status</th>
                  {header("start", "Started")}
                  {paramKeys.map((k) => header("p:" + k, k))}
                  {metricKeys.map((k) => header("m:" + k, k))}
                  <th>Datasets</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.info.run_id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Compare ${runName(r)}`}
                        checked={picked.includes(r.info.run_id)}
                        onChange={(e) =>
                          setPicked(
                            e.currentTarget.checked
                              ? [...picked, r.info.run_id]
                              : picked.filter((x) => x !== r.info.run_id),
                          )
                        }
                      />
                    </td>
                    <td class="break">
                      <a href={href("experiments", ws, id, "runs", r.info.run_id)}>{runName(r)}</a>
                    </td>
                    <td>{r.info.status}</td>
                    <td>{when(r.info.start_time)}</td>
                    {paramKeys.map((k) => (
                      <td key={"p" + k}>{param(r, k) ?? ""}</td>
                    ))}
                    {metricKeys.map((k) => {
                      const v = last(r, k);
                      return (
                        <td key={"m" + k} class="num">
                          {v === undefined ? "" : Number(v.toPrecision(6))}
                        </td>
                      );
                    })}
                    <td class="break">
                      {(r.inputs?.dataset_inputs ?? []).map((d, i) => (
                        <span class="tag" key={i}>
                          {d.dataset.name}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {chosen.length > 0 && chartMetric && (
        <Section title="Compare">
          <div class="row">
            <label for="metric-pick">Metric</label>
            <select
              id="metric-pick"
              value={chartMetric}
              onChange={(e) => setMetric(e.currentTarget.value)}
            >
              {metricKeys.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </div>
          <Chart ws={ws} runs={chosen} metric={chartMetric} />
          <table aria-label="Compared runs">
            <thead>
              <tr>
                <th>What</th>
                {chosen.map((r) => (
                  <th key={r.info.run_id}>{runName(r)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {paramKeys.map((k) => (
                <tr key={"p" + k}>
                  <td>{k}</td>
                  {chosen.map((r) => (
                    <td key={r.info.run_id}>{param(r, k) ?? ""}</td>
                  ))}
                </tr>
              ))}
              {metricKeys.map((k) => (
                <tr key={"m" + k}>
                  <td>{k}</td>
                  {chosen.map((r) => (
                    <td key={r.info.run_id} class="num">
                      {last(r, k) ?? ""}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </div>
  );
}

interface Job {
  status: string;
  compute?: string;
  script?: string;
  arguments?: string[];
  error?: string | { message?: string };
  inputs?: { name: string; dataset: string; version: number | string }[];
  outputs?: {
    name: string;
    datastore: string;
    path: string;
    register_as?: string;
    version?: number;
  }[];
}

const ARTIFACTS_SCHEME = "mlflow-artifacts:/";

// A run's artifacts, through the workspace's proxied artifact API: folders open in place,
// files download with the person's token.
function Artifacts({ ws, uri }: { ws: string; uri: string }) {
  const [folder, setFolder] = useState("");
  const [error, setError] = useState("");
  const root = uri.startsWith(ARTIFACTS_SCHEME) ? uri.slice(ARTIFACTS_SCHEME.length) : "";
  const base = `/workspaces/${enc(ws)}/mlflow/api/2.0/mlflow-artifacts/artifacts`;
  const list = useLoad(
    () =>
      root
        ? json<{ files?: { path: string; is_dir: boolean; file_size?: number }[] }>(
            "tracking",
            base,
            { query: { path: folder ? `${root}/${folder}` : root } },
          )
        : Promise.resolve({ files: [] }),
    [ws, root, folder],
  );
  if (!root) return <p class="muted">Stored at {uri || "no artifact location"}.</p>;
  const download = async (path: string) => {
    setError("");
    try {
      const r = await call("tracking", `${base}/${encPath(`${root}/${path}`)}`);
      saveBlob(await r.blob(), path.split("/").pop() ?? "");
    } catch (e) {
      setError(describe(e));
    }
  };
  const files = list.data?.files ?? [];
  return (
    <div>
      {folder && (
        <p>
          <span class="mono">{folder}/</span>{" "}
          <button
            type="button"
            class="small"
            onClick={() => setFolder(folder.split("/").slice(0, -1).join("/"))}
          >
            Up
          </button>
        </p>
      )}
      {list.loading && <Loading what="artifacts" />}
      <ErrorNote error={list.error || error} />
      <ul aria-label="Artifacts">
        {files.map((f) => {
          const path = f.path.includes("/") || !folder ? f.path : `${folder}/${f.path}`;
          const name = path.split("/").pop();
          return (
            <li key={path}>
              {f.is_dir ? (
                <button type="button" class="link" onClick={() => setFolder(path)}>
                  {name}/
                </button>
              ) : (
                <>
                  <span class="mono">{name}</span>{" "}
                  {f.file_size !== undefined && <span class="muted">{f.file_size} bytes</span>}{" "}
                  <button
                    type="button"
                    class="small"
                    aria-label={`Download ${path}`}
                    onClick={() => download(path)}
                  >
                    Download
                  </button>
                </>
              )}
            </li>
          );
        })}
        {list.data && files.length === 0 && <li class="muted">None.</li>}
      </ul>
    </div>
  );
}

// One run: its parameters, metrics and tags, the datasets it read and wrote, its artifacts and,
// for a run submitted to a compute target, its log.
function RunDetail({ ws, exp, id }: { ws: string; exp: string; id: string }) {
  const run = useLoad(
    () => json<{ run: Run }>("tracking", mlflow(ws, "runs/get"), { query: { run_id: id } }),
    [ws, id],
  );
  const job = useLoad(async () => {
    const r = await call("workspace", `/workspaces/${enc(ws)}/jobs/${enc(id)}`, { ok404: true });
    return r.status === 404 ? null : ((await r.json()) as Job);
  }, [ws, id]);
  const log = useLoad(async () => {
    if (!job.data) return "";
    const l = await json<{ text: string; size: number }>(
      "workspace",
      `/workspaces/${enc(ws)}/jobs/${enc(id)}/logs`,
      { query: { offset: 0, limit: 65536 } },
    );
    return l.text;
  }, [ws, id, job.data ? "job" : ""]);
  if (run.loading && !run.data) return <Loading what="the run" />;
  if (run.error) return <ErrorNote error={run.error} />;
  const r = run.data!.run;
  const j = job.data;
  return (
    <div>
      <nav class="crumbs" aria-label="Where you are">
        <a href={href("experiments", ws)}>Experiments</a> /{" "}
        <a href={href("experiments", ws, exp)}>{exp}</a> / {runName(r)}
      </nav>
      <h1 class="break">
        {runName(r)} <span class="muted">{r.info.status}</span>
      </h1>
      <dl class="props">
        <dt>Run ID</dt>
        <dd class="mono">{r.info.run_id}</dd>
        <dt>Started</dt>
        <dd>{when(r.info.start_time)}</dd>
        <dt>Ended</dt>
        <dd>{when(r.info.end_time)}</dd>
        {j && (
          <>
            <dt>Compute</dt>
            <dd>{j.compute}</dd>
            <dt>Script</dt>
            <dd class="mono">
              {j.script} {(j.arguments ?? []).join(" ")}
            </dd>
          </>
        )}
        {j?.error && (
          <>
            <dt>Error</dt>
            <dd class="error">{typeof j.error === "string" ? j.error : j.error.message}</dd>
          </>
        )}
      </dl>
      <Section title="Parameters and metrics">
        <table aria-label="Parameters and metrics">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {(r.data.params ?? []).map((p) => (
              <tr key={"p" + p.key}>
                <td>{p.key}</td>
                <td>{p.value}</td>
              </tr>
            ))}
            {(r.data.metrics ?? []).map((m) => (
              <tr key={"m" + m.key}>
                <td>{m.key}</td>
                <td class="num">{m.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Datasets">
        <table aria-label="Datasets read and written">
          <thead>
            <tr>
              <th>Direction</th>
              <th>Name</th>
              <th>Dataset</th>
            </tr>
          </thead>
          <tbody>
            {(j?.inputs ?? []).map((i) => (
              <tr key={"i" + i.name}>
                <td>read</td>
                <td>{i.name}</td>
                <td>
                  <a href={href("datasets", ws, i.dataset, String(i.version))}>
                    {i.dataset}:{i.version}
                  </a>
                </td>
              </tr>
            ))}
            {!j &&
              (r.inputs?.dataset_inputs ?? []).map((d, k) => (
                <tr key={"d" + k}>
                  <td>read</td>
                  <td>{d.dataset.name}</td>
                  <td class="mono">{d.dataset.source ?? ""}</td>
                </tr>
              ))}
            {(j?.outputs ?? []).map((o) => (
              <tr key={"o" + o.name}>
                <td>wrote</td>
                <td>{o.name}</td>
                <td>
                  {o.register_as && o.version !== undefined ? (
                    <a href={href("datasets", ws, o.register_as, String(o.version))}>
                      {o.register_as}:{o.version}
                    </a>
                  ) : o.register_as ? (
                    <span>
                      {o.register_as} <span class="muted">(when the run completes)</span>
                    </span>
                  ) : (
                    <span class="mono">
                      {o.datastore}/{o.path}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Artifacts">
        <Artifacts ws={ws} uri={r.info.artifact_uri ?? ""} />
      </Section>
      {j && (
        <Section title="Log">
          <ErrorNote error={log.error} />
          <pre class="preview" aria-label="Log">
            {log.data ?? ""}
          </pre>
        </Section>
      )}
    </div>
  );
}

export function Experiments({ route }: { route: string[] }) {
  const [ws, id, sub, run] = route;
  return (
    <WorkspacePicker ws={ws} page="experiments">
      {ws && !id && <ExperimentList ws={ws} />}
      {ws && id && sub !== "runs" && <Runs ws={ws} id={id} />}
      {ws && id && sub === "runs" && run && <RunDetail ws={ws} exp={id} id={run} />}
    </WorkspacePicker>
  );
}
