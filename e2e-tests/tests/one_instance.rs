//! One instance, many requests (issue 16): whatever the policy keeps from one request to the
//! next in its wasm instance — the request arena (`src/support/allocator/request_arena.rs`), the last
//! settings compiled (`LAST_SETTINGS` in `src/wasm.rs`), the value pattern compiled on its
//! first use (`src/support/regex/`) — must never change an answer, since a host may serve many requests
//! with one instance.
//!
//! More than 1,000 requests go through one instance of policy.wasm in a fixed shuffled order:
//! every scenario many times, the whole hostile catalogue (its 1.5 MiB cases too),
//! `validate_settings` with invalid and valid settings alternating, settings that change (and
//! that stay) from one `validate` to the next, custom variables checked against several value
//! patterns. Each answer must be, byte for byte, the answer of a fresh instance to the same
//! payload with the same lookup answers, after the same lookups; the instance's memory must stay
//! within the catalogue's 64 MiB.

#[path = "hostile/catalogue.rs"]
mod catalogue;
mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use std::time::Instant;

use backup_blueprint_policy_e2e::callback_request::CallbackRequest;
use backup_blueprint_policy_e2e::engine::{PolicyInstance, WapcError};
use backup_blueprint_policy_e2e::host::{Counting, KubernetesBackend, NoKubernetes};
use backup_blueprint_policy_e2e::replay::Replay;
use backup_blueprint_policy_e2e::request::AdmissionRequest;
use backup_blueprint_policy_e2e::session;
use catalogue::{MAX_GUEST_MEMORY, base_cluster, catalogue};
use common::{Scenario, runner, scenarios_dir};
use serde_json::{Value, json};

/// At least this many requests go through the one instance.
const MIN_REQUESTS: usize = 1000;
/// Each scenario alone, in the shuffled order; it also comes twice in a row once, and once
/// around a request with invalid settings.
const SCENARIO_SINGLES: usize = 10;
/// Each hostile case's `validate` (its `validate_settings` comes once more).
const HOSTILE_REPEATS: usize = 2;
/// The order of the requests: a fixed seed, the same order on every run.
const SEED: u64 = 0x0016_0001_5eed_f00d;

/// The value patterns custom variables are checked against (`None`: the default pattern).
const PATTERNS: [Option<&str>; 8] = [
    None,
    Some("^[a-z]+$"),
    Some(r"^(blue|green|red)(-\d{1,3})?$"),
    Some("^[A-Z][a-z]*$"),
    Some(r"\bteam\b"),
    Some("^.{1,5}$"),
    Some("^(?:[a-z]+-)*[a-z]+$"),
    Some("x|y|z"),
];

/// Settings `validate_settings` must refuse, besides those of the scenarios and the catalogue.
fn invalid_settings() -> Vec<Value> {
    vec![
        json!({"customVariables": {"allowed": ["TEAM"], "valuePattern": "(?i)blue"}}),
        json!({"customVariables": {"allowed": ["TEAM"], "valuePattern": "[a-"}}),
        json!({"customVariables": {"allowed": ["TEAM"], "valuePattern": "a{1001}"}}),
        json!({"customVariables": {"allowed": ["TARGET_NAME"]}}),
        json!({"customVariables": {"allowed": "TEAM"}}),
        json!({"emitResolvedObjects": "yes"}),
        json!({"collisionCheck": 3}),
        json!({"unknownSetting": true}),
    ]
}

/// The values of the custom variable `TEAM`.
fn team_values() -> Vec<String> {
    [
        "blue",
        "blue-7",
        "Blue",
        "green-1234",
        "my team",
        "abcdef",
        "a-b-c",
        "zz",
        "tëam",
        "",
    ]
    .iter()
    .map(|v| v.to_string())
    .chain(["q".repeat(70)])
    .collect()
}

/// A fresh backend for each request, answering the same for both instances.
type MakeBackend = Rc<dyn Fn() -> Box<dyn KubernetesBackend>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Validate,
    ValidateSettings,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Validate => "validate",
            Operation::ValidateSettings => "validate_settings",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Scenario,
    Hostile,
    /// A hostile case's settings, valid or not.
    HostileSettings,
    ValidSettings,
    InvalidSettings,
    CustomVariable,
}

/// One distinct request; the sequence sends most of them several times.
struct Request {
    name: String,
    source: Source,
    operation: Operation,
    /// What both instances are sent, byte for byte.
    payload: Vec<u8>,
    /// The settings in the payload.
    settings: Value,
    backend: MakeBackend,
}

