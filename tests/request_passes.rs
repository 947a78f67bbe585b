//! Two-pass reader = whole reader (issue 16, point 3).
//!
//! `wasm::decide` reads a request in up to two passes: `request::skeleton` (the operation, the
//! object's `apiVersion`, `kind` and `metadata`, the settings), on which the policy screens the
//! object, then `request::read_rest` with the skeleton's metadata put back; when the skeleton
//! gives `None` it reads the request whole with `request::read`. This test holds the two passes
//! to the whole decode, for a few thousand requests written by hand as JSON text (so that keys
//! can be duplicated and escaped) from a small deterministic grammar, and for byte-mutated
//! copies of them.
//!
//! What is equal, for a request serde_json reads whole:
//! - the screening inputs: the skeleton's operation, settings and object head are the whole
//!   decode's (the head: `apiVersion`, `kind` and `metadata` of the whole object);
//! - the second pass's operation, namespace and object (its metadata put back) are the whole
//!   decode's, and so is its error when the whole decode names a field of the wrong type;
//! - of the stored object (`oldObject`), what the policy reads of it: the resolved annotation
//!   (`metadata.annotations["autobackup.kubewarden.io/resolved"]`, evaluation/collisions.rs).
//!   The second pass keeps only that annotation, so `old_object` itself legitimately differs:
//!   a stored object that is not a map, or has none of it, is `None` after two passes and
//!   `Some` after the whole decode; the policy reads nothing of either.
//!
//! Where the behaviours legitimately differ, and the narrower property asserted instead:
//! - The skeleton is `None` (so `decide` reads the request whole, and the answer is the whole
//!   decode's by construction) when the payload is not JSON or not a map; and, for a map whose
//!   values serde_json can all build, exactly when the last `request.operation` is not a
//!   string, the last `request.object` is missing or not a map, or *any* occurrence of a
//!   duplicated `request` key, or of an `object` key inside one, is not a map: serde_json keeps
//!   the last duplicate, the passes' visitors read every occurrence and refuse a non-map one.
//!   Apart from that the visitors keep the last duplicate too, whole (`request` maps are not
//!   merged).
//! - Skipping a field (serde's `IgnoredAny`) checks its JSON syntax but not its content, which
//!   the whole decode checks when it builds the value: a lone UTF-16 surrogate escape
//!   (`"\ud800"`), bytes that are not UTF-8 inside a string, a number out of f64's range
//!   (`1e400`) or more than 128 nested lists or maps. Such a field makes the whole decode fail;
//!   the passes fail too when they read the field, and are unaffected by it where they skip it
//!   (the request's `uid`, `userInfo`, unknown fields; the object's `spec` in the first pass;
//!   the stored object but its resolved annotation). Asserted on a "twin" of each generated
//!   request: the same text with such a "poison" in place of some values, whose two-pass
//!   reading fails or equals the clean twin's. policy-server does not send such JSON (it writes
//!   the request with serde_json, from values it read whole), so the policy answering it is
//!   harmless.
//! - After a skeleton, the screen may answer (an object of a kind the policy does not handle,
//!   a DELETE) without a second pass: a request whose second pass would fail (a namespace of
//!   the wrong type, a poisoned `spec`) is then accepted where the whole decode rejects it.
//!   That is the first pass's purpose, not a difference in what is read.

use backup_blueprint_policy::admission::request::{self, Request};
use backup_blueprint_policy::target::annotations::RESOLVED;
use serde_json::{Value, json};

/// Generated requests (each with its poisoned twin when it has one).
const REQUESTS: u64 = 5000;

// ---------------------------------------------------------------------------------------------
// The two readers, reduced to what the policy reads.

/// What `policy::screen` judges: the first pass, or the same fields of the whole decode.
#[derive(Debug, PartialEq, Clone)]
struct Screening {
    operation: String,
    /// The object's `apiVersion`, `kind` and `metadata` (those present).
    head: Value,
    settings: Value,
}

/// What the evaluation reads of the rest of the request.
#[derive(Debug, PartialEq, Clone)]
struct Rest {
    operation: String,
    namespace: String,
    object: Value,
    /// The stored object's resolved annotation, all the policy reads of `old_object`.
    recorded: Option<Value>,
}

impl Rest {
    fn of(request: Request) -> Rest {
        let recorded = request
            .old_object
            .as_ref()
            .and_then(|old| old.get("metadata"))
            .and_then(|metadata| metadata.get("annotations"))
            .and_then(|annotations| annotations.get(RESOLVED))
            .cloned();
        Rest {
            operation: request.operation,
            namespace: request.namespace,
            object: request.object,
            recorded,
        }
    }
}

/// The reading `wasm::decide` makes after a skeleton.
#[derive(Debug)]
enum TwoPass {
    /// No skeleton: `decide` reads the request whole (`request::read`).
    Fallback,
    Screened(Screening, Result<Rest, String>),
}

fn two_pass(payload: &[u8]) -> TwoPass {
    let Some(skeleton) = request::skeleton(payload) else {
        return TwoPass::Fallback;
    };
    // As `decide`: the head's metadata is put back into the second pass's object.
    let metadata = skeleton.object_head.get("metadata").cloned();
    let rest = request::read_rest(payload, metadata).map(Rest::of);
    let screening = Screening {
        operation: skeleton.operation,
        head: skeleton.object_head,
        settings: skeleton.settings,
    };
    TwoPass::Screened(screening, rest)
}

fn whole(payload: &[u8]) -> Result<(Screening, Rest), String> {
    let (request, settings) = request::read(payload)?;
    let head = match &request.object {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, _)| matches!(key.as_str(), "apiVersion" | "kind" | "metadata"))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        other => json!({ "not a map": other }),
    };
    let screening = Screening {
        operation: request.operation.clone(),
        head,
        settings,
    };
    Ok((screening, Rest::of(request)))
}

