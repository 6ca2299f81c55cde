#!/usr/bin/env python3
"""scripts/demo's data steps (python3 standard library only; run by scripts/demo, one subcommand per phase).

The dataset is scripts/fetch-dataset's folder: data/embeddings/embeddings.bin (778 x 384 float32
little-endian, row i = line i of records.jsonl) and records.jsonl ({"id", "content", "title", "category",
"path", "chunk_index", "document_id", "wordCount", ...}).

  load      URL DATASET COLLECTION BATCH    every record through the producer's invoke URL, BATCH records
                                            (and < 5 MB of JSON) per event; each acknowledgement must name
                                            log positions above the previous ones (the log's order)
  count     URL COLLECTION WANT SECONDS     polls the query bootstrap's count until it is WANT
  query     URL DATASET COLLECTION PICKS SEED REFS
                                            PICKS documents' own vectors (each must be its own top hit),
                                            then one query filtered by where + where_document; every
                                            answer is checked against an exact brute-force search here;
                                            writes what the oracle step compares to REFS (JSON)
  snapshot  DIR WANT LAST_SEQ               checks a downloaded snapshot against its manifest.json: WANT
                                            records, the whole log (to LAST_SEQ) applied, nothing skipped
  oracle    PORT COLLECTION REFS            real Chroma's count and filtered query vs REFS
  texts     PRODUCER_URL QUERY_URL COLLECTION SECONDS
                                            five documents without embeddings through the producer (it
                                            embeds them), waits until the query bootstrap counts them,
                                            then two query_texts whose expected top hit shares their words;
                                            then a sixth note read back at once with min_log_positions
Each prints short lines and exits 1 (with the reason on stderr) when a check fails.
"""
import array
import hashlib
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

DIM = 384
MAX_EVENT_BYTES = 5_000_000  # under Lambda's 6 MiB synchronous invoke payload (emulator.h)


