// Microsoft's JavaScript Blob SDK (@azure/storage-blob, from npm) sends Blob Batches to tarnd:
// a container's batch of deletes, an account's batch of tier changes, and an account's batch
// with a missing blob, path-style or virtual-host style. Prints one JSON object with what it saw;
// tests/clients/test_js_sdk.py checks it and the lake.
//
//   NODE_PATH=.tools/node_modules node js_batch.cjs <account url> <account> <key> <container>
const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");

function summary(r) {
  return {
    status: r._response.status,
    parts: r.subResponses.map((s) => s.status),
    codes: r.subResponses.map((s) => s.errorCode || ""),
    failed: r.subResponsesFailedCount,
  };
}

async function main() {
  const [url, account, key, name] = process.argv.slice(2);
  const cred = new StorageSharedKeyCredential(account, key);
  const svc = new BlobServiceClient(url, cred);
  const container = svc.getContainerClient(name);
  await container.create();
  const names = [];
  for (let i = 0; i < 30; i++) {
    const n = `logs/day-${String(i).padStart(2, "0")}.txt`;
    await container.getBlockBlobClient(n).upload(n, n.length);
    names.push(n);
  }
  const seen = {};
  const first = names.slice(0, 20).map((n) => container.getBlobClient(n));
  seen.containerDelete = summary(await container.getBlobBatchClient().deleteBlobs(first));
  const rest = names.slice(20).map((n) => container.getBlobClient(n).url);
  seen.accountTier = summary(await svc.getBlobBatchClient().setBlobsAccessTier(rest, cred, "Hot"));
  const withMissing = rest.concat([container.getBlobClient("logs/missing.txt").url]);
  seen.accountDelete = summary(await svc.getBlobBatchClient().deleteBlobs(withMissing, cred));
  seen.left = [];
  for await (const b of container.listBlobsFlat()) seen.left.push(b.name);
  await container.delete();
  process.stdout.write(JSON.stringify(seen));
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n${JSON.stringify(e.details || {})}\n`);
  process.exit(1);
});