/// The errors of serde_json's full decode that skipping a value does not raise (see the
/// module's documentation).
const CONTENT_ERRORS: [&str; 5] = [
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
    "invalid unicode code point",
    "number out of range",
    "recursion limit exceeded",
];

fn is_content_error(message: &str) -> bool {
    CONTENT_ERRORS.iter().any(|error| message.contains(error))
}

fn shown(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload).into_owned()
}

/// How a request was read, for the tallies.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Reading {
    /// No skeleton: read whole.
    Fallback,
    /// Two passes, equal to the whole decode.
    Equal,
    /// Two passes, failing in the second with the whole decode's message.
    BothFail,
    /// Poisoned, no skeleton.
    PoisonFallback,
    /// Poisoned, a skeleton (equal to the clean twin's), the second pass failing.
    PoisonSecondPassFails,
    /// Poisoned only where the passes skip: both equal to the clean twin's, the whole decode failing.
    PoisonSkipped,
    /// Mutated bytes: no skeleton.
    MutatedFallback,
    /// Mutated bytes: two passes equal to the whole decode.
    MutatedEqual,
    /// Mutated bytes: the second pass failing with the whole decode's message.
    MutatedBothFail,
    /// Mutated bytes: a skeleton, the whole decode failing on what skipping does not check.
    MutatedContentError,
}

/// The property for a request whose every value serde_json can build. `non_map` says whether
/// the generator wrote a non-map value for some `request` key, or some `object` key inside a
/// request map.
fn check_clean(payload: &[u8], non_map: bool) -> Reading {
    let parsed: Value = serde_json::from_slice(payload).unwrap_or_else(|e| panic!("{e}: {}", shown(payload)));
    let expect_skeleton = !non_map
        && parsed.pointer("/request/operation").is_some_and(Value::is_string)
        && parsed.pointer("/request/object").is_some_and(Value::is_object);
    let whole = whole(payload);
    match two_pass(payload) {
        TwoPass::Fallback => {
            assert!(!expect_skeleton, "no skeleton for {}", shown(payload));
            Reading::Fallback
        }
        TwoPass::Screened(screening, rest) => {
            assert!(expect_skeleton, "a skeleton for {}", shown(payload));
            match whole {
                Ok((whole_screening, whole_rest)) => {
                    assert_eq!(screening, whole_screening, "first pass of {}", shown(payload));
                    assert_eq!(rest, Ok(whole_rest), "second pass of {}", shown(payload));
                    Reading::Equal
                }
                Err(message) => {
                    assert_eq!(rest, Err(message), "second pass of {}", shown(payload));
                    Reading::BothFail
                }
            }
        }
    }
}

/// The property for any bytes: when both passes and the whole decode read them, they read the
/// same; when the whole decode fails, the second pass fails with its message unless the
/// failure is one skipping does not see.
fn check_raw(payload: &[u8]) -> Reading {
    let TwoPass::Screened(screening, rest) = two_pass(payload) else {
        return Reading::MutatedFallback;
    };
    match whole(payload) {
        Ok((whole_screening, whole_rest)) => {
            assert_eq!(screening, whole_screening, "first pass of {}", shown(payload));
            assert_eq!(rest, Ok(whole_rest), "second pass of {}", shown(payload));
            Reading::MutatedEqual
        }
        Err(message) if is_content_error(&message) => Reading::MutatedContentError,
        Err(message) => {
            assert_eq!(rest, Err(message), "second pass of {}", shown(payload));
            Reading::MutatedBothFail
        }
    }
}

/// The property for a generated request and its poisoned twin.
fn check_twin(generated: &Generated) -> Vec<Reading> {
    let clean = check_clean(&generated.clean, generated.non_map);
    if generated.poisons == 0 {
        assert_eq!(generated.clean, generated.poisoned);
        return vec![clean];
    }
    let poisoned = &generated.poisoned;
    let message = whole(poisoned).expect_err("a poison fails the whole decode");
    assert!(is_content_error(&message), "{message}: {}", shown(poisoned));
    let reading = match (two_pass(poisoned), two_pass(&generated.clean)) {
        (TwoPass::Fallback, _) => Reading::PoisonFallback,
        (TwoPass::Screened(screening, rest), TwoPass::Screened(clean_screening, clean_rest)) => {
            assert_eq!(screening, clean_screening, "first pass of {}", shown(poisoned));
            match rest {
                Err(_) => Reading::PoisonSecondPassFails,
                Ok(rest) => {
                    assert_eq!(Ok(rest), clean_rest, "second pass of {}", shown(poisoned));
                    Reading::PoisonSkipped
                }
            }
        }
        (TwoPass::Screened(..), TwoPass::Fallback) => {
            panic!(
                "a skeleton for the poisoned {}, none for the clean twin",
                shown(poisoned)
            )
        }
    };
    vec![clean, reading]
}

// ---------------------------------------------------------------------------------------------
// The generator: ValidationRequest JSON written by hand, with a poisoned twin.

/// xorshift64, seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A generated request: its text, and the same text with poisons (values serde_json cannot
/// build though they are valid JSON syntax) in place of some values.
struct Generated {
    clean: Vec<u8>,
    poisoned: Vec<u8>,
    poisons: usize,
    /// Keys written twice in one map (the grammar's fields; random maps have more).
    duplicates: usize,
    /// A `request` key, or an `object` key inside a request map, was given a value that is not
    /// a map (which makes the first pass refuse the request).
    non_map: bool,
}

struct Generator {
    rng: Rng,
    out: Generated,
    /// Per open list or map: whether the next element is its first (no comma).
    firsts: Vec<bool>,
    poison_percent: usize,
}

/// The strings values are drawn from (escaped at random when written).
const STRINGS: [&str; 22] = [
    "",
    "web",
    "demo",
    "CREATE",
    "UPDATE",
    "apps/v1",
    "Deployment",
    "gcs-daily",
    "dé",
    "日本語",
    "😀 smile",
    "a\"b\\c",
    "line\nbreak",
    "tab\there",
    "\u{7f}del",
    "nul\u{0}",
    "stash.appscode.com/backup-blueprint",
    RESOLVED,
    "[]",
    "{\"a\":1}",
    "\u{2028}\u{feff}",
    "𝄞",
];