impl Request {
    /// `validate`, with the payload policy-server sends (`Policy::validate`'s).
    fn validate(
        name: String,
        source: Source,
        request: &AdmissionRequest,
        settings: Value,
        backend: MakeBackend,
    ) -> Self {
        Request {
            name,
            source,
            operation: Operation::Validate,
            payload: json!({"request": request, "settings": settings})
                .to_string()
                .into_bytes(),
            settings,
            backend,
        }
    }

    /// `validate_settings`, with the payload policy-server sends (`Policy::validate_settings`'s).
    fn validate_settings(name: String, source: Source, settings: Value) -> Self {
        Request {
            name,
            source,
            operation: Operation::ValidateSettings,
            payload: settings.to_string().into_bytes(),
            settings,
            backend: Rc::new(|| Box::new(NoKubernetes) as Box<dyn KubernetesBackend>),
        }
    }
}

/// What an instance answered to one request, and the lookups it made for it.
#[derive(Debug)]
struct Answer {
    result: Result<Vec<u8>, WapcError>,
    lookups: Vec<CallbackRequest>,
}

/// Sends `request` to `instance`, whose host calls go to `backend` for this request.
fn send(instance: &mut PolicyInstance, slot: &BackendSlot, request: &Request) -> Answer {
    let (counting, answered) = Counting::new((request.backend)());
    slot.0.replace(Some(Box::new(counting)));
    let result = instance.call(request.operation.name(), &request.payload);
    slot.0.replace(None);
    let lookups = answered.lock().unwrap().clone();
    Answer { result, lookups }
}

type SharedBackend = Rc<RefCell<Option<Box<dyn KubernetesBackend>>>>;

/// The backend of the reused instance: the current request's.
#[derive(Clone, Default)]
struct BackendSlot(SharedBackend);

impl KubernetesBackend for BackendSlot {
    fn answer(&mut self, request: &CallbackRequest) -> Result<Vec<u8>, String> {
        self.0
            .borrow_mut()
            .as_mut()
            .expect("a lookup outside of a request")
            .answer(request)
    }
}

/// Why the reused instance's answer to the `index`th request is not a fresh instance's, if it
/// is not: the request, where the bytes first differ, and both answers around that place.
fn difference(index: usize, request: &Request, reused: &Answer, fresh: &Answer) -> Option<String> {
    let what = format!("request #{index}, {} of '{}'", request.operation.name(), request.name);
    let answers = match (&reused.result, &fresh.result) {
        (Ok(reused), Ok(fresh)) => (reused, fresh),
        (reused, fresh) => {
            return Some(format!(
                "{what}: an engine error (a trap, no answer): reused instance {:?}, fresh instance {:?}",
                reused.as_ref().map(|r| excerpt(r, 0)).map_err(engine_error),
                fresh.as_ref().map(|f| excerpt(f, 0)).map_err(engine_error),
            ));
        }
    };
    if reused.lookups != fresh.lookups {
        return Some(format!(
            "{what}: other lookups: reused instance {:?}, fresh instance {:?}",
            reused.lookups, fresh.lookups
        ));
    }
    let (reused, fresh) = answers;
    if reused == fresh {
        return None;
    }
    let at = reused
        .iter()
        .zip(fresh.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(reused.len().min(fresh.len()));
    Some(format!(
        "{what}: the reused instance's answer ({} bytes) differs from a fresh instance's ({} bytes) from byte {at}:\n  \
         reused: {}\n  fresh:  {}",
        reused.len(),
        fresh.len(),
        excerpt(reused, at),
        excerpt(fresh, at),
    ))
}

/// A failed call in short: a trap's reason without wasmtime's backtrace.
fn engine_error(error: &WapcError) -> String {
    let text = error.to_string();
    let reason = match text.contains("wasm backtrace") {
        true => text.rsplit(">: ").next().unwrap_or(&text),
        false => &text,
    };
    reason.chars().take(300).collect()
}

/// The bytes of `answer` around `at`, as text.
fn excerpt(answer: &[u8], at: usize) -> String {
    let start = at.saturating_sub(80);
    let end = (at + 160).min(answer.len());
    format!(
        "{}{}{}",
        if start > 0 { "…" } else { "" },
        String::from_utf8_lossy(&answer[start..end]),
        if end < answer.len() { "…" } else { "" }
    )
}

/// xorshift64: a fixed, reproducible order.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// The distinct requests, and the groups of them sent one right after the other (the groups
/// are shuffled, never split).
struct Plan {
    requests: Vec<Request>,
    groups: Vec<Vec<usize>>,
}

impl Plan {
    fn add(&mut self, request: Request) -> usize {
        self.requests.push(request);
        self.requests.len() - 1
    }
}

fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("object.yaml").is_file())
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn scenario_request(scenario: &Scenario) -> Request {
    let session = scenario.dir.join("session.yml");
    let backend: MakeBackend = if session.is_file() {
        let exchanges = session::read(&session).unwrap();
        Rc::new(move || Box::new(Replay::new(exchanges.clone())))
    } else {
        let cluster = scenario.cluster();
        Rc::new(move || Box::new(cluster.clone()))
    };
    Request::validate(
        format!("scenario {}", scenario.name),
        Source::Scenario,
        &scenario.request(),
        scenario.settings(),
        backend,
    )
}

