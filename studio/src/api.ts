// The REST APIs the CLI and SDK use, called with the signed-in person's bearer token: the lake
// (DFS), the workspace catalog, and MLflow's tracking API.
import { token, type Audience, SignInError } from "./auth";

export const X_MS_VERSION = "2021-10-04";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// What went wrong, from any of the APIs' error shapes.
async function errorOf(r: Response): Promise<ApiError> {
  let code = r.headers.get("x-ms-error-code") ?? "";
  let message = "";
  const text = r.status === 304 ? "" : await r.text().catch(() => "");
  if (text) {
    try {
      const j = JSON.parse(text);
      if (j.error && typeof j.error === "object") {
        code = j.error.code ?? code;
        message = j.error.message ?? "";
      } else if (j.error_code) {
        code = j.error_code;
        message = j.message ?? "";
      }
    } catch {
      const m = /<Message>([\s\S]*?)<\/Message>/.exec(text);
      if (m) message = m[1];
      const c = /<Code>([\s\S]*?)<\/Code>/.exec(text);
      if (c) code = c[1];
    }
  }
  message = message.split("\n")[0] || r.statusText || "request failed";
  return new ApiError(r.status, code, code ? `${code}: ${message}` : message);
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
  query?: Record<string, string | number | boolean | undefined>;
  ok404?: boolean;
}

export function withQuery(path: string, q?: CallOptions["query"]): string {
  if (!q) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

// One call; a 401 with a held token is retried once with a new one (it may have expired).
export async function call(aud: Audience, path: string, o: CallOptions = {}): Promise<Response> {
  const url = withQuery(path, o.query);
  for (let attempt = 0; ; attempt++) {
    const t = await token(aud, attempt > 0);
    const headers: Record<string, string> = { Authorization: `Bearer ${t}`, ...o.headers };
    if (aud === "storage") headers["x-ms-version"] = X_MS_VERSION;
    const r = await fetch(url, { method: o.method ?? "GET", headers, body: o.body ?? null });
    if (r.status === 401 && attempt === 0) continue;
    if (r.ok || (o.ok404 && r.status === 404)) return r;
    throw await errorOf(r);
  }
}

export async function json<T>(aud: Audience, path: string, o: CallOptions = {}): Promise<T> {
  const r = await call(aud, path, o);
  return (await r.json()) as T;
}

// A path segment, encoded ("a b/c" stays two segments when joined with "/").
export const enc = (s: string) => encodeURIComponent(s);
export const encPath = (p: string) => p.split("/").map(enc).join("/");

// Hands a downloaded body to the browser as a file.
export function saveBlob(blob: Blob, name: string) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name || "download";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function describe(e: unknown): string {
  if (e instanceof ApiError || e instanceof SignInError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

// Uploads with progress: fetch cannot report how much of a request body has left, XHR can.
export function putWithProgress(
  aud: Audience,
  path: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (sent: number) => void,
  method = "PATCH",
): Promise<void> {
  return token(aud).then(
    (t) =>
      new Promise<void>((resolve, reject) => {
        const x = new XMLHttpRequest();
        x.open(method, path);
        x.setRequestHeader("Authorization", `Bearer ${t}`);
        x.setRequestHeader("x-ms-version", X_MS_VERSION);
        for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
        x.upload.onprogress = (e) => onProgress(e.loaded);
        x.onload = () => {
          if (x.status >= 200 && x.status < 300) return resolve();
          const r = new Response(x.responseText || null, {
            status: x.status,
            headers: { "x-ms-error-code": x.getResponseHeader("x-ms-error-code") ?? "" },
          });
          errorOf(r).then(reject, reject);
        };
        x.onerror = () => reject(new ApiError(0, "NetworkError", "The upload was cut off."));
        x.send(body);
      }),
  );
}
