// The basic flow a Chroma user runs with the official npm client (chromadb@3.5.0), against the server
// at $CHROMA_URL (e.g. http://127.0.0.1:8000). Every result is checked with node:assert against a
// local model of the collection; stdout gets one normalized JSON transcript (steps in order, object
// keys sorted, floats rounded to 4 decimals, no names/ids/timestamps) so that two servers' transcripts
// can be diffed byte for byte. Exit status 1 on any failure (the partial transcript is still printed).
// Writes never wait before the next read: read-after-write must hold.
import assert from "node:assert/strict";
import {
  ChromaClient,
  ChromaClientError,
  ChromaNotFoundError,
  ChromaUniqueError,
} from "chromadb";

if (!process.env.CHROMA_URL) {
  console.error("basic_flow: set CHROMA_URL, e.g. CHROMA_URL=http://127.0.0.1:8000");
  process.exit(2);
}
const url = new URL(process.env.CHROMA_URL);
const DIM = 8;

// Anything the client prints (e.g. a missing embedding package warning) is a failure.
const consoleNoise = [];
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => {
    consoleNoise.push(`${level}: ${args.join(" ")}`);
    process.stderr.write(`[client console.${level}] ${args.join(" ")}\n`);
  };
}

// ---- deterministic data -------------------------------------------------------------------------
// mulberry32; vector components are multiples of 1/256 in [-1, 1), so float32 storage is exact and
// squared-L2 distances between them are exact in float32 whatever the summation order.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20240611);
const vector = () => Array.from({ length: DIM }, () => (Math.floor(rand() * 512) - 256) / 256);
const FRUITS = ["apple", "banana", "cherry", "date"];
const id = (i) => `id-${String(i).padStart(2, "0")}`;
const record = (i) => ({
  id: id(i),
  embedding: vector(),
  document: `record ${i} is about ${FRUITS[i % 4]}`,
  metadata: {
    category: ["a", "b", "c"][i % 3],
    rank: i, // int
    score: i * 0.25 + 0.125, // float (never integral, so JSON keeps it a float)
    flag: i % 2 === 0, // bool
    label: `item-${i}`, // string
  },
});

// ---- local model: insertion-ordered records, Chroma's write semantics ---------------------------
const model = new Map();
const modelAdd = (r) => model.has(r.id) || model.set(r.id, structuredClone(r));
function modelUpdate(r, insert) {
  const cur = model.get(r.id);
  if (!cur) return insert && modelAdd(r);
  if (r.embedding) cur.embedding = r.embedding;
  if (r.document !== undefined) cur.document = r.document;
  if (r.metadata) cur.metadata = { ...cur.metadata, ...r.metadata };
}
function matches(where, md) {
  return Object.entries(where).every(([k, cond]) => {
    if (k === "$and") return cond.every((w) => matches(w, md));
    if (k === "$or") return cond.some((w) => matches(w, md));
    const v = md[k];
    if (cond === null || typeof cond !== "object") return v === cond;
    return Object.entries(cond).every(([op, x]) => {
      switch (op) {
        case "$eq": return v === x;
        case "$ne": return v !== x;
        case "$gt": return v !== undefined && v > x;
        case "$gte": return v !== undefined && v >= x;
        case "$lt": return v !== undefined && v < x;
        case "$lte": return v !== undefined && v <= x;
        case "$in": return x.includes(v);
        case "$nin": return !x.includes(v);
        default: throw new Error(`model: unsupported operator ${op}`);
      }
    });
  });
}
const select = (pred) => [...model.values()].filter(pred);
const l2 = (a, b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);
function modelQuery(q, n, where) {
  const hits = select((r) => !where || matches(where, r.metadata))
    .map((r) => ({ r, d: l2(q, r.embedding) }))
    .sort((x, y) => x.d - y.d);
  // the expected order must be unambiguous
  for (let i = 0; i < Math.min(n, hits.length - 1); i++) assert.notEqual(hits[i].d, hits[i + 1].d, "tie in test data");
  return hits.slice(0, n);
}

