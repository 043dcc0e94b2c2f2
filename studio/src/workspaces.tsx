// The workspace a page is about: chosen from those the person has a role on.
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import { json } from "./api";
import { ErrorNote, Loading, href, useLoad } from "./ui";

export function WorkspacePicker(p: { ws?: string; page: string; children: ComponentChildren }) {
  const list = useLoad(
    () => json<{ workspaces: { name: string }[] }>("workspace", "/workspaces"),
    [],
  );
  const names = (list.data?.workspaces ?? []).map((w) => w.name);
  useEffect(() => {
    if (!p.ws && names.length > 0) location.replace(href(p.page, names[0]));
  }, [p.ws, names.join("\n")]);
  return (
    <div>
      <div class="row ws-pick">
        <label for="ws-pick">Workspace</label>
        <select
          id="ws-pick"
          value={p.ws ?? ""}
          onChange={(e) => (location.hash = href(p.page, e.currentTarget.value))}
        >
          {!p.ws && <option value="">—</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
          {p.ws && !names.includes(p.ws) && <option value={p.ws}>{p.ws}</option>}
        </select>
      </div>
      {list.loading && <Loading what="workspaces" />}
      <ErrorNote error={list.error} />
      {list.data && names.length === 0 && (
        <p class="muted">You have a role on no workspace yet: ask its owner for Reader or more.</p>
      )}
      {p.children}
    </div>
  );
}
