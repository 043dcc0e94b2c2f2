// Microsoft's JavaScript DataLake SDK (@azure/storage-file-datalake, from npm) against tarnd,
// path-style (http://127.0.0.1:PORT/<account>) or virtual-host style
// (https://<account>.dfs.localhost:PORT), with the account key: the calls an application makes,
// in order. Prints one JSON object with what it saw; tests/clients/test_js_sdk.py checks it and
// the lake.
//
//   NODE_PATH=.tools/node_modules node js_datalake.cjs <account url> <account> <key> <filesystem>
const {
  DataLakeServiceClient,
  StorageSharedKeyCredential,
} = require("@azure/storage-file-datalake");

async function text(readable) {
  const chunks = [];
  for await (const c of readable) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const [url, account, key, fsName] = process.argv.slice(2);
  const svc = new DataLakeServiceClient(url, new StorageSharedKeyCredential(account, key));
  const fs = svc.getFileSystemClient(fsName);
  const seen = {};
  await fs.create();
  await fs.getDirectoryClient("staging/batch-1").create();
  for (let i = 0; i < 3; i++) {
    const body = `id,amount\n${i},${i * 1.5}\n`;
    await fs.getFileClient(`staging/batch-1/part-${i}.csv`).upload(Buffer.from(body));
  }
  const big = fs.getFileClient("staging/batch-1/big.bin");
  await big.create();
  const chunk = Buffer.alloc(1 << 20, 7);
  await big.append(chunk, 0, chunk.length);
  await big.append(chunk, chunk.length, chunk.length);
  await big.flush(2 * chunk.length);
  seen.bigSize = (await big.getProperties()).contentLength;

  const one = await fs.getFileClient("staging/batch-1/part-1.csv").read();
  seen.part1 = await text(one.readableStreamBody);
  const ranged = await fs.getFileClient("staging/batch-1/part-2.csv").read(3, 6);
  seen.part2Range = await text(ranged.readableStreamBody);

  // A directory rename: on a path-style URL the SDK drops the account from the destination and
  // names it in x-ms-rename-source.
  await fs.getDirectoryClient("published").create();
  await fs.getDirectoryClient("staging/batch-1").move("published/batch-1");
  seen.paths = [];
  for await (const p of fs.listPaths({ recursive: true })) {
    seen.paths.push([p.name, !!p.isDirectory]);
  }
  const acl = await fs.getDirectoryClient("published/batch-1").getAccessControl();
  seen.owner = acl.owner;
  seen.permissions = acl.permissions;
  const meta = await fs.getFileClient("published/batch-1/part-0.csv").getProperties();
  seen.part0Length = meta.contentLength;
  await fs.getFileClient("published/batch-1/part-0.csv").setMetadata({ zone: "curated" });
  seen.metadata = (await fs.getFileClient("published/batch-1/part-0.csv").getProperties())
    .metadata;
  // Headers, permissions, a file rename, existence, filesystem metadata.
  const part1 = fs.getFileClient("published/batch-1/part-1.csv");
  await part1.setHttpHeaders({ contentType: "text/csv", contentLanguage: "en" });
  const p1 = await part1.getProperties();
  seen.headers = [p1.contentType, p1.contentLanguage];
  await fs.getDirectoryClient("published/batch-1").setPermissions({
    owner: { read: true, write: true, execute: true },
    group: { read: true, write: false, execute: true },
    other: { read: false, write: false, execute: false },
    stickyBit: false,
    extendedAcls: false,
  });
  seen.dirPermissions = (await fs.getDirectoryClient("published/batch-1").getAccessControl())
    .permissions.group;
  await part1.move("published/batch-1/part-1-renamed.csv");
  seen.renamedExists = await fs.getFileClient("published/batch-1/part-1-renamed.csv").exists();
  seen.oldExists = await part1.exists();
  await fs.setMetadata({ owner: "sales" });
  seen.fsMetadata = (await fs.getProperties()).metadata;
  seen.readToBuffer = (
    await fs.getFileClient("published/batch-1/part-1-renamed.csv").readToBuffer()
  ).toString("utf8");
  await fs.getDirectoryClient("published/batch-1").delete(true);
  seen.afterDelete = [];
  for await (const p of fs.listPaths({ recursive: true })) seen.afterDelete.push(p.name);
  try {
    await fs.getFileClient("published/batch-1/part-0.csv").getProperties();
    seen.missing = "found";
  } catch (e) {
    seen.missing = e.statusCode;
  }
  const names = [];
  for await (const f of svc.listFileSystems({ prefix: fsName })) names.push(f.name);
  seen.filesystems = names;
  process.stdout.write(JSON.stringify(seen));
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n${JSON.stringify(e.details || {})}\n`);
  process.exit(1);
});
