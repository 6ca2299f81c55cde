#!/usr/bin/python3
"""Regenerates the small seed corpora of fuzz/store/ (pickle_corpus/, hnsw_files_corpus/).

The HNSW seeds come from Debian's python3-hnswlib (0.6.2): its single-file saveIndex() is the fork's
split layout without the leading version int (docs/chroma-format.md section 4), so header.bin = int32 1 +
the first 96 bytes, data_level0.bin = cur_element_count records, link_lists.bin = the rest.
usage: fuzz/store/make_corpus.py   (run from anywhere; needs /usr/bin/python3 with hnswlib + numpy)
"""
import os, pickle, struct, sys, tempfile, types
import hnswlib
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def serde_dict(pairs):
    """A dict as serde_pickle writes it (BINUNICODE / BININT, SETITEMS per 1000 pairs)."""
    out = b"}"
    if not pairs:
        return out
    out += b"("
    for n, (k, v) in enumerate(pairs, 1):
        out += enc(k) + enc(v)
        if n % 1000 == 0:
            out += b"u("
    return out + b"u"


def enc(v):
    if v is None:
        return b"N"
    if isinstance(v, str):
        b = v.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    if isinstance(v, int):
        return b"J" + struct.pack("<i", v)
    if isinstance(v, list):
        return serde_dict(v)
    raise TypeError(v)


def id_map_pickle(ids, labels, total):
    top = [("dimensionality", None), ("total_elements_added", total), ("max_seq_id", None),
           ("id_to_label", list(zip(ids, labels))), ("label_to_id", list(zip(labels, ids))),
           ("id_to_seq_id", [])]
    return b"\x80\x03" + serde_dict(top) + b"."


def hnsw_seed(space, dim, n, deleted, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, dim)).astype(np.float32)
    index = hnswlib.Index(space="ip" if space == "cosine" else space, dim=dim)
    index.init_index(max_elements=n, M=4, ef_construction=16, random_seed=0)
    norms = np.linalg.norm(data, axis=1).astype(np.float32)
    stored = data / (norms[:, None] + 1e-30) if space == "cosine" else data
    labels = list(range(1, n + 1))
    index.add_items(stored.astype(np.float32), labels)
    for label in deleted:
        index.mark_deleted(label)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        raw = open(path, "rb").read()
    header = struct.pack("<i", 1) + raw[:96]
    cur, size = struct.unpack_from("<QQ", raw, 16)
    level0 = raw[96:96 + cur * size]
    links = raw[96 + cur * size:]
    live = [l for l in labels if l not in deleted]
    pkl = id_map_pickle(["id%d" % l for l in live], live, n)
    space_byte = {"l2": 0, "cosine": 1, "ip": 2}[space]
    return (bytes([space_byte, dim - 1]) + struct.pack("<HHHH", len(header), len(level0), len(links), 4 * n)
            + header + level0 + links + norms.tobytes() + pkl)


def class_form_pickle():
    """0.x PersistentData pickled by CPython with protocol 5, via a stand-in module."""
    name = "chromadb.segment.impl.vector.local_persistent_hnsw"
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    cls = type("PersistentData", (), {"__module__": name})
    sys.modules[name].PersistentData = cls
    obj = cls()
    obj.__dict__.update(dimensionality=4, total_elements_added=3, max_seq_id=2**40,
                        id_to_label={"a": 1, "b": 300, "c": 70000},
                        label_to_id={1: "a", 300: "b", 70000: "c"},
                        id_to_seq_id={"a": 5, "b": 2**33, "c": 7})
    return pickle.dumps(obj, protocol=5)


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


write("pickle_corpus", "serde_idmap", id_map_pickle(["a", "b", "c"], [1, 2, 3], 3))
write("pickle_corpus", "class_form_p5", class_form_pickle())
write("pickle_corpus", "cpython_dict_p2",
      pickle.dumps({"id_to_label": {"x": 1}, "label_to_id": {1: "x"}, "total_elements_added": 1,
                    "nested": [(1, 2.5, True, None)]}, protocol=2))
write("hnsw_files_corpus", "l2_16", hnsw_seed("l2", 4, 16, [], 1))
write("hnsw_files_corpus", "cosine_16_deleted", hnsw_seed("cosine", 4, 16, [3, 9], 2))
write("hnsw_files_corpus", "ip_12", hnsw_seed("ip", 3, 12, [5], 3))
