// tarn_bench: Tarn's load generator and the machine's physical limits, one JSON line per run.
//
//   tarn_bench upload   --url http://127.0.0.1:PORT --size 1GiB [--streams N] [--block 64MiB]
//   tarn_bench download --url U --path upload-.../s0 [--streams N] [--repeat R] [--verify]
//   tarn_bench small    --url U [--clients 16] [--ops 20000] [--size 1024] [--mode write|blob|read]
//   tarn_bench rename   --url U --descendants N [--clients 16] [--repeats 3]
//   tarn_bench list     --url U --paths N [--clients 16]
//   tarn_bench soak     --url U [--clients 32] [--duration 60] [--read-percent 80] [--size 16KiB]
//   tarn_bench drop     --url U --fs NAME      (deletes a filesystem a workload filled)
//   tarn_bench memcpy | loopback | fsync-latency --dir D
//
// --flat speaks the Blob API only, for a flat-namespace store such as Azurite (account
// devstoreaccount1, path-style URLs): Put Blob uploads, prefix listings, copy+delete renames.
// Every loop is bounded in count and by --max-seconds; only loopback URLs are accepted unless
// --allow-remote is given. The exit code is 0 when the workload completed without errors.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "bench/bench_util.h"
#include "bench/limits.h"
#include "bench/workloads.h"

namespace {

using namespace tarn;
using namespace tarn::bench;

void AddTarget(CLI::App* cmd, Target* t) {
  cmd->add_option("--url", t->url, "endpoint, http://127.0.0.1:PORT")->required();
  cmd->add_option("--account", t->account, "account name")->capture_default_str();
  cmd->add_option("--key", t->key, "account key (base64); default: the development key");
  cmd->add_option("--filesystem,--fs", t->filesystem, "filesystem (created if missing)")
      ->capture_default_str();
  cmd->add_flag("--allow-remote", t->allow_remote, "allow a target that is not on loopback");
  cmd->add_flag("--flat", t->flat,
                "Blob API only (a flat namespace such as Azurite's): no DFS request is sent");
  cmd->add_option("--max-seconds", t->max_seconds, "stop the workload after this long")
      ->capture_default_str();
  cmd->add_option("--io-timeout", t->io_timeout_s, "seconds any one socket wait may take")
      ->capture_default_str();
}

// Byte counts are read as text so that "1GiB" works.
CLI::Option* AddBytes(CLI::App* cmd, const std::string& name, std::string* text,
                      const std::string& help) {
  return cmd->add_option(name, *text, help + " (bytes; K/M/G suffixes are binary)")
      ->capture_default_str();
}

int64_t BytesOrDie(const std::string& text, const char* what) {
  auto v = ParseBytes(text);
  if (!v.ok()) {
    std::cerr << "tarn_bench: " << what << ": " << v.status().message() << "\n";
    std::exit(2);
  }
  return *v;
}

int CheckedRun(const Target& t, const std::function<int()>& run) {
  if (Status s = CheckTarget(t); !s.ok()) {
    std::cerr << "tarn_bench: " << s.message() << "\n";
    return 2;
  }
  return run();
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"tarn_bench: load generator for tarnd (Blob + DFS over Shared Key) and the "
               "machine's physical limits. Each run prints one JSON line."};
  app.require_subcommand(1);

  Target t;
  int rc = 0;

  auto* up = app.add_subcommand("upload", "upload files: one Put Blob each, or DFS appends");
  UploadOptions uo;
  std::string up_size = "1GiB", up_block = "0";
  AddTarget(up, &t);
  AddBytes(up, "--size", &up_size, "bytes per stream");
  up->add_option("--streams", uo.streams, "parallel uploads, one file each")->capture_default_str();
  AddBytes(up, "--block", &up_block,
           "0: Put Blob; else DFS create, appends of this size, flush");

  auto* down = app.add_subcommand("download", "download files (Get Blob)");
  DownloadOptions dop;
  AddTarget(down, &t);
  down->add_option("--path", dop.paths, "path in the filesystem; repeat for one stream each")
      ->required();
  down->add_option("--streams", dop.streams, "parallel range reads of one path")
      ->capture_default_str();
  down->add_option("--repeat", dop.repeat, "timed runs (the median is reported)")
      ->capture_default_str();
  down->add_flag("--verify", dop.verify, "check every byte against the upload pattern");

  auto* small = app.add_subcommand("small", "small files: many concurrent clients");
  SmallOptions so;
  std::string small_mode = "write", small_size = "1024";
  AddTarget(small, &t);
  small->add_option("--clients", so.clients, "concurrent clients")->capture_default_str();
  small->add_option("--ops", so.ops, "operations in all")->capture_default_str();
  AddBytes(small, "--size", &small_size, "file size");
  small->add_option("--mode", small_mode,
                    "write: DFS create+append+flush; blob: Put Blob; read: Get Blob")
      ->check(CLI::IsMember({"write", "blob", "read"}))
      ->capture_default_str();
  small->add_option("--read-files", so.read_files, "read mode: files seeded, then read")
      ->capture_default_str();
  small->add_option("--duration", so.duration, "stop after this many seconds (0: after --ops)")
      ->capture_default_str();

