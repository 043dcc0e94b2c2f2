// The lake's DFS API (docs/api.md), as the DataLake SDKs call it.
import { call, enc, encPath, json, putWithProgress, saveBlob } from "./api";

export interface PathItem {
  name: string; // from the filesystem's root
  isDirectory: boolean;
  contentLength: number;
  lastModified: string;
  etag: string;
  owner: string;
  group: string;
  permissions: string;
}

interface RawPath {
  name: string;
  isDirectory?: string | boolean;
  contentLength?: string | number;
  lastModified?: string;
  etag?: string;
  owner?: string;
  group?: string;
  permissions?: string;
}

export const fsUrl = (account: string, fs: string) => `/${enc(account)}/${enc(fs)}`;
export const pathUrl = (account: string, fs: string, path: string) =>
  `${fsUrl(account, fs)}/${encPath(path)}`;

export async function listFilesystems(account: string) {
  const r = await json<{ filesystems: { name: string; lastModified: string; etag: string }[] }>(
    "storage",
    `/${enc(account)}`,
    { query: { resource: "account" } },
  );
  return r.filesystems ?? [];
}

// One page of a directory (not recursive), and where the next begins.
export async function listPage(
  account: string,
  fs: string,
  dir: string,
  continuation: string,
  maxResults = 1000,
): Promise<{ items: PathItem[]; next: string }> {
  const r = await call("storage", fsUrl(account, fs), {
    query: {
      resource: "filesystem",
      recursive: false,
      directory: dir || undefined,
      maxResults,
      continuation: continuation || undefined,
      upn: true,
    },
  });
  const body = (await r.json()) as { paths?: RawPath[] };
  const items = (body.paths ?? []).map((p) => ({
    name: p.name,
    isDirectory: p.isDirectory === true || p.isDirectory === "true",
    contentLength: Number(p.contentLength ?? 0),
    lastModified: p.lastModified ?? "",
    etag: p.etag ?? "",
    owner: p.owner ?? "",
    group: p.group ?? "",
    permissions: p.permissions ?? "",
  }));
  return { items, next: r.headers.get("x-ms-continuation") ?? "" };
}

export interface Properties {
  headers: Record<string, string>;
  metadata: Record<string, string>;
}

// x-ms-properties: "k=base64(v),k2=..." (DFS). Values are shown as text.
function decodeProperties(raw: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    try {
      const bin = atob(part.slice(eq + 1).trim());
      out[k] = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    } catch {
      out[k] = part.slice(eq + 1);
    }
  }
  return out;
}

export async function getProperties(
  account: string,
  fs: string,
  path: string,
): Promise<Properties> {
  const r = await call("storage", pathUrl(account, fs, path), { method: "HEAD" });
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  return { headers, metadata: decodeProperties(r.headers.get("x-ms-properties")) };
}

export interface Acl {
  owner: string;
  group: string;
  permissions: string;
  acl: string;
}

export async function getAcl(account: string, fs: string, path: string): Promise<Acl> {
  const r = await call("storage", pathUrl(account, fs, path), {
    method: "HEAD",
    query: { action: "getAccessControl", upn: true },
  });
  return {
    owner: r.headers.get("x-ms-owner") ?? "",
    group: r.headers.get("x-ms-group") ?? "",
    permissions: r.headers.get("x-ms-permissions") ?? "",
    acl: r.headers.get("x-ms-acl") ?? "",
  };
}

export async function setAcl(account: string, fs: string, path: string, acl: string) {
  await call("storage", pathUrl(account, fs, path), {
    method: "PATCH",
    query: { action: "setAccessControl" },
    headers: { "x-ms-acl": acl },
  });
}

export interface RecursiveReport {
  directories: number;
  files: number;
  failures: { name: string; type: string; errorMessage: string }[];
}

// setAccessControlRecursive, page by page, to the end of the subtree.
export async function setAclRecursive(
  account: string,
  fs: string,
  path: string,
  acl: string,
  mode: "set" | "modify" | "remove",
  onPage: (r: RecursiveReport) => void,
): Promise<RecursiveReport> {
  const total: RecursiveReport = { directories: 0, files: 0, failures: [] };
  let continuation = "";
  do {
    const r = await call("storage", pathUrl(account, fs, path), {
      method: "PATCH",
      query: { action: "setAccessControlRecursive", mode, maxRecords: 2000, continuation },
      headers: { "x-ms-acl": acl },
    });
    const b = (await r.json()) as {
      directoriesSuccessful?: number;
      filesSuccessful?: number;
      failedEntries?: { name: string; type: string; errorMessage: string }[];
    };
    total.directories += b.directoriesSuccessful ?? 0;
    total.files += b.filesSuccessful ?? 0;
    total.failures.push(...(b.failedEntries ?? []));
    onPage({ ...total, failures: [...total.failures] });
    continuation = r.headers.get("x-ms-continuation") ?? "";
  } while (continuation);
  return total;
}

export async function createDirectory(account: string, fs: string, path: string) {
  await call("storage", pathUrl(account, fs, path), {
    method: "PUT",
    query: { resource: "directory" },
    headers: { "If-None-Match": "*" },
  });
}

export async function deletePath(account: string, fs: string, path: string, directory: boolean) {
  await call("storage", pathUrl(account, fs, path), {
    method: "DELETE",
    query: { recursive: directory ? true : undefined },
  });
}

export async function renamePath(account: string, fs: string, from: string, to: string) {
  await call("storage", pathUrl(account, fs, to), {
    method: "PUT",
    // As the DataLake SDKs send it: /<filesystem>/<path>, in the URL's account.
    headers: { "x-ms-rename-source": `/${enc(fs)}/${encPath(from)}`, "If-None-Match": "*" },
  });
}

const CHUNK = 8 << 20;

// A file: create (refusing to replace one), append in 8 MiB chunks, flush. onProgress gets the
// bytes sent so far.
export async function uploadFile(
  account: string,
  fs: string,
  path: string,
  file: Blob,
  onProgress: (sent: number) => void,
) {
  const url = pathUrl(account, fs, path);
  await call("storage", url, {
    method: "PUT",
    query: { resource: "file" },
    headers: { "If-None-Match": "*" },
  });
  let position = 0;
  while (position < file.size) {
    const part = file.slice(position, Math.min(file.size, position + CHUNK));
    const base = position;
    await putWithProgress(
      "storage",
      `${url}?action=append&position=${position}`,
      part,
      {},
      (sent) => onProgress(base + sent),
    );
    position += part.size;
  }
  await call("storage", url, {
    method: "PATCH",
    query: { action: "flush", position: file.size },
    headers: file.type ? { "x-ms-content-type": file.type } : {},
  });
  onProgress(file.size);
}

export interface Preview {
  format: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

// The first rows of a CSV, Parquet or JSON-lines file, read by tarnd's tabular engine.
export async function previewFile(account: string, fs: string, path: string, rows = 20) {
  return json<Preview>("storage", pathUrl(account, fs, path), {
    query: { action: "preview", rows },
  });
}

// The first bytes of a file, for a preview.
export async function readHead(account: string, fs: string, path: string, n: number) {
  const r = await call("storage", pathUrl(account, fs, path), {
    headers: { Range: `bytes=0-${n - 1}` },
  });
  return r.text();
}

export async function download(account: string, fs: string, path: string) {
  const r = await call("storage", pathUrl(account, fs, path));
  saveBlob(await r.blob(), path.split("/").pop() ?? "");
}