/// Numbers, as JSON text (all within f64's range).
const NUMBERS: [&str; 12] = [
    "0",
    "-1",
    "42",
    "3.25",
    "-0",
    "1e3",
    "2.5E-3",
    "9007199254740993",
    "18446744073709551615",
    "-9223372036854775808",
    "1.7976931348623157e308",
    "123456789012345678901234567890",
];

/// Keys of random maps, and unknown fields: near misses of the fields the passes read.
const KEYS: [&str; 14] = [
    "a",
    "b",
    "a",
    "é",
    "",
    "😀",
    "Request",
    "requests",
    "objec",
    "old_object",
    " operation",
    "Metadata",
    "settings ",
    "kind2",
];

const ANNOTATION_KEYS: [&str; 8] = [
    RESOLVED,
    RESOLVED,
    "stash.appscode.com/backup-blueprint",
    "stash.appscode.com/schedule",
    "autobackup.kubewarden.io/skip",
    "vars.autobackup.kubewarden.io/app",
    "autobackup.kubewarden.io/resolvedx",
    "other",
];

#[derive(Clone, Copy)]
enum Field {
    // The payload's.
    Request,
    Settings,
    Unknown,
    // The request's.
    Uid,
    Kind,
    Resource,
    SubResource,
    Name,
    Namespace,
    Operation,
    UserInfo,
    Object,
    OldObject,
    DryRun,
    Options,
    // An object's.
    ApiVersion,
    ObjectKind,
    Metadata,
    Spec,
    Status,
    // Its metadata's.
    MetadataName,
    GenerateName,
    MetadataNamespace,
    MetadataUid,
    ResourceVersion,
    Annotations,
    Labels,
    OwnerReferences,
    DeletionTimestamp,
    Finalizers,
    ManagedFields,
}

impl Generator {
    fn generate(seed: u64) -> Generated {
        let mut generator = Generator {
            rng: Rng::seeded(seed),
            out: Generated {
                clean: Vec::new(),
                poisoned: Vec::new(),
                poisons: 0,
                duplicates: 0,
                non_map: false,
            },
            firsts: Vec::new(),
            poison_percent: 0,
        };
        if generator.rng.chance(50) {
            generator.poison_percent = 1 + generator.rng.below(6);
        }
        match generator.rng.chance(3) {
            true => generator.non_map(2),
            false => generator.payload(),
        }
        generator.ws();
        generator.out
    }

    // --- Writing.

    fn both(&mut self, text: &str) {
        self.out.clean.extend_from_slice(text.as_bytes());
        self.out.poisoned.extend_from_slice(text.as_bytes());
    }

    fn ws(&mut self) {
        let space = match self.rng.below(12) {
            0 => " ",
            1 => "\n  ",
            2 => "\t",
            3 => "\r\n ",
            _ => "",
        };
        self.both(space);
    }

    fn open(&mut self, bracket: &str) {
        self.ws();
        self.both(bracket);
        self.firsts.push(true);
    }

    fn close(&mut self, bracket: &str) {
        self.ws();
        self.both(bracket);
        self.firsts.pop();
    }

    /// The comma before an element but the first.
    fn element(&mut self) {
        let first = self.firsts.last_mut().expect("in a list or map");
        if !std::mem::replace(first, false) {
            self.both(",");
        }
        self.ws();
    }

    fn key(&mut self, key: &str) {
        self.element();
        self.string(key);
        self.ws();
        self.both(":");
        self.ws();
    }