  auto* ren = app.add_subcommand("rename", "rename a directory with N descendants");
  RenameOptions ro;
  AddTarget(ren, &t);
  ren->add_option("--descendants", ro.descendants, "paths below the directory")->required();
  ren->add_option("--clients", ro.clients, "parallel clients building the tree")
      ->capture_default_str();
  ren->add_option("--repeats", ro.repeats, "renames, back and forth")->capture_default_str();

  auto* list = app.add_subcommand("list", "list a directory of N paths, recursively");
  ListOptions lo;
  AddTarget(list, &t);
  list->add_option("--paths", lo.paths, "paths to build and list")->required();
  list->add_option("--clients", lo.clients, "parallel clients building the tree")
      ->capture_default_str();
  list->add_option("--repeats", lo.repeats, "timed listings")->capture_default_str();
  list->add_option("--page-size", lo.page_size, "maxResults per page")->capture_default_str();

  auto* soak = app.add_subcommand("soak", "mixed reads and overwrites for a fixed time");
  SoakOptions sko;
  std::string soak_size = "16KiB";
  AddTarget(soak, &t);
  soak->add_option("--clients", sko.clients, "concurrent clients")->capture_default_str();
  soak->add_option("--duration", sko.duration, "seconds")->capture_default_str();
  soak->add_option("--read-percent", sko.read_percent, "share of reads")->capture_default_str();
  soak->add_option("--objects", sko.objects, "objects read and overwritten")->capture_default_str();
  AddBytes(soak, "--size", &soak_size, "object size");
  soak->add_option("--max-ops", sko.max_ops, "operations at most")->capture_default_str();

  auto* drop = app.add_subcommand("drop", "delete the filesystem (container) and all in it");
  AddTarget(drop, &t);

  auto* mc = app.add_subcommand("memcpy", "memory copy bandwidth");
  MemcpyOptions mo;
  std::string mc_bytes = "256MiB";
  AddBytes(mc, "--bytes", &mc_bytes, "buffer size");
  mc->add_option("--repeat", mo.repeat, "copies (the median is reported)")->capture_default_str();

  auto* lb = app.add_subcommand("loopback", "TCP throughput over 127.0.0.1, one stream");
  LoopbackOptions lbo;
  std::string lb_bytes = "4GiB", lb_chunk = "1MiB";
  AddBytes(lb, "--bytes", &lb_bytes, "bytes to send");
  AddBytes(lb, "--chunk", &lb_chunk, "bytes per send/recv");

  auto* fs = app.add_subcommand("fsync-latency", "4 KiB write + fdatasync latency");
  FsyncOptions fo;
  fs->add_option("--dir", fo.dir, "a directory on the disk to measure")->required();
  fs->add_option("--count", fo.count, "writes per mode")->capture_default_str();
  fs->add_option("--max-seconds", fo.max_seconds, "stop after this long")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (up->parsed()) {
    uo.size = BytesOrDie(up_size, "--size");
    uo.block = BytesOrDie(up_block, "--block");
    rc = CheckedRun(t, [&] { return RunUpload(t, uo); });
  } else if (down->parsed()) {
    rc = CheckedRun(t, [&] { return RunDownload(t, dop); });
  } else if (small->parsed()) {
    so.size = BytesOrDie(small_size, "--size");
    so.mode = small_mode == "write"  ? SmallOptions::Mode::kDfsWrite
              : small_mode == "blob" ? SmallOptions::Mode::kBlobWrite
                                     : SmallOptions::Mode::kRead;
    rc = CheckedRun(t, [&] { return RunSmall(t, so); });
  } else if (ren->parsed()) {
    rc = CheckedRun(t, [&] { return RunRename(t, ro); });
  } else if (list->parsed()) {
    rc = CheckedRun(t, [&] { return RunList(t, lo); });
  } else if (soak->parsed()) {
    sko.size = BytesOrDie(soak_size, "--size");
    rc = CheckedRun(t, [&] { return RunSoak(t, sko); });
  } else if (drop->parsed()) {
    rc = CheckedRun(t, [&] { return RunDrop(t); });
  } else if (mc->parsed()) {
    mo.bytes = BytesOrDie(mc_bytes, "--bytes");
    rc = RunMemcpy(mo);
  } else if (lb->parsed()) {
    lbo.bytes = BytesOrDie(lb_bytes, "--bytes");
    lbo.chunk = BytesOrDie(lb_chunk, "--chunk");
    rc = RunLoopback(lbo);
  } else if (fs->parsed()) {
    rc = RunFsyncLatency(fo);
  }
  return rc;
}
