// Pipelines of a workspace (docs/pipelines.md): definitions, run history, each step's timings
// and rows, gate reports with the failing checks and their example rows, and a button to run.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { describe, enc, json } from "./api";
import { ErrorNote, Loading, Section, href, useLoad, when } from "./ui";
import { WorkspacePicker } from "./workspaces";

interface PipelineDoc {
  name: string;
  definition?: string;
  schedule?: string;
  modified_time?: string;
  modified_by?: string;
  steps?: {
    name: string;
    output?: { dataset?: string } | string;
    checks?: number;
    expectations?: number;
  }[];
}
interface Check {
  check: string;
  line?: number;
  outcome: string;
  value?: number;
  message?: string;
  examples?: { columns: string[]; rows: (string | null)[][] };
}
interface StepRun {
  name: string;
  status: string;
  inputs?: { alias: string; dataset: string; version: number; rows?: number }[];
  rows_in?: number;
  rows_out?: number;
  rows_quarantined?: number;
  expectations?: { name: string; on_fail: string; failed_rows: number }[];
  checks?: Check[];
  output?: { dataset: string; version: number };
  duration_s?: number;
  timings?: Record<string, number>;
  error?: string;
}
interface PipelineRun {
  id: string;
  pipeline: string;
  number: number;
  status: string;
  trigger: string;
  started_time?: string;
  ended_time?: string;
  duration_s?: number;
  error?: string;
  steps?: StepRun[];
}

const base = (ws: string) => `/workspaces/${enc(ws)}`;
const secs = (s?: number) => (s === undefined ? "" : `${s.toFixed(s < 10 ? 2 : 1)} s`);

