"""The Azure ML CLI's own asset hashes, for test/client-unit/asset-hash-oracle.test.ts.

Reads JSON on stdin: {"paths": [{"id", "path"}], "deployments": [{"id", "yaml"}]} and prints JSON with, per
path, what azure-ai-ml computes for it (its own functions, nothing re-implemented here):
  - contentHash: Code(path=...)._hash_sha256, the code content hash (hash_version 202208), which calls
    get_content_hash(path, get_ignore_file(path));
  - objectHash: get_object_hash(path, get_ignore_file(path)), what models and build contexts are stored under;
  - files: get_upload_files_from_folder(path, ignore_file=...) (the relative paths the CLI uploads), for diagnosis;
and per deployment YAML, load_online_deployment(yaml) (what `az ml online-deployment create -f` parses):
  - model: {name, version} of the inline model (anonymous: sha256hex(objectHash), "1");
  - environment: {name, version, uploadHash, condaFile} of the inline environment.
"""
import json
import os
import sys

from azure.ai.ml import load_online_deployment
from azure.ai.ml._utils._asset_utils import (
    get_content_hash_version,
    get_ignore_file,
    get_object_hash,
    get_upload_files_from_folder,
)
from azure.ai.ml.entities._assets._artifacts.code import Code
from importlib.metadata import version


def for_path(path):
    ignore = get_ignore_file(path) if os.path.isdir(path) else None
    out = {
        "contentHash": Code(path=path)._hash_sha256,
        "objectHash": get_object_hash(path, ignore) if ignore is not None else get_object_hash(path),
    }
    if ignore is not None:
        out["files"] = sorted(rel for _, rel in get_upload_files_from_folder(path, ignore_file=ignore))
    return out


def for_deployment(path):
    d = load_online_deployment(path)
    out = {}
    if d.model is not None and not isinstance(d.model, str):
        out["model"] = {"name": d.model.name, "version": str(d.model.version)}
    env = d.environment
    if env is not None and not isinstance(env, str):
        out["environment"] = {
            "name": env.name,
            "version": env.version,
            "uploadHash": env._upload_hash,
            "condaFile": env._translated_conda_file,
        }
    return out


def main():
    req = json.load(sys.stdin)
    print(
        json.dumps(
            {
                "azureAiMl": version("azure-ai-ml"),
                "hashVersion": get_content_hash_version(),
                "paths": {p["id"]: for_path(p["path"]) for p in req.get("paths", [])},
                "deployments": {d["id"]: for_deployment(d["yaml"]) for d in req.get("deployments", [])},
            }
        )
    )


if __name__ == "__main__":
    main()
