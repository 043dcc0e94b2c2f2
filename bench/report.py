#!/usr/bin/python3
"""Writes the benchmark report of scripts/bench_lake.sh: a Markdown page and one PNG chart.

  report.py RESULTS_DIR OUT.md OUT.png

RESULTS_DIR holds one JSON object per file: meta.json (the run and the machine), the limits
(memcpy.json, loopback.json, fsync.json, dd#R.json) and the workloads, NAME[#ROUND]@TARGET.json,
TARGET being tarnd, azurite-mem or azurite-disk. A figure over several rounds is their median.
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = ["tarnd", "azurite-mem", "azurite-disk"]
LABEL = {"tarnd": "tarnd", "azurite-mem": "Azurite (in memory)", "azurite-disk": "Azurite (on disk)"}
COLOR = {"tarnd": "#1f6f3f", "azurite-mem": "#d9822b", "azurite-disk": "#a33b3b"}
RENAME_SIZES = [1000, 10000, 100000]


class Results:
    def __init__(self, folder):
        self.runs = {}  # (name, target) -> [result of each round]
        self.meta = {}
        for f in sorted(os.listdir(folder)):
            if not f.endswith(".json"):
                continue
            key = f[:-5]
            try:
                with open(os.path.join(folder, f)) as fh:
                    j = json.load(fh)
            except ValueError:
                j = {"ok": False}
            if key == "meta":
                self.meta = j
                continue
            name, _, target = key.partition("@")
            self.runs.setdefault((name.split("#")[0], target), []).append(j)

    def get(self, name, key, target=""):
        """The median over rounds of one figure, or None."""
        v = [r[key] for r in self.runs.get((name, target), []) if isinstance(r.get(key), (int, float))]
        return statistics.median(v) if v else None

    def ok(self, name, target=""):
        runs = self.runs.get((name, target))
        return None if not runs else all(r.get("ok") for r in runs)

    def failed(self):
        return sorted("%s@%s" % k if k[1] else k[0] for k, v in self.runs.items()
                      if not all(r.get("ok") for r in v))


def fmt(v, spec="{:,.0f}"):
    return "n/a" if v is None else spec.format(v)


def ratio(a, b):
    return None if a is None or not b else a / b


def times(v):
    return fmt(v, "{:,.1f}x") if v is not None and v < 100 else fmt(v, "{:,.0f}x")


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def best_azurite(res, name, key):
    v = [res.get(name, key, t) for t in TARGETS[1:]]
    v = [x for x in v if x is not None]
    return max(v) if v else None


def rename_seconds(res, d, target):
    """(seconds, extrapolated?) for a rename of d descendants (before scaling) on target."""
    s = res.get("rename-%d" % d, "seconds", target)
    if s is not None or target == "tarnd":
        return s, False
    for smaller in reversed([x for x in RENAME_SIZES if x < d]):
        s0 = res.get("rename-%d" % smaller, "seconds", target)
        n0 = res.get("rename-%d" % smaller, "descendants", target)
        n = res.get("rename-%d" % d, "descendants", "tarnd")
        if s0 is not None and n0 and n:
            return s0 * n / n0, True
    return None, False


def main():
    folder, out_md, out_png = sys.argv[1:4]
    res = Results(folder)
    m = res.meta
    quick = bool(m.get("quick"))
    g = res.get
    lines = []
    w = lines.append

    dd = g("dd", "mb_s")
    loop = g("loopback", "mb_s")
    fs_p50 = g("fsync", "p50_ms")
    up = g("upload-1g", "mb_s", "tarnd")
    down = g("download-1g", "mb_s", "tarnd")
    size_1g = fmt((g("upload-1g", "size", "tarnd") or 0) / 2**20, "{:,.0f} MiB")
    size_8x = fmt((g("upload-8x", "size", "tarnd") or 0) / 2**20, "{:,.0f} MiB")

    title = "# Benchmarks: tarnd, Azurite and the machine's limits"
    if quick:
        title += " (quick run: sizes too small to mean anything)"
    w(title)
    w("")
    w("Measured by `scripts/bench_lake.sh` on %s, commit %s (tarnd: %s), Azurite %s, in %s s." % (
        m.get("date"), m.get("commit"), m.get("tarnd_built"), m.get("azurite_version"), m.get("elapsed_s")))
    if not quick and m.get("scale", 1) != 1:
        w("")
        w("**Reduced run (BENCH_SCALE=%s):** sizes, counts and durations were scaled down, so this page "
          "checks the harness rather than measures; rerun without BENCH_SCALE for the real figures." % m["scale"])
    w("")
    w("Three servers ran on 127.0.0.1 of the same machine, one after another for each workload, in an")
    w("order that alternates from round to round: tarnd (SQLite namespace store, local-disk extents),")
    w("Azurite with `--inMemoryPersistence`, and Azurite with its data on the same disk as tarnd's. The")
    w("same clients drove all three: `tarn_bench` (Tarn's own C++ HTTP client with Shared Key signing;")
    w("Blob API only against Azurite, which has no DFS), `wrk` with SAS-signed URLs, and Microsoft's")
    w("Python SDK. The physical limits were measured in the same run. MB/s means 10^6 bytes per second;")
    w("a figure over two rounds is their median. ![chart](%s)" % os.path.basename(out_png))
    w("")

    # The targets.
    rows = []

    def target_row(what, value, against, r, goal, ok):
        rows.append("| %s | %s | %s | %s | %s | %s |" % (what, value, against, r, goal, verdict(ok)))

    for name, key, what in [("upload-1g", "mb_s", size_1g + " upload, one stream"),
                            ("download-1g", "mb_s", size_1g + " download, one stream"),
                            ("upload-8x", "mb_s", "8 x %s upload" % size_8x),
                            ("download-8x", "mb_s", "8 x %s download" % size_8x)]:
        t, a = g(name, key, "tarnd"), best_azurite(res, name, key)
        r = ratio(t, a)
        target_row(what, fmt(t) + " MB/s", fmt(a) + " MB/s (faster Azurite)", times(r), ">= 5x Azurite",
                   None if r is None else r >= 5)
    for name, what in [("small-blob-16", "1 KiB Put Blob, 16 clients"),
                       ("small-read-16", "1 KiB Get Blob, 16 clients")]:
        t, a = g(name, "ops_s", "tarnd"), best_azurite(res, name, "ops_s")
        r = ratio(t, a)
        target_row(what, fmt(t) + " /s", fmt(a) + " /s (faster Azurite)", times(r), ">= 10x Azurite",
                   None if r is None else r >= 10)
    r = ratio(down, loop)
    target_row(size_1g + " download, one stream", fmt(down) + " MB/s", fmt(loop) + " MB/s loopback TCP",
               fmt(r, "{:.0%}"), ">= 50% of loopback", None if r is None else r >= 0.5)
    r = ratio(up, dd)
    target_row(size_1g + " upload, one stream (Put Blob)", fmt(up) + " MB/s",
               fmt(dd) + " MB/s dd conv=fsync", fmt(r, "{:.0%}"), ">= 80% of dd",
               None if r is None else r >= 0.8)
    up_dfs = g("upload-dfs", "mb_s", "tarnd")
    r = ratio(up_dfs, dd)
    target_row(size_1g + " upload, one stream (DFS appends)", fmt(up_dfs) + " MB/s",
               fmt(dd) + " MB/s dd conv=fsync", fmt(r, "{:.0%}"), ">= 80% of dd",
               None if r is None else r >= 0.8)
    target_row(size_1g + " download, one stream", fmt(down) + " MB/s", "-", "-", ">= 1,500 MB/s",
               None if down is None else down >= 1500)
    small16 = g("small-dfs-16", "ops_s", "tarnd")
    target_row("1 KiB DFS create+append+flush, 16 clients", fmt(small16) + " /s", "-", "-",
               ">= 3,000 /s", None if small16 is None else small16 >= 3000)
    ren = {d: g("rename-%d" % d, "seconds", "tarnd") for d in RENAME_SIZES}
    ren_n = {d: g("rename-%d" % d, "descendants", "tarnd") for d in RENAME_SIZES}
    measured = [v for v in ren.values() if v]
    spread = max(measured) / min(measured) if len(measured) >= 2 else None
    target_row("rename, %s descendants" % " / ".join(fmt(ren_n[d]) for d in RENAME_SIZES if ren_n[d]),
               " / ".join(fmt(ren[d] * 1000 if ren[d] else None, "{:.2f}") for d in RENAME_SIZES) + " ms",
               "-", fmt(spread, "{:.2f}x") + " slowest/fastest", "flat (within 2x)",
               None if spread is None else spread <= 2.0)
    soak_err = g("soak", "errors", "tarnd")
    target_row("mixed soak, 32 clients", fmt(g("soak", "ops_s", "tarnd")) + " ops/s",
               "-", "-", "zero errors", None if soak_err is None else soak_err == 0)
    w("## Targets (issues 2 and 5)")
    w("")
    w("| workload | tarnd | against | ratio | target | |")
    w("| --- | --- | --- | --- | --- | --- |")
    lines.extend(rows)
    w("")

    # Side by side.
    def side(what, name, key, unit, limit=None, limit_name=""):
        vals = [g(name, key, t) for t in TARGETS]
        if all(v is None for v in vals):
            return
        cells = [fmt(v) + unit if v is not None else "-" for v in vals]
        rs = [times(ratio(vals[0], v)) if v is not None else "-" for v in vals[1:]]
        lim = "%s of %s" % (fmt(ratio(vals[0], limit), "{:.0%}"), limit_name) if limit else "-"
        w("| %s | %s | %s | %s |" % (what, " | ".join(cells), " | ".join(rs), lim))

    w("## Side by side")
    w("")
    w("| workload | tarnd | Azurite (memory) | Azurite (disk) | tarnd / Azurite (memory) | "
      "tarnd / Azurite (disk) | tarnd vs the machine |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    side(size_1g + " upload, one stream (Put Blob)", "upload-1g", "mb_s", " MB/s", dd, "dd conv=fsync")
    side(size_1g + " download, one stream", "download-1g", "mb_s", " MB/s", loop, "loopback TCP")
    side("8 x %s upload (Put Blob), in all" % size_8x, "upload-8x", "mb_s", " MB/s", dd, "dd conv=fsync")
    side("8 x %s download, in all" % size_8x, "download-8x", "mb_s", " MB/s", loop, "loopback TCP (1 stream)")
    side(size_1g + " upload, DFS create + 64 MiB appends + flush", "upload-dfs", "mb_s", " MB/s", dd,
         "dd conv=fsync")
    for c in (1, 16, 64):
        side("1 KiB Put Blob, %d client%s" % (c, "s" if c > 1 else ""), "small-blob-%d" % c, "ops_s", " /s")
        side("1 KiB DFS create+append+flush, %d client%s" % (c, "s" if c > 1 else ""), "small-dfs-%d" % c,
             "ops_s", " /s", 1000.0 / fs_p50 if fs_p50 else None, "1 / (4 KiB write+fdatasync)")
        side("1 KiB Get Blob, %d client%s" % (c, "s" if c > 1 else ""), "small-read-%d" % c, "ops_s", " /s")
    list_n = {t: g("list", "paths", t) for t in TARGETS}
    side("list %s paths (recursive / flat prefix)" % fmt(list_n["tarnd"]), "list", "paths_s", " paths/s")
    for t in TARGETS:
        for r in res.runs.get(("list", t), []):
            if r.get("build_seconds"):
                r["build_paths_s"] = r.get("paths", 0) / r["build_seconds"]
    side("create the listed tree, 16 clients (DFS create / Put Blob)", "list", "build_paths_s", " paths/s")
    side("mixed soak, 32 clients", "soak", "ops_s", " ops/s")
    side("wrk, SAS Get Blob 1 KiB, 16 connections", "wrk", "ops_s", " /s")
    side("Python SDK, upload one file of %s" % fmt((g("sdk", "size", "tarnd") or 0) / 2**20, "{:,.0f} MiB"),
         "sdk", "upload_mb_s", " MB/s")
    side("Python SDK, download it", "sdk", "download_mb_s", " MB/s")
    side("Python SDK, 1 KiB upload_blob, 1 client", "sdk", "put_ops_s", " /s")
    side("Python SDK, 1 KiB download_blob, 1 client", "sdk", "get_ops_s", " /s")
    w("")

    smaller = [t for t in TARGETS[1:] if list_n[t] and list_n["tarnd"] and list_n[t] < list_n["tarnd"]]
    if smaller:
        w("**Azurite listed a smaller tree:** %s paths, not %s (BENCH_AZURITE_LIST_MAX). Its Put Blob slows"
          % (fmt(list_n[smaller[0]]), fmt(list_n["tarnd"])))
        w("down as a container fills (see the tree-building rates above and in the rename table), so building")
        w("the full tree would take it more than an hour here. A smaller listing favours Azurite; run with")
        w("BENCH_AZURITE_LIST_MAX=100000 to measure the full one.")
        w("")
    w("## 1 KiB objects: latency")
    w("")
    w("| operation | clients | " + " | ".join("%s ops/s, p50 / p99 ms" % LABEL[t] for t in TARGETS) + " |")
    w("| --- | --- | --- | --- | --- |")
    for mode, what in [("blob", "Put Blob"), ("dfs", "DFS create+append+flush (3 requests)"),
                       ("read", "Get Blob")]:
        for c in (1, 16, 64):
            name = "small-%s-%d" % (mode, c)
            cells = []
            for t in TARGETS:
                if g(name, "ops_s", t) is None:
                    cells.append("-")
                else:
                    cells.append("%s, %s / %s" % (fmt(g(name, "ops_s", t)), fmt(g(name, "p50_ms", t), "{:.2f}"),
                                                  fmt(g(name, "p99_ms", t), "{:.2f}")))
            if any(x != "-" for x in cells):
                w("| %s | %d | %s |" % (what, c, " | ".join(cells)))
    w("")

    w("## Renaming a directory")
    w("")
    w("tarnd: one DFS rename (median of 5, back and forth). Azurite has no hierarchical namespace, so")
    w("a client must list the prefix and copy and delete every blob: that is what was timed, with 16")
    w("parallel clients, once.")
    extrapolated = False
    w("")
    w("| descendants | tarnd | Azurite (memory) | Azurite (disk) | Azurite / tarnd (memory, disk) | "
      "tree built at (paths/s: tarnd, Azurite memory, disk) |")
    w("| --- | --- | --- | --- | --- | --- |")
    for d in RENAME_SIZES:
        t = ren[d]
        cells, rs = [], []
        for az in TARGETS[1:]:
            s, est = rename_seconds(res, d, az)
            extrapolated |= est and s is not None
            cells.append(("about %s s (**extrapolated**)" if est else "%s s") % fmt(s, "{:,.2f}")
                         if s is not None else "-")
            rs.append(times(ratio(s, t)) if s is not None else "-")
        built = ", ".join(fmt(g("rename-%d" % d, "build_paths_s", x)) for x in TARGETS)
        w("| %s | %s ms | %s | %s | %s |" % (fmt(ren_n[d] or d), fmt(t * 1000 if t else None, "{:.2f}"),
                                            " | ".join(cells), ", ".join(rs), built))
    w("")
    if extrapolated:
        w("**Extrapolated figures were not measured.** Azurite renamed trees of at most %s blobs in this"
          % fmt(m.get("azurite_rename_max")))
        w("run (BENCH_AZURITE_RENAME_MAX); a larger tree's time is the largest measured time scaled")
        w("linearly by the number of blobs, which is kind to Azurite (its per-blob cost grows with its")
        w("blob count). Run with BENCH_AZURITE_RENAME_MAX=100000 to measure it (it takes a long time).")
        w("")

    w("## Mixed soak and memory")
    w("")
    w("| | " + " | ".join(LABEL[t] for t in TARGETS) + " |")
    w("| --- | --- | --- | --- |")

    def srow(what, f):
        w("| %s | %s |" % (what, " | ".join(f(t) for t in TARGETS)))

    srow("duration, clients", lambda t: "%s s, %s" % (fmt(g("soak", "seconds", t), "{:.0f}"),
                                                      fmt(g("soak", "clients", t))))
    srow("operations (reads / writes)", lambda t: "%s (%s / %s)" % (
        fmt(g("soak", "ops", t)), fmt(g("soak", "reads", t)), fmt(g("soak", "writes", t))))
    srow("throughput", lambda t: "%s ops/s, %s MB/s" % (fmt(g("soak", "ops_s", t)),
                                                        fmt(g("soak", "mb_s", t), "{:.1f}")))
    srow("errors", lambda t: fmt(g("soak", "errors", t)))
    srow("read p50 / p99", lambda t: "%s / %s ms" % (fmt(g("soak", "read_p50_ms", t), "{:.2f}"),
                                                     fmt(g("soak", "read_p99_ms", t), "{:.2f}")))
    srow("write p50 / p99", lambda t: "%s / %s ms" % (fmt(g("soak", "write_p50_ms", t), "{:.2f}"),
                                                      fmt(g("soak", "write_p99_ms", t), "{:.2f}")))
    srow("peak resident memory during the soak (VmHWM)",
         lambda t: fmt((g("soak-rss", "kb", t) or 0) / 1024, "{:,.0f} MiB"))
    srow("peak resident memory over the whole run",
         lambda t: fmt((g("run-rss", "kb", t) or 0) / 1024, "{:,.0f} MiB"))
    w("")

    w("## The machine and its limits")
    w("")
    w("| | |")
    w("| --- | --- |")
    w("| CPU | %s |" % m.get("cpu"))
    w("| cores (nproc) | %s |" % m.get("nproc"))
    w("| memory | %s GiB |" % fmt(m.get("mem_kb", 0) / 2**20, "{:.1f}"))
    w("| data filesystem | %s |" % m.get("fs"))
    w("| kernel | %s |" % m.get("kernel"))
    w("| clients | tarn_bench (this commit), %s, Python %s |" % (m.get("wrk"), m.get("sdk")))
    cores, el = m.get("nproc", 1), m.get("elapsed_s", 0)
    w("| CPU time during the run | %s s busy of %s s (%s cores x %s s): tarnd %s s, Azurite %s s, clients "
      "and dd %s s, kernel threads %s s, everything else (other processes, interrupts) about %s s; the "
      "machine was %s busy just before; load average at the end %s |" % (
          m.get("busy_s"), cores * el, cores, el, m.get("tarnd_s"), m.get("azurite_s"), m.get("children_s"),
          m.get("kthread_s"), m.get("other_s"),
          "(not measured)" if m.get("quiet_percent", -1) < 0 else "%s%%" % m["quiet_percent"], m.get("loadavg")))
    w("| memcpy | %s GB/s |" % fmt(g("memcpy", "gb_s"), "{:.1f}"))
    w("| loopback TCP, one stream (socket pump) | %s MB/s |" % fmt(loop))
    dd_runs = [r.get("mb_s") for r in res.runs.get(("dd", ""), [])]
    w("| dd conv=fsync, 1 MiB blocks | %s MB/s (median of %s) |" % (
        fmt(dd), ", ".join(fmt(x) for x in dd_runs)))
    w("| 4 KiB write+fdatasync, appending | p50 %s ms, p99 %s ms |" % (
        fmt(fs_p50, "{:.3f}"), fmt(g("fsync", "p99_ms"), "{:.3f}")))
    w("| 4 KiB write+fdatasync, in place | p50 %s ms, p99 %s ms |" % (
        fmt(g("fsync", "overwrite_p50_ms"), "{:.3f}"), fmt(g("fsync", "overwrite_p99_ms"), "{:.3f}")))
    w("")
    if not quick and m.get("other_s", 0) > 0.05 * cores * max(el, 1):
        w("**This run was disturbed:** other work took about %d%% of the machine's CPU while it ran, so"
          % round(100.0 * m["other_s"] / (cores * el)))
        w("every figure, and most of all the short and CPU-bound ones, reads low. Rerun on a quiet machine.")
        w("")
    failed = res.failed()
    if failed:
        w("**Workloads that did not complete cleanly:** " + ", ".join(failed))
        w("")
    w("The raw JSON line of every workload is kept in `build/bench/results-%s/` after a run." % (
        "quick" if quick else "full"))
    w("")
    w("## How to rerun")
    w("")
    w("On Debian 12 (`bash scripts/bootstrap.sh` as root installs everything, Azurite 3.35.0 from npm")
    w("into `.tools/`, `wrk` and matplotlib included; the script runs it itself when something is missing):")
    w("")
    w("```sh")
    full_min = "about %d minutes here" % (el // 60 + 1) if not quick and m.get("scale", 1) == 1 \
        else "most of an hour on 2 cores"
    w("bash scripts/bench_lake.sh            # full run, %s; rewrites docs/benchmarks.md and .png" % full_min)
    w("bash scripts/bench_lake.sh --quick    # under a minute; completion only, for CI")
    w("BENCH_SCALE=0.1 bash scripts/bench_lake.sh --out /tmp/b.md   # the full sequence, scaled down")
    w("BENCH_AZURITE_RENAME_MAX=100000 bash scripts/bench_lake.sh  # also measure Azurite's 100,000 rename")
    w("```")
    w("")
    w("Single workloads, against any server on loopback (`--flat` for Azurite or any Blob-only store):")
    w("")
    w("```sh")
    w("B=build/release/bench/tarn_bench U=http://127.0.0.1:PORT")
    w("$B upload   --url $U --size 1GiB [--streams 8]      # Put Blob; --block 64MiB for DFS appends")
    w("$B download --url $U --path <path from upload> --repeat 3")
    w("$B small    --url $U --clients 16 --ops 20000 --duration 10 --mode blob   # write (DFS) | blob | read")
    w("$B rename   --url $U --descendants 100000          # --flat: copy+delete per blob")
    w("$B list     --url $U --paths 100000")
    w("$B soak     --url $U --clients 32 --duration 60")
    w("$B memcpy; $B loopback; $B fsync-latency --dir <dir on the disk>")
    w("/usr/bin/python3 bench/sdk_bench.py run --endpoint $U/devstoreaccount1")
    w("/usr/bin/python3 bench/sdk_bench.py sas --endpoint $U/devstoreaccount1 --out t.txt && \\")
    w("  wrk -t2 -c16 -d10s -s bench/wrk_sas_get.lua $U -- t.txt")
    w("```")
    w("")
    with open(out_md + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(out_md + ".tmp", out_md)
    chart(res, out_png, quick)


def chart(res, out_png, quick):
    g = res.get
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    panels = [
        ("Large objects (MB/s, log scale)", "mb_s",
         [("upload-1g", "1 stream up"), ("download-1g", "1 stream down"),
          ("upload-8x", "8 streams up"), ("download-8x", "8 streams down")],
         [("loopback", "loopback TCP"), ("dd", "dd conv=fsync")]),
        ("1 KiB objects (ops/s, log scale)", "ops_s",
         [("small-blob-1", "Put, 1"), ("small-blob-16", "Put, 16"), ("small-blob-64", "Put, 64"),
          ("small-read-1", "Get, 1"), ("small-read-16", "Get, 16"), ("small-read-64", "Get, 64"),
          ("small-dfs-16", "DFS create, 16")], []),
        ("Other clients and mixed load (ops/s, log scale)", "",
         [("soak|ops_s", "soak, 32 clients"), ("wrk|ops_s", "wrk SAS GET"),
          ("sdk|put_ops_s", "Python SDK put"), ("sdk|get_ops_s", "Python SDK get"),
          ("list|paths_s", "list (paths/s)")], []),
    ]
    for ax, (title, key, items, limits) in zip([axes[0][0], axes[0][1], axes[1][0]], panels):
        width = 0.27
        for i, t in enumerate(TARGETS):
            vals = []
            for name, _ in items:
                n, _, k = name.partition("|")
                vals.append(g(n, k or key, t) or 0)
            xs = [x + (i - 1) * width for x in range(len(items))]
            ax.bar(xs, vals, width, label=LABEL[t], color=COLOR[t])
        for j, (lname, llabel) in enumerate(limits):
            v = g(lname, "mb_s")
            if v:
                ax.axhline(v, linestyle="--" if j == 0 else ":", color="black", linewidth=1)
                ax.text(len(items) - 0.5, v, " " + llabel, va="bottom", ha="right", fontsize=8)
        ax.set_xticks(range(len(items)))
        ax.set_xticklabels([lbl for _, lbl in items], rotation=20, fontsize=8)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=9, ncol=3)
    ax = axes[1][1]
    for t in TARGETS:
        pts = [(g("rename-%d" % d, "descendants", "tarnd") or d, rename_seconds(res, d, t)) for d in RENAME_SIZES]
        meas = [(n, s) for n, (s, est) in pts if s is not None and not est]
        est = [(n, s) for n, (s, e) in pts if s is not None and e]
        if meas:
            ax.plot([p[0] for p in meas], [p[1] for p in meas], "o-", color=COLOR[t], label=LABEL[t])
        if est:
            line = meas[-1:] + est
            ax.plot([p[0] for p in line], [p[1] for p in line], "o:", color=COLOR[t], mfc="white",
                    label=LABEL[t] + " (extrapolated)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("descendants")
    ax.set_title("Rename a directory (seconds, log-log; lower is better)", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.suptitle("tarnd vs Azurite on one machine" + (" (quick run: sizes too small to mean anything)"
                                                      if quick else ""))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(out_png + ".tmp.png", dpi=90)
    os.replace(out_png + ".tmp.png", out_png)


if __name__ == "__main__":
    main()
