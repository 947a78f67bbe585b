#!/usr/bin/env bats
# The wasm scenarios of e2e-tests/scenarios/ through the real `kwctl run`.
#
# For each scenario, policy-run evaluates it with the scenario cluster while recording the
# host-capability exchanges (--record) and saving the AdmissionReview it sent (--save-request);
# then `kwctl run --replay-host-capabilities-interactions` evaluates the same request with the
# annotated policy and must give the same answer: same decision, message, warnings, and a patch
# that produces the same object. Skipped when kwctl is not installed.

bats_require_minimum_version 1.5.0

setup_file() {
  ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
  export ROOT
  export SCENARIOS="$ROOT/e2e-tests/scenarios"
  export POLICY_RUN="$ROOT/e2e-tests/target/debug/policy-run"
  export POLICY_RUN_CACHE_DIR="$ROOT/e2e-tests/target/policy-cache"
  export ANNOTATED="$BATS_FILE_TMPDIR/annotated-policy.wasm"
  if command -v kwctl >/dev/null; then
    [ -x "$POLICY_RUN" ] || { echo "build policy-run first: make policy-run" >&2; return 1; }
    kwctl annotate -m "$ROOT/metadata.yml" -u "$ROOT/README.md" -o "$ANNOTATED" "$ROOT/policy.wasm"
  fi
}

# Same decision, message, warnings and patched object in two AdmissionResponses.
same_response() {
  python3 - "$1" "$2" "$3" <<'PY'
import base64, json, sys

def patched(response, obj):
    obj = json.loads(json.dumps(obj))
    for op in json.loads(base64.b64decode(response["patch"])) if response.get("patch") else []:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        target = obj
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if op["op"] in ("add", "replace"):
            target[last] = op["value"]
        elif op["op"] == "remove":
            del target[last]
        else:
            sys.exit("unexpected patch operation %s" % op["op"])
    return obj

expected, actual, request = (json.loads(open(f).read()) for f in sys.argv[1:4])
obj = request["request"]["object"]
for key in ("allowed", "status", "warnings", "auditAnnotations", "patchType"):
    if expected.get(key) != actual.get(key):
        sys.exit("%s differs:\n policy-run: %s\n kwctl:      %s" % (key, expected.get(key), actual.get(key)))
if patched(expected, obj) != patched(actual, obj):
    sys.exit("the patches give different objects")
PY
}

# Evaluates scenario $1 with policy-run (recording) and with kwctl (replaying); compares.
same_answer() {
  command -v kwctl >/dev/null || skip "kwctl is not installed"
  local dir="$SCENARIOS/$1" work="$BATS_TEST_TMPDIR"
  local session="$work/session.yml" host=(--cluster "$SCENARIOS/cluster.yaml" --record "$work/session.yml")
  local settings=() kwctl_settings=()
  [ -f "$dir/cluster.yaml" ] && host=(--cluster "$dir/cluster.yaml" --record "$session")
  if [ -f "$dir/session.yml" ]; then session="$dir/session.yml"; host=(--replay "$session"); fi
  if [ -f "$dir/settings.yaml" ]; then
    settings=(--settings "$dir/settings.yaml")
    kwctl_settings=(--settings-path "$dir/settings.yaml")
  fi

  run --separate-stderr "$POLICY_RUN" --quiet --policy "$ROOT/policy.wasm" --metadata "$ROOT/metadata.yml" \
    --object "$dir/object.yaml" --save-request "$work/request.json" "${settings[@]}" "${host[@]}"
  local expected_status=$status expected_stderr=$stderr
  echo "$output" >"$work/expected.json"
  [ -f "$session" ] || echo "[]" >"$session"

  run --separate-stderr kwctl run --allow-context-aware --request-path "$work/request.json" \
    --replay-host-capabilities-interactions "$session" "${kwctl_settings[@]}" "$ANNOTATED"
  echo "policy-run ($expected_status): $(cat "$work/expected.json") $expected_stderr"
  echo "kwctl ($status): $output $stderr"
  if [ "$expected_status" -ne 0 ]; then
    [ "$status" -ne 0 ]
    [[ "$stderr" == *"${expected_stderr#Error: }"* ]]
  else
    [ "$status" -eq 0 ]
    echo "$output" >"$work/actual.json"
    same_response "$work/expected.json" "$work/actual.json" "$work/request.json"
  fi
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
@test "invalid settings" { same_answer invalid-settings; }
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

@test "every scenario has a test here" {
  for dir in "$SCENARIOS"/*/; do
    name="$(basename "$dir")"
    grep -q "same_answer $name;" "$BATS_TEST_FILENAME" || { echo "no test for scenario $name"; return 1; }
  done
}