// ---- transcript -----------------------------------------------------------------------------------
const r4 = (x) => (typeof x === "number" && !Number.isInteger(x) ? Math.round(x * 1e4) / 1e4 || 0 : x);
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  }
  return v === undefined ? null : v;
}
const transcript = [];
const log = (step, result) => transcript.push({ step, result: canonical(result) });
const roundMatrix = (m) => m.map((row) => (row ? Array.from(row, (x) => (Array.isArray(x) ? x.map(r4) : r4(x))) : row));
const showGet = (g) => ({
  ids: g.ids,
  include: g.include,
  documents: g.documents,
  metadatas: g.metadatas,
  embeddings: roundMatrix(g.embeddings),
  uris: g.uris,
});
const showQuery = (q) => ({
  ids: q.ids,
  include: q.include,
  distances: roundMatrix(q.distances),
  documents: q.documents,
  metadatas: q.metadatas,
  embeddings: roundMatrix(q.embeddings),
  uris: q.uris,
});
const errorMessage = (e) => String(e.message).replace(/^Bad request to \S+ with status: /, "");
async function expectThrow(step, cls, fn, messagePattern) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${step}: expected ${cls.name}, nothing thrown`);
  assert.ok(err instanceof cls, `${step}: expected ${cls.name}, got ${err.name}: ${err.message}`);
  if (messagePattern) assert.match(err.message, messagePattern, step);
  log(step, { error: err.name, message: errorMessage(err) });
}
const sortedIds = (ids) => [...ids].sort();

// Checks a get result against the model records, in the given order.
function checkGet(step, g, want, include = ["documents", "metadatas"]) {
  assert.deepEqual(g.ids, want.map((r) => r.id), `${step}: ids`);
  assert.deepEqual([...g.include].sort(), [...include].sort(), `${step}: include`);
  if (include.includes("documents")) assert.deepEqual(g.documents, want.map((r) => r.document), `${step}: documents`);
  if (include.includes("metadatas")) assert.deepEqual(g.metadatas, want.map((r) => r.metadata), `${step}: metadatas`);
  if (include.includes("embeddings")) {
    assert.equal(g.embeddings.length, want.length, `${step}: embeddings`);
    g.embeddings.forEach((e, i) => {
      assert.equal(e.length, DIM, `${step}: embedding length`);
      e.forEach((x, j) => assert.ok(Math.abs(x - want[i].embedding[j]) < 1e-6, `${step}: ${want[i].id}[${j}] ${x}`));
    });
  }
}
function checkQuery(step, q, queries, n, where) {
  assert.equal(q.ids.length, queries.length, `${step}: one result row per query`);
  queries.forEach((qe, k) => {
    const want = modelQuery(qe, n, where);
    assert.deepEqual(q.ids[k], want.map((h) => h.r.id), `${step}: ids of query ${k}`);
    q.distances[k].forEach((d, i) => assert.ok(Math.abs(d - want[i].d) < 1e-4, `${step}: distance ${d} vs ${want[i].d}`));
    assert.deepEqual(q.documents[k], want.map((h) => h.r.document), `${step}: documents of query ${k}`);
    assert.deepEqual(q.metadatas[k], want.map((h) => h.r.metadata), `${step}: metadatas of query ${k}`);
  });
}

// ---- the flow -------------------------------------------------------------------------------------
const client = new ChromaClient({ host: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)), ssl: url.protocol === "https:" });
const name = `jsflow_${process.pid}_${Date.now().toString(36)}`;
let dropped = false;

async function flow() {
  const hb = await client.heartbeat();
  assert.equal(typeof hb, "number");
  assert.ok(hb > 0, "heartbeat > 0");
  log("heartbeat", { positive_number: true });

  const version = await client.version();
  assert.equal(typeof version, "string");
  assert.ok(version.length > 0);
  log("version", version);

  const collection = await client.createCollection({
    name,
    configuration: { hnsw: { space: "l2" } },
    embeddingFunction: null,
  });
  assert.equal(collection.name, name);
  assert.match(collection.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  log("create_collection", {
    name: "<collection>",
    id: "<uuid>",
    metadata: collection.metadata,
    configuration: collection.configuration,
  });

  await expectThrow("create_collection_again", ChromaUniqueError, () =>
    client.createCollection({ name, configuration: { hnsw: { space: "l2" } }, embeddingFunction: null }),
  );

  const same = await client.getOrCreateCollection({ name, embeddingFunction: null });
  assert.equal(same.id, collection.id, "getOrCreateCollection returns the existing collection");
  log("get_or_create_collection", { same_id: true, metadata: same.metadata });

  const listed = [];
  for (let offset = 0; ; offset += 100) {
    const page = await client.listCollections({ limit: 100, offset });
    listed.push(...page);
    if (page.length < 100) break;
  }
  const mine = listed.filter((c) => c.name === name);
  assert.equal(mine.length, 1, "listCollections contains the collection once");
  assert.equal(mine[0].id, collection.id);
  log("list_collections", { contains: true, metadata: mine[0].metadata, configuration: mine[0].configuration });

  // add 20 records
  const records = Array.from({ length: 20 }, (_, i) => record(i));
  const added = await collection.add({
    ids: records.map((r) => r.id),
    embeddings: records.map((r) => r.embedding),
    documents: records.map((r) => r.document),
    metadatas: records.map((r) => r.metadata),
  });
  records.forEach(modelAdd);
  log("add", added);

  assert.equal(await collection.count(), 20);
  log("count_after_add", 20);

  // get by ids: Chroma returns insertion order, not request order
  const byIds = await collection.get({ ids: ["id-15", "id-02", "id-07", "id-99"] });
  checkGet("get_by_ids", byIds, ["id-02", "id-07", "id-15"].map((k) => model.get(k)));
  log("get_by_ids", showGet(byIds));

  const wheres = {
    get_where_eq: { category: "a" },
    get_where_and: { $and: [{ category: { $eq: "b" } }, { rank: { $gt: 5 } }] },
    get_where_or: { $or: [{ flag: true }, { score: { $lt: 1 } }] },
    get_where_in: { label: { $in: ["item-3", "item-4", "item-17", "item-99"] } },
    get_where_gte_float: { score: { $gte: 3.375 } },
    get_where_bool: { flag: false },
  };
  for (const [step, where] of Object.entries(wheres)) {
    const g = await collection.get({ where });
    const want = select((r) => matches(where, r.metadata));
    assert.ok(want.length > 0, `${step}: test data selects something`);
    assert.deepEqual(sortedIds(g.ids), sortedIds(want.map((r) => r.id)), `${step}: ids`);
    checkGet(step, g, g.ids.map((k) => model.get(k)));
    log(step, { where, ids: sortedIds(g.ids) });
  }

  const byDoc = await collection.get({ whereDocument: { $contains: "banana" } });
  assert.deepEqual(sortedIds(byDoc.ids), sortedIds(select((r) => r.document.includes("banana")).map((r) => r.id)));
  log("get_where_document_contains", { ids: sortedIds(byDoc.ids) });

  const both = await collection.get({ where: { category: "b" }, whereDocument: { $contains: "apple" } });
  const wantBoth = select((r) => r.metadata.category === "b" && r.document.includes("apple"));
  assert.deepEqual(sortedIds(both.ids), sortedIds(wantBoth.map((r) => r.id)));
  log("get_where_and_where_document", { ids: sortedIds(both.ids) });

  // pagination is in insertion order
  const page = await collection.get({ limit: 5, offset: 3 });
  checkGet("get_limit_offset", page, [...model.values()].slice(3, 8));
  log("get_limit_offset", showGet(page));

  const pageWhere = await collection.get({ where: { category: "a" }, limit: 2, offset: 1 });
  checkGet("get_where_limit_offset", pageWhere, select((r) => r.metadata.category === "a").slice(1, 3));
  log("get_where_limit_offset", { ids: pageWhere.ids });

  const withEmb = await collection.get({ ids: ["id-00", "id-11"], include: ["embeddings", "documents"] });
  checkGet("get_include_embeddings", withEmb, [model.get("id-00"), model.get("id-11")], ["embeddings", "documents"]);
  log("get_include_embeddings", showGet(withEmb));

  // query
  const queries = [vector(), vector()];
  const q = await collection.query({ queryEmbeddings: queries, nResults: 3 });
  checkQuery("query", q, queries, 3);
  log("query", showQuery(q));

  const qWhere = await collection.query({ queryEmbeddings: queries, nResults: 3, where: { category: "a" } });
  checkQuery("query_where", qWhere, queries, 3, { category: "a" });
  log("query_where", showQuery(qWhere));

  const qInc = await collection.query({ queryEmbeddings: [queries[0]], nResults: 2, include: ["distances", "embeddings"] });
  const wantInc = modelQuery(queries[0], 2);
  assert.deepEqual(qInc.ids[0], wantInc.map((h) => h.r.id));
  qInc.embeddings[0].forEach((e, i) => e.forEach((x, j) => assert.ok(Math.abs(x - wantInc[i].r.embedding[j]) < 1e-6)));
  log("query_include_embeddings", showQuery(qInc));

  // update: given metadata keys overwrite, the others are kept
  // (the client embeds documents given without embeddings, so a document update carries its vector)
  const upd = [
    { id: "id-01", embedding: vector(), document: "record 1 was updated", metadata: { rank: 101, extra: "x" } },
    { id: "id-04", metadata: { category: "z", flag: true } },
  ];
  const u0 = upd[0];
  await collection.update({ ids: [u0.id], embeddings: [u0.embedding], documents: [u0.document], metadatas: [u0.metadata] });
  await collection.update({ ids: ["id-04"], metadatas: [upd[1].metadata] });
  upd.forEach((r) => modelUpdate(r, false));
  const afterUpd = await collection.get({ ids: ["id-01", "id-04"], include: ["documents", "metadatas", "embeddings"] });
  checkGet("update", afterUpd, [model.get("id-01"), model.get("id-04")], ["documents", "metadatas", "embeddings"]);
  assert.equal(afterUpd.metadatas[0].category, "b", "update keeps metadata keys it does not name");
  log("update", showGet(afterUpd));

  await collection.update({ ids: ["id-90"], metadatas: [{ rank: 90 }] });
  assert.equal(await collection.count(), 20, "update of an absent id creates nothing");
  assert.deepEqual((await collection.get({ ids: ["id-90"] })).ids, []);
  log("update_absent_id", { count: 20, found: [] });

  // upsert: an existing record (merged like update) and two new ones
  const ups = [
    { id: "id-02", embedding: vector(), document: "record 2 was upserted", metadata: { rank: 202 } },
    record(20),
    record(21),
  ];
  await collection.upsert({
    ids: ups.map((r) => r.id),
    embeddings: ups.map((r) => r.embedding),
    documents: ups.map((r) => r.document),
    metadatas: ups.map((r) => r.metadata),
  });
  ups.forEach((r) => modelUpdate(r, true));
  assert.equal(await collection.count(), 22);
  const afterUps = await collection.get({ ids: ["id-02", "id-20", "id-21"], include: ["documents", "metadatas", "embeddings"] });
  checkGet("upsert", afterUps, ["id-02", "id-20", "id-21"].map((k) => model.get(k)), ["documents", "metadatas", "embeddings"]);
  assert.equal(afterUps.metadatas[0].label, "item-2", "upsert keeps metadata keys it does not name");
  log("upsert", { count: 22, ...showGet(afterUps) });

  // the vector index sees the writes at once
  const qNew = await collection.query({ queryEmbeddings: [model.get("id-20").embedding, model.get("id-04").embedding], nResults: 2 });
  checkQuery("query_after_writes", qNew, [model.get("id-20").embedding, model.get("id-04").embedding], 2);
  assert.equal(qNew.distances[0][0], 0);
  log("query_after_writes", showQuery(qNew));

  // delete by ids (one absent) and by where
  const delIds = await collection.delete({ ids: ["id-05", "id-06", "id-97"] });
  model.delete("id-05");
  model.delete("id-06");
  assert.equal(typeof delIds.deleted, "number");
  assert.equal(await collection.count(), 20);
  log("delete_by_ids", { ...delIds, count: 20 });

  const wantDelWhere = select((r) => r.metadata.category === "c").map((r) => r.id);
  const delWhere = await collection.delete({ where: { category: "c" } });
  wantDelWhere.forEach((k) => model.delete(k));
  assert.equal(delWhere.deleted, wantDelWhere.length);
  const countAfter = await collection.count();
  assert.equal(countAfter, model.size);
  log("delete_by_where", { ...delWhere, count: countAfter });

  assert.deepEqual((await collection.get({ where: { category: "c" } })).ids, []);
  const all = await collection.get({ include: ["documents", "metadatas", "embeddings"] });
  checkGet("final_state", all, [...model.values()], ["documents", "metadatas", "embeddings"]);
  log("final_state", showGet(all));

  const again = await client.getCollection({ name });
  assert.equal(again.id, collection.id);
  assert.equal(again.name, name);
  log("get_collection", { same_id: true, metadata: again.metadata, configuration: again.configuration });

  await expectThrow(
    "add_wrong_dimension",
    ChromaClientError,
    () => collection.add({ ids: ["bad-1"], embeddings: [vector().slice(0, DIM - 1)], documents: ["bad"] }),
    /dimension/,
  );
  assert.equal(await collection.count(), model.size, "a rejected add writes nothing");

  await expectThrow("get_unknown_collection", ChromaNotFoundError, () => client.getCollection({ name: `${name}_missing` }));

  await client.deleteCollection({ name });
  dropped = true;
  log("delete_collection", null);
  await expectThrow("get_deleted_collection", ChromaNotFoundError, () => client.getCollection({ name }));
  await expectThrow("delete_deleted_collection", ChromaNotFoundError, () => client.deleteCollection({ name }));

  assert.deepEqual(consoleNoise, [], "the client printed nothing");
}

let failed = false;
try {
  await flow();
} catch (err) {
  failed = true;
  process.stderr.write(`basic_flow FAILED: ${err.stack ?? err}\n`);
  log("FAILED", { error: err.name, message: errorMessage(err) });
} finally {
  if (!dropped) await client.deleteCollection({ name }).catch(() => {});
}
process.stdout.write(JSON.stringify(transcript, null, 2) + "\n");
process.exitCode = failed ? 1 : 0;