    /// A JSON string, its characters escaped at random (keys too: the passes match them decoded).
    fn string(&mut self, text: &str) {
        let mut literal = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => literal.push_str("\\\""),
                '\\' => literal.push_str("\\\\"),
                '\n' => literal.push_str("\\n"),
                '\t' => literal.push_str("\\t"),
                c if (c as u32) < 0x20 => literal.push_str(&format!("\\u{:04x}", c as u32)),
                '/' if self.rng.chance(10) => literal.push_str("\\/"),
                c if self.rng.chance(6) => {
                    let mut units = [0; 2];
                    for unit in c.encode_utf16(&mut units) {
                        literal.push_str(&format!("\\u{unit:04X}"));
                    }
                }
                c => literal.push(c),
            }
        }
        literal.push('"');
        self.both(&literal);
    }

    /// Maybe a poison in place of a value: valid JSON syntax that serde_json cannot build.
    fn poison(&mut self) -> bool {
        if !self.rng.chance(self.poison_percent) {
            return false;
        }
        let (clean, poisoned) = match self.rng.below(8) {
            0 => ("\"x\"".to_owned(), b"\"\\ud800x\"".to_vec()),
            1 => ("\"x\"".to_owned(), b"\"x\\udc00\"".to_vec()),
            2 => ("\"x\"".to_owned(), b"\"\\uD83D\\u0041\"".to_vec()),
            3 => ("\"x\"".to_owned(), b"\"x\xff\xfe\"".to_vec()),
            4 => ("1".to_owned(), b"1e400".to_vec()),
            5 => ("-1.5".to_owned(), b"-2.5e308".to_vec()),
            6 => (
                "[]".to_owned(),
                format!("{}{}", "[".repeat(130), "]".repeat(130)).into_bytes(),
            ),
            _ => (
                "{}".to_owned(),
                format!("{}1{}", "{\"a\":".repeat(130), "}".repeat(130)).into_bytes(),
            ),
        };
        self.out.clean.extend_from_slice(clean.as_bytes());
        self.out.poisoned.extend_from_slice(&poisoned);
        self.out.poisons += 1;
        true
    }

    /// A key that may be poisoned (a lone surrogate, or not UTF-8).
    fn poisonable_key(&mut self, key: &str) {
        if !self.rng.chance(self.poison_percent) {
            return self.key(key);
        }
        self.element();
        let poisoned: &[u8] = match self.rng.chance(50) {
            true => b"\"k\\udfff\"",
            false => b"\"k\xc3\"",
        };
        self.out.clean.extend_from_slice(b"\"k\"");
        self.out.poisoned.extend_from_slice(poisoned);
        self.out.poisons += 1;
        self.both(":");
    }

    // --- Values.

    /// Any JSON value, nested at most `depth` deep.
    fn any(&mut self, depth: usize) {
        if self.poison() {
            return;
        }
        match self.rng.below(if depth == 0 { 4 } else { 6 }) {
            0..=3 => self.scalar(),
            4 => {
                self.open("[");
                for _ in 0..self.rng.below(4) {
                    self.element();
                    self.any(depth - 1);
                }
                self.close("]");
            }
            _ => {
                self.open("{");
                for _ in 0..self.rng.below(4) {
                    let key = *self.rng.pick(&KEYS);
                    self.poisonable_key(key);
                    self.any(depth - 1);
                }
                self.close("}");
            }
        }
    }

    fn scalar(&mut self) {
        match self.rng.below(4) {
            0 => self.both("null"),
            1 => {
                let boolean = *self.rng.pick(&["true", "false"]);
                self.both(boolean);
            }
            2 => {
                let number = *self.rng.pick(&NUMBERS);
                self.both(number);
            }
            _ => self.text(&STRINGS),
        }
    }

    /// A string of `choices` (or a poison).
    fn text(&mut self, choices: &[&str]) {
        if !self.poison() {
            let text = *self.rng.pick(choices);
            self.string(text);
        }
    }

    /// A string of `choices` mostly; else null, or a value of another type.
    fn text_or_odd(&mut self, choices: &[&str], odd_percent: usize) {
        match self.rng.chance(odd_percent) {
            false => self.text(choices),
            true => match self.rng.below(4) {
                0 => self.both("null"),
                1 => {
                    let number = *self.rng.pick(&NUMBERS);
                    self.both(number);
                }
                2 => self.both("true"),
                _ => self.any(2),
            },
        }
    }

    /// Anything but a map (its elements may be maps or poisons).
    fn non_map(&mut self, depth: usize) {
        match self.rng.below(3) {
            0 | 1 => self.scalar(),
            _ => {
                self.open("[");
                for _ in 0..self.rng.below(3) {
                    self.element();
                    self.any(depth);
                }
                self.close("]");
            }
        }
    }

    /// `fields` in a random order, each present with its chance, some twice.
    fn fields(&mut self, fields: &[(Field, usize)]) -> Vec<Field> {
        let mut chosen = Vec::new();
        for &(field, percent) in fields {
            if self.rng.chance(percent) {
                chosen.push(field);
                if self.rng.chance(8) {
                    chosen.push(field);
                    self.out.duplicates += 1;
                }
            }
        }
        for i in (1..chosen.len()).rev() {
            chosen.swap(i, self.rng.below(i + 1));
        }
        chosen
    }

    fn map(&mut self, fields: &[(Field, usize)]) {
        self.open("{");
        for field in self.fields(fields) {
            self.field(field);
        }
        self.close("}");
    }

    fn payload(&mut self) {
        self.map(&[
            (Field::Request, 95),
            (Field::Settings, 70),
            (Field::Unknown, 30),
            (Field::Unknown, 20),
        ]);
    }

    fn field(&mut self, field: Field) {
        match field {
            Field::Request => {
                self.key("request");
                match self.rng.chance(4) {
                    true => self.not_a_map(),
                    false => self.map(&[
                        (Field::Uid, 70),
                        (Field::Kind, 50),
                        (Field::Resource, 40),
                        (Field::SubResource, 10),
                        (Field::Name, 40),
                        (Field::Namespace, 75),
                        (Field::Operation, 92),
                        (Field::UserInfo, 50),
                        (Field::Object, 92),
                        (Field::OldObject, 40),
                        (Field::DryRun, 30),
                        (Field::Options, 20),
                        (Field::Unknown, 20),
                    ]),
                }
            }
            Field::Settings => {
                self.key("settings");
                match self.rng.chance(15) {
                    true => self.non_map(2),
                    false => {
                        self.open("{");
                        for _ in 0..self.rng.below(5) {
                            let key = *self.rng.pick(&[
                                "collisionCheck",
                                "storageSecretCheck",
                                "emitResolvedObjects",
                                "onLookupError",
                                "customVariables",
                                "blueprintAccess",
                                "requireBackup",
                                "defaultBlueprints",
                                "guardrails",
                                "x",
                            ]);
                            self.poisonable_key(key);
                            self.any(3);
                        }
                        self.close("}");
                    }
                }
            }
            Field::Unknown => {
                let key = *self.rng.pick(&KEYS);
                self.poisonable_key(key);
                self.any(3);
            }
            Field::Uid => {
                self.key("uid");
                self.text_or_odd(&["705ab4f5-6393-11e8-b7cc-42010a800002", ""], 10);
            }
            Field::Kind => {
                let key = *self.rng.pick(&["kind", "requestKind"]);
                self.key(key);
                self.map(&[(Field::Unknown, 50), (Field::ObjectKind, 80), (Field::ApiVersion, 30)]);
            }
            Field::Resource => {
                let key = *self.rng.pick(&["resource", "requestResource"]);
                self.key(key);
                self.any(2);
            }
            Field::SubResource => {
                self.key("subResource");
                self.text_or_odd(&["status", "scale"], 20);
            }
            Field::Name => {
                self.key("name");
                self.text_or_odd(&["web", ""], 10);
            }
            Field::Namespace => {
                self.key("namespace");
                self.text_or_odd(&["demo", "", "kube-system", "dé-😀", "team\\a"], 15);
            }
            Field::Operation => {
                self.key("operation");
                self.text_or_odd(
                    &[
                        "CREATE", "CREATE", "UPDATE", "UPDATE", "DELETE", "CONNECT", "", "create",
                    ],
                    12,
                );
            }
            Field::UserInfo => {
                self.key("userInfo");
                self.open("{");
                self.key("username");
                self.text_or_odd(
                    &["system:serviceaccount:kube-system:replicaset-controller", "alice"],
                    10,
                );
                self.key("groups");
                self.any(2);
                if self.rng.chance(50) {
                    self.key("extra");
                    self.any(3);
                }
                self.close("}");
            }
            Field::Object => {
                self.key("object");
                match self.rng.chance(7) {
                    true => self.not_a_map(),
                    false => self.object(),
                }
            }
            Field::OldObject => {
                self.key("oldObject");
                match self.rng.below(10) {
                    0 => self.both("null"),
                    1 => self.both("{}"),
                    2 => self.non_map(2),
                    _ => self.object(),
                }
            }
            Field::DryRun => {
                self.key("dryRun");
                self.text_or_odd(&["true"], 70);
            }
            Field::Options => {
                self.key("options");
                self.any(3);
            }
            Field::ApiVersion => {
                self.key("apiVersion");
                self.text_or_odd(
                    &[
                        "apps/v1",
                        "v1",
                        "kubedb.com/v1",
                        "kubedb.com/v1alpha2",
                        "appcatalog.appscode.com/v1alpha1",
                        "batch/v1",
                        "",
                    ],
                    8,
                );
            }
            Field::ObjectKind => {
                self.key("kind");
                self.text_or_odd(
                    &[
                        "Deployment",
                        "StatefulSet",
                        "DaemonSet",
                        "ReplicaSet",
                        "PersistentVolumeClaim",
                        "Postgres",
                        "AppBinding",
                        "ConfigMap",
                        "deployment",
                    ],
                    8,
                );
            }
            Field::Metadata => {
                self.key("metadata");
                match self.rng.chance(8) {
                    true => self.non_map(1),
                    false => self.map(&[
                        (Field::MetadataName, 80),
                        (Field::GenerateName, 10),
                        (Field::MetadataNamespace, 60),
                        (Field::MetadataUid, 40),
                        (Field::ResourceVersion, 30),
                        (Field::Annotations, 70),
                        (Field::Labels, 40),
                        (Field::OwnerReferences, 25),
                        (Field::DeletionTimestamp, 10),
                        (Field::Finalizers, 10),
                        (Field::ManagedFields, 15),
                        (Field::Unknown, 20),
                    ]),
                }
            }
            Field::Spec | Field::Status => {
                let key = match field {
                    Field::Spec => "spec",
                    _ => "status",
                };
                self.key(key);
                self.any(4);
            }
            Field::MetadataName | Field::GenerateName => {
                let key = match field {
                    Field::MetadataName => "name",
                    _ => "generateName",
                };
                self.key(key);
                self.text_or_odd(&["web", "db", "", "wéb"], 8);
            }
            Field::MetadataNamespace => {
                self.key("namespace");
                self.text_or_odd(&["demo", "", "other"], 8);
            }
            Field::MetadataUid => {
                self.key("uid");
                self.text_or_odd(&["0b5e2d5c-1111-2222-3333-444455556666"], 8);
            }
            Field::ResourceVersion => {
                self.key("resourceVersion");
                self.text_or_odd(&["12345", ""], 15);
            }
            Field::Annotations | Field::Labels => {
                let key = match field {
                    Field::Annotations => "annotations",
                    _ => "labels",
                };
                self.key(key);
                match self.rng.chance(8) {
                    true => self.non_map(1),
                    false => {
                        self.open("{");
                        for _ in 0..self.rng.below(5) {
                            let key = *self.rng.pick(&ANNOTATION_KEYS);
                            self.poisonable_key(key);
                            self.text_or_odd(
                                &[
                                    "gcs-daily",
                                    "",
                                    "[]",
                                    "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}",
                                ],
                                15,
                            );
                        }
                        self.close("}");
                    }
                }
            }
            Field::OwnerReferences => {
                self.key("ownerReferences");
                match self.rng.chance(10) {
                    true => self.any(2),
                    false => {
                        self.open("[");
                        for _ in 0..self.rng.below(3) {
                            self.element();
                            self.map(&[
                                (Field::ApiVersion, 80),
                                (Field::ObjectKind, 80),
                                (Field::MetadataName, 60),
                            ]);
                        }
                        self.close("]");
                    }
                }
            }
            Field::DeletionTimestamp => {
                self.key("deletionTimestamp");
                self.text_or_odd(&["2027-01-15T00:00:00Z"], 20);
            }
            Field::Finalizers | Field::ManagedFields => {
                let key = match field {
                    Field::Finalizers => "finalizers",
                    _ => "managedFields",
                };
                self.key(key);
                self.any(4);
            }
        }
    }

    /// An object, as in `object` and `oldObject`.
    fn object(&mut self) {
        self.map(&[
            (Field::ApiVersion, 85),
            (Field::ObjectKind, 85),
            (Field::Metadata, 85),
            (Field::Spec, 60),
            (Field::Status, 25),
            (Field::Unknown, 25),
        ]);
    }

    /// Not a map, where the first pass wants one (`request`, `object`).
    fn not_a_map(&mut self) {
        self.out.non_map = true;
        match self.rng.below(5) {
            0 => self.both("null"),
            _ => self.non_map(2),
        }
    }
}

