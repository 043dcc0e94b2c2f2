// The lake explorer: accounts -> filesystems -> directories -> files.
import { Fragment } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { describe, enc, json } from "./api";
import {
  createDirectory,
  deletePath,
  download,
  getProperties,
  listFilesystems,
  listPage,
  previewFile,
  readHead,
  renamePath,
  uploadFile,
  type PathItem,
  type Preview as PreviewData,
} from "./lake";
import { AclEditor } from "./acl";
import { ErrorNote, Loading, Progress, RowsTable, Section, bytes, href, useLoad, when } from "./ui";
import { VirtualList } from "./virtual";

const ACCOUNTS_KEY = "tarn.studio.accounts";

function remembered(): string[] {
  try {
    const a = JSON.parse(localStorage.getItem(ACCOUNTS_KEY) ?? "[]");
    return Array.isArray(a) ? a.filter((x) => typeof x === "string").slice(0, 20) : [];
  } catch {
    return [];
  }
}

function remember(account: string) {
  const a = [account, ...remembered().filter((x) => x !== account)].slice(0, 20);
  localStorage.setItem(ACCOUNTS_KEY, JSON.stringify(a));
}

interface Datastore {
  name: string;
  account_name: string;
  filesystem: string;
  local: boolean;
}

// The accounts a person can reach: their workspaces' local datastores, and those opened before.
function Accounts() {
  const stores = useLoad(async () => {
    const ws = await json<{ workspaces: { name: string }[] }>("workspace", "/workspaces");
    const out: (Datastore & { workspace: string })[] = [];
    for (const w of ws.workspaces ?? []) {
      const d = await json<{ datastores: Datastore[] }>(
        "workspace",
        `/workspaces/${enc(w.name)}/datastores`,
      ).catch(() => ({ datastores: [] as Datastore[] }));
      for (const s of d.datastores ?? []) if (s.local) out.push({ ...s, workspace: w.name });
    }
    return out;
  }, []);
  const [name, setName] = useState("");
  const open = (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    remember(n);
    location.hash = href("lake", n);
  };
  return (
    <div>
      <h1>Lake</h1>
      <Section title="Open an account">
        <form onSubmit={open} class="row">
          <label for="account">Account name</label>
          <input
            id="account"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            autocomplete="off"
            maxLength={64}
          />
          <button type="submit">Open</button>
        </form>
        {remembered().length > 0 && (
          <ul class="links">
            {remembered().map((a) => (
              <li key={a}>
                <a href={href("lake", a)}>{a}</a>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Datastores in your workspaces">
        {stores.loading && <Loading what="datastores" />}
        <ErrorNote error={stores.error} />
        {stores.data && stores.data.length === 0 && <p class="muted">None.</p>}
        {stores.data && stores.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Workspace</th>
                <th>Datastore</th>
                <th>Account</th>
                <th>Filesystem</th>
              </tr>
            </thead>
            <tbody>
              {stores.data.map((s) => (
                <tr key={s.workspace + "/" + s.name}>
                  <td>{s.workspace}</td>
                  <td>{s.name}</td>
                  <td>
                    <a href={href("lake", s.account_name)}>{s.account_name}</a>
                  </td>
                  <td>
                    <a href={href("lake", s.account_name, s.filesystem)}>{s.filesystem}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

function Filesystems({ account }: { account: string }) {
  const list = useLoad(() => listFilesystems(account), [account]);
  useEffect(() => remember(account), [account]);
  return (
    <div>
      <Crumbs account={account} fs="" dir="" />
      <Section title="Filesystems">
        {list.loading && <Loading what="filesystems" />}
        <ErrorNote error={list.error} />
        {list.data && (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Modified</th>
                <th>ETag</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((f) => (
                <tr key={f.name}>
                  <td>
                    <a href={href("lake", account, f.name)}>{f.name}</a>
                  </td>
                  <td>{when(f.lastModified)}</td>
                  <td class="mono">{f.etag}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </div>
  );
}

function Crumbs({ account, fs, dir }: { account: string; fs: string; dir: string }) {
  const parts = dir ? dir.split("/") : [];
  return (
    <nav class="crumbs" aria-label="Where you are">
      <a href="#/lake">Lake</a>
      <span aria-hidden="true"> / </span>
      <a href={href("lake", account)}>{account}</a>
      {fs && (
        <>
          <span aria-hidden="true"> / </span>
          <a href={href("lake", account, fs)}>{fs}</a>
        </>
      )}
      {parts.map((p, i) => (
        <span key={i}>
          <span aria-hidden="true"> / </span>
          <a href={href("lake", account, fs, ...parts.slice(0, i + 1))}>{p}</a>
        </span>
      ))}
    </nav>
  );
}

const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);

// A directory, page by page from the server as the list scrolls.
function Directory({ account, fs, dir }: { account: string; fs: string; dir: string }) {
  const [items, setItems] = useState<PathItem[]>([]);
  const [next, setNext] = useState<string | null>("");
  const [error, setError] = useState("");
  const [selected, setSelected] = useState<PathItem | null>(null);
  const [tick, setTick] = useState(0);
  const loading = useRef(false);
  const generation = useRef(0);

  const more = useCallback(() => {
    if (loading.current || next === null) return;
    loading.current = true;
    const gen = generation.current;
    listPage(account, fs, dir, next).then(
      (page) => {
        if (gen !== generation.current) return;
        setItems((old) => [...old, ...page.items]);
        setNext(page.next || null);
        loading.current = false;
      },
      (e) => {
        if (gen !== generation.current) return;
        setError(describe(e));
        setNext(null);
        loading.current = false;
      },
    );
  }, [account, fs, dir, next]);

  useEffect(() => {
    generation.current++;
    loading.current = false;
    setItems([]);
    setNext("");
    setError("");
    setSelected(null);
  }, [account, fs, dir, tick]);
  useEffect(() => {
    if (next === "" && items.length === 0) more();
  }, [next, items.length, more]);

  const refresh = () => setTick((t) => t + 1);
  const open = (it: PathItem) => {
    if (it.isDirectory) {
      location.hash = href("lake", account, fs, ...it.name.split("/"));
    } else {
      setSelected(it);
    }
  };

  return (
    <div class="explorer">
      <Crumbs account={account} fs={fs} dir={dir} />
      <Toolbar account={account} fs={fs} dir={dir} onChanged={refresh} />
      <ErrorNote error={error} />
      <div class="split">
        <div class="listing">
          <p class="muted" aria-live="polite">
            {items.length} item{items.length === 1 ? "" : "s"}
            {next !== null ? " so far" : ""}
          </p>
          <VirtualList
            label={`Contents of ${dir || fs}`}
            count={items.length}
            rowHeight={32}
            onNearEnd={more}
            header={
              <div class="vrow head" role="row">
                <span role="columnheader">Name</span>
                <span role="columnheader">Size</span>
                <span role="columnheader">Modified</span>
                <span role="columnheader">Owner</span>
              </div>
            }
            row={(i) => {
              const it = items[i];
              return (
                <>
                  <span role="gridcell" class="name">
                    <button
                      type="button"
                      class={"link" + (selected?.name === it.name ? " selected" : "")}
                      onClick={() => open(it)}
                      aria-label={`${it.isDirectory ? "Folder" : "File"} ${baseName(it.name)}`}
                    >
                      <span aria-hidden="true" class={it.isDirectory ? "icon dir" : "icon file"} />
                      {baseName(it.name)}
                      {it.isDirectory ? "/" : ""}
                    </button>
                  </span>
                  <span role="gridcell">{it.isDirectory ? "" : bytes(it.contentLength)}</span>
                  <span role="gridcell">{when(it.lastModified)}</span>
                  <span role="gridcell" class="mono">
                    {it.owner}
                  </span>
                </>
              );
            }}
          />
        </div>
        {selected && (
          <FilePanel
            key={selected.name}
            account={account}
            fs={fs}
            item={selected}
            onChanged={refresh}
          />
        )}
        {!selected && dir && (
          <aside class="side" aria-label="This folder">
            <h2>This folder</h2>
            <AclEditor account={account} fs={fs} path={dir} directory />
          </aside>
        )}
      </div>
    </div>
  );
}

function Toolbar(p: { account: string; fs: string; dir: string; onChanged: () => void }) {
  const [progress, setProgress] = useState<{ name: string; sent: number; size: number } | null>(
    null,
  );
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const target = (name: string) => (p.dir ? `${p.dir}/${name}` : name);

  const upload = async (files: FileList | File[]) => {
    setError("");
    setMessage("");
    for (const f of Array.from(files)) {
      setProgress({ name: f.name, sent: 0, size: f.size });
      try {
        await uploadFile(p.account, p.fs, target(f.name), f, (sent) =>
          setProgress({ name: f.name, sent, size: f.size }),
        );
        setMessage(`Uploaded ${f.name} (${bytes(f.size)}).`);
      } catch (e) {
        setError(`${f.name}: ${describe(e)}`);
        break;
      }
    }
    setProgress(null);
    p.onChanged();
  };

  const newFolder = async () => {
    const name = prompt("Name of the new folder");
    if (!name) return;
    try {
      await createDirectory(p.account, p.fs, target(name));
      p.onChanged();
    } catch (e) {
      setError(describe(e));
    }
  };

  return (
    <div
      class={"toolbar" + (dragging ? " dragging" : "")}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (e.dataTransfer?.files.length) upload(e.dataTransfer.files);
      }}
    >
      <button type="button" onClick={() => input.current?.click()}>
        Upload files…
      </button>
      <input
        ref={input}
        type="file"
        multiple
        class="hidden"
        aria-label="Files to upload"
        onChange={(e) => {
          const files = e.currentTarget.files;
          if (files?.length) upload(Array.from(files));
          e.currentTarget.value = "";
        }}
      />
      <button type="button" onClick={newFolder}>
        New folder
      </button>
      <button type="button" onClick={p.onChanged}>
        Refresh
      </button>
      <span class="muted">or drop files here</span>
      {progress && (
        <Progress value={progress.sent} max={progress.size} label={`Uploading ${progress.name}`} />
      )}
      {message && (
        <span class="ok" role="status">
          {message}
        </span>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

const TABULAR = [".csv", ".tsv", ".parquet", ".jsonl", ".ndjson"];
const TEXT = [".json", ".txt", ".md", ".log", ".yaml", ".yml"];

// Tabular files through tarnd's engine (the first 20 rows, typed); text files by their head.
function Preview({ account, fs, item }: { account: string; fs: string; item: PathItem }) {
  const lower = item.name.toLowerCase();
  const kind = TABULAR.some((e) => lower.endsWith(e))
    ? "table"
    : TEXT.some((e) => lower.endsWith(e))
      ? "text"
      : "";
  const head = useLoad<PreviewData | string>(
    () =>
      kind === "table"
        ? previewFile(account, fs, item.name)
        : kind === "text" && item.contentLength > 0
          ? readHead(account, fs, item.name, 16 * 1024)
          : Promise.resolve(""),
    [item.name, item.etag],
  );
  if (!kind) return <p class="muted">No preview for this kind of file.</p>;
  if (head.loading) return <Loading what="the preview" />;
  if (head.error) return <ErrorNote error={head.error} />;
  const d = head.data;
  if (typeof d === "string" || d === undefined) return <pre class="preview">{d ?? ""}</pre>;
  return (
    <div>
      <RowsTable label="Preview" columns={d.columns} rows={d.rows} />
      <p class="muted">
        The first {d.rows.length} rows ({d.format}), read by tarnd's tabular engine.
      </p>
    </div>
  );
}

function FilePanel(p: { account: string; fs: string; item: PathItem; onChanged: () => void }) {
  const props = useLoad(() => getProperties(p.account, p.fs, p.item.name), [p.item.name]);
  const [error, setError] = useState("");
  const rename = async () => {
    const to = prompt("New path (from the filesystem's root)", p.item.name);
    if (!to || to === p.item.name) return;
    try {
      await renamePath(p.account, p.fs, p.item.name, to);
      p.onChanged();
    } catch (e) {
      setError(describe(e));
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${p.item.name}?`)) return;
    try {
      await deletePath(p.account, p.fs, p.item.name, p.item.isDirectory);
      p.onChanged();
    } catch (e) {
      setError(describe(e));
    }
  };
  const h = props.data?.headers ?? {};
  return (
    <aside class="side" aria-label="File details">
      <h2 class="break">{baseName(p.item.name)}</h2>
      <div class="row">
        <button
          type="button"
          onClick={() => download(p.account, p.fs, p.item.name).catch((e) => setError(describe(e)))}
        >
          Download
        </button>
        <button type="button" onClick={rename}>
          Rename…
        </button>
        <button type="button" class="danger" onClick={remove}>
          Delete
        </button>
      </div>
      <ErrorNote error={error} />
      <h3>Properties</h3>
      {props.loading && <Loading what="properties" />}
      <ErrorNote error={props.error} />
      <dl class="props">
        <dt>Size</dt>
        <dd>
          {bytes(p.item.contentLength)} ({p.item.contentLength} bytes)
        </dd>
        <dt>Modified</dt>
        <dd>{when(p.item.lastModified)}</dd>
        <dt>ETag</dt>
        <dd class="mono">{h["etag"] ?? p.item.etag}</dd>
        <dt>Owner</dt>
        <dd class="mono">{h["x-ms-owner"] ?? p.item.owner}</dd>
        <dt>Group</dt>
        <dd class="mono">{h["x-ms-group"] ?? p.item.group}</dd>
        <dt>Content type</dt>
        <dd>{h["content-type"] ?? ""}</dd>
        <dt>Content MD5</dt>
        <dd class="mono">{h["content-md5"] ?? ""}</dd>
      </dl>
      {props.data && Object.keys(props.data.metadata).length > 0 && (
        <>
          <h3>Metadata</h3>
          <dl class="props">
            {Object.entries(props.data.metadata).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      <h3>Preview</h3>
      <Preview account={p.account} fs={p.fs} item={p.item} />
      <AclEditor account={p.account} fs={p.fs} path={p.item.name} directory={false} />
    </aside>
  );
}

export function Explorer({ route }: { route: string[] }) {
  const [account, fs, ...rest] = route;
  if (!account) return <Accounts />;
  if (!fs) return <Filesystems account={account} />;
  return <Directory account={account} fs={fs} dir={rest.join("/")} />;
}