def fail(msg):
    print("demo: CHECK FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def load_dataset(folder):
    base = os.path.join(folder, "data", "embeddings")
    with open(os.path.join(base, "records.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    flat = array.array("f")
    with open(os.path.join(base, "embeddings.bin"), "rb") as f:
        flat.frombytes(f.read())
    if sys.byteorder != "little":
        flat.byteswap()
    if len(flat) != len(records) * DIM:
        fail(f"embeddings.bin holds {len(flat)} floats, expected {len(records)} x {DIM}")
    vectors = [flat[i * DIM:(i + 1) * DIM] for i in range(len(records))]
    return records, vectors


def metadata_of(r):
    """The metadata derived from a record: its source file and a few scalar fields (str/int only)."""
    return {
        "source": r["path"],
        "category": r["category"],
        "title": r["title"],
        "document_id": r["document_id"],
        "chunk_index": int(r["chunk_index"]),
        "word_count": int(r["wordCount"]),
    }


def invoke(url, event, timeout=150):
    """POSTs an event to an emulator's invoke URL. Returns (answer JSON, function error type or None)."""
    req = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
        err = resp.headers.get("X-Amz-Function-Error")
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        answer = body.decode(errors="replace")
    if err:
        etype = answer.get("errorType", "?") if isinstance(answer, dict) else "?"
        emsg = answer.get("errorMessage", answer) if isinstance(answer, dict) else answer
        return answer, f"{etype}: {emsg}"
    return answer, None


def snippet(text, n=60):
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[:n - 3] + "..."


def l2sq(a, b):
    return sum((x - y) * (x - y) for x, y in zip(a, b))


def cmd_load(url, folder, collection, batch):
    records, vectors = load_dataset(folder)
    batch = int(batch)
    batches, cur, cur_bytes = [], [], 0
    for i, r in enumerate(records):
        size = len(json.dumps(r["content"])) + len(json.dumps(metadata_of(r))) + 12 * DIM
        if cur and (len(cur) >= batch or cur_bytes + size > MAX_EVENT_BYTES):
            batches.append(cur)
            cur, cur_bytes = [], 0
        cur.append(i)
        cur_bytes += size
    if cur:
        batches.append(cur)
    keys, sent, last = [], 0, {}
    for b in batches:
        event = {
            "collection": collection,
            "operation": "add",
            "ids": [records[i]["id"] for i in b],
            "embeddings": [vectors[i].tolist() for i in b],
            "documents": [records[i]["content"] for i in b],
            "metadatas": [metadata_of(records[i]) for i in b],
        }
        answer, err = invoke(url, event)
        if err:
            fail(f"producer answered an error for records {b[0]}..{b[-1]}: {err}")
        if not isinstance(answer, dict) or answer.get("count") != len(b) or not answer.get("delta_keys"):
            fail(f"producer answer for records {b[0]}..{b[-1]} is not {{count: {len(b)}, delta_keys}}: {answer}")
        positions = answer.get("log_positions") or []
        if len(positions) != len(answer["delta_keys"]):
            fail(f"producer answer for records {b[0]}..{b[-1]} has no log position per delta: {answer}")
        for p in positions:
            if p["log_position"] <= last.get(p["shard"], 0):
                fail(f"log position {p['log_position']} of shard {p['shard']} is not above the previous "
                     f"acknowledgement's {last[p['shard']]}")
            last[p["shard"]] = p["log_position"]
        keys.extend(answer["delta_keys"])
        sent += len(b)
    print(f"demo:   {sent} records in {len(batches)} producer events (<= {batch} each) -> "
          f"{len(keys)} deltas at increasing log positions (last: "
          f"{', '.join(f'shard {s} at {p}' for s, p in sorted(last.items()))}), e.g. {keys[-1]}")


def cmd_count(url, collection, want, seconds):
    want, deadline = int(want), time.monotonic() + float(seconds)
    last, polls = None, 0
    while True:
        answer, err = invoke(url, {"action": "count", "collection": collection})
        polls += 1
        last = err if err else answer
        if not err and isinstance(answer, dict) and answer.get("count") == want:
            print(f"demo:   query bootstrap counts {want} ({polls} count invocations)")
            return
        if time.monotonic() >= deadline:
            fail(f"query bootstrap did not count {want} within {seconds} s; last answer: {last}")
        time.sleep(0.25)  # poll interval of a deadline-bounded wait


def brute_force(vectors, q, allowed, k):
    scored = sorted((l2sq(vectors[i], q), i) for i in allowed)
    return scored[:k]


def check_against(answer, records, vectors, q, allowed, k, what):
    """Checks a query answer (one query) against exact search over `allowed` indices."""
    by_id = {r["id"]: i for i, r in enumerate(records)}
    ids, dists = answer["ids"][0], answer["distances"][0]
    expected = brute_force(vectors, q, allowed, k)
    if len(ids) != len(expected):
        fail(f"{what}: {len(ids)} results, expected {len(expected)}")
    allowed_set = set(allowed)
    for rank, (rid, d) in enumerate(zip(ids, dists)):
        if rid not in by_id or by_id[rid] not in allowed_set:
            fail(f"{what}: result {rank} {rid} does not match the filter")
        true_d = l2sq(vectors[by_id[rid]], q)
        if abs(true_d - d) > 1e-3 * max(1.0, true_d):
            fail(f"{what}: result {rank} {rid} distance {d}, exact {true_d}")
        if abs(expected[rank][0] - d) > 1e-3 * max(1.0, d):  # ties may swap ids, not distances
            fail(f"{what}: result {rank} is {rid} at {d}; exact search has {records[expected[rank][1]]['id']} "
                 f"at {expected[rank][0]}")
    if dists != sorted(dists):
        fail(f"{what}: distances not ascending: {dists}")


def print_results(answer, limit):
    for rank, rid in enumerate(answer["ids"][0][:limit]):
        d = answer["distances"][0][rank]
        doc = answer["documents"][0][rank] if answer.get("documents") else ""
        print(f"demo:     #{rank + 1} {d:8.4f}  {rid:<46.46} {snippet(doc)}")


def cmd_query(url, folder, collection, picks, seed, refs_path):
    records, vectors = load_dataset(folder)
    seen = {}
    for i, v in enumerate(vectors):
        seen.setdefault(v.tobytes(), []).append(i)
    unique = [i for i, v in enumerate(vectors) if len(seen[v.tobytes()]) == 1]
    rng = random.Random(int(seed))
    chosen = sorted(rng.sample(unique, int(picks)))
    print(f"demo:   own-vector queries for {len(chosen)} documents (seed {seed}; "
          f"{len(records) - len(unique)} records with a duplicate vector left out)")
    everyone = list(range(len(records)))
    for i in chosen:
        q = vectors[i].tolist()
        answer, err = invoke(url, {"action": "query", "collection": collection, "query_embeddings": [q],
                                   "n_results": 3, "include": ["documents", "metadatas", "distances"]})
        if err:
            fail(f"query for {records[i]['id']} answered an error: {err}")
        print(f"demo:   query = vector of {records[i]['id']} ({records[i]['path']})")
        print_results(answer, 3)
        top = answer["ids"][0][0] if answer["ids"] and answer["ids"][0] else None
        if top != records[i]["id"] or answer["distances"][0][0] > 1e-4:
            fail(f"{records[i]['id']} is not its own top hit: {answer['ids'][0]} {answer['distances'][0]}")
        meta = answer["metadatas"][0][0]
        if meta != metadata_of(records[i]):
            fail(f"{records[i]['id']}: metadata {meta} != produced {metadata_of(records[i])}")
        if answer["documents"][0][0] != records[i]["content"]:
            fail(f"{records[i]['id']}: document differs from the produced one")
        check_against(answer, records, vectors, q, everyone, 3, f"query {records[i]['id']}")

    # Filtered: the vector of the pick from the largest category, restricted to that category, longer
    # documents and documents containing a word.
    sizes = {}
    for r in records:
        sizes[r["category"]] = sizes.get(r["category"], 0) + 1
    anchor = max(chosen, key=lambda i: (sizes[records[i]["category"]], i))
    category = records[anchor]["category"]
    k = 5
    min_words = 400  # longer documents only; 0 (all) for a small category
    in_meta = [j for j, r in enumerate(records) if r["category"] == category and r["wordCount"] >= min_words]
    if len(in_meta) < k:
        min_words = 0
        in_meta = [j for j, r in enumerate(records) if r["category"] == category]
    # The word: the first candidate that keeps >= k records and excludes some, preferably one the
    # anchor lacks (then the answer differs from the unfiltered one: the anchor is not its top hit).
    word, allowed = "the", [j for j in in_meta if "the" in records[j]["content"]]
    candidates = ("OData", "annotation", "deploy", "test", "view", "button", "table", "filter")
    for must_exclude_anchor in (True, False):
        found = False
        for w in candidates:
            match = [j for j in in_meta if w in records[j]["content"]]
            if k <= len(match) < len(in_meta) and (anchor not in match or not must_exclude_anchor):
                word, allowed, found = w, match, True
                break
        if found:
            break
    where = {"$and": [{"category": {"$eq": category}}, {"word_count": {"$gte": min_words}}]}
    where_document = {"$contains": word}
    q = vectors[anchor].tolist()
    answer, err = invoke(url, {"action": "query", "collection": collection, "query_embeddings": [q],
                               "n_results": k, "where": where, "where_document": where_document,
                               "include": ["documents", "metadatas", "distances"]})
    if err:
        fail(f"filtered query answered an error: {err}")
    print(f"demo:   filtered query = vector of {records[anchor]['id']}, where {json.dumps(where)}, "
          f"where_document {json.dumps(where_document)} ({len(allowed)} records match)")
    print_results(answer, k)
    check_against(answer, records, vectors, q, allowed, min(k, len(allowed)), "filtered query")
    for rank, m in enumerate(answer["metadatas"][0]):
        if m.get("category") != category or m.get("word_count", -1) < min_words:
            fail(f"filtered query: result {rank} metadata {m} does not match {where}")
    with open(refs_path, "w", encoding="utf-8") as f:
        json.dump({"count": len(records), "query": {"query_embeddings": [q], "n_results": k, "where": where,
                                                    "where_document": where_document,
                                                    "include": ["distances"]},
                   "ids": answer["ids"][0], "distances": answer["distances"][0]}, f)
    print(f"demo:   every answer equals exact search over the dataset; each document is its own top hit")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def join_chunks(folder, manifest, chunks_dir):
    """Rebuilds each file of a chunked manifest from the chunk objects (named by their SHA-256)."""
    cb = manifest.get("chunk_bytes", 0)
    if not cb:
        return
    for entry in manifest["files"]:
        path = os.path.join(folder, entry["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            for k, name in enumerate(entry["chunks"]):
                with open(os.path.join(chunks_dir, name), "rb") as f:
                    data = f.read()
                if hashlib.sha256(data).hexdigest() != name:
                    fail(f"chunk {name} of {entry['path']} does not hash to its name")
                if len(data) != min(cb, entry["size"] - k * cb):
                    fail(f"chunk {k} of {entry['path']} has {len(data)} bytes")
                out.write(data)


def cmd_snapshot(folder, want, last_seq, chunks_dir=None):
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if chunks_dir:
        join_chunks(folder, manifest, chunks_dir)
    total = 0
    for entry in manifest["files"]:
        path = os.path.join(folder, entry["path"])
        if not os.path.isfile(path):
            fail(f"snapshot file {entry['path']} listed in manifest.json was not downloaded")
        size = os.path.getsize(path)
        if size != entry["size"] or sha256_file(path) != entry["sha256"]:
            fail(f"snapshot file {entry['path']}: size/SHA-256 differ from manifest.json")
        total += size
    if manifest["record_count"] != int(want) or manifest["dimension"] != DIM:
        fail(f"manifest says {manifest['record_count']} records of dimension {manifest['dimension']}, "
             f"expected {want} x {DIM}")
    if manifest["log_position"] != int(last_seq) or manifest.get("skipped"):
        fail(f"manifest covers the log to {manifest['log_position']} (skipped: {manifest.get('skipped')}), "
             f"expected all of it, to {last_seq}, nothing skipped")
    print(f"demo:   version {manifest['version']} of {manifest['collection']}#{manifest['shard']}: "
          f"{len(manifest['files'])} files ({sum(len(e.get('chunks', [])) for e in manifest['files'])} chunks), "
          f"{total / 1e6:.1f} MB, SHA-256 verified, "
          f"{manifest['record_count']} records, log position {manifest['log_position']}")


def chroma(port, method, path, body=None):
    url = f"http://127.0.0.1:{port}/api/v2/tenants/default_tenant/databases/default_database{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        fail(f"Chroma {method} {path}: HTTP {e.code} {e.read()[:300]!r}")


def cmd_oracle(port, collection, refs_path):
    with open(refs_path, encoding="utf-8") as f:
        refs = json.load(f)
    colls = chroma(port, "GET", "/collections")
    match = [c for c in colls if c.get("name") == collection]
    if not match:
        fail(f"Chroma 1.5.9 does not list collection {collection}: {[c.get('name') for c in colls]}")
    cid = match[0]["id"]
    count = chroma(port, "GET", f"/collections/{cid}/count")
    if count != refs["count"]:
        fail(f"Chroma 1.5.9 counts {count}, the query bootstrap {refs['count']}")
    answer = chroma(port, "POST", f"/collections/{cid}/query", refs["query"])
    ids, dists = answer["ids"][0], answer["distances"][0]
    if len(ids) != len(refs["ids"]):
        fail(f"Chroma 1.5.9 filtered query: {ids}, the query bootstrap {refs['ids']}")
    for rank, (d, want) in enumerate(zip(dists, refs["distances"])):
        if abs(d - want) > 1e-3 * max(1.0, want):
            fail(f"Chroma 1.5.9 filtered query result {rank}: {ids[rank]} at {d}, "
                 f"the query bootstrap {refs['ids'][rank]} at {want}")
    same_ids = ids == refs["ids"]
    top = f"top: {ids[0]} {dists[0]:.4f}" if ids else "no matches"
    print(f"demo:   Chroma 1.5.9 opened the snapshot: count {count}; filtered query top-{len(ids)} "
          f"{'same ids' if same_ids else 'same distances (ties ordered differently)'} ({top})")


NOTES = {
    "note-coffee": "coffee beans and oat milk from the corner grocery",
    "note-train": "monthly train ticket for the commuter line",
    "note-hardware": "hardware store receipt: screws, wood glue and sandpaper",
    "note-pharmacy": "pharmacy receipt for cough syrup and vitamins",
    "note-dinner": "dinner for two at the italian restaurant",
}


def cmd_texts(producer_url, query_url, collection, seconds):
    """Texts without vectors: the producer embeds the documents, the query bootstrap the query text."""
    event = {"collection": collection, "operation": "upsert", "ids": list(NOTES),
             "documents": list(NOTES.values()), "metadatas": [{"kind": "note"} for _ in NOTES]}
    answer, err = invoke(producer_url, event)
    if err:
        fail(f"producer (documents without embeddings): {err}")
    print(f"demo:   {len(NOTES)} documents without embeddings acknowledged at {answer.get('log_positions')}")
    cmd_count(query_url, collection, len(NOTES), seconds)
    for text, want in (("wood glue and screws", "note-hardware"), ("a ticket for the train", "note-train")):
        answer, err = invoke(query_url, {"collection": collection, "query_texts": [text], "n_results": 3})
        if err:
            fail(f"query_texts {text!r}: {err}")
        ids = answer["ids"][0]
        print(f"demo:   query_texts {text!r} -> {ids} (top: {snippet(answer['documents'][0][0])!r})")
        if not ids or ids[0] != want:
            fail(f"query_texts {text!r}: expected {want} first, got {ids}")
    # Read-your-writes: a new note is answered by the very next query that names its log position
    # (the query function reads the log past its version; no compaction has to run first).
    event = {"collection": collection, "operation": "upsert", "ids": ["note-bike"],
             "documents": ["bicycle repair: new chain and brake pads"], "metadatas": [{"kind": "note"}]}
    answer, err = invoke(producer_url, event)
    if err:
        fail(f"producer: {err}")
    acked = time.monotonic()
    answer, err = invoke(query_url, {"collection": collection, "query_texts": ["brake pads for my bicycle"],
                                     "n_results": 1, "min_log_positions": answer["log_positions"]})
    if err:
        fail(f"query_texts with min_log_positions: {err}")
    if answer["ids"][0] != ["note-bike"]:
        fail(f"read-your-writes: expected note-bike, got {answer['ids']}")
    print(f"demo:   read-your-writes: note-bike acknowledged, answered {1000 * (time.monotonic() - acked):.0f} ms later "
          "by a query naming its log position")


def main(argv):
    commands = {"load": (cmd_load, 4), "count": (cmd_count, 4), "query": (cmd_query, 6),
                "snapshot": (cmd_snapshot, 4), "oracle": (cmd_oracle, 3),
                "texts": (cmd_texts, 4)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    fn, _ = commands[argv[1]]
    try:
        fn(*argv[2:])
    except (urllib.error.URLError, OSError, KeyError, ValueError, TypeError, IndexError) as e:
        fail(f"{argv[1]}: {type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
