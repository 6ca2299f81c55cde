#!/usr/bin/env python3
"""Writes an OCI image layout (image-spec v1.0: oci-layout, index.json, blobs/sha256/...) for one
Lambda function without a container engine: a single gzip layer holding the static bootstrap at
/var/runtime/bootstrap (the path Lambda's provided runtimes use), the CA bundle at
/etc/ssl/certs/ca-certificates.crt (libcurl's compiled-in default; HTTPS to AWS needs it), an empty
/var/task and a world-writable /tmp. Equivalent to docker/Dockerfile's final stage.

  docker/oci_image.py --bootstrap FILE --ca-bundle FILE --tag NAME --out DIR

Reproducible: fixed mtimes (SOURCE_DATE_EPOCH, default 0), uid/gid 0, sorted entries, gzip mtime 0,
so the same inputs give the same digests. Prints one JSON line: tag, manifest digest, layer size
(compressed, uncompressed) and the total of the image's blobs in bytes.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile


def tar_layer(bootstrap, ca_bundle, mtime):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name, mode):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, mtime
            tar.addfile(ti)

        def add_file(name, path, mode):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = os.path.getsize(path), mode, mtime
            with open(path, "rb") as f:
                tar.addfile(ti, f)

        for d in ["etc", "etc/ssl", "etc/ssl/certs"]:
            add_dir(d, 0o755)
        add_file("etc/ssl/certs/ca-certificates.crt", ca_bundle, 0o644)
        add_dir("tmp", 0o1777)
        for d in ["var", "var/runtime", "var/task"]:
            add_dir(d, 0o755)
        add_file("var/runtime/bootstrap", bootstrap, 0o755)
    return buf.getvalue()


def put_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--ca-bundle", default="/etc/ssl/certs/ca-certificates.crt")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--out", required=True, help="the OCI layout directory (replaced)")
    args = ap.parse_args()
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "blobs", "sha256"))

    layer_tar = tar_layer(args.bootstrap, args.ca_bundle, mtime)
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", compresslevel=9, mtime=0) as g:
        g.write(layer_tar)
    layer_gz = gz.getvalue()
    layer_digest = put_blob(args.out, layer_gz)
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()

    created = "1970-01-01T00:00:00Z" if mtime == 0 else None
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Entrypoint": ["/var/runtime/bootstrap"],
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime"],
            "WorkingDir": "/var/task",
            "Labels": {"org.opencontainers.image.title": "chromapact-" + args.tag},
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "docker/oci_image.py: static bootstrap + CA bundle"}],
    }
    if created:
        config["created"] = created
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = put_blob(args.out, config_bytes)

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest,
                    "size": len(layer_gz)}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest_digest = put_blob(args.out, manifest_bytes)

    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": len(manifest_bytes), "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"org.opencontainers.image.ref.name": args.tag}}],
    }
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    print(json.dumps({"tag": args.tag, "manifest": manifest_digest, "layer_bytes": len(layer_gz),
                      "layer_uncompressed_bytes": len(layer_tar),
                      "image_bytes": len(layer_gz) + len(config_bytes) + len(manifest_bytes)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
