#!/usr/bin/env bats
# The real `kwctl` (../shared/bin, Kubewarden 1.36): every scenario of e2e-tests/scenarios/
# through `kwctl run`, and the packaging files against what kwctl generates.
#
# For each scenario, policy-run evaluates it with the scenario cluster while recording the
# host-capability exchanges (--record) and saving the AdmissionReview it sent (--save-request);
# then `kwctl run --replay-host-capabilities-interactions` evaluates the same request with the
# annotated policy and must give the same answer: same decision, message, warnings, and a patch
# that produces the same object — or, for invalid settings, the same error line.

load real-engine

setup_file() {
  isolate_kwctl
  if command -v kwctl >/dev/null && loopback_only; then
    [ -x "$POLICY_RUN" ] || { echo "build policy-run first: make policy-run" >&2; return 1; }
    annotate
  fi
}

setup() {
  isolate_kwctl
  export ANNOTATED="$BATS_FILE_TMPDIR/annotated-policy.wasm"
}

# Evaluates scenario $1 with policy-run (recording) and with kwctl (replaying); compares.
same_answer() {
  need kwctl
  policy_run_scenario "$1"
  run --separate-stderr kwctl run --allow-context-aware --request-path "$BATS_TEST_TMPDIR/request.json" \
    --replay-host-capabilities-interactions "$SESSION" "${KWCTL_SETTINGS_ARGS[@]}" "$ANNOTATED"
  same_as_policy_run
}

@test "deployment: accepted, objects emitted" { same_answer deployment; }
@test "statefulset: accepted, objects emitted" { same_answer statefulset; }
@test "daemonset: accepted, objects emitted" { same_answer daemonset; }
@test "pvc: accepted, objects emitted" { same_answer pvc; }
@test "appbinding: accepted, objects emitted" { same_answer appbinding; }
@test "kubedb postgres: resolved as its AppBinding" { same_answer kubedb-postgres; }
@test "database with backupNamespace" { same_answer backup-namespace; }
@test "custom variable" { same_answer custom-variable; }
@test "not a target: untouched" { same_answer not-a-target; }
@test "rejects annotation syntax" { same_answer reject-annotation-syntax; }
@test "rejects an incomplete workload trigger" { same_answer reject-incomplete-trigger; }
@test "rejects undeclared volumes and paths" { same_answer reject-volumes; }
@test "rejects a missing blueprint" { same_answer reject-blueprint-not-found; }
@test "rejects undefined variables" { same_answer reject-undefined-variables; }
@test "rejects an invalid result" { same_answer reject-invalid-result; }
@test "rejects what Stash's webhooks reject" { same_answer reject-stash-webhooks; }
@test "rejects a cross-namespace workload backup" { same_answer reject-cross-namespace; }
@test "rejects a missing storage Secret" { same_answer reject-storage-secret; }
@test "warns about a missing storage Secret" { same_answer storage-secret-warn; }
@test "skips the storage Secret check" { same_answer storage-secret-skip; }
@test "invalid settings: kwctl's error line, byte for byte" { same_answer invalid-settings; }
@test "host error: rejected" { same_answer host-error-reject; }
@test "host error: accepted with onLookupError accept" { same_answer host-error-accept; }
@test "access: allowed by name" { same_answer access-allowed-by-name; }
@test "access: allowed by selector" { same_answer access-allowed-by-selector; }
@test "access: forbidden by name" { same_answer access-forbidden-by-name; }
@test "access: forbidden by selector" { same_answer access-forbidden-by-selector; }
@test "access: one of several blueprints forbidden" { same_answer access-one-forbidden; }
@test "collision with a hand-made object" { same_answer collision-foreign; }
@test "collision in warn mode" { same_answer collision-warn; }
@test "re-applied target: its own objects are no collision" { same_answer reapply-own-objects; }
@test "20,000 blueprint names: no lookup" { same_answer too-many-blueprints; }
@test "default: StatefulSet with claim templates" { same_answer default-statefulset; }
@test "default: Deployment with a PVC volume, gold tier" { same_answer default-deployment-pvc; }
@test "default: gold tier by namespace label" { same_answer default-gold-tier; }
@test "require: unprotected StatefulSet" { same_answer require-unprotected; }
@test "require: opt-out with a reason" { same_answer require-opt-out; }
@test "require: expired opt-out" { same_answer require-opt-out-expired; }
@test "require: opt-out without a reason" { same_answer require-opt-out-no-reason; }
@test "guardrails: weak blueprint" { same_answer guardrail-blueprint; }
@test "guardrails: weak schedule annotation" { same_answer guardrail-annotation; }
@test "audit: current stored object" { same_answer audit-current; }
@test "audit: stale stored object" { same_answer audit-stale; }
@test "audit: unprotected stored object" { same_answer audit-unprotected; }
@test "kubestash: StatefulSet with pinned variables" { same_answer kubestash-statefulset; }
@test "kubestash: KubeDB database on the default blueprint" { same_answer kubestash-kubedb; }
@test "kubestash: second database, repository collision" { same_answer kubestash-repository-collision; }
@test "kubestash: another tenant's directory" { same_answer kubestash-pinned-directory; }
@test "kubestash: usage policy denies the namespace" { same_answer kubestash-usage-denied; }
@test "kubestash: both generations' triggers" { same_answer kubestash-both-triggers; }