/// Byte edits of a payload: a byte flipped, removed, or one of JSON's inserted.
fn mutate(payload: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = payload.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {
                let token = *rng.pick(&[
                    "{",
                    "}",
                    "[",
                    "]",
                    ",",
                    ":",
                    "\"",
                    "\\",
                    "null",
                    "1e999",
                    "\\ud800",
                    "\"request\":{}",
                    "\"object\":[]",
                    "\"operation\":\"CREATE\",",
                    "\u{e9}",
                    "\u{ff}",
                ]);
                bytes.splice(at..at, token.bytes());
            }
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn generated_requests_read_the_same_in_two_passes_as_whole() {
    let mut tally = std::collections::BTreeMap::<Reading, usize>::new();
    let mut mutations = Rng::seeded(u64::MAX);
    let (mut poisoned, mut non_maps, mut duplicated) = (0, 0, 0);
    for seed in 0..REQUESTS {
        let generated = Generator::generate(seed);
        for reading in check_twin(&generated) {
            *tally.entry(reading).or_default() += 1;
        }
        poisoned += usize::from(generated.poisons > 0);
        non_maps += usize::from(generated.non_map);
        duplicated += usize::from(generated.duplicates > 0);
        // Truncated or followed by more: JSON no more, read by neither.
        if generated.clean.starts_with(b"{") {
            let broken = match mutations.chance(50) {
                true => {
                    let last = generated.clean.iter().rposition(|&b| b == b'}').expect("a map");
                    generated.clean[..mutations.below(last + 1)].to_vec()
                }
                false => [&generated.clean[..], b" x"].concat(),
            };
            assert!(request::skeleton(&broken).is_none(), "{}", shown(&broken));
            assert!(request::read(&broken).is_err(), "{}", shown(&broken));
            assert!(request::read_rest(&broken, None).is_err(), "{}", shown(&broken));
        }
        for _ in 0..2 {
            let mutated = mutate(&generated.clean, &mut mutations);
            *tally.entry(check_raw(&mutated)).or_default() += 1;
        }
    }
    eprintln!(
        "{REQUESTS} generated requests ({poisoned} with a poisoned twin, {duplicated} with a duplicated field, \
         {non_maps} with a non-map request or object): {tally:?}"
    );
    assert!(
        duplicated >= REQUESTS as usize / 4,
        "{duplicated} with a duplicated field"
    );
    // Every path taken, each often enough to mean something.
    for (reading, at_least) in [
        (Reading::Fallback, 500),
        (Reading::Equal, 2000),
        (Reading::BothFail, 50),
        (Reading::PoisonFallback, 200),
        (Reading::PoisonSecondPassFails, 50),
        (Reading::PoisonSkipped, 50),
        (Reading::MutatedFallback, 2000),
        (Reading::MutatedEqual, 500),
        (Reading::MutatedBothFail, 20),
        (Reading::MutatedContentError, 20),
    ] {
        let count = tally.get(&reading).copied().unwrap_or(0);
        assert!(count >= at_least, "{reading:?}: {count} < {at_least}: {tally:?}");
    }
}

fn payload(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn screened(text: &str) -> (Screening, Rest) {
    match two_pass(text.as_bytes()) {
        TwoPass::Screened(screening, Ok(rest)) => (screening, rest),
        other => panic!("{other:?}: {text}"),
    }
}

/// serde_json's `Value` keeps the last of duplicate keys; so do the passes' visitors, at every
/// level they pick from or keep.
#[test]
fn duplicate_keys_keep_the_last_as_serde_json_does() {
    let text = r#"{"settings": {"collisionCheck": "skip"}, "request": {
        "operation": "DELETE", "namespace": "first",
        "object": {"kind": "ConfigMap", "metadata": {"name": "a"}, "spec": {"x": 1}},
        "operation": "CREATE", "namespace": "second",
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"}, "metadata": {"name": "c",
            "annotations": {"k": "1", "k": "2"}}, "spec": {"replicas": 1}, "spec": {"replicas": 2}},
        "oldObject": {"metadata": {"annotations": {"autobackup.kubewarden.io/resolved": "[1]",
            "autobackup.kubewarden.io/resolved": "[2]"}}}
    }, "settings": {"collisionCheck": "warn"}}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "c", "annotations": {"k": "2"}}, "spec": {"replicas": 2}});
    assert_eq!(value["request"]["object"], object);
    assert_eq!(value["settings"], json!({"collisionCheck": "warn"}));

    let (screening, rest) = screened(text);
    assert_eq!(screening.operation, "CREATE");
    assert_eq!(screening.settings, json!({"collisionCheck": "warn"}));
    assert_eq!(
        screening.head,
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": object["metadata"]})
    );
    assert_eq!((rest.operation.as_str(), rest.namespace.as_str()), ("CREATE", "second"));
    assert_eq!(rest.object, object);
    assert_eq!(rest.recorded, Some(json!("[2]")));
    assert_eq!(whole(text.as_bytes()), Ok((screening, rest)));
}

