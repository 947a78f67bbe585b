#!/usr/bin/env python3
"""Seeds for the fuzz targets, from the e2e scenarios and the Stash-docs and KubeStash-docs
conformance cases.

    python3 fuzz/build_corpus.py [OUT]   (OUT defaults to fuzz/seeds; needs PyYAML)

Writes OUT/<target>/<sha1 of the seed> in each target's input format (see the doc comment of
fuzz/fuzz_targets/<target>.rs): evaluate gets JSON bundles {operation, namespace, object,
settings, cluster, failure}; annotations a flag byte and `key=value` lines; substitution
`NAME=value` lines, an empty line and the text; cron the schedule; settings the settings JSON.
The seeds are generated, not committed: `make fuzz` runs this script first.
"""

import hashlib
import json
import os
import sys

import yaml

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
SCENARIOS = os.path.join(ROOT, "e2e-tests", "scenarios")
CONFORMANCE = os.path.join(ROOT, "tests", "conformance", "stash-docs")
KUBESTASH_CONFORMANCE = os.path.join(ROOT, "tests", "conformance", "kubestash-docs")
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "DeploymentConfig"}

# Settings the KubeStash scenarios are seeded with besides their own: each step of SPEC §11.5
# switched on or off, pins, a value pattern, retention guardrails.
KUBESTASH_SETTINGS = [
    {"storageSecretCheck": "skip", "collisionCheck": "skip"},
    {"storageSecretCheck": "warn", "collisionCheck": "warn"},
    {"kubestash": {"pinnedVariables": {"namespace": "TARGET_NAMESPACE", "targetName": "TARGET_NAME"},
                   "valuePattern": "^[a-z0-9/.-]{1,63}$"}},
    {"guardrails": {"minimumRetention": {"keepLast": 20, "keepDaily": 7}, "minimumFrequency": "1h"}},
    {"blueprintAccess": [{"blueprints": ["backup/*"], "namespaceSelector": {"matchLabels": {"backup": "enabled"}}}]},
    {"requireBackup": {"kinds": ["StatefulSet"]}, "defaultBlueprints": [
        {"kinds": ["StatefulSet"], "blueprint": "backup/workload-backup"}]},
]

# Schedules the e2e and conformance files do not show: every form the parser knows.
EXTRA_SCHEDULES = [
    "*/5 * * * *", "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight",
    "@every 90m", "@every 1h30m10s", "0 0 31 2 *", "0 0 29 2 *", "0 3 * * 1-5", "0 0 1,15 * SUN",
    "CRON_TZ=Europe/Berlin 0 2 * * *", "TZ=UTC */10 * * * *", "0 0 * JAN-MAR/2 MON", "5-55/10 */3 ? * *",
]


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def load(path):
    found = docs(path) if os.path.exists(path) else []
    return found[0] if found else None