fn plan() -> Plan {
    let mut plan = Plan {
        requests: Vec::new(),
        groups: Vec::new(),
    };
    let mut valid_settings: Vec<Value> = vec![json!({})];
    let mut invalid: Vec<Value> = invalid_settings();

    // Every scenario, alone many times, twice in a row (the settings cache's hit), and around
    // a request with invalid settings (which must not replace the cached ones).
    let scenarios: Vec<usize> = scenario_names()
        .iter()
        .map(|name| plan.add(scenario_request(&Scenario::new(name))))
        .collect();
    let invalid_scenario = plan.add(scenario_request(&Scenario::new("invalid-settings")));
    invalid.push(plan.requests[invalid_scenario].settings.clone());
    for &scenario in &scenarios {
        let settings = &plan.requests[scenario].settings;
        if !valid_settings.contains(settings) && !invalid.contains(settings) {
            valid_settings.push(settings.clone());
        }
        plan.groups
            .extend(std::iter::repeat_n(vec![scenario], SCENARIO_SINGLES));
        plan.groups.push(vec![scenario, scenario]);
        plan.groups.push(vec![scenario, invalid_scenario, scenario]);
    }

    // The whole hostile catalogue: each case's `validate` (as policy-server sends it, even
    // with settings it would have refused) and its `validate_settings`.
    for case in catalogue() {
        let case = Rc::new(case);
        let settings_request = Request::validate_settings(
            format!("hostile {} (settings)", case.name),
            Source::HostileSettings,
            case.settings.clone(),
        );
        let from = Rc::clone(&case);
        let validate = Request::validate(
            format!("hostile {}", case.name),
            Source::Hostile,
            &case.request,
            case.settings.clone(),
            Rc::new(move || from.backend()),
        );
        let validate = plan.add(validate);
        let settings_request = plan.add(settings_request);
        plan.groups.extend(std::iter::repeat_n(vec![validate], HOSTILE_REPEATS));
        plan.groups.push(vec![settings_request]);
        let settings = &case.settings;
        match case.expect {
            catalogue::Expect::InvalidSettings => {
                if !invalid.contains(settings) {
                    invalid.push(settings.clone());
                }
            }
            _ => {
                if !valid_settings.contains(settings) {
                    valid_settings.push(settings.clone());
                }
            }
        }
    }

    // Custom variables against each value pattern: each value alone, and the values of one
    // pattern three in a row (the pattern compiled by the first, used by the next).
    let object = Scenario::new("custom-variable").object();
    let cluster = base_cluster().clone();
    let backend: MakeBackend = Rc::new(move || Box::new(cluster.clone()));
    for pattern in PATTERNS {
        let mut custom = json!({"allowed": ["TEAM"]});
        if let Some(pattern) = pattern {
            custom["valuePattern"] = json!(pattern);
        }
        let settings = json!({"customVariables": custom});
        valid_settings.push(settings.clone());
        let mut requests = Vec::new();
        for value in team_values() {
            let mut object = object.clone();
            object["metadata"]["annotations"]["vars.autobackup.kubewarden.io/TEAM"] = json!(value);
            let request = AdmissionRequest::for_object(object, None, "CREATE", None).unwrap();
            let name = format!(
                "custom variable TEAM={value:?} against valuePattern {}",
                pattern.map_or("(default)".to_string(), |p| format!("{p:?}"))
            );
            let index = plan.add(Request::validate(
                name,
                Source::CustomVariable,
                &request,
                settings.clone(),
                Rc::clone(&backend),
            ));
            plan.groups.push(vec![index]);
            requests.push(index);
        }
        plan.groups.extend(requests.chunks(3).map(<[usize]>::to_vec));
    }

    // `validate_settings`, invalid and valid alternating, each of them at least twice.
    let count = 2 * invalid.len().max(valid_settings.len());
    for i in 0..count {
        let bad = &invalid[i % invalid.len()];
        let good = &valid_settings[i % valid_settings.len()];
        let bad = plan.add(Request::validate_settings(
            format!("invalid settings {bad}"),
            Source::InvalidSettings,
            bad.clone(),
        ));
        let good = plan.add(Request::validate_settings(
            format!("valid settings {good}"),
            Source::ValidSettings,
            good.clone(),
        ));
        plan.groups.push(vec![bad, good]);
    }
    plan
}