/// A duplicated `request` replaces the first whole: its fields are not merged.
#[test]
fn a_duplicate_request_replaces_the_first_whole() {
    let text = r#"{"request": {"operation": "CREATE", "namespace": "demo", "object": {"kind": "Deployment"},
        "oldObject": {"metadata": {"annotations": {"autobackup.kubewarden.io/resolved": "[]"}}}},
        "request": {"operation": "UPDATE", "object": {"kind": "StatefulSet"}}}"#;
    let (screening, rest) = screened(text);
    assert_eq!(screening.head, json!({"kind": "StatefulSet"}));
    assert_eq!((rest.operation.as_str(), rest.namespace.as_str()), ("UPDATE", ""));
    assert_eq!(rest.recorded, None);
    assert_eq!(whole(text.as_bytes()), Ok((screening, rest)));
    // The last request without an object: no skeleton (read whole, the object null).
    let text = r#"{"request": {"operation": "CREATE", "object": {}}, "request": {"operation": "CREATE"}}"#;
    assert!(request::skeleton(text.as_bytes()).is_none());
    assert_eq!(request::read(text.as_bytes()).unwrap().0.object, Value::Null);
}

/// Where the visitors and serde_json part: a duplicate `request` or `object` that is not a map
/// is refused by the first pass though serde_json keeps the last, a map; `decide` then reads
/// the request whole, so the policy still reads what serde_json reads.
#[test]
fn a_non_map_duplicate_request_or_object_leaves_the_request_to_the_whole_decode() {
    for text in [
        r#"{"request": 5, "request": {"operation": "CREATE", "object": {"kind": "Deployment"}}}"#,
        r#"{"request": {"operation": "CREATE", "object": null, "object": {"kind": "Deployment"}}}"#,
        r#"{"request": {"operation": "CREATE", "object": [], "object": {"kind": "Deployment"}}}"#,
        r#"{"request": {"object": "x"}, "request": {"operation": "CREATE", "object": {"kind": "Deployment"}}}"#,
    ] {
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["request"]["object"], json!({"kind": "Deployment"}), "{text}");
        assert!(request::skeleton(text.as_bytes()).is_none(), "{text}");
        let (request, _) = request::read(text.as_bytes()).unwrap();
        assert_eq!(
            (request.operation.as_str(), request.object),
            ("CREATE", json!({"kind": "Deployment"}))
        );
    }
    // The second pass on its own refuses them too (`decide` never calls it after no skeleton).
    assert!(request::read_rest(br#"{"request": {"object": [], "object": {}}}"#, None).is_err());
    // A stored object is read leniently: a non-map one, or duplicate, records nothing.
    let text = r#"{"request": {"operation": "UPDATE", "object": {},
        "oldObject": {"metadata": {"annotations": {"autobackup.kubewarden.io/resolved": "[]"}}, "metadata": 7}}}"#;
    let (_, rest) = screened(text);
    assert_eq!(rest.recorded, None);
    assert_eq!(whole(text.as_bytes()).unwrap().1, rest);
}