class Seeds:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode()
        directory = os.path.join(self.out, target)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
        self.count.setdefault(target, set()).add(hashlib.sha1(data).hexdigest())

    def object(self, obj):
        """The annotation, cron and substitution seeds an object or blueprint holds."""
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if annotations:
            flag = b"\x01" if obj.get("kind") in WORKLOAD_KINDS else b"\x00"
            lines = "\n".join(f"{k}={v}" for k, v in annotations.items())
            self.add("annotations", flag + lines.encode())
            if "stash.appscode.com/schedule" in annotations:
                self.add("cron", annotations["stash.appscode.com/schedule"])
        spec = obj.get("spec") or {}
        if obj.get("kind") == "BackupBlueprint":
            if isinstance(spec.get("schedule"), str):
                self.add("cron", spec["schedule"])
            variables = "\n".join(
                f"{n}={v}" for n, v in [
                    ("TARGET_API_VERSION", "apps/v1"), ("TARGET_KIND", "deployment"), ("TARGET_NAME", "web"),
                    ("TARGET_NAMESPACE", "demo"), ("TARGET_RESOURCE", "deployments"), ("TARGET_APP_VERSION", "11.11"),
                    ("TARGET_APP_TYPE", "kubedb.com/postgres"), ("TARGET_APP_GROUP", "kubedb.com"),
                    ("TARGET_APP_RESOURCE", "postgres"), ("TEAM", "team-a"),
                ])
            self.add("substitution", variables + "\n\n" + json.dumps(spec))
            for text in strings(spec):
                if "$" in text:
                    self.add("substitution", variables + "\n\n" + text)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def failure(session_path):
    """The error message of a kwctl session that makes a lookup fail, if any."""
    for exchange in docs(session_path) if os.path.exists(session_path) else []:
        for item in exchange if isinstance(exchange, list) else [exchange]:
            response = (item or {}).get("response") or {}
            if response.get("type") == "Error":
                return response.get("message", "failed")
    return None


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FUZZ, "seeds")
    seeds = Seeds(out)
    shared_cluster = docs(os.path.join(SCENARIOS, "cluster.yaml"))
    for obj in shared_cluster:
        seeds.object(obj)
    for name in sorted(os.listdir(SCENARIOS)):
        directory = os.path.join(SCENARIOS, name)
        obj = load(os.path.join(directory, "object.yaml"))
        if obj is None:
            continue
        cluster_path = os.path.join(directory, "cluster.yaml")
        cluster = docs(cluster_path) if os.path.exists(cluster_path) else shared_cluster
        settings = load(os.path.join(directory, "settings.yaml"))
        if settings is not None:
            seeds.add("settings", json.dumps(settings))
        bundle = {
            "operation": "CREATE",
            "namespace": (obj.get("metadata") or {}).get("namespace", "default"),
            "object": obj,
            "cluster": cluster,
        }
        if settings is not None:
            bundle["settings"] = settings
        message = failure(os.path.join(directory, "session.yml"))
        if message:
            bundle["failure"] = message
        seeds.add("evaluate", json.dumps(bundle))
        seeds.add("evaluate", json.dumps(dict(bundle, operation="UPDATE")))
        if name.startswith("kubestash-"):
            for extra in KUBESTASH_SETTINGS:
                seeds.add("evaluate", json.dumps(dict(bundle, settings=dict(settings or {}, **extra))))
        seeds.object(obj)
        for item in cluster if cluster is not shared_cluster else []:
            seeds.object(item)
    def conformance(fixtures, cluster_of):
        """Each case of a conformance set: its blueprint and target as seeds, and their bundle."""
        for name in sorted(os.listdir(fixtures)):
            directory = os.path.join(fixtures, name)
            if not os.path.isdir(directory):
                continue
            blueprint = load(os.path.join(directory, "blueprint.yaml"))
            target = load(os.path.join(directory, "target.yaml"))
            for obj in (blueprint, target):
                if obj is not None:
                    seeds.object(obj)
            if blueprint is None or target is None:
                continue
            bundle = {
                "operation": "CREATE",
                "namespace": (target.get("metadata") or {}).get("namespace", "default"),
                "object": target,
                "cluster": [blueprint] + cluster_of(directory),
            }
            seeds.add("evaluate", json.dumps(bundle))

    def stash_cluster(directory):
        secret = load(os.path.join(directory, "secret.yaml"))
        return [secret] if secret is not None else []

    def kubestash_cluster(directory):
        extra_path = os.path.join(directory, "extra-objects.yaml")
        return docs(extra_path) if os.path.exists(extra_path) else []

    conformance(CONFORMANCE, stash_cluster)
    conformance(KUBESTASH_CONFORMANCE, kubestash_cluster)
    for schedule in EXTRA_SCHEDULES:
        seeds.add("cron", schedule)
    seeds.add("settings", "")
    seeds.add("settings", "{}")
    for target, count in sorted(seeds.count.items()):
        print(f"{target}: {len(count)} seeds in {os.path.join(out, target)}")


if __name__ == "__main__":
    main()
