// Drives Tarn Studio in Debian's Chromium (headless) with playwright-core, one scenario per run:
//   node tests/studio/drive.mjs <scenario>
// with STUDIO_TEST set to a JSON object: {url, tenant, user, password, account, fs, ws, ...}
// (test_studio.py makes the data with the SDKs and checks what the browser changed with them).
// Prints one JSON line with what it saw; exits non-zero, saying why, when a step fails.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../studio/package.json"));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.env.STUDIO_TEST ?? "{}");
const scenario = process.argv[2];
const shots = cfg.screenshots || "";
const out = {};

function check(ok, why) {
  if (!ok) throw new Error(why);
}

async function signIn(page, { password = cfg.password } = {}) {
  await page.getByLabel("Tenant ID").fill(cfg.tenant);
  await page.getByLabel("User name").fill(cfg.user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function open(page, hash = "") {
  await page.goto(`${cfg.url}/studio/${hash}`);
}

async function shot(page, name, fullPage = false) {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
}

const scenarios = {
  // Wrong password: the token service's reason, shown; the right one: the lake.
  async signin(page) {
    await open(page);
    await shot(page, "sign-in");
    await signIn(page, { password: "not the password at all" });
    const err = page.getByRole("alert");
    await err.waitFor();
    out.wrong = await err.innerText();
    await signIn(page);
    await page.getByRole("navigation", { name: "Sections" }).waitFor();
    out.signed_in_as = await page.locator(".who .mono").innerText();
    out.stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  },

  // The device code flow: the studio shows a code, the person enters it on tarnd's own
  // verification page (in another tab) and signs in there, and the studio goes on.
  async device(page) {
    await open(page);
    await page.getByLabel("Tenant ID").fill(cfg.tenant);
    await page.getByLabel("with a code").check();
    await page.getByRole("button", { name: "Get a code" }).click();
    const code = await page.locator("strong.mono").innerText();
    const uri = await page.getByRole("link", { name: "the sign-in page" }).getAttribute("href");
    const other = await page.context().newPage();
    await other.goto(uri);
    await other.getByLabel("Code").fill(code);
    await other.getByLabel("User name").fill(cfg.user);
    await other.getByLabel("Password").fill(cfg.password);
    await other.getByRole("button", { name: "Sign in" }).click();
    await other.waitForLoadState();
    await page.getByRole("navigation", { name: "Sections" }).waitFor({ timeout: 30000 });
    out.signed_in_as = await page.locator(".who .mono").innerText();
    out.code = code;
  },

  // A service principal signs in with its secret; what it may read is what its role allows.
  async app(page) {
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/raw/sales`);
    await page.getByLabel("a service principal").check();
    await page.getByLabel("Tenant ID").fill(cfg.tenant);
    await page.getByLabel("Application (client) ID").fill(cfg.app_id);
    await page.getByLabel("Client secret").fill(cfg.secret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "File sales.csv" }).waitFor();
    out.stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    await page.getByRole("button", { name: "New folder" }).waitFor();
    page.removeAllListeners("dialog");
    page.on("dialog", (d) => d.accept("not-allowed"));
    await page.getByRole("button", { name: "New folder" }).click();
    const err = page.locator(".toolbar .error");
    await err.waitFor();
    out.refused = await err.innerText();
  },

  // Lake -> datastore's filesystem -> folders -> a CSV file: properties and a preview.
  async browse(page) {
    await open(page);
    await signIn(page);
    await page.getByRole("link", { name: cfg.fs, exact: true }).first().click();
    // By keyboard: rows are buttons, reached with Tab and opened with Enter.
    await page.getByRole("button", { name: "Folder raw" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Folder sales" }).waitFor();
    await page.keyboard.press("Tab");
    out.focus_outline = await page.evaluate(() => {
      const el = document.activeElement;
      return el ? getComputedStyle(el).outlineStyle : "";
    });
    await page.getByRole("button", { name: "Folder sales" }).click();
    await page.getByRole("button", { name: "File sales.csv" }).click();
    const preview = page.getByRole("table", { name: "Preview" });
    await preview.waitFor();
    out.preview_header = await preview.locator("th").allInnerTexts();
    out.preview_rows = await preview.locator("tbody tr").count();
    out.etag = await page.locator("dl.props dt:has-text('ETag') + dd").innerText();
    out.hash = await page.evaluate(() => location.hash);
    await shot(page, "lake-explorer");
  },

  // A folder of more files than one page: rows come page by page as the list scrolls, and only
  // those in view are in the page.
  async paging(page) {
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/many`);
    await signIn(page);
    const counter = page.locator(".listing p.muted");
    await page.waitForFunction(() =>
      /^[1-9]\d* items?/.test(document.querySelector(".listing p.muted")?.textContent ?? ""),
    );
    out.first = await counter.innerText();
    for (let i = 0; i < 40; i++) {
      await page.locator(".vlist").evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(150);
      const t = await counter.innerText();
      if (!t.includes("so far")) break;
    }
    out.last = await counter.innerText();
    await page.locator(".vlist").evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForTimeout(300);
    out.rows_in_dom = await page.locator(".vlist .vrow:not(.head)").count();
    out.last_row = await page.locator(".vlist .vrow:not(.head) button").last().innerText();
  },

  // Upload by the file picker over a throttled link, so that the progress bar shows partway.
  async upload(page) {
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/uploads`);
    await signIn(page);
    await page.getByRole("button", { name: "Upload files…" }).waitFor();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 4 * 1024 * 1024,
    });
    const size = cfg.upload_size;
    const buffer = Buffer.alloc(size);
    for (let i = 0; i < size; i++) buffer[i] = (i * 131 + (i >> 9)) & 0xff;
    await page.getByLabel("Files to upload").setInputFiles({
      name: "big.bin",
      mimeType: "application/octet-stream",
      buffer,
    });
    const bar = page.locator("progress");
    await bar.waitFor();
    const seen = [];
    for (let i = 0; i < 100; i++) {
      const v = await bar.evaluate((el) => [el.value, el.max]).catch(() => null);
      if (!v) break;
      seen.push(v[0] / v[1]);
      await page.waitForTimeout(100);
    }
    out.partway = seen.filter((x) => x > 0.05 && x < 0.95).length;
    await page.getByRole("status").filter({ hasText: "Uploaded big.bin" }).waitFor();
    await page.getByRole("button", { name: "File big.bin" }).waitFor();
    await shot(page, "upload");
    // Dropped on the toolbar, as a file dragged from the desktop is.
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const drop = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped,bytes\n1,2\n"], "dropped.csv", { type: "text/csv" }));
      return dt;
    });
    await page.locator(".toolbar").dispatchEvent("dragover", { dataTransfer: drop });
    await page.locator(".toolbar").dispatchEvent("drop", { dataTransfer: drop });
    await page.getByRole("button", { name: "File dropped.csv" }).waitFor();
  },

  // An ACL entry added in the editor; test_studio.py reads it back with the DataLake SDK.
  async acl(page) {
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/raw/sales`);
    await signIn(page);
    await page.getByRole("button", { name: "File sales.csv" }).click();
    const form = page.getByRole("form", { name: "Add an entry" });
    await form.getByLabel("User name, object ID or group ID").fill(cfg.grantee);
    await form.getByLabel("Permissions").selectOption("r--");
    await form.getByRole("button", { name: "Add entry" }).click();
    await page.getByRole("button", { name: "Save ACL" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.getByRole("cell", { name: `User ${cfg.grantee}`, exact: true }).waitFor();
    await shot(page, "acl-editor");
    // On a folder: a default entry, applied to everything below.
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/raw`);
    const folder = page.getByRole("form", { name: "Add an entry" });
    await folder.getByLabel("Scope").selectOption("default");
    await folder.getByLabel("User name, object ID or group ID").fill(cfg.grantee);
    await folder.getByLabel("Permissions").selectOption("r-x");
    await folder.getByRole("button", { name: "Add entry" }).click();
    await page.getByRole("button", { name: "Apply to everything below" }).click();
    const applied = page.getByRole("status").filter({ hasText: "Applied to" });
    await applied.waitFor();
    out.applied = await applied.innerText();
  },

  // A dataset version: profile, lineage down to its file, and the diff against version 1.
  async dataset(page) {
    await open(page, `#/datasets/${cfg.ws}`);
    await signIn(page);
    // The list's search: by name.
    await page.getByRole("link", { name: cfg.dataset, exact: true }).waitFor();
    await page.getByLabel("Search").fill("totals");
    await page.getByRole("link", { name: cfg.dataset, exact: true }).waitFor({ state: "detached" });
    out.searched = await page
      .getByRole("table", { name: "Datasets" })
      .locator("tbody tr td:first-child")
      .allInnerTexts();
    await page.getByLabel("Search").fill("");
    await page.getByRole("link", { name: cfg.dataset, exact: true }).click();
    const profile = page.getByRole("table", { name: "Profile" });
    await profile.waitFor();
    out.profile = await profile.locator("tbody tr td:first-child").allInnerTexts();
    await profile.locator(".hist canvas").first().waitFor();
    out.histograms = await profile
      .locator(".hist")
      .evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
    const rows = page.getByRole("table", { name: "Rows" });
    await rows.waitFor();
    out.rows = await rows.locator("tbody tr").count();
    out.first_row = await rows.locator("tbody tr").first().locator("td").allInnerTexts();
    const tree = page.getByRole("list", { name: "Lineage, upstream" });
    await tree.waitFor();
    out.lineage = await tree.innerText();
    await page.getByLabel("Compare with").selectOption("1");
    const diff = page.getByRole("table", {
      name: /Differences between versions 1 and 2/,
    });
    await diff.waitFor();
    out.diff_rows = await diff.locator("tr.changed td:first-child").allInnerTexts();
    await shot(page, "dataset", true);
  },

  // A run's page: its artifacts, a folder opened and a file downloaded.
  async artifacts(page) {
    await open(page, `#/experiments/${cfg.ws}`);
    await signIn(page);
    await page.getByRole("link", { name: cfg.experiment, exact: true }).click();
    await page.getByRole("link", { name: "run-a", exact: true }).click();
    await page.getByRole("button", { name: "notes/" }).click();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download notes/hello.txt" }).click();
    const file = await download;
    const chunks = [];
    for await (const c of await file.createReadStream()) chunks.push(c);
    out.name = file.suggestedFilename();
    out.text = Buffer.concat(chunks).toString();
  },

  // A run submitted to a compute target, seen by the service principal that submitted it: its
  // log and the datasets it read and wrote (tests/sdk/test_submit_data.py makes the run).
  async runpage(page) {
    await open(page, `#/experiments/${cfg.ws}/${cfg.experiment}/runs/${cfg.run}`);
    await page.getByLabel("a service principal").check();
    await page.getByLabel("Tenant ID").fill(cfg.tenant);
    await page.getByLabel("Application (client) ID").fill(cfg.app_id);
    await page.getByLabel("Client secret").fill(cfg.secret);
    await page.getByRole("button", { name: "Sign in" }).click();
    const table = page.getByRole("table", { name: "Datasets read and written" });
    await table.locator("tbody tr").nth(1).waitFor();
    out.datasets = (await table.locator("tbody tr").allInnerTexts()).map((t) =>
      t.replace(/\s+/g, " ").trim(),
    );
    const log = page.locator("pre[aria-label='Log']");
    await page.waitForFunction(
      () => (document.querySelector("pre[aria-label='Log']")?.textContent ?? "").length > 0,
    );
    out.log = await log.innerText();
  },

  // A version a pipeline made: its lineage down to columns.
  async columns(page) {
    await open(page, `#/datasets/${cfg.ws}/sales_totals/1`);
    await signIn(page);
    const cols = page.getByRole("list", {
      name: "Column lineage of sales_totals:1",
    });
    await cols.waitFor();
    out.columns = await cols.locator("li").allInnerTexts();
    const graph = page.locator("svg.graph");
    await graph.waitFor();
    out.graph = await graph.getAttribute("aria-label");
    out.graph_nodes = await graph.locator("g.node").count();
    out.graph_edges = await graph.locator("path.edge").count();
    await shot(page, "lineage", true);
  },

  // Two runs' metric histories overlaid in one chart.
  async runs(page) {
    await open(page, `#/experiments/${cfg.ws}`);
    await signIn(page);
    await page.getByRole("link", { name: cfg.experiment, exact: true }).click();
    const table = page.getByRole("table", { name: "Runs" });
    await table.waitFor();
    out.columns = await table.locator("thead th").allInnerTexts();
    const names = () => table.locator("tbody tr td:nth-child(2)").allInnerTexts();
    // Sorted by a metric's column, both ways, and filtered by a parameter's value.
    await table.getByRole("button", { name: /^loss/ }).click();
    out.by_loss_up = await names();
    await table.getByRole("button", { name: /^loss/ }).click();
    out.by_loss_down = await names();
    await page.getByLabel("Filter").fill("lr=0.3");
    await page.waitForFunction(
      () => document.querySelectorAll("table[aria-label='Runs'] tbody tr").length === 1,
    );
    out.filtered = await names();
    await page.getByLabel("Filter").fill("");
    for (const r of cfg.runs) await page.getByLabel(`Compare ${r}`).check();
    await page.getByLabel("Metric").selectOption(cfg.metric);
    await page.locator(".chart canvas").waitFor();
    out.legend = await page.locator(".chart .u-legend .u-label").allInnerTexts();
    out.compared = await page
      .getByRole("table", { name: "Compared runs" })
      .locator("thead th")
      .allInnerTexts();
    await shot(page, "runs-compare");
  },

  // A pipeline run from its page: the gate's failing check with its example rows.
  async pipeline(page) {
    await open(page, `#/pipelines/${cfg.ws}`);
    await signIn(page);
    await page.getByRole("link", { name: cfg.pipeline, exact: true }).click();
    await page.getByRole("button", { name: "Run now" }).click();
    await page.getByRole("table", { name: "Steps" }).waitFor();
    for (let i = 0; i < 60; i++) {
      const h = await page.locator("h1").innerText();
      if (/succeeded|failed/.test(h)) break;
      await page.waitForTimeout(500);
      await page.reload();
      await page.getByRole("table", { name: "Steps" }).waitFor();
    }
    out.heading = await page.locator("h1").innerText();
    const gate = page.getByRole("table", { name: "Gate report" });
    out.checks = await gate.locator("> tbody > tr > td:first-child").allInnerTexts();
    out.examples = await page
      .getByRole("table", { name: /Example rows failing/ })
      .locator("tbody tr")
      .allInnerTexts();
    await shot(page, "pipeline-run");
  },

  // Administration: the directory, a role assigned in the form, the audit log filtered.
  async admin(page) {
    await open(page, "#/admin");
    await signIn(page);
    await page.getByRole("table", { name: "Role assignments" }).waitFor();
    const form = page.getByRole("form", { name: "Assign a role" });
    await form.getByLabel("Principal or group object ID").fill(cfg.bob);
    await form.getByLabel("Role").selectOption("Storage Blob Data Reader");
    await form.getByLabel("Scope").fill(cfg.scope);
    await form.getByRole("button", { name: "Assign" }).click();
    await page
      .getByRole("button", {
        name: `Remove Storage Blob Data Reader at ${cfg.scope} from bob@contoso.example`,
      })
      .waitFor();
    // A new group, and bob in it.
    const create = page.getByRole("form", { name: `New group in ${cfg.tenant}` });
    await create.getByLabel("Name of the new group").fill("analysts");
    await create.getByRole("button", { name: "Create group" }).click();
    const add = page.getByRole("form", { name: "Add a member to analysts" });
    await add.getByLabel("Object ID of the new member of analysts").fill(cfg.bob);
    await add.getByRole("button", { name: "Add" }).click();
    await page.getByRole("button", { name: "Remove bob@contoso.example from analysts" }).waitFor();
    const audit = page.getByRole("form", { name: "Filter the audit log" });
    await audit.getByLabel("Action").fill("AssignRole");
    await audit.getByRole("button", { name: "Filter" }).click();
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll("table[aria-label='Audit events'] tbody tr");
      return rows.length > 0 && !/Nothing matches/.test(rows[0].textContent ?? "");
    });
    out.audit = await page
      .getByRole("table", { name: "Audit events" })
      .locator("tbody tr")
      .allInnerTexts();
    await shot(page, "administration");
  },

  // New folder, rename, download and delete, each through its button (and the browser's own
  // prompt or confirmation); test_studio.py checks the lake with the DataLake SDK.
  async manage(page) {
    const answers = [...cfg.answers];
    page.removeAllListeners("dialog");
    page.on("dialog", async (d) => {
      out.dialogs = [...(out.dialogs ?? []), d.type()];
      await (d.type() === "prompt" ? d.accept(answers.shift()) : d.accept());
    });
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/work`);
    await signIn(page);
    await page.getByRole("button", { name: "New folder" }).click();
    await page.getByRole("button", { name: "Folder made" }).waitFor();
    await page.getByRole("button", { name: "File keep.txt" }).click();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download" }).click();
    const file = await download;
    out.downloaded_name = file.suggestedFilename();
    const chunks = [];
    for await (const c of await file.createReadStream()) chunks.push(c);
    out.downloaded = Buffer.concat(chunks).toString();
    await page.getByRole("button", { name: "Rename…" }).click();
    await page.getByRole("button", { name: "File renamed.txt" }).waitFor();
    await page.getByRole("button", { name: "File gone.txt" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "File gone.txt" }).waitFor({ state: "detached" });
  },

  // A file named like markup shows as text, and nothing runs.
  async xss(page) {
    await open(page, `#/lake/${cfg.account}/${cfg.fs}/hostile`);
    await signIn(page);
    const button = page.getByRole("button", { name: `File ${cfg.hostile}` });
    await button.waitFor();
    out.shown = await button.innerText();
    await button.click();
    await page.locator("aside h2").waitFor();
    out.heading = await page.locator("aside h2").innerText();
    out.injected = await page.locator("img[src='x'], .listing img, aside img").count();
    out.alerted = await page.evaluate(() => window.__xss === true);
  },

  // Tokens and the refresh token run out: the next call brings the sign-in page with a notice,
  // and signing in again goes on where the person was.
  async expired(page) {
    const where = `#/lake/${cfg.account}/${cfg.fs}/raw`;
    await open(page, where);
    await signIn(page);
    await page.getByRole("button", { name: "Folder sales" }).waitFor();
    await page.waitForTimeout(cfg.wait_ms);
    await page.getByRole("button", { name: "Refresh" }).click();
    const notice = page.locator(".notice");
    await notice.waitFor({ timeout: 15000 });
    out.notice = await notice.innerText();
    await signIn(page);
    await page.getByRole("button", { name: "Folder sales" }).waitFor();
    out.hash = await page.evaluate(() => location.hash);
  },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
let failed = null;
let current = null;
try {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(20000);
  const violations = [];
  const errors = [];
  page.on("dialog", async (d) => {
    out.dialog = d.message();
    await d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  check(scenarios[scenario], `no scenario ${scenario}`);
  await scenarios[scenario](page);
  out.csp_violations = violations;
  out.page_errors = errors;
  await context.close();
} catch (e) {
  failed = e;
  // What the page showed when a step failed, for whoever reads the failure.
  if (current && process.env.STUDIO_FAILURE_SHOT) {
    await current
      .screenshot({ path: process.env.STUDIO_FAILURE_SHOT, fullPage: true })
      .catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
if (failed) {
  console.error(`scenario ${scenario} failed: ${failed.stack ?? failed}`);
  process.exit(1);
}