/// Keys are matched decoded: an escaped `operation`, `object`, `metadata` or resolved
/// annotation is read as the plain one.
#[test]
fn escaped_keys_are_matched_decoded() {
    let text = r#"{"re\u0071uest": {"op\u0065ration": "CR\u0045ATE", "n\u0061mespace": "d\u00e9mo",
        "\u006fbject": {"kind": "Deploym\u0065nt", "m\u0065tadata": {"name": "w\u00e9b \ud83d\ude00"}, "spec": "\/"},
        "oldObject": {"metadata": {"annotations": {"autobackup.kubewarden.io\/resolved": "[\"x\"]"}}}},
        "s\u0065ttings": {"a\u0000": "\u2028"}}"#;
    let (screening, rest) = screened(text);
    assert_eq!(screening.operation, "CREATE");
    assert_eq!(
        screening.head,
        json!({"kind": "Deployment", "metadata": {"name": "wéb 😀"}})
    );
    assert_eq!(screening.settings, json!({"a\u{0}": "\u{2028}"}));
    assert_eq!(rest.namespace, "démo");
    assert_eq!(rest.object["spec"], json!("/"));
    assert_eq!(rest.recorded, Some(json!("[\"x\"]")));
    assert_eq!(whole(text.as_bytes()), Ok((screening, rest)));
}

/// Missing and null fields read alike in both; a null or empty stored object is none.
#[test]
fn missing_and_null_fields() {
    for (text, namespace) in [
        (r#"{"request": {"operation": "CREATE", "object": {}}}"#, ""),
        (
            r#"{"request": {"operation": "CREATE", "object": {}, "namespace": null}, "settings": null}"#,
            "",
        ),
        (
            r#"{"request": {"operation": "UPDATE", "object": {"metadata": null}, "oldObject": null}}"#,
            "",
        ),
        (
            r#"{"request": {"operation": "UPDATE", "object": {"metadata": {}}, "oldObject": {}}}"#,
            "",
        ),
        (
            r#"{"request": {"operation": "", "namespace": "demo", "object": {"kind": null}}}"#,
            "demo",
        ),
    ] {
        let (screening, rest) = screened(text);
        assert_eq!(screening.settings, Value::Null, "{text}");
        assert_eq!(rest.namespace, namespace, "{text}");
        assert_eq!(rest.recorded, None, "{text}");
        let (whole_request, _) = request::read(text.as_bytes()).unwrap();
        assert_eq!(whole_request.old_object, None, "{text}");
        assert_eq!(whole(text.as_bytes()), Ok((screening, rest)), "{text}");
    }
    // No skeleton (read whole) without an operation string or an object map.
    for text in [
        r#"{"request": {"object": {}}}"#,
        r#"{"request": {"operation": null, "object": {}}}"#,
        r#"{"request": {"operation": ["CREATE"], "object": {}}}"#,
        r#"{"request": {"operation": "CREATE"}}"#,
        r#"{"request": {"operation": "CREATE", "object": null}}"#,
        r#"{"settings": {}}"#,
        r#"[{"request": {"operation": "CREATE", "object": {}}}]"#,
    ] {
        assert!(request::skeleton(text.as_bytes()).is_none(), "{text}");
    }
}

/// The stored object is read down to its resolved annotation; the whole decode keeps all of
/// it, and keeps one that is not a map, which the policy reads nothing of either.
#[test]
fn the_stored_object_is_read_down_to_its_resolved_annotation() {
    let text = r#"{"request": {"operation": "UPDATE", "object": {},
        "oldObject": {"metadata": {"name": "web", "annotations": {"autobackup.kubewarden.io/resolved": "[]", "o": "x"}},
        "spec": {"replicas": 3}}}}"#;
    let whole_old = request::read(text.as_bytes()).unwrap().0.old_object;
    let rest_old = request::read_rest(text.as_bytes(), None).unwrap().old_object;
    assert_eq!(whole_old.unwrap()["spec"], json!({"replicas": 3}));
    assert_eq!(
        rest_old,
        Some(json!({"metadata": {"annotations": {"autobackup.kubewarden.io/resolved": "[]"}}}))
    );
    for old in [
        "5",
        "\"x\"",
        "[1]",
        r#"{"spec": {}}"#,
        r#"{"metadata": {"annotations": []}}"#,
    ] {
        let text = format!(r#"{{"request": {{"operation": "UPDATE", "object": {{}}, "oldObject": {old}}}}}"#);
        assert!(request::read(text.as_bytes()).unwrap().0.old_object.is_some(), "{text}");
        let rest = request::read_rest(text.as_bytes(), None).unwrap();
        let annotations = rest
            .old_object
            .as_ref()
            .and_then(|old| old.pointer("/metadata/annotations"));
        assert!(
            annotations.is_none_or(|annotations| annotations.get(RESOLVED).is_none()),
            "{text}"
        );
        let (_, rest) = screened(&text);
        assert_eq!(rest.recorded, None);
        assert_eq!(whole(text.as_bytes()).unwrap().1, rest);
    }
}

