// A generic tus client that knows nothing about reelforge: tus-js-client in Node.
//   node tus-upload.mjs ENDPOINT TOKEN FILE TITLE CHUNK_BYTES
// Prints the upload URL on success; exits 1 with the error otherwise.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as tus from "tus-js-client";

const [endpoint, token, file, title, chunk] = process.argv.slice(2);
const data = readFileSync(file);
const upload = new tus.Upload(data, {
  endpoint,
  chunkSize: Number(chunk),
  retryDelays: [0, 500, 1000],
  headers: { Authorization: `Bearer ${token}` },
  metadata: { title, filename: basename(file) },
  onError: (error) => { console.error(String(error)); process.exit(1); },
  onSuccess: () => { console.log(upload.url); },
});
upload.start();
