#!/usr/bin/env bats
# OCI distribution with the real tools: Debian's docker-registry on loopback, `make push`
# (kwctl push), kwctl pull by tag, the digest, `kwctl run` and `kwctl inspect` from
# registry://, and the example ClusterAdmissionPolicy deployed from the registry.

load real-engine

PORT=5000 # a fresh network namespace: nothing else listens there
REPOSITORY="127.0.0.1:$PORT/kubewarden/policies"
TAG="v$(sed -n 's/^  io.kubewarden.policy.version: \([^ ]*\).*/\1/p' "$ROOT/metadata.yml")"
URI="registry://$REPOSITORY/backup-blueprint:$TAG"

setup_file() {
  isolate_kwctl
  command -v docker-registry >/dev/null && command -v kwctl >/dev/null && loopback_only || return 0
  [ -x "$POLICY_RUN" ] || { echo "build policy-run first: make policy-run" >&2; return 1; }
  mkdir -p "$BATS_FILE_TMPDIR/registry"
  cat >"$BATS_FILE_TMPDIR/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $BATS_FILE_TMPDIR/registry}
http: {addr: "127.0.0.1:$PORT"}
YAML
  echo "insecure_sources: [\"127.0.0.1:$PORT\"]" >"$BATS_FILE_TMPDIR/sources.yml"
  docker-registry serve "$BATS_FILE_TMPDIR/registry.yml" >"$BATS_FILE_TMPDIR/registry.log" 2>&1 &
  echo $! >"$BATS_FILE_TMPDIR/registry.pid"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "docker-registry did not start: $(cat "$BATS_FILE_TMPDIR/registry.log")" >&2
  return 1
}

teardown_file() {
  [ -f "$BATS_FILE_TMPDIR/registry.pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/registry.pid")" || true
}

setup() {
  isolate_kwctl
  SOURCES="$BATS_FILE_TMPDIR/sources.yml"
}

@test "make push publishes the annotated policy; kwctl pull by tag gets the same bytes and digest" {
  need kwctl docker-registry
  run make -C "$ROOT" --no-print-directory push REGISTRY="$REPOSITORY" PUSH_FLAGS="--sources-path $SOURCES"
  echo "$output"
  [ "$status" -eq 0 ]
  local pushed
  pushed="$(printf '%s\n' "$output" | sed -n "s#^Policy successfully pushed: $REPOSITORY/backup-blueprint@\(sha256:[0-9a-f]\{64\}\)\$#\1#p")"
  [ -n "$pushed" ]

  run --separate-stderr kwctl digest --sources-path "$SOURCES" "$URI"
  [ "$status" -eq 0 ]
  [ "$output" = "$URI@$pushed" ]

  run --separate-stderr kwctl pull --sources-path "$SOURCES" -o "$BATS_TEST_TMPDIR/pulled.wasm" "$URI"
  [ "$status" -eq 0 ]
  cmp "$ROOT/annotated-policy.wasm" "$BATS_TEST_TMPDIR/pulled.wasm"
}

@test "kwctl inspect shows the metadata of the published policy" {
  need kwctl docker-registry
  run --separate-stderr kwctl pull --sources-path "$SOURCES" "$URI"
  [ "$status" -eq 0 ]
  run --separate-stderr kwctl inspect -o yaml "$URI"
  [ "$status" -eq 0 ]
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/inspected.yml"
  for path in .rules .mutating .backgroundAudit '.contextAwareResources | sort' .executionMode .policyType \
    .minimumKubewardenVersion '.annotations["io.kubewarden.policy.title"]' \
    '.annotations["io.kubewarden.policy.version"]' '.annotations["io.kubewarden.policy.ociUrl"]'; do
    echo "$path: $(yq -S -c "$path" "$ROOT/metadata.yml") / inspect: $(yq -S -c "$path" "$BATS_TEST_TMPDIR/inspected.yml")"
    [ "$(yq -S -c "$path" "$ROOT/metadata.yml")" = "$(yq -S -c "$path" "$BATS_TEST_TMPDIR/inspected.yml")" ]
  done
  # The usage is this README.
  [ "$(yq -r '.annotations["io.kubewarden.policy.usage"]' "$BATS_TEST_TMPDIR/inspected.yml")" = "$(cat "$ROOT/README.md")" ]
}

@test "kwctl run from registry:// gives policy-run's answer" {
  need kwctl docker-registry
  for name in deployment reject-storage-secret storage-secret-warn; do
    policy_run_scenario "$name"
    run --separate-stderr kwctl run --sources-path "$SOURCES" --allow-context-aware \
      --request-path "$BATS_TEST_TMPDIR/request.json" --replay-host-capabilities-interactions "$SESSION" \
      "${KWCTL_SETTINGS_ARGS[@]}" "$URI"
    echo "== $name"
    same_as_policy_run
  done
}

@test "the example ClusterAdmissionPolicy deploys from the registry" {
  need kwctl docker-registry
  local manifest="$BATS_TEST_TMPDIR/policy.yaml"
  sed "s#^  module: registry://ghcr.io/.*#  module: $URI#" "$ROOT/examples/cluster-admission-policy.yaml" >"$manifest"
  grep -q "^  module: $URI\$" "$manifest"
  policy_run_scenario reject-volumes --settings-json "$(yq -c .spec.settings "$manifest")"
  run --separate-stderr kwctl run --sources-path "$SOURCES" --allow-context-aware \
    --request-path "$BATS_TEST_TMPDIR/request.json" --replay-host-capabilities-interactions "$SESSION" "$manifest"
  same_as_policy_run
}
