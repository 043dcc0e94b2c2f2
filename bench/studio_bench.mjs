// Measures Tarn Studio in Debian's Chromium (headless, playwright-core): for each directory and
// dataset that studio_bench.py made, the time from navigation to the first paint and to the
// first rows on screen, and the JavaScript heap then (after a garbage collection); for a
// directory, also the time to page through all of it by scrolling and the heap after that.
//   node bench/studio_bench.mjs   with STUDIO_BENCH = {url, tenant, user, password, account, fs,
//                                                    dirs: [{name, files}], ws, datasets: [...],
//                                                    rounds}
// Prints one JSON object.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../studio/package.json"));
const { chromium } = require("playwright-core");
const cfg = JSON.parse(process.env.STUDIO_BENCH);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
const context = await browser.newContext({
  ignoreHTTPSErrors: true,
  viewport: { width: 1280, height: 800 },
});
const page = await context.newPage();
page.setDefaultTimeout(120000);
const cdp = await context.newCDPSession(page);
await cdp.send("HeapProfiler.enable");

async function heapMiB() {
  await cdp.send("HeapProfiler.collectGarbage");
  const h = await cdp.send("Runtime.getHeapUsage");
  return h.usedSize / (1 << 20);
}

// Navigates to the hash (a full load of the studio; the session survives in sessionStorage) and
// waits for `selector`; times are from the navigation's start.
async function visit(hash, selector) {
  await page.goto("about:blank");
  await page.goto(`${cfg.url}/studio/${hash}`);
  await page.waitForFunction((sel) => document.querySelector(sel) !== null, selector, {
    polling: "raf",
  });
  const firstRows = await page.evaluate(() => performance.now());
  const fcp = await page.evaluate(
    () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
  );
  return { first_paint_ms: fcp, first_rows_ms: firstRows };
}

await page.goto(`${cfg.url}/studio/`);
await page.getByLabel("Tenant ID").fill(cfg.tenant);
await page.getByLabel("User name").fill(cfg.user);
await page.getByLabel("Password").fill(cfg.password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("navigation", { name: "Sections" }).waitFor();

const out = { dirs: [], datasets: [] };
for (const d of cfg.dirs) {
  for (let round = 0; round < cfg.rounds; round++) {
    const r = await visit(`#/lake/${cfg.account}/${cfg.fs}/${d.name}`, ".vlist .vrow:not(.head)");
    r.heap_first_mib = await heapMiB();
    r.rows_in_dom = await page.locator(".vlist .vrow:not(.head)").count();
    // Page through the whole directory as a person scrolling to the end would.
    const start = await page.evaluate(() => performance.now());
    for (;;) {
      const text = await page.locator(".listing p.muted").innerText();
      if (!text.includes("so far")) break;
      await page.locator(".vlist").evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(20);
    }
    r.all_rows_ms = (await page.evaluate(() => performance.now())) - start;
    r.listed = await page.locator(".listing p.muted").innerText();
    r.heap_all_mib = await heapMiB();
    out.dirs.push({ name: d.name, files: d.files, round, ...r });
  }
}
for (const ds of cfg.datasets) {
  for (let round = 0; round < cfg.rounds; round++) {
    const r = await visit(
      `#/datasets/${cfg.ws}/${ds.name}/1`,
      "table[aria-label='Profile'] tbody tr",
    );
    await page.waitForFunction(() => document.querySelector(".hist canvas") !== null, null, {
      polling: "raf",
    });
    r.histograms_ms = await page.evaluate(() => performance.now());
    r.heap_mib = await heapMiB();
    out.datasets.push({ name: ds.name, rows: ds.rows, round, ...r });
  }
}
out.chromium = browser.version();
await browser.close();
console.log(JSON.stringify(out));
