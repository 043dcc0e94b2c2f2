// Microsoft's JavaScript Blob SDK (@azure/storage-blob, from npm) runs Query Blob Contents on
// tarnd: CSV with a header row to CSV, CSV to JSON, JSON lines, a query that fails on a value
// (the error arrives through onError, inside the answer) and a bad expression (refused). Prints
// one JSON object with what it saw; tests/clients/test_js_sdk.py checks it.
//
//   NODE_PATH=.tools/node_modules node js_query.cjs <account url> <account> <key> <container>
const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");

async function text(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const [url, account, key, name] = process.argv.slice(2);
  const svc = new BlobServiceClient(url, new StorageSharedKeyCredential(account, key));
  const container = svc.getContainerClient(name);
  await container.create();
  const csv = "id,region,amount\n1,north,10.5\n2,south,20\n3,north,7\n";
  const blob = container.getBlockBlobClient("sales/2024.csv");
  await blob.upload(csv, csv.length);
  const json = '{"name":"owner","n":1}\n{"name":"b","n":2.5}\n';
  const jblob = container.getBlockBlobClient("events.json");
  await jblob.upload(json, json.length);

  const seen = {};
  const progress = [];
  const inCsv = { kind: "csv", columnSeparator: ",", recordSeparator: "\n", hasHeaders: true };
  let r = await blob.query("SELECT region, amount FROM BlobStorage WHERE amount > 8", {
    inputTextConfiguration: inCsv,
    outputTextConfiguration: { kind: "csv", columnSeparator: ";", recordSeparator: "\n" },
    onProgress: (p) => progress.push(p.loadedBytes),
  });
  seen.csv = await text(r.readableStreamBody);
  seen.contentType = r.contentType;
  seen.progress = progress;
  r = await blob.query("SELECT id FROM BlobStorage WHERE region = 'north'", {
    inputTextConfiguration: inCsv,
    outputTextConfiguration: { kind: "json", recordSeparator: "\n" },
  });
  seen.json = await text(r.readableStreamBody);
  r = await jblob.query("SELECT name FROM BlobStorage WHERE n > 2", {
    inputTextConfiguration: { kind: "json", recordSeparator: "\n" },
    outputTextConfiguration: { kind: "json", recordSeparator: "\n" },
  });
  seen.jsonIn = await text(r.readableStreamBody);
  const errors = [];
  r = await blob.query("SELECT CAST(region AS DOUBLE) FROM BlobStorage", {
    inputTextConfiguration: inCsv,
    onError: (e) => errors.push({ name: e.name, fatal: e.isFatal }),
  });
  seen.failingText = await text(r.readableStreamBody);
  seen.errors = errors;
  try {
    await blob.query("SELECT nope FROM BlobStorage", { inputTextConfiguration: inCsv });
    seen.bad = "accepted";
  } catch (e) {
    seen.bad = { status: e.statusCode, code: e.details && e.details.errorCode };
  }
  await container.delete();
  process.stdout.write(JSON.stringify(seen));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
