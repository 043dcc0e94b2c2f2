import { useEffect, useRef, useState } from "preact/hooks";
import {
  currentUser,
  finishDeviceCode,
  onSessionChange,
  signInApp,
  signInUser,
  signOut,
  startDeviceCode,
  takeExpiredNotice,
  type DeviceCode,
} from "./auth";
import { describe } from "./api";
import { Datasets } from "./datasets";
import { Admin } from "./admin";
import { Experiments } from "./experiments";
import { Pipelines } from "./pipelines";
import { Explorer } from "./explorer";
import { ErrorNote, useRoute } from "./ui";

const TENANT_KEY = "tarn.studio.tenant";

function SignIn() {
  const [notice] = useState(takeExpiredNotice);
  const [kind, setKind] = useState<"user" | "app" | "code">("user");
  const [code, setCode] = useState<DeviceCode | null>(null);
  const cancelled = useRef(false);
  useEffect(
    () => () => {
      cancelled.current = true;
    },
    [],
  );
  const [tenant, setTenant] = useState(
    () =>
      new URLSearchParams(location.search).get("tenant") ?? localStorage.getItem(TENANT_KEY) ?? "",
  );
  const [who, setWho] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const secure = location.protocol === "https:";
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      localStorage.setItem(TENANT_KEY, tenant.trim());
      if (kind === "user") await signInUser(tenant.trim(), who.trim(), secret);
      else if (kind === "app") await signInApp(tenant.trim(), who.trim(), secret);
      else {
        const c = await startDeviceCode(tenant.trim());
        setCode(c);
        await finishDeviceCode(tenant.trim(), c, () => cancelled.current);
      }
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Tarn Studio</h1>
      {notice && (
        <p class="notice" role="alert">
          {notice}
        </p>
      )}
      {!secure && (
        <p class="error" role="alert">
          Sign-in needs https: open this page on tarnd's https port.
        </p>
      )}
      <form onSubmit={submit}>
        <fieldset>
          <legend>Sign in as</legend>
          <label>
            <input
              type="radio"
              name="kind"
              checked={kind === "user"}
              onChange={() => setKind("user")}
            />{" "}
            a person
          </label>
          <label>
            <input
              type="radio"
              name="kind"
              checked={kind === "app"}
              onChange={() => setKind("app")}
            />{" "}
            a service principal
          </label>
          <label>
            <input
              type="radio"
              name="kind"
              checked={kind === "code"}
              onChange={() => setKind("code")}
            />{" "}
            with a code
          </label>
        </fieldset>
        <label for="tenant">Tenant ID</label>
        <input
          id="tenant"
          required
          value={tenant}
          maxLength={64}
          autocomplete="off"
          onInput={(e) => setTenant(e.currentTarget.value)}
        />
        {kind !== "code" && (
          <>
            <label for="who">{kind === "user" ? "User name" : "Application (client) ID"}</label>
            <input
              id="who"
              required
              value={who}
              maxLength={256}
              autocomplete={kind === "user" ? "username" : "off"}
              onInput={(e) => setWho(e.currentTarget.value)}
            />
            <label for="secret">{kind === "user" ? "Password" : "Client secret"}</label>
            <input
              id="secret"
              type="password"
              required
              value={secret}
              maxLength={256}
              autocomplete={kind === "user" ? "current-password" : "off"}
              onInput={(e) => setSecret(e.currentTarget.value)}
            />
          </>
        )}
        {kind === "code" && code && (
          <p role="status">
            Open{" "}
            <a href={code.verification_uri} target="_blank" rel="noopener noreferrer">
              the sign-in page
            </a>{" "}
            and enter the code <strong class="mono">{code.user_code}</strong>. This page goes on
            once you have.
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy
            ? kind === "code"
              ? "Waiting for the code…"
              : "Signing in…"
            : kind === "code"
              ? "Get a code"
              : "Sign in"}
        </button>
        <ErrorNote error={error} />
      </form>
      <p class="muted">
        Tarn's own token service signs you in; the studio never sees an account key. Your session
        ends when you close this tab.
      </p>
    </main>
  );
}

const PAGES: [string, string][] = [
  ["lake", "Lake"],
  ["datasets", "Datasets"],
  ["pipelines", "Pipelines"],
  ["experiments", "Experiments"],
  ["admin", "Administration"],
];

export function App() {
  const [user, setUser] = useState(currentUser);
  useEffect(() => onSessionChange(() => setUser(currentUser())), []);
  const route = useRoute();
  if (!user) return <SignIn />;
  const [page, ...rest] = route.length ? route : ["lake"];
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tarn Studio</span>
        <nav aria-label="Sections">
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={page === id ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          <span class="mono">{user.who}</span>
          <button type="button" class="small" onClick={() => signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {page === "lake" && <Explorer route={rest} />}
        {page === "datasets" && <Datasets route={rest} />}
        {page === "pipelines" && <Pipelines route={rest} />}
        {page === "experiments" && <Experiments route={rest} />}
        {page === "admin" && <Admin />}
        {!PAGES.some(([id]) => id === page) && (
          <p>
            No such page. <a href="#/lake">Go to the lake.</a>
          </p>
        )}
      </main>
    </>
  );
}