/// Whether `validate_settings` accepts `settings`, asked of a fresh instance.
fn settings_are_valid(settings: &Value, known: &mut HashMap<String, bool>) -> bool {
    *known.entry(settings.to_string()).or_insert_with(|| {
        let mut policy = runner().instantiate(Box::new(NoKubernetes)).unwrap();
        policy.validate_settings(settings).valid
    })
}

#[test]
fn one_instance_answers_every_request_as_fresh_instances_do() {
    let started = Instant::now();
    let plan = plan();
    let mut groups = plan.groups.clone();
    XorShift(SEED).shuffle(&mut groups);
    let sequence: Vec<usize> = groups.concat();
    let requests = &plan.requests;

    // What the sequence covers, before anything is sent.
    assert!(sequence.len() >= MIN_REQUESTS, "{} requests", sequence.len());
    let mut sent = vec![0; requests.len()];
    for &r in &sequence {
        sent[r] += 1;
    }
    for (request, &times) in requests.iter().zip(&sent) {
        let least = match request.source {
            Source::Scenario => SCENARIO_SINGLES,
            _ => 1,
        };
        assert!(times >= least, "{} is sent {times} times", request.name);
    }
    let mut validity = HashMap::new();
    for request in requests {
        let valid = settings_are_valid(&request.settings, &mut validity);
        match request.source {
            Source::CustomVariable => assert!(valid, "{}: the pattern must be valid", request.name),
            Source::ValidSettings => assert!(valid, "{} must be valid", request.name),
            Source::InvalidSettings => assert!(!valid, "{} must be invalid", request.name),
            _ => {}
        }
    }
    let alternation: Vec<bool> = sequence
        .iter()
        .map(|&r| requests[r].source)
        .filter(|source| matches!(source, Source::ValidSettings | Source::InvalidSettings))
        .map(|source| source == Source::ValidSettings)
        .collect();
    assert!(
        alternation.iter().enumerate().all(|(i, &valid)| valid == (i % 2 == 1)),
        "validate_settings alternates invalid and valid settings"
    );

    let slot = BackendSlot::default();
    let mut reused = runner().instantiate(Box::new(slot.clone())).unwrap();
    reused.protocol_version().unwrap();
    let reused = reused.instance_mut();

    let mut differences = Vec::new();
    let mut last_cached: Option<&Value> = None;
    let (mut hits, mut misses, mut pattern_hits) = (0, 0, 0);
    // Custom variables whose value the pattern accepted, and refused.
    let (mut custom_accepted, mut custom_rejected) = (0, 0);
    let mut fresh_memory = 0;
    let mut compared = 0;
    for (index, &r) in sequence.iter().enumerate() {
        let request = &requests[r];
        let answer = send(reused, &slot, request);
        let fresh_slot = BackendSlot::default();
        let mut fresh = runner()
            .instantiate(Box::new(fresh_slot.clone()))
            .unwrap_or_else(|e| panic!("request #{index}: a fresh instance: {e:#}"));
        let fresh_answer = send(fresh.instance_mut(), &fresh_slot, request);
        fresh_memory = fresh_memory.max(fresh.instance().memory_size());
        compared += 1;
        if let Some(mut difference) = difference(index, request, &answer, &fresh_answer) {
            if differences.is_empty() {
                // What the instance went through just before: where a reuse bug usually starts.
                let before: Vec<String> = (index.saturating_sub(5)..index)
                    .map(|i| {
                        format!(
                            "  #{i} {} of '{}'",
                            requests[sequence[i]].operation.name(),
                            requests[sequence[i]].name
                        )
                    })
                    .collect();
                difference = format!("{difference}\n the requests just before it:\n{}", before.join("\n"));
            }
            differences.push(difference);
            if differences.len() == 10 {
                break;
            }
        }
        if request.source == Source::CustomVariable {
            let accepted = answer
                .result
                .as_deref()
                .ok()
                .and_then(|raw| serde_json::from_slice::<Value>(raw).ok())
                .and_then(|response| response["accepted"].as_bool());
            match accepted {
                Some(true) => custom_accepted += 1,
                Some(false) => custom_rejected += 1,
                None => {}
            }
        }
        // The settings cache (src/wasm.rs): valid settings of a `validate` replace the cached
        // ones; the same settings again are a hit.
        if request.operation == Operation::Validate && validity[&request.settings.to_string()] {
            if last_cached == Some(&request.settings) {
                hits += 1;
                pattern_hits += usize::from(request.source == Source::CustomVariable);
            } else {
                misses += 1;
                last_cached = Some(&request.settings);
            }
        }
    }
    let memory = reused.memory_size();
    let validates = sequence
        .iter()
        .take(compared)
        .filter(|&&r| requests[r].operation == Operation::Validate)
        .count();
    let summary = format!(
        "one instance: {compared} requests compared byte for byte with fresh instances ({validates} validate, {} \
         validate_settings; {} distinct; settings cache {hits} hits, {misses} misses, {pattern_hits} custom-variable \
         hits; custom variables {custom_accepted} accepted, {custom_rejected} rejected); guest memory after the sequence {:.1} MiB (a fresh instance's peak {:.1} MiB), {:.1} s",
        compared - validates,
        requests.len(),
        memory as f64 / (1 << 20) as f64,
        fresh_memory as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64(),
    );
    // Straight to stderr: shown by `make test` too, where the test harness captures println!.
    let _ = writeln!(std::io::stderr(), "{summary}");

    assert!(
        differences.is_empty(),
        "{} of {compared} answers of the reused instance differ from a fresh instance's (from the first one \
         on, the instance may be broken: the others may follow from it):\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        memory <= MAX_GUEST_MEMORY,
        "the reused instance's memory grew to {} MiB after {compared} requests (at most {} MiB)",
        memory >> 20,
        MAX_GUEST_MEMORY >> 20
    );
    assert!(
        hits >= 100 && misses >= 100 && pattern_hits >= 20,
        "the settings cache is exercised both ways: {hits} hits, {misses} misses, {pattern_hits} custom-variable hits"
    );
    assert!(
        custom_accepted >= 10 && custom_rejected >= 10,
        "the value patterns accept some custom variables and refuse others: {custom_accepted} accepted, \
         {custom_rejected} rejected"
    );
}

