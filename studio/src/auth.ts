// Signing in with tarnd's own token service, and the bearer tokens every API call carries.
//
// A person signs in with the password grant (the public client, as azure-identity's
// UsernamePasswordCredential does); the answer's refresh token then buys tokens for each API's
// audience. A service principal signs in with its client secret, which is kept in memory only.
// Tokens live in memory; the refresh token in sessionStorage, so a reload of the tab keeps the
// session and closing it ends it. Nothing here is a cookie, so no request rides on one.

export const PUBLIC_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

export type Audience = "storage" | "workspace" | "tracking";

const SCOPES: Record<Audience, string> = {
  storage: "https://storage.azure.com/.default",
  workspace: "https://management.azure.com/.default",
  tracking: "https://ml.azure.com/.default",
};

interface Session {
  tenant: string;
  who: string; // the user name, or the application id
  kind: "user" | "app";
  refresh?: string;
  secret?: string; // a service principal's, in memory only
}

interface Token {
  value: string;
  expires: number; // ms since the epoch, a minute early
}

const KEY = "tarn.studio.session";
let session: Session | null = load();
const tokens = new Map<Audience, Token>();
const pending = new Map<Audience, Promise<string>>();
const listeners = new Set<() => void>();
let expiredNotice = "";

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s.kind === "user" && typeof s.refresh === "string" ? s : null;
  } catch {
    return null;
  }
}

function save() {
  if (session && session.kind === "user") {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } else {
    sessionStorage.removeItem(KEY);
  }
  listeners.forEach((f) => f());
}

export function onSessionChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function currentUser(): { tenant: string; who: string; kind: string } | null {
  return session ? { tenant: session.tenant, who: session.who, kind: session.kind } : null;
}

// Why the last session ended, when it ended by itself: shown on the sign-in page once.
export function takeExpiredNotice(): string {
  const n = expiredNotice;
  expiredNotice = "";
  return n;
}

export class SignInError extends Error {}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

// A form posted to one of the token service's endpoints ("token", "devicecode"); the body is
// null when the answer is not JSON.
async function postForm(tenant: string, endpoint: string, form: Record<string, string>) {
  const r = await fetch(`/${encodeURIComponent(tenant)}/oauth2/v2.0/${endpoint}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await r.json().catch(() => null)) as (TokenAnswer & Partial<DeviceCode>) | null;
  return { ok: r.ok, status: r.status, body };
}

// Why the token service refused: "AADSTS50126: Error validating credentials..." reads well to a
// person; its first line, without the trace id.
function reason(body: TokenAnswer | null, status: number): string {
  const why = (body?.error_description || body?.error || `status ${status}`).split("\n")[0];
  return why.replace(/ Trace ID:.*$/, "");
}

async function tokenCall(tenant: string, form: Record<string, string>): Promise<TokenAnswer> {
  const r = await postForm(tenant, "token", form);
  if (!r.body) throw new SignInError(`The token service answered ${r.status} without JSON.`);
  if (!r.ok || !r.body.access_token) throw new SignInError(reason(r.body, r.status));
  return r.body;
}

// A new session, with the storage token its sign-in brought.
function begin(next: Session, a: TokenAnswer) {
  tokens.clear();
  session = next;
  keep("storage", a);
  save();
}

function keep(aud: Audience, a: TokenAnswer) {
  tokens.set(aud, {
    value: a.access_token!,
    expires: Date.now() + Math.max(1, (a.expires_in ?? 3600) - 60) * 1000,
  });
  if (a.refresh_token && session) session.refresh = a.refresh_token;
}

export async function signInUser(tenant: string, username: string, password: string) {
  const a = await tokenCall(tenant, {
    grant_type: "password",
    client_id: PUBLIC_CLIENT,
    username,
    password,
    scope: `${SCOPES.storage} openid profile offline_access`,
  });
  begin({ tenant, who: username, kind: "user", refresh: a.refresh_token }, a);
}

export async function signInApp(tenant: string, appId: string, secret: string) {
  const a = await tokenCall(tenant, {
    grant_type: "client_credentials",
    client_id: appId,
    client_secret: secret,
    scope: SCOPES.storage,
  });
  begin({ tenant, who: appId, kind: "app", secret }, a);
}

export interface DeviceCode {
  user_code: string;
  device_code: string;
  verification_uri: string;
  interval: number;
  expires_in: number;
}

// The device code flow (as azure-identity's DeviceCodeCredential runs it): tarnd gives a code,
// the person enters it on tarnd's verification page and signs in there, and this polls.
export async function startDeviceCode(tenant: string): Promise<DeviceCode> {
  const r = await postForm(tenant, "devicecode", {
    client_id: PUBLIC_CLIENT,
    scope: `${SCOPES.storage} openid profile offline_access`,
  });
  if (!r.ok || !r.body?.device_code) throw new SignInError(reason(r.body, r.status));
  return r.body as DeviceCode;
}

// Resolves once signed in; rejects when the code is declined, expires, or `cancelled()` says so.
export async function finishDeviceCode(tenant: string, code: DeviceCode, cancelled: () => boolean) {
  const deadline = Date.now() + code.expires_in * 1000;
  let wait = Math.max(1, code.interval) * 1000;
  while (Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, wait));
    if (cancelled()) throw new SignInError("Cancelled.");
    const r = await postForm(tenant, "token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: PUBLIC_CLIENT,
      device_code: code.device_code,
    });
    const a = r.body;
    if (r.ok && a?.access_token) {
      begin({ tenant, who: whoAmI(a.access_token), kind: "user", refresh: a.refresh_token }, a);
      return;
    }
    if (a?.error === "authorization_pending") continue;
    if (a?.error === "slow_down") {
      wait += 5000;
      continue;
    }
    throw new SignInError(reason(a, r.status));
  }
  throw new SignInError("The code expired before it was used: start again.");
}

// The signed-in person's name, from the access token's claims (shown, never trusted).
function whoAmI(jwt: string): string {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    return String(claims.upn ?? claims.name ?? claims.oid ?? "signed in");
  } catch {
    return "signed in";
  }
}

export function signOut(notice = "") {
  session = null;
  tokens.clear();
  expiredNotice = notice;
  save();
}

async function fetchToken(aud: Audience): Promise<string> {
  const s = session;
  if (!s) throw new SignInError("Not signed in.");
  try {
    const a =
      s.kind === "user"
        ? await tokenCall(s.tenant, {
            grant_type: "refresh_token",
            client_id: PUBLIC_CLIENT,
            refresh_token: s.refresh ?? "",
            scope: `${SCOPES[aud]} offline_access`,
          })
        : await tokenCall(s.tenant, {
            grant_type: "client_credentials",
            client_id: s.who,
            client_secret: s.secret ?? "",
            scope: SCOPES[aud],
          });
    keep(aud, a);
    if (s.kind === "user") save();
    return a.access_token!;
  } catch (e) {
    if (e instanceof SignInError) {
      signOut(`Your session has ended (${e.message}). Sign in again to go on.`);
    }
    throw e;
  }
}

// A bearer token for the audience: the one held, or a new one (one request at a time).
export async function token(aud: Audience, fresh = false): Promise<string> {
  const t = tokens.get(aud);
  if (!fresh && t && t.expires > Date.now()) return t.value;
  if (fresh) tokens.delete(aud);
  let p = pending.get(aud);
  if (!p) {
    p = fetchToken(aud).finally(() => pending.delete(aud));
    pending.set(aud, p);
  }
  return p;
}
