// Administration, for account Owners (docs/identity-api.md): principals, groups and role
// assignments of each tenant, role assignment and removal, and the audit log with filters.
import { useState } from "preact/hooks";
import { call, describe, enc, json } from "./api";
import { ErrorNote, Loading, Section, useLoad, when } from "./ui";

interface Principal {
  object_id: string;
  kind: string;
  display_name: string;
  upn?: string;
  app_id?: string;
  tenant_id: string;
}
interface Group {
  object_id: string;
  display_name: string;
  members?: string[];
}
interface Assignment {
  id: string;
  principal_id: string;
  role: string;
  scope: string;
}

const ROLES = [
  "Storage Blob Data Reader",
  "Storage Blob Data Contributor",
  "Storage Blob Data Owner",
  "Reader",
  "AzureML Data Scientist",
  "Contributor",
  "Owner",
];

// A tenant's groups: members shown by name, added by object ID and removed; new groups.
function Groups(p: {
  tenant: string;
  groups: Group[];
  names: Map<string, string>;
  onChanged: () => void;
}) {
  const [error, setError] = useState("");
  const [newGroup, setNewGroup] = useState("");
  const [adding, setAdding] = useState<Record<string, string>>({});
  const run = async (f: () => Promise<unknown>) => {
    setError("");
    try {
      await f();
      p.onChanged();
    } catch (e) {
      setError(describe(e));
    }
  };
  const member = (g: string, m: string, method: "PUT" | "DELETE") =>
    call("workspace", `/identity/groups/${enc(g)}/members/${enc(m)}`, { method });
  return (
    <>
      {p.groups.length > 0 && (
        <table aria-label={`Groups of ${p.tenant}`}>
          <thead>
            <tr>
              <th>Group</th>
              <th>Object ID</th>
              <th>Members</th>
              <th>Add a member</th>
            </tr>
          </thead>
          <tbody>
            {p.groups.map((g) => (
              <tr key={g.object_id}>
                <td>{g.display_name}</td>
                <td class="mono">{g.object_id}</td>
                <td>
                  {(g.members ?? []).map((m) => (
                    <span class="tag" key={m}>
                      {p.names.get(m) ?? m}{" "}
                      <button
                        type="button"
                        class="small"
                        aria-label={`Remove ${p.names.get(m) ?? m} from ${g.display_name}`}
                        onClick={() => run(() => member(g.object_id, m, "DELETE"))}
                      >
                        ×
                      </button>
                    </span>
                  ))}
                </td>
                <td>
                  <form
                    class="row"
                    aria-label={`Add a member to ${g.display_name}`}
                    onSubmit={(e) => {
                      e.preventDefault();
                      const m = (adding[g.object_id] ?? "").trim();
                      if (m) run(() => member(g.object_id, m, "PUT"));
                      setAdding({ ...adding, [g.object_id]: "" });
                    }}
                  >
                    <input
                      aria-label={`Object ID of the new member of ${g.display_name}`}
                      placeholder="object ID"
                      maxLength={64}
                      value={adding[g.object_id] ?? ""}
                      onInput={(e) =>
                        setAdding({ ...adding, [g.object_id]: e.currentTarget.value })
                      }
                    />
                    <button type="submit">Add</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        class="row"
        aria-label={`New group in ${p.tenant}`}
        onSubmit={(e) => {
          e.preventDefault();
          const name = newGroup.trim();
          if (!name) return;
          setNewGroup("");
          run(() =>
            call("workspace", `/identity/tenants/${enc(p.tenant)}/groups`, {
              method: "POST",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ display_name: name }),
            }),
          );
        }}
      >
        <input
          aria-label="Name of the new group"
          placeholder="new group's name"
          maxLength={256}
          value={newGroup}
          onInput={(e) => setNewGroup(e.currentTarget.value)}
        />
        <button type="submit">Create group</button>
      </form>
      <ErrorNote error={error} />
    </>
  );
}

function Directory() {
  const dir = useLoad(async () => {
    const t = await json<{ tenants: { tenant_id: string; display_name?: string }[] }>(
      "workspace",
      "/identity/tenants",
    );
    const tenants = [];
    for (const x of t.tenants ?? []) {
      const p = await json<{ principals: Principal[] }>(
        "workspace",
        `/identity/tenants/${enc(x.tenant_id)}/principals`,
      );
      const g = await json<{ groups: Group[] }>(
        "workspace",
        `/identity/tenants/${enc(x.tenant_id)}/groups`,
      );
      tenants.push({ ...x, principals: p.principals ?? [], groups: g.groups ?? [] });
    }
    const roles = await json<{ role_assignments: Assignment[] }>(
      "workspace",
      "/identity/role-assignments",
    );
    return { tenants, roles: roles.role_assignments ?? [] };
  }, []);
  const [form, setForm] = useState({ principal: "", role: ROLES[0], scope: "" });
  const [error, setError] = useState("");
  const names = new Map<string, string>();
  for (const t of dir.data?.tenants ?? []) {
    for (const p of t.principals) names.set(p.object_id, p.upn ?? p.display_name);
    for (const g of t.groups) names.set(g.object_id, `group ${g.display_name}`);
  }
  const assign = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      await call("workspace", "/identity/role-assignments", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          principal_id: form.principal.trim(),
          role: form.role,
          scope: form.scope.trim(),
        }),
      });
      setForm({ ...form, principal: "" });
      dir.reload();
    } catch (err) {
      setError(describe(err));
    }
  };
  const remove = async (id: string) => {
    setError("");
    try {
      await call("workspace", `/identity/role-assignments/${enc(id)}`, { method: "DELETE" });
      dir.reload();
    } catch (err) {
      setError(describe(err));
    }
  };
  if (dir.loading && !dir.data) return <Loading what="the directory" />;
  if (dir.error) return <ErrorNote error={dir.error} />;
  return (
    <>
      {(dir.data?.tenants ?? []).map((t) => (
        <Section key={t.tenant_id} title={`Tenant ${t.display_name ?? ""} (${t.tenant_id})`}>
          <table aria-label={`Principals of ${t.tenant_id}`}>
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>User name or application ID</th>
                <th>Object ID</th>
              </tr>
            </thead>
            <tbody>
              {t.principals.map((p) => (
                <tr key={p.object_id}>
                  <td>{p.display_name}</td>
                  <td>{p.kind}</td>
                  <td class="mono">{p.upn ?? p.app_id ?? ""}</td>
                  <td class="mono">{p.object_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Groups tenant={t.tenant_id} groups={t.groups} names={names} onChanged={dir.reload} />
        </Section>
      ))}
      <Section title="Role assignments">
        <table aria-label="Role assignments">
          <thead>
            <tr>
              <th>Who</th>
              <th>Role</th>
              <th>Scope</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {(dir.data?.roles ?? []).map((r) => (
              <tr key={r.id}>
                <td>{names.get(r.principal_id) ?? r.principal_id}</td>
                <td>{r.role}</td>
                <td class="mono">{r.scope}</td>
                <td>
                  <button
                    type="button"
                    class="small"
                    onClick={() => remove(r.id)}
                    aria-label={`Remove ${r.role} at ${r.scope} from ${names.get(r.principal_id) ?? r.principal_id}`}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form class="row" onSubmit={assign} aria-label="Assign a role">
          <input
            aria-label="Principal or group object ID"
            placeholder="object ID"
            required
            value={form.principal}
            onInput={(e) => setForm({ ...form, principal: e.currentTarget.value })}
            maxLength={64}
          />
          <select
            aria-label="Role"
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <input
            aria-label="Scope"
            placeholder="/account/filesystem or /workspaces/ws"
            required
            value={form.scope}
            onInput={(e) => setForm({ ...form, scope: e.currentTarget.value })}
            maxLength={1024}
          />
          <button type="submit">Assign</button>
        </form>
        <ErrorNote error={error} />
      </Section>
    </>
  );
}

interface AuditEvent {
  time?: string;
  principal?: string;
  action?: string;
  method?: string;
  resource?: string;
  result?: string;
  status?: number;
  error?: string;
  remote?: string;
  event?: string;
  count?: number;
}

function Audit() {
  const [filter, setFilter] = useState({ principal: "", action: "", result: "", since: "" });
  const [applied, setApplied] = useState(filter);
  const log = useLoad(
    () =>
      json<{ events: AuditEvent[] }>("workspace", "/identity/audit", {
        query: {
          ...applied,
          since: applied.since ? new Date(applied.since).toISOString() : "",
          limit: 500,
        },
      }),
    [JSON.stringify(applied)],
  );
  return (
    <Section title="Audit log">
      <form
        class="row"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filter);
        }}
      >
        <input
          aria-label="Principal"
          placeholder="principal (oid:..., upn:...)"
          value={filter.principal}
          onInput={(e) => setFilter({ ...filter, principal: e.currentTarget.value })}
        />
        <input
          aria-label="Action"
          placeholder="action (e.g. SetAccessControl)"
          value={filter.action}
          onInput={(e) => setFilter({ ...filter, action: e.currentTarget.value })}
        />
        <select
          aria-label="Result"
          value={filter.result}
          onChange={(e) => setFilter({ ...filter, result: e.currentTarget.value })}
        >
          <option value="">any result</option>
          <option value="allowed">allowed</option>
          <option value="denied">denied</option>
          <option value="failed">failed</option>
        </select>
        <input
          aria-label="Since"
          type="datetime-local"
          value={filter.since}
          onInput={(e) => setFilter({ ...filter, since: e.currentTarget.value })}
        />
        <button type="submit">Filter</button>
      </form>
      {log.loading && <Loading what="the audit log" />}
      <ErrorNote error={log.error} />
      {log.data && (
        <div class="scroll-x">
          <table aria-label="Audit events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Principal</th>
                <th>Action</th>
                <th>Resource</th>
                <th>Result</th>
                <th>Status</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {log.data.events
                .slice()
                .reverse()
                .map((e, i) => (
                  <tr key={i} class={e.result === "denied" ? "changed" : ""}>
                    <td>{when(e.time)}</td>
                    <td class="mono break">{e.principal}</td>
                    <td>{e.event === "reads" ? `${e.count} reads` : e.action}</td>
                    <td class="mono break">{e.resource ?? ""}</td>
                    <td>
                      {e.result ?? ""}
                      {e.error ? ` (${e.error})` : ""}
                    </td>
                    <td>{e.status ?? ""}</td>
                    <td class="mono">{e.remote ?? ""}</td>
                  </tr>
                ))}
              {log.data.events.length === 0 && (
                <tr>
                  <td colSpan={7} class="muted">
                    Nothing matches.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

export function Admin() {
  return (
    <div>
      <h1>Administration</h1>
      <p class="muted">For account Owners: others are refused by the directory API.</p>
      <Directory />
      <Audit />
    </div>
  );
}
