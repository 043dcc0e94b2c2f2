// The POSIX ACL of a path: access and default entries, the mask, named users and groups.
import { useEffect, useState } from "preact/hooks";
import { describe } from "./api";
import { getAcl, setAcl, setAclRecursive, type RecursiveReport } from "./lake";
import { ErrorNote, Loading } from "./ui";

interface Entry {
  scope: "access" | "default";
  type: "user" | "group" | "mask" | "other";
  id: string; // "" for the owner, owning group, mask and other
  perms: string; // "rwx", "r-x"...
}

export function parseAcl(acl: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of acl.split(",")) {
    const parts = raw.trim().split(":");
    if (parts.length < 3) continue;
    let scope: Entry["scope"] = "access";
    if (parts[0] === "default") {
      scope = "default";
      parts.shift();
    }
    const [type, id, perms] = parts;
    if (type !== "user" && type !== "group" && type !== "mask" && type !== "other") continue;
    out.push({ scope, type, id: id ?? "", perms: perms ?? "---" });
  }
  return out;
}

export function formatAcl(entries: Entry[]): string {
  return entries
    .map((e) => `${e.scope === "default" ? "default:" : ""}${e.type}:${e.id}:${e.perms}`)
    .join(",");
}

function describeEntry(e: Entry): string {
  if (e.type === "mask") return "Mask";
  if (e.type === "other") return "Everyone else";
  if (!e.id) return e.type === "user" ? "Owner" : "Owning group";
  return `${e.type === "user" ? "User" : "Group"} ${e.id}`;
}

function setBit(perms: string, i: number, on: boolean): string {
  const letters = "rwx";
  const a = perms.padEnd(3, "-").split("");
  a[i] = on ? letters[i] : "-";
  return a.join("");
}

export function AclEditor(p: { account: string; fs: string; path: string; directory: boolean }) {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [owner, setOwner] = useState({ owner: "", group: "" });
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [report, setReport] = useState<RecursiveReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [adding, setAdding] = useState({ scope: "access", type: "user", id: "", perms: "r-x" });

  const load = () => {
    setError("");
    getAcl(p.account, p.fs, p.path).then(
      (a) => {
        setEntries(parseAcl(a.acl));
        setOwner({ owner: a.owner, group: a.group });
      },
      (e) => setError(describe(e)),
    );
  };
  useEffect(load, [p.account, p.fs, p.path]);

  const save = async () => {
    if (!entries) return;
    setBusy(true);
    setStatus("");
    setError("");
    try {
      await setAcl(p.account, p.fs, p.path, formatAcl(entries));
      setStatus("Saved.");
      load();
    } catch (e) {
      setError(describe(e));
    }
    setBusy(false);
  };

  const applyBelow = async () => {
    if (!entries) return;
    setBusy(true);
    setStatus("");
    setError("");
    setReport(null);
    try {
      const r = await setAclRecursive(
        p.account,
        p.fs,
        p.path,
        formatAcl(entries),
        "modify",
        setReport,
      );
      setStatus(
        `Applied to ${r.directories} folder${r.directories === 1 ? "" : "s"} and ${r.files} ` +
          `file${r.files === 1 ? "" : "s"}` +
          (r.failures.length ? `; ${r.failures.length} failed (below).` : "."),
      );
    } catch (e) {
      setError(describe(e));
    }
    setBusy(false);
  };

  const add = (e: Event) => {
    e.preventDefault();
    if (!entries || !adding.id.trim()) return;
    const entry: Entry = {
      scope: adding.scope as Entry["scope"],
      type: adding.type as Entry["type"],
      id: adding.id.trim(),
      perms: adding.perms,
    };
    const rest = entries.filter(
      (x) => !(x.scope === entry.scope && x.type === entry.type && x.id === entry.id),
    );
    const next = [...rest, entry];
    // A named entry needs a mask; start it from the owning group's bits, as chmod would.
    if (!next.some((x) => x.scope === entry.scope && x.type === "mask")) {
      next.push({ scope: entry.scope, type: "mask", id: "", perms: "rwx" });
    }
    setEntries(next);
    setAdding({ ...adding, id: "" });
  };

  return (
    <section class="acl" aria-label="Access control">
      <h3>Access control</h3>
      <ErrorNote error={error} />
      {!entries && !error && <Loading what="the ACL" />}
      {entries && (
        <>
          <p class="muted">
            Owner <span class="mono">{owner.owner}</span>, group{" "}
            <span class="mono">{owner.group}</span>
          </p>
          <table aria-label="ACL entries">
            <thead>
              <tr>
                <th>Scope</th>
                <th>Who</th>
                <th>Read</th>
                <th>Write</th>
                <th>Execute</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={i}>
                  <td>{e.scope}</td>
                  <td class="break">{describeEntry(e)}</td>
                  {[0, 1, 2].map((bit) => (
                    <td key={bit}>
                      <input
                        type="checkbox"
                        aria-label={`${describeEntry(e)} (${e.scope}): ${["read", "write", "execute"][bit]}`}
                        checked={e.perms[bit] !== "-"}
                        onChange={(ev) => {
                          const next = [...entries];
                          next[i] = { ...e, perms: setBit(e.perms, bit, ev.currentTarget.checked) };
                          setEntries(next);
                        }}
                      />
                    </td>
                  ))}
                  <td>
                    {e.id && (
                      <button
                        type="button"
                        class="small"
                        aria-label={`Remove ${describeEntry(e)} (${e.scope})`}
                        onClick={() => setEntries(entries.filter((_, j) => j !== i))}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form class="row" onSubmit={add} aria-label="Add an entry">
            {p.directory && (
              <select
                aria-label="Scope"
                value={adding.scope}
                onChange={(e) => setAdding({ ...adding, scope: e.currentTarget.value })}
              >
                <option value="access">access</option>
                <option value="default">default</option>
              </select>
            )}
            <select
              aria-label="Kind"
              value={adding.type}
              onChange={(e) => setAdding({ ...adding, type: e.currentTarget.value })}
            >
              <option value="user">user</option>
              <option value="group">group</option>
            </select>
            <input
              aria-label="User name, object ID or group ID"
              placeholder="user name or object ID"
              value={adding.id}
              maxLength={256}
              onInput={(e) => setAdding({ ...adding, id: e.currentTarget.value })}
            />
            <select
              aria-label="Permissions"
              value={adding.perms}
              onChange={(e) => setAdding({ ...adding, perms: e.currentTarget.value })}
            >
              {["r--", "r-x", "rw-", "rwx", "--x", "---"].map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </select>
            <button type="submit">Add entry</button>
          </form>
          <div class="row">
            <button type="button" onClick={save} disabled={busy}>
              Save ACL
            </button>
            {p.directory && (
              <button type="button" onClick={applyBelow} disabled={busy}>
                Apply to everything below
              </button>
            )}
            {status && (
              <span class="ok" role="status">
                {status}
              </span>
            )}
          </div>
          {report && report.failures.length > 0 && (
            <table aria-label="Paths the ACL could not be applied to">
              <thead>
                <tr>
                  <th>Path</th>
                  <th>Kind</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {report.failures.map((f, i) => (
                  <tr key={i}>
                    <td class="break">{f.name}</td>
                    <td>{f.type}</td>
                    <td>{f.errorMessage}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