/// A request field of the wrong type fails the second pass with the whole decode's message;
/// the first pass does not read the namespace.
#[test]
fn a_namespace_of_the_wrong_type_fails_both_second_passes_alike() {
    let text = payload(r#"{"request": {"operation": "CREATE", "namespace": 5, "object": {"kind": "Deployment"}}}"#);
    let message = "the admission request could not be read: request.namespace: expected a string";
    assert_eq!(whole(&text).err().as_deref(), Some(message));
    match two_pass(&text) {
        TwoPass::Screened(screening, rest) => {
            assert_eq!(screening.head, json!({"kind": "Deployment"}));
            assert_eq!(rest.err().as_deref(), Some(message));
        }
        other => panic!("{other:?}"),
    }
}

/// What skipping does not check (a lone surrogate, bytes that are not UTF-8, a number out of
/// range, nesting over 128) fails the whole decode only, where the passes skip it; and fails
/// the pass that reads it.
#[test]
fn content_errors_fail_only_the_passes_that_read_them() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let poisons: [(&[u8], &str); 6] = [
        (br#""\ud800""#, "unexpected end of hex escape"),
        (br#""\ud800\u0041""#, "lone leading surrogate in hex escape"),
        (br#""x\udc00""#, "lone leading surrogate in hex escape"),
        (b"\"\xff\"", "invalid unicode code point"),
        (b"1e400", "number out of range"),
        (deep.as_bytes(), "recursion limit exceeded"),
    ];
    let with = |template: &str, poison: &[u8]| {
        let (before, after) = template.split_once("POISON").unwrap();
        [before.as_bytes(), poison, after.as_bytes()].concat()
    };
    for (poison, error) in poisons {
        let whole_error = |text: &[u8]| {
            let message = whole(text).unwrap_err();
            assert!(message.contains(error), "{message}");
        };
        // Skipped by both passes: the request's uid, userInfo, an unknown field; the stored
        // object's spec.
        for template in [
            r#"{"request": {"uid": POISON, "operation": "CREATE", "object": {"kind": "Deployment"}}}"#,
            r#"{"request": {"operation": "CREATE", "userInfo": {"extra": POISON}, "object": {"kind": "Deployment"}}}"#,
            r#"{"x": POISON, "request": {"operation": "CREATE", "object": {"kind": "Deployment"}}}"#,
            r#"{"request": {"operation": "UPDATE", "object": {}, "oldObject": {"spec": POISON}}}"#,
            r#"{"request": {"operation": "UPDATE", "object": {}, "oldObject": {"metadata": [POISON]}}}"#,
        ] {
            let text = with(template, poison);
            whole_error(&text);
            match two_pass(&text) {
                TwoPass::Screened(_, Ok(_)) => {}
                other => panic!("{other:?}: {}", shown(&text)),
            }
        }
        // Skipped by the first pass, read by the second: the object's spec, the resolved
        // annotation of the stored object, the namespace.
        for template in [
            r#"{"request": {"operation": "CREATE", "object": {"kind": "Deployment", "spec": POISON}}}"#,
            r#"{"request": {"operation": "UPDATE", "object": {}, "oldObject": {"metadata":
                {"annotations": {"autobackup.kubewarden.io/resolved": POISON}}}}}"#,
            r#"{"request": {"operation": "CREATE", "namespace": POISON, "object": {}}}"#,
        ] {
            let text = with(template, poison);
            whole_error(&text);
            match two_pass(&text) {
                TwoPass::Screened(_, Err(message)) => assert!(message.contains(error), "{message}"),
                other => panic!("{other:?}: {}", shown(&text)),
            }
        }
        // Read by the first pass: the object's metadata, the settings, the operation.
        for template in [
            r#"{"request": {"operation": "CREATE", "object": {"kind": "Deployment", "metadata": {"name": POISON}}}}"#,
            r#"{"settings": POISON, "request": {"operation": "CREATE", "object": {}}}"#,
            r#"{"request": {"operation": POISON, "object": {}}}"#,
        ] {
            let text = with(template, poison);
            whole_error(&text);
            assert!(request::skeleton(&text).is_none(), "{}", shown(&text));
        }
    }
}

/// Not JSON: no skeleton, and both the whole decode and the second pass fail.
#[test]
fn text_that_is_not_json_is_read_by_neither() {
    for text in [
        &b""[..],
        b"{",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}}} x",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}},}",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {\"spec\": [1,]}}}",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}, \"uid\": \"\\x\"}}",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}, \"uid\": \"a\nb\"}}",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}, \"uid\": 01}}",
        b"{\"request\": {\"operation\": \"CREATE\", \"object\": {}, \"uid\": \"\\u12\"}}",
        b"{\"request\" {}}",
        b"\xef\xbb\xbf{\"request\": {\"operation\": \"CREATE\", \"object\": {}}}",
    ] {
        assert!(request::skeleton(text).is_none(), "{}", shown(text));
        assert!(request::read(text).is_err(), "{}", shown(text));
        assert!(request::read_rest(text, None).is_err(), "{}", shown(text));
    }
}
