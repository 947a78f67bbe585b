# Helpers of the real-engine bats tests (kwctl, docker-registry): run by `make e2e-bats`
# inside a loopback-only network namespace (e2e-tests/in-netns).

bats_require_minimum_version 1.5.0

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
export ROOT
export SCENARIOS="$ROOT/e2e-tests/scenarios"
export POLICY_RUN="$ROOT/e2e-tests/target/debug/policy-run"
export POLICY_RUN_CACHE_DIR="$ROOT/e2e-tests/target/policy-cache"
# kwctl as a cluster administrator runs it: no backtraces in messages, colours as they come.
export RUST_BACKTRACE=0
unset NO_COLOR

# True inside a network namespace whose only interface is loopback.
loopback_only() {
  [ "$(tail -n +3 /proc/self/net/dev | cut -d: -f1 | tr -d ' ' | sort -u)" = lo ]
}

# `need TOOL…`: skips the test (with one line saying why) unless every tool is installed and
# the test runs on loopback only; counts the test in $REAL_ENGINE_TALLY for `make test`'s
# summary. Under REQUIRE_REAL_ENGINE=1 (CI) a missing tool fails the test instead.
need() {
  local tool reason=""
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { reason="$tool is not installed"; break; }
  done
  if [ -z "$reason" ] && ! loopback_only; then
    reason="not in a loopback-only network namespace (run it with make e2e-bats)"
  fi
  local outcome=ran
  [ -n "$reason" ] && outcome=skipped
  if [ -n "$REAL_ENGINE_TALLY" ]; then
    for tool in "$@"; do
      echo "$outcome $tool $BATS_TEST_DESCRIPTION" >>"$REAL_ENGINE_TALLY"
    done
  fi
  if [ -n "$reason" ]; then
    [ "${REQUIRE_REAL_ENGINE:-0}" = 1 ] && { echo "REQUIRE_REAL_ENGINE=1 but $reason" >&2; return 1; }
    skip "$reason"
  fi
}

# kwctl's store, configuration and caches in this file's temporary directory.
isolate_kwctl() {
  export XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache" XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/config"
}

# Annotates policy.wasm into $ANNOTATED (once per file); the output must be empty: no warning.
annotate() {
  export ANNOTATED="$BATS_FILE_TMPDIR/annotated-policy.wasm"
  [ -f "$ANNOTATED" ] && return 0
  kwctl annotate -m "$ROOT/metadata.yml" -u "$ROOT/README.md" -o "$ANNOTATED" "$ROOT/policy.wasm" \
    >"$BATS_FILE_TMPDIR/annotate.out" 2>&1
}

# Same decision, message, warnings and patched object in two AdmissionResponses
# ($1 policy-run's, $2 the real tool's, $3 the AdmissionReview they answered).
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
for key in ("uid", "allowed", "status", "warnings", "auditAnnotations", "patchType"):
    if expected.get(key) != actual.get(key):
        sys.exit("%s differs:\n policy-run: %s\n real:       %s" % (key, expected.get(key), actual.get(key)))
if patched(expected, obj) != patched(actual, obj):
    sys.exit("the patches give different objects")
PY
}

# `scenario_host NAME`: sets HOST_ARGS (policy-run's --cluster/--record or --replay),
# SESSION (the session kwctl replays), SETTINGS_ARGS and KWCTL_SETTINGS_ARGS for a scenario.
scenario_args() {
  local dir="$SCENARIOS/$1"
  SESSION="$BATS_TEST_TMPDIR/session.yml"
  local cluster="$SCENARIOS/cluster.yaml"
  [ -f "$dir/cluster.yaml" ] && cluster="$dir/cluster.yaml"
  HOST_ARGS=(--cluster "$cluster" --record "$SESSION")
  if [ -f "$dir/session.yml" ]; then SESSION="$dir/session.yml"; HOST_ARGS=(--replay "$SESSION"); fi
  SETTINGS_ARGS=() KWCTL_SETTINGS_ARGS=()
  if [ -f "$dir/settings.yaml" ]; then
    SETTINGS_ARGS=(--settings "$dir/settings.yaml")
    KWCTL_SETTINGS_ARGS=(--settings-path "$dir/settings.yaml")
  fi
  OBJECT_ARGS=(--object "$dir/object.yaml")
  [ -f "$dir/old-object.yaml" ] && OBJECT_ARGS+=(--old-object "$dir/old-object.yaml")
  return 0
}

# Evaluates scenario $1 with policy-run (recording the lookups, saving the request) into
# $BATS_TEST_TMPDIR/expected.json (stdout) and expected.err; sets EXPECTED_STATUS.
policy_run_scenario() {
  scenario_args "$1"
  shift
  run --separate-stderr "$POLICY_RUN" --quiet --policy "$ROOT/policy.wasm" --metadata "$ROOT/metadata.yml" \
    "${OBJECT_ARGS[@]}" --save-request "$BATS_TEST_TMPDIR/request.json" "${SETTINGS_ARGS[@]}" "${HOST_ARGS[@]}" "$@"
  EXPECTED_STATUS=$status
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/expected.json"
  printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/expected.err"
  [ -f "$SESSION" ] || echo "[]" >"$SESSION"
}

# After `run --separate-stderr kwctl run …`: kwctl's answer must be policy-run's — the same
# AdmissionResponse, or the same error (policy-run's stderr is kwctl's last stderr line, byte
# for byte) with a non-zero status.
same_as_policy_run() {
  echo "policy-run ($EXPECTED_STATUS): $(cat "$BATS_TEST_TMPDIR/expected.json") $(cat "$BATS_TEST_TMPDIR/expected.err")"
  echo "kwctl ($status): $output"
  echo "kwctl stderr: $stderr"
  if [ "$EXPECTED_STATUS" -ne 0 ]; then
    [ "$status" -ne 0 ]
    [ "$(printf '%s\n' "$stderr" | tail -n 1)" = "$(cat "$BATS_TEST_TMPDIR/expected.err")" ]
  else
    [ "$status" -eq 0 ]
    printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/actual.json"
    same_response "$BATS_TEST_TMPDIR/expected.json" "$BATS_TEST_TMPDIR/actual.json" "$BATS_TEST_TMPDIR/request.json"
  fi
}
