// The demo's last step (scripts/demo): the official npm client (chromadb@3.5.0) against
// `chromapact serve` over the demo's stack. It finds COLLECTION by name (the producer registered it
// on its first write), counts it, reads one record's embedding, queries with it and prints the
// answer. Checks: the count is EXPECTED_COUNT, and the nearest neighbour of a stored record's own
// vector is that record (distance ~0). usage: node demo_query.mjs URL COLLECTION EXPECTED_COUNT
import { ChromaClient } from "chromadb";

const [urlText, name, expectedText] = process.argv.slice(2);
if (!urlText || !name || !expectedText) {
  process.stderr.write("usage: node demo_query.mjs URL COLLECTION EXPECTED_COUNT\n");
  process.exit(2);
}
const url = new URL(urlText);
const client = new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: false });
const fail = (message) => {
  process.stderr.write(`demo_query: ${message}\n`);
  process.exit(1);
};

const collection = await client.getCollection({ name, embeddingFunction: null });
const count = await collection.count();
if (count !== Number(expectedText)) fail(`count ${count}, expected ${expectedText}`);
const probe = await collection.get({ limit: 1, offset: 7, include: ["embeddings", "documents"] });
if (probe.ids.length !== 1) fail("get with limit 1 answered no record");
const answer = await collection.query({
  queryEmbeddings: [probe.embeddings[0]],
  nResults: 3,
  include: ["documents", "distances", "metadatas"],
});
const ids = answer.ids[0];
const distances = answer.distances[0];
if (ids[0] !== probe.ids[0] || !(Math.abs(distances[0]) < 1e-4)) {
  fail(`the nearest neighbour of ${probe.ids[0]}'s own vector is ${ids[0]} at ${distances[0]}`);
}
const short = (s) => (s ?? "").replace(/\s+/g, " ").slice(0, 70);
process.stdout.write(`chromadb (npm 3.5.0) at ${urlText}: collection "${name}" (id ${collection.id}), count ${count}\n`);
process.stdout.write(`query: the vector of ${probe.ids[0]} ("${short(probe.documents[0])}"), n_results 3\n`);
ids.forEach((id, i) => {
  process.stdout.write(`  ${i + 1}. ${id}  distance ${distances[i].toFixed(4)}  "${short(answer.documents[0][i])}"\n`);
});