@test "every scenario has a test here" {
  for dir in "$SCENARIOS"/*/; do
    name="$(basename "$dir")"
    grep -q "same_answer $name;" "$BATS_TEST_FILENAME" || { echo "no test for scenario $name"; return 1; }
  done
}

@test "kwctl annotate prints no warning" {
  need kwctl
  [ -f "$ANNOTATED" ]
  echo "kwctl annotate said: $(cat "$BATS_FILE_TMPDIR/annotate.out")"
  [ ! -s "$BATS_FILE_TMPDIR/annotate.out" ]
  run --separate-stderr kwctl annotate -m "$ROOT/metadata.yml" -u "$ROOT/README.md" \
    -o "$BATS_TEST_TMPDIR/again.wasm" "$ROOT/policy.wasm"
  [ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
  cmp "$ANNOTATED" "$BATS_TEST_TMPDIR/again.wasm"
}

@test "artifacthub-pkg.yml is kwctl scaffold artifacthub's output, but for createdAt" {
  need kwctl
  run --separate-stderr kwctl scaffold artifacthub --metadata-path "$ROOT/metadata.yml" \
    --questions-path "$ROOT/questions-ui.yml" --output "$BATS_TEST_TMPDIR/scaffolded.yml"
  [ "$status" -eq 0 ]
  grep -q '^createdAt: ' "$ROOT/artifacthub-pkg.yml"
  diff -u <(grep -v '^createdAt: ' "$ROOT/artifacthub-pkg.yml") <(grep -v '^createdAt: ' "$BATS_TEST_TMPDIR/scaffolded.yml")
}

# `yq -S -c FILTER FILE`: the value as sorted, compact JSON.
field() { yq -S -c "$1" "$2"; }

@test "the example ClusterAdmissionPolicy agrees with kwctl scaffold manifest" {
  need kwctl
  run --separate-stderr kwctl scaffold manifest --type ClusterAdmissionPolicy --allow-context-aware "$ANNOTATED"
  [ "$status" -eq 0 ]
  local scaffolded="$BATS_TEST_TMPDIR/scaffolded.yaml" example="$ROOT/examples/cluster-admission-policy.yaml"
  printf '%s\n' "$output" >"$scaffolded"
  [ "$(field .kind "$scaffolded")" = '"ClusterAdmissionPolicy"' ]
  for path in .apiVersion .kind .spec.rules .spec.mutating; do
    echo "$path: $(field "$path" "$example") / kwctl: $(field "$path" "$scaffolded")"
    [ "$(field "$path" "$example")" = "$(field "$path" "$scaffolded")" ]
  done
  # kwctl lists the resources sorted; the order carries no meaning.
  [ "$(field '.spec.contextAwareResources | sort' "$example")" = "$(field '.spec.contextAwareResources | sort' "$scaffolded")" ]
  # Every resource metadata.yml declares (both generations' ten), none lost to a duplicate.
  [ "$(field '.spec.contextAwareResources | length' "$example")" -eq "$(field '.contextAwareResources | length' "$ROOT/metadata.yml")" ]
  [ "$(field '.spec.contextAwareResources | length' "$example")" -eq 10 ]
  # kwctl leaves backgroundAudit out when it is the CRD's default (true).
  [ "$(field '.spec.backgroundAudit // true' "$scaffolded")" = true ]
  [ "$(field .spec.backgroundAudit "$example")" = true ]
}

# The example manifest with its module replaced by $1.
manifest_with_module() {
  sed "s#^  module: registry://ghcr.io/.*#  module: $1#" "$ROOT/examples/cluster-admission-policy.yaml"
}

@test "kwctl run takes the example ClusterAdmissionPolicy and gives policy-run's answers" {
  need kwctl
  local manifest="$BATS_TEST_TMPDIR/policy.yaml"
  manifest_with_module "file://$ANNOTATED" >"$manifest"
  grep -q "module: file://$ANNOTATED\$" "$manifest"
  local settings ran=0
  settings="$(yq -c .spec.settings "$manifest")"
  for dir in "$SCENARIOS"/*/; do
    name="$(basename "$dir")"
    [ -f "$dir/settings.yaml" ] && continue # the manifest carries its own settings
    policy_run_scenario "$name" --settings-json "$settings"
    run --separate-stderr kwctl run --allow-context-aware --request-path "$BATS_TEST_TMPDIR/request.json" \
      --replay-host-capabilities-interactions "$SESSION" "$manifest"
    echo "== $name"
    same_as_policy_run
    ran=$((ran + 1))
  done
  [ "$ran" -ge 15 ]
}