#[test]
fn a_difference_names_the_request_and_where_it_starts() {
    let request = Request::validate_settings("valid settings {}".into(), Source::ValidSettings, json!({}));
    let answer = |bytes: &[u8]| Answer {
        result: Ok(bytes.to_vec()),
        lookups: Vec::new(),
    };
    assert_eq!(difference(7, &request, &answer(b"abc"), &answer(b"abc")), None);
    assert_eq!(
        difference(
            7,
            &request,
            &answer(br#"{"valid":true}"#),
            &answer(br#"{"valid":false}"#)
        )
        .unwrap(),
        "request #7, validate_settings of 'valid settings {}': the reused instance's answer (14 bytes) differs from a \
         fresh instance's (15 bytes) from byte 9:\n  reused: {\"valid\":true}\n  fresh:  {\"valid\":false}"
    );
    assert!(
        difference(3, &request, &answer(b"abc"), &answer(b"ab"))
            .unwrap()
            .contains("from byte 2")
    );
    let trapped = Answer {
        result: Err(WapcError::GuestCallFailure("wasm trap".into())),
        lookups: Vec::new(),
    };
    let message = difference(5, &request, &trapped, &answer(b"abc")).unwrap();
    assert_eq!(
        message,
        "request #5, validate_settings of 'valid settings {}': an engine error (a trap, no answer): reused instance \
         Err(\"Guest call failure: wasm trap\"), fresh instance Ok(\"abc\")"
    );
    let backtrace = WapcError::GuestCallFailure(
        "error while executing at wasm backtrace:\n    0:  0x420d8 - <unknown>!<wasm function 1414>: memory fault"
            .into(),
    );
    assert_eq!(engine_error(&backtrace), "memory fault");
    assert!(
        difference(5, &request, &trapped, &trapped).is_some(),
        "a trap on both is no answer either"
    );
    let mut looked_up = answer(b"abc");
    looked_up.lookups.push(CallbackRequest::KubernetesGetResource {
        api_version: "v1".into(),
        kind: "Secret".into(),
        name: "s".into(),
        namespace: None,
        disable_cache: false,
        field_masks: None,
    });
    assert!(
        difference(1, &request, &looked_up, &answer(b"abc"))
            .unwrap()
            .contains("other lookups")
    );
}

#[test]
fn the_order_is_fixed_and_shuffled() {
    let mut a: Vec<usize> = (0..100).collect();
    let mut b = a.clone();
    XorShift(SEED).shuffle(&mut a);
    XorShift(SEED).shuffle(&mut b);
    assert_eq!(a, b);
    assert_ne!(a, (0..100).collect::<Vec<_>>());
    a.sort_unstable();
    assert_eq!(a, (0..100).collect::<Vec<_>>());
}