function List({ ws }: { ws: string }) {
  const list = useLoad(
    () => json<{ pipelines: PipelineDoc[] }>("workspace", `${base(ws)}/pipelines`),
    [ws],
  );
  return (
    <Section title="Pipelines">
      {list.loading && <Loading what="pipelines" />}
      <ErrorNote error={list.error} />
      {list.data && (
        <table aria-label="Pipelines">
          <thead>
            <tr>
              <th>Name</th>
              <th>Schedule</th>
              <th>Changed</th>
            </tr>
          </thead>
          <tbody>
            {(list.data.pipelines ?? []).map((p) => (
              <tr key={p.name}>
                <td>
                  <a href={href("pipelines", ws, p.name)}>{p.name}</a>
                </td>
                <td class="mono">{p.schedule ?? ""}</td>
                <td>
                  {when(p.modified_time)} <span class="mono">{p.modified_by ?? ""}</span>
                </td>
              </tr>
            ))}
            {(list.data.pipelines ?? []).length === 0 && (
              <tr>
                <td colSpan={3} class="muted">
                  No pipelines yet (`tarn pipeline put FILE` stores one).
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Gate({ checks }: { checks: Check[] }) {
  return (
    <table aria-label="Gate report">
      <thead>
        <tr>
          <th>Check</th>
          <th>Outcome</th>
          <th>Value</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c, i) => (
          <Fragment key={i}>
            <tr class={c.outcome === "pass" ? "" : "changed"}>
              <td class="mono">
                {c.check}
                {c.line ? <span class="muted"> (line {c.line})</span> : null}
              </td>
              <td>{c.outcome}</td>
              <td class="num">{c.value ?? ""}</td>
              <td>{c.message ?? ""}</td>
            </tr>
            {c.examples && c.examples.rows.length > 0 && (
              <tr>
                <td colSpan={4}>
                  <table aria-label={`Example rows failing ${c.check}`} class="examples">
                    <thead>
                      <tr>
                        {c.examples.columns.map((h, j) => (
                          <th key={j}>{h}</th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {c.examples.rows.map((r, j) => (
                        <tr key={j}>
                          {r.map((v, k) => (
                            <td key={k}>{v ?? "null"}</td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

function RunView({ ws, id }: { ws: string; id: string }) {
  const run = useLoad(
    () => json<PipelineRun>("workspace", `${base(ws)}/pipeline-runs/${enc(id)}`),
    [ws, id],
  );
  if (run.loading && !run.data) return <Loading what="the run" />;
  if (run.error) return <ErrorNote error={run.error} />;
  const r = run.data!;
  return (
    <div>
      <nav class="crumbs" aria-label="Where you are">
        <a href={href("pipelines", ws)}>Pipelines</a> /{" "}
        <a href={href("pipelines", ws, r.pipeline)}>{r.pipeline}</a> / run {r.number}
      </nav>
      <h1>
        {r.pipeline}{" "}
        <span class="muted">
          run {r.number}: {r.status}
        </span>
      </h1>
      {r.error && <p class="error">{r.error}</p>}
      <dl class="props">
        <dt>Trigger</dt>
        <dd>{r.trigger}</dd>
        <dt>Started</dt>
        <dd>{when(r.started_time)}</dd>
        <dt>Ended</dt>
        <dd>{when(r.ended_time)}</dd>
        <dt>Duration</dt>
        <dd>{secs(r.duration_s)}</dd>
      </dl>
      <Section title="Steps">
        <table aria-label="Steps">
          <thead>
            <tr>
              <th>Step</th>
              <th>Status</th>
              <th>Rows in</th>
              <th>Rows out</th>
              <th>Quarantined</th>
              <th>Time</th>
              <th>Output</th>
            </tr>
          </thead>
          <tbody>
            {(r.steps ?? []).map((s) => (
              <tr key={s.name} class={s.status === "failed" ? "changed" : ""}>
                <td>{s.name}</td>
                <td>{s.status}</td>
                <td class="num">{s.rows_in ?? ""}</td>
                <td class="num">{s.rows_out ?? ""}</td>
                <td class="num">{s.rows_quarantined ?? ""}</td>
                <td class="num">{secs(s.duration_s)}</td>
                <td>
                  {s.output ? (
                    <a href={href("datasets", ws, s.output.dataset, String(s.output.version))}>
                      {s.output.dataset}:{s.output.version}
                    </a>
                  ) : (
                    ""
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      {(r.steps ?? []).map((s) => (
        <Section key={s.name} title={`Step ${s.name}`}>
          {s.error && <p class="error">{s.error}</p>}
          {s.inputs && s.inputs.length > 0 && (
            <p>
              Read{" "}
              {s.inputs
                .map(
                  (i) =>
                    `${i.alias} = ${i.dataset}:${i.version}${i.rows !== undefined ? ` (${i.rows} rows)` : ""}`,
                )
                .join(", ")}
            </p>
          )}
          {s.expectations && s.expectations.length > 0 && (
            <table aria-label={`Expectations of ${s.name}`}>
              <thead>
                <tr>
                  <th>Expectation</th>
                  <th>On failure</th>
                  <th>Rows failing</th>
                </tr>
              </thead>
              <tbody>
                {s.expectations.map((e) => (
                  <tr key={e.name} class={e.failed_rows ? "changed" : ""}>
                    <td>{e.name}</td>
                    <td>{e.on_fail}</td>
                    <td class="num">{e.failed_rows}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s.checks && s.checks.length > 0 ? (
            <Gate checks={s.checks} />
          ) : (
            <p class="muted">No checks.</p>
          )}
        </Section>
      ))}
    </div>
  );
}

function PipelineView({ ws, name }: { ws: string; name: string }) {
  const doc = useLoad(
    () => json<PipelineDoc>("workspace", `${base(ws)}/pipelines/${enc(name)}`),
    [ws, name],
  );
  const runs = useLoad(
    () =>
      json<{ runs: PipelineRun[] }>("workspace", `${base(ws)}/pipelines/${enc(name)}/runs`, {
        query: { limit: 100 },
      }),
    [ws, name],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const start = async () => {
    setBusy(true);
    setError("");
    try {
      const r = await json<PipelineRun>("workspace", `${base(ws)}/pipelines/${enc(name)}/runs`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      location.hash = href("pipelines", ws, name, "runs", r.id);
    } catch (e) {
      setError(describe(e));
    }
    setBusy(false);
  };
  return (
    <div>
      <nav class="crumbs" aria-label="Where you are">
        <a href={href("pipelines", ws)}>Pipelines</a> / {name}
      </nav>
      <h1>{name}</h1>
      <div class="row">
        <button type="button" onClick={start} disabled={busy}>
          {busy ? "Starting…" : "Run now"}
        </button>
        <button type="button" onClick={runs.reload}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      <Section title="Runs">
        {runs.loading && <Loading what="runs" />}
        <ErrorNote error={runs.error} />
        {runs.data && (
          <table aria-label="Pipeline runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id} class={r.status === "failed" ? "changed" : ""}>
                  <td>
                    <a href={href("pipelines", ws, name, "runs", r.id)}>{r.number}</a>
                  </td>
                  <td>{r.status}</td>
                  <td>{r.trigger}</td>
                  <td>{when(r.started_time)}</td>
                  <td class="num">{secs(r.duration_s)}</td>
                  <td class="break">{r.error ?? ""}</td>
                </tr>
              ))}
              {runs.data.runs.length === 0 && (
                <tr>
                  <td colSpan={6} class="muted">
                    Not run yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Definition">
        {doc.loading && <Loading what="the definition" />}
        <ErrorNote error={doc.error} />
        {doc.data?.steps && (
          <table aria-label="Pipeline steps">
            <thead>
              <tr>
                <th>Step</th>
                <th>Output</th>
                <th>Expectations</th>
                <th>Checks</th>
              </tr>
            </thead>
            <tbody>
              {doc.data.steps.map((s) => (
                <tr key={s.name}>
                  <td>{s.name}</td>
                  <td>{typeof s.output === "string" ? s.output : (s.output?.dataset ?? "")}</td>
                  <td class="num">{s.expectations ?? ""}</td>
                  <td class="num">{s.checks ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {doc.data?.definition && <pre class="preview">{doc.data.definition}</pre>}
      </Section>
    </div>
  );
}

export function Pipelines({ route }: { route: string[] }) {
  const [ws, name, sub, id] = route;
  return (
    <WorkspacePicker ws={ws} page="pipelines">
      {ws && !name && <List ws={ws} />}
      {ws && name && sub !== "runs" && <PipelineView ws={ws} name={name} />}
      {ws && name && sub === "runs" && id && <RunView ws={ws} id={id} />}
    </WorkspacePicker>
  );
}
