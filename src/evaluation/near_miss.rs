//! Near misses (issue 17): an annotation key under a prefix Stash, KubeStash or this policy
//! uses — or under a near miss of one — that none of them reads. Such a key is most often a
//! typo, and a misspelt trigger would leave the object without a backup in silence: it is
//! warned, with the closest known key. Judged from the keys alone, in the first pass (no
//! lookup, nothing more read of the object), with bounded work whatever the object holds.
//!
//! "Close": the optimal string alignment distance (Levenshtein with the transposition of two
//! adjacent characters), ASCII case ignored. A prefix (before the `/`) is taken for a known one
//! at most [`PREFIX_EDITS`] edits away; a name (after it) is suggested at most one edit per
//! three characters of the known name away, at least 1 and at most 3 ([`name_edits`]).

use crate::blueprint::objects::BLUEPRINT_LABEL;
use crate::report::shorten;
use crate::support::string_map::StringMap;
use crate::target::annotations::{
    BACKUP_BLUEPRINT, KUBESTASH_BLUEPRINT_NAME, KUBESTASH_BLUEPRINT_NAMESPACE, KUBESTASH_OLD_SESSIONS,
    KUBESTASH_SESSION_NAMES, KUBESTASH_VARIABLES_PREFIX, OWNER, PARAMS_PREFIX, RESOLVED, SCHEDULE, SKIP, SKIP_REASON,
    SKIP_UNTIL, TARGET, TARGET_PATHS, VARS_PREFIX, VOLUME_MOUNTS,
};

/// The prefixes checked: Stash's, this policy's and KubeStash's.
const PREFIXES: [&str; 6] = [
    "stash.appscode.com/",
    PARAMS_PREFIX,
    "autobackup.kubewarden.io/",
    VARS_PREFIX,
    "blueprint.kubestash.com/",
    KUBESTASH_VARIABLES_PREFIX,
];

/// Prefixes under which every name is known (`params.stash.appscode.com/<name>`, …).
const FAMILIES: [&str; 3] = [PARAMS_PREFIX, VARS_PREFIX, KUBESTASH_VARIABLES_PREFIX];

/// Every key read or written under the other prefixes: by this policy first (the first of
/// equally close keys is suggested), then by Stash and KubeStash.
const KNOWN_KEYS: [&str; 28] = [
    BACKUP_BLUEPRINT,
    TARGET_PATHS,
    VOLUME_MOUNTS,
    SCHEDULE,
    RESOLVED,
    OWNER,
    TARGET,
    SKIP,
    SKIP_REASON,
    SKIP_UNTIL,
    BLUEPRINT_LABEL,
    // What Stash itself puts on objects (annotations and labels): stashed/stash
    // apis/stash/v1beta1/annotations.go (the applied-spec hashes its webhooks write;
    // `last-applied-backup-invoker-hash` in later releases), apis/types.go and
    // stashed/apimachinery apis/constants.go (a Job's and an invoker's keys), and Stash v0.9's
    // auto-backup annotations (`backup-template`, `target-directories`, `mountpath`).
    "stash.appscode.com/last-applied-backupconfiguration",
    "stash.appscode.com/last-applied-backupconfiguration-hash",
    "stash.appscode.com/last-applied-restoresession",
    "stash.appscode.com/last-applied-restoresession-hash",
    "stash.appscode.com/last-applied-backup-invoker-hash",
    "stash.appscode.com/tag",
    "stash.appscode.com/delete-job-on-completion",
    "stash.appscode.com/invoker-type",
    "stash.appscode.com/invoker-name",
    "stash.appscode.com/backup-configuration",
    "stash.appscode.com/backup-template",
    "stash.appscode.com/target-directories",
    "stash.appscode.com/mountpath",
    KUBESTASH_BLUEPRINT_NAME,
    KUBESTASH_BLUEPRINT_NAMESPACE,
    KUBESTASH_SESSION_NAMES,
    // Read by KubeStash before v2024.4.27: reported as a mistake of its own, not a near miss.
    KUBESTASH_OLD_SESSIONS,
];

/// A prefix at most this many edits from a known one is taken for it: the prefixes are 19 to 30
/// characters long, and two edits are two typos, or a `.io` for a `.com`; no prefix in use that
/// we know of (`restic.appscode.com/`, `stash.appscode.dev/`, `kubestash.com/`,
/// `core.kubestash.com/`, …) is that close, and no two of ours are within twice that.
pub const PREFIX_EDITS: usize = 2;
/// At most this many near misses are warned one by one; the rest are counted in one more line.
pub const MAX_WARNED: usize = 5;
/// At most this many keys have their prefix compared by distance (a key under a known prefix
/// costs a look-up in the lists, not a comparison): objects can have thousands of annotations.
pub const MAX_COMPARED: usize = 256;
/// No known prefix or name is longer (checked by a test): the distance's rows fit on the stack.
const MAX_KNOWN_LEN: usize = 40;

const SHORTEST_PREFIX: usize = extreme_prefix_len(false);
const LONGEST_PREFIX: usize = extreme_prefix_len(true);

const fn extreme_prefix_len(longest: bool) -> usize {
    let mut found = PREFIXES[0].len();
    let mut i = 1;
    while i < PREFIXES.len() {
        let len = PREFIXES[i].len();
        if (longest && len > found) || (!longest && len < found) {
            found = len;
        }
        i += 1;
    }
    found
}

/// The near misses of an object, if any: one pointer, so that carrying none costs nothing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NearMisses(Option<Box<Found>>);

/// The first [`MAX_WARNED`] near misses, in key order, and how many more.
#[derive(Debug, Default, PartialEq, Eq)]
struct Found {
    found: Vec<NearMiss>,
    more: usize,
}

#[derive(Debug, PartialEq, Eq)]
struct NearMiss {
    /// The key, quoted as messages quote user text (cut to 80 characters, escaped).
    key: String,
    /// The known prefix it is under, or a near miss of.
    prefix: &'static str,
    /// The known key it is closest to; under a family's prefix, the same name under it.
    meant: Option<String>,
}

/// The near misses among the keys of `annotations`. Allocates nothing when there is none.
pub fn find(annotations: &StringMap) -> NearMisses {
    let mut near = Found::default();
    let mut compared = 0;
    for key in annotations.keys() {
        let Some((prefix, name)) = split(key) else {
            continue;
        };
        let (known, exact) = match PREFIXES.iter().find(|known| **known == prefix) {
            Some(known) => (*known, true),
            None if compared < MAX_COMPARED => {
                compared += 1;
                match nearest(prefix, &PREFIXES, "", |_| PREFIX_EDITS) {
                    Some(known) => (known, false),
                    None => continue,
                }
            }
            None => continue,
        };
        let family = FAMILIES.contains(&known);
        if exact && (family || KNOWN_KEYS.contains(&key)) {
            continue;
        }
        if near.found.len() == MAX_WARNED {
            near.more += 1;
            continue;
        }
        let meant = match family {
            true => Some(format!("{known}{}", shorten(name))),
            false => nearest(name, &KNOWN_KEYS, known, name_edits).map(|name| format!("{known}{name}")),
        };
        near.found.push(NearMiss {
            key: shorten(key),
            prefix: known,
            meant,
        });
    }
    NearMisses((!near.found.is_empty()).then(|| Box::new(near)))
}

impl NearMisses {
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// One warning per near miss, naming `object` (`Deployment demo/web`), and one for the rest.
    pub fn warnings(&self, object: &str) -> Vec<String> {
        let Some(near) = &self.0 else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        for NearMiss { key, prefix, meant } in &near.found {
            let (then, what, end) = match meant {
                Some(meant) => (": did you mean ", meant.as_str(), "?"),
                None => (", and no known key under ", *prefix, " is close to it"),
            };
            warnings.push(format!(
                "{object}: annotation {key} is not one Stash, KubeStash or this policy reads{then}{what}{end}"
            ));
        }
        if near.more > 0 {
            warnings.push(format!(
                "{object}: and {} more annotations that neither Stash nor this policy reads",
                near.more
            ));
        }
        warnings
    }
}

/// The prefix (with its `/`) and the name of `key`, when the prefix may be one of [`PREFIXES`]
/// or a near miss of one (its length is close to theirs): only that many bytes are looked at.
fn split(key: &str) -> Option<(&str, &str)> {
    let slash = key
        .bytes()
        .take(LONGEST_PREFIX + PREFIX_EDITS)
        .position(|byte| byte == b'/')?;
    // `/` is ASCII: both sides are whole characters.
    (slash + 1 + PREFIX_EDITS >= SHORTEST_PREFIX).then(|| key.split_at(slash + 1))
}

/// How many edits from the known name `known` a name may be to be suggested it.
fn name_edits(known: &str) -> usize {
    (known.len() / 3).clamp(1, 3)
}

/// The first of the `candidates` that start with `prefix` whose rest is closest to `text`, when
/// within `edits(rest)` of it; that rest.
fn nearest(text: &str, candidates: &[&'static str], prefix: &str, edits: fn(&str) -> usize) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for candidate in candidates {
        let Some(rest) = candidate.strip_prefix(prefix) else {
            continue;
        };
        let Some(found) = distance(text.as_bytes(), rest.as_bytes(), edits(rest)) else {
            continue;
        };
        if best.is_none_or(|(closest, _)| found < closest) {
            best = Some((found, rest));
        }
    }
    best.map(|(_, rest)| rest)
}

/// The optimal string alignment distance between `text` (ASCII case ignored) and `known`
/// (lower-case), when it is at most `max` (at most 4). Costs nothing when the lengths differ by
/// more than `max`; otherwise only the cells at most `max` off the diagonal are computed (the
/// others are over `max`), and it stops at the first row whose every cell is over `max`: at
/// most (MAX_KNOWN_LEN + 4) × 9 cells.
fn distance(text: &[u8], known: &[u8], max: usize) -> Option<usize> {
    const MAX_EDITS: usize = 4;
    if max > MAX_EDITS || text.len().abs_diff(known.len()) > max || known.len() > MAX_KNOWN_LEN {
        return None;
    }
    let mut lower = [0u8; MAX_KNOWN_LEN + MAX_EDITS];
    for (to, from) in lower.iter_mut().zip(text) {
        *to = from.to_ascii_lowercase();
    }
    // Rows i - 2, i - 1 and i of the table over `known`'s prefixes, `over` off the band.
    let over = max as u8 + 1;
    let mut before = [over; MAX_KNOWN_LEN + 1];
    let mut previous: [u8; MAX_KNOWN_LEN + 1] = std::array::from_fn(|j| (j as u8).min(over));
    let mut current = [over; MAX_KNOWN_LEN + 1];
    for i in 1..text.len() + 1 {
        let a = lower[i - 1];
        let (first, last) = (i.saturating_sub(max).max(1), (i + max).min(known.len()));
        // Column 0 (i) when the band reaches it, else the cell just off the band (over).
        current[first - 1] = (i as u8).min(over);
        let mut row_min = current[first - 1];
        for j in first..last + 1 {
            let b = known[j - 1];
            let mut cell = (previous[j - 1] + u8::from(a != b))
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a == known[j - 2] && lower[i - 2] == b {
                cell = cell.min(before[j - 2] + 1);
            }
            current[j] = cell;
            row_min = row_min.min(cell);
        }
        if last < known.len() {
            current[last + 1] = over;
        }
        if row_min > max as u8 {
            return None;
        }
        (before, previous) = (previous, current);
    }
    Some(usize::from(previous[known.len()])).filter(|found| *found <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECT: &str = "Deployment demo/web";

    fn map(keys: &[&str]) -> StringMap {
        keys.iter().map(|k| (k.to_string(), "x".to_string())).collect()
    }

    fn warnings(keys: &[&str]) -> Vec<String> {
        find(&map(keys)).warnings(OBJECT)
    }

    /// The suggestion for one key: the key meant, or `nothing under <prefix>`.
    fn suggestion(key: &str) -> Option<String> {
        suggestion_of(&[key])
    }

    /// The suggestion for the one near miss among `keys`.
    fn suggestion_of(keys: &[&str]) -> Option<String> {
        let found = found(find(&map(keys)));
        assert!(found.len() <= 1, "{found:?}");
        found
            .into_iter()
            .next()
            .map(|near| near.meant.unwrap_or_else(|| format!("nothing under {}", near.prefix)))
    }

    fn found(near: NearMisses) -> Vec<NearMiss> {
        near.0.map_or_else(Vec::new, |near| near.found)
    }

    fn known_keys() -> impl Iterator<Item = &'static str> {
        KNOWN_KEYS.into_iter()
    }

    #[test]
    fn the_lists_agree() {
        for key in known_keys() {
            let (prefix, name) = key.split_at(key.find('/').unwrap() + 1);
            assert!(PREFIXES.contains(&prefix) && !FAMILIES.contains(&prefix), "{key}");
            assert!(name.len() <= MAX_KNOWN_LEN, "{key}");
            assert_eq!(key, key.to_ascii_lowercase(), "{key}");
        }
        for prefix in PREFIXES {
            assert!(prefix.len() <= MAX_KNOWN_LEN, "{prefix}");
            assert_eq!(prefix.find('/'), Some(prefix.len() - 1), "{prefix}");
            assert!(FAMILIES.contains(&prefix) || known_keys().any(|key| key.starts_with(prefix)));
        }
        assert_eq!((SHORTEST_PREFIX, LONGEST_PREFIX), (19, 30));
        for (i, a) in PREFIXES.iter().enumerate() {
            for b in &PREFIXES[i + 1..] {
                assert_eq!(distance(a.as_bytes(), b.as_bytes(), 2 * PREFIX_EDITS), None, "{a} {b}");
            }
        }
    }

    #[test]
    fn distance_counts_edits() {
        let d = |a: &str, b: &str| distance(a.as_bytes(), b.as_bytes(), 3);
        assert_eq!(d("schedule", "schedule"), Some(0));
        assert_eq!(d("SCHEDULE", "schedule"), Some(0));
        assert_eq!(d("shcedule", "schedule"), Some(1), "a transposition is one edit");
        assert_eq!(d("schedle", "schedule"), Some(1));
        assert_eq!(d("schedulee", "schedule"), Some(1));
        assert_eq!(d("scxedulx", "schedule"), Some(2));
        assert_eq!(d("", "tag"), Some(3));
        assert_eq!(d("tag", ""), Some(3));
        assert_eq!(d("abcd", "wxyz"), None);
        assert_eq!(d("schedule-and-more", "schedule"), None);
        assert_eq!(distance(b"ab", b"ba", 0), None);
        assert_eq!(distance(b"a", b"a", 5), None, "at most 4 edits are counted");
        assert_eq!(distance("é".as_bytes(), b"e", 2), Some(2), "bytes, not characters");
    }

    /// The whole table, for comparison.
    fn full_distance(a: &[u8], b: &[u8]) -> usize {
        let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                d[i][j] = match (i, j) {
                    (0, _) => j,
                    (_, 0) => i,
                    _ => {
                        let mut cell = (d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]))
                            .min(d[i - 1][j] + 1)
                            .min(d[i][j - 1] + 1);
                        if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                            cell = cell.min(d[i - 2][j - 2] + 1);
                        }
                        cell
                    }
                };
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn the_band_gives_the_whole_tables_answer() {
        // A small alphabet, so that strings are close and transpositions happen.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        for _ in 0..20_000 {
            let known: Vec<u8> = (0..random(12)).map(|_| b"abc"[random(3) as usize]).collect();
            let mut text = known.clone();
            for _ in 0..random(5) {
                let at = random(text.len() as u64 + 1) as usize;
                match random(4) {
                    0 => text.insert(at, b"abc"[random(3) as usize]),
                    1 if at < text.len() => drop(text.remove(at)),
                    2 if at < text.len() => text[at] = b"abc"[random(3) as usize],
                    _ if at + 1 < text.len() => text.swap(at, at + 1),
                    _ => {}
                }
            }
            let full = full_distance(&text, &known);
            for max in 0..=4 {
                let expected = Some(full).filter(|d| *d <= max);
                assert_eq!(distance(&text, &known, max), expected, "{text:?} {known:?} {max}");
            }
        }
    }

    #[test]
    fn known_keys_are_not_warned() {
        let mut keys: Vec<&str> = known_keys().collect();
        keys.extend([
            "params.stash.appscode.com/args",
            "params.stash.appscode.com/",
            "vars.autobackup.kubewarden.io/TEAM",
            "variables.kubestash.com/targetName",
            "kubectl.kubernetes.io/last-applied-configuration",
            "deployment.kubernetes.io/revision",
            "restic.appscode.com/last-applied-configuration",
            "kubestash.com/invoker-name",
            "core.kubestash.com/x",
            "stash.appscode.dev/x",
            "backup.appscode.com/last-applied-configuration",
            "stash",
            "/",
            "",
        ]);
        assert_eq!(warnings(&keys), Vec::<String>::new());
    }

    #[test]
    fn a_typo_in_each_known_key_is_suggested_it() {
        for known in known_keys() {
            let (domain, name) = known.split_once('/').unwrap();
            let mut typos = vec![
                format!("{domain}/{}", &name[1..]),
                format!("{domain}/{name}x"),
                format!("{domain}/{}", name.to_ascii_uppercase()),
            ];
            if name.len() > 2 {
                typos.push(format!("{domain}/{}{}{}", &name[1..2], &name[..1], &name[2..]));
            }
            for typo in typos {
                if typo != known && !known_keys().any(|k| k == typo) {
                    // The known key, or another one at least as close (a typo may be as close to two).
                    let suggested = suggestion(&typo).unwrap_or_else(|| panic!("{typo}: no warning"));
                    let typo_name = typo.split_once('/').unwrap().1;
                    let edits = |k: &str| {
                        let k = k.split_once('/').map_or(k, |(_, name)| name);
                        distance(typo_name.as_bytes(), k.as_bytes(), 4).unwrap_or(usize::MAX)
                    };
                    assert!(edits(known) <= name_edits(name), "{typo}");
                    assert!(
                        suggested == known || edits(&suggested) <= edits(known),
                        "{typo}: {suggested}, not {known}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_trigger_misspelt() {
        // The warning's text: tests/near_miss.rs.
        for typo in [
            "stash.appscode.com/backup-blueprints",
            "stash.appscode.com/Backup-Blueprint",
            "stash.appscode.com/backupblueprint",
            "stash.appscode.com/backup_blueprint",
            "stash.appscode.com/bakcup-blueprint",
            "Stash.AppsCode.com/backup-blueprint",
            "stash.apscode.com/backup-blueprint",
            "stash.appscode.io/backup-blueprint",
            "stash.appscode.com//backup-blueprint",
            "stash.appscode.com/ backup-blueprint",
        ] {
            assert_eq!(suggestion(typo).as_deref(), Some(BACKUP_BLUEPRINT), "{typo}");
        }
    }

    #[test]
    fn a_near_miss_of_a_family_prefix_gets_the_right_prefix() {
        for (typo, meant) in [
            ("param.stash.appscode.com/x", "params.stash.appscode.com/x"),
            ("params.stash.appscode.io/args", "params.stash.appscode.com/args"),
            ("Params.stash.appscode.com/args", "params.stash.appscode.com/args"),
            ("params.stash.appscod.com/", "params.stash.appscode.com/"),
            ("var.autobackup.kubewarden.io/X", "vars.autobackup.kubewarden.io/X"),
            (
                "vars.autobackup.kubewarden.com/TEAM",
                "vars.autobackup.kubewarden.io/TEAM",
            ),
            (
                "vars.autobakcup.kubewarden.io/TEAM",
                "vars.autobackup.kubewarden.io/TEAM",
            ),
            ("variable.kubestash.com/repoName", "variables.kubestash.com/repoName"),
        ] {
            assert_eq!(suggestion(typo).as_deref(), Some(meant), "{typo}");
        }
        assert_eq!(
            warnings(&["param.stash.appscode.com/x"]),
            [
                "Deployment demo/web: annotation param.stash.appscode.com/x is not one Stash, KubeStash or this policy reads: \
              did you mean params.stash.appscode.com/x?"
            ]
        );
    }

    #[test]
    fn other_prefixes_get_the_closest_key() {
        for (typo, meant) in [
            ("autobackup.kubewarden.io/skip-untl", SKIP_UNTIL),
            ("autobackup.kubewarden.io/skipreason", SKIP_REASON),
            ("autobackup.kubewarden.io/resolve", RESOLVED),
            ("autobackup.kubewarden.com/skip", SKIP),
            ("blueprint.kubestash.com/nmae", KUBESTASH_BLUEPRINT_NAME),
            ("blueprint.kubestash.com/namspace", KUBESTASH_BLUEPRINT_NAMESPACE),
            ("blueprint.kubestash.com/session-name", KUBESTASH_SESSION_NAMES),
            ("blueprints.kubestash.com/name", KUBESTASH_BLUEPRINT_NAME),
            ("stash.appscode.com/target-path", TARGET_PATHS),
            ("stash.appscode.com/volumemounts", VOLUME_MOUNTS),
            ("stash.appscode.com/schedul", SCHEDULE),
            (
                "stash.appscode.com/last-applied-backupconfiguration-hsh",
                "stash.appscode.com/last-applied-backupconfiguration-hash",
            ),
        ] {
            assert_eq!(suggestion(typo).as_deref(), Some(meant), "{typo}");
        }
    }

    #[test]
    fn an_unknown_key_under_a_prefix_is_warned_without_a_guess() {
        assert_eq!(
            warnings(&["stash.appscode.com/retention", "stash.apscode.com/retention"]),
            [
                "Deployment demo/web: annotation stash.appscode.com/retention is not one Stash, KubeStash or this policy reads, \
                 and no known key under stash.appscode.com/ is close to it",
                "Deployment demo/web: annotation stash.apscode.com/retention is not one Stash, KubeStash or this policy reads, \
                 and no known key under stash.appscode.com/ is close to it",
            ]
        );
        for (unrelated, expected) in [
            ("stash.appscode.com/x", "nothing under stash.appscode.com/"),
            ("stash.appscode.com/", "nothing under stash.appscode.com/"),
            (
                "autobackup.kubewarden.io/TEAM",
                "nothing under autobackup.kubewarden.io/",
            ),
            ("blueprint.kubestash.com/x", "nothing under blueprint.kubestash.com/"),
            ("blueprint.kubestash.co/x", "nothing under blueprint.kubestash.com/"),
            ("blueprint.kubestash.com/names", KUBESTASH_BLUEPRINT_NAME),
        ] {
            assert_eq!(suggestion(unrelated).as_deref(), Some(expected), "{unrelated}");
        }
    }

    #[test]
    fn keys_are_quoted_like_user_text() {
        let long = format!("stash.appscode.com/{}", "x".repeat(200));
        let hidden = "stash.appscode.com/backup-blueprint\u{202e}";
        let lines = warnings(&[&long, hidden]);
        assert_eq!(
            lines,
            [
                "Deployment demo/web: annotation stash.appscode.com/backup-blueprint\\u{202e} is not one Stash, KubeStash or this \
                 policy reads: did you mean stash.appscode.com/backup-blueprint?"
                    .to_string(),
                format!(
                    "Deployment demo/web: annotation stash.appscode.com/{}… is not one Stash, KubeStash or this policy reads, \
                     and no known key under stash.appscode.com/ is close to it",
                    "x".repeat(61)
                ),
            ]
        );
        let family = format!("param.stash.appscode.com/{}", "y".repeat(100));
        assert!(
            warnings(&[&family])[0].ends_with(&format!("did you mean params.stash.appscode.com/{}…?", "y".repeat(80)))
        );
    }

    #[test]
    fn huge_keys_and_many_keys_are_bounded() {
        let huge = format!("stash.appscode.com/{}", "b".repeat(1 << 20));
        let huge_prefix = format!("{}/backup-blueprint", "s".repeat(1 << 20));
        let no_slash = "stash.appscode.com".repeat(50_000);
        assert_eq!(find(&map(&[&huge_prefix, &no_slash])), NearMisses::default());
        assert_eq!(found(find(&map(&[&huge]))).len(), 1);

        // Thousands of keys under a known prefix: five warned, the rest counted.
        let keys: Vec<String> = (0..5000)
            .map(|i| format!("stash.appscode.com/backup-blueprint-{i:04}"))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let lines = warnings(&keys);
        assert_eq!(lines.len(), MAX_WARNED + 1);
        assert_eq!(
            lines[0],
            "Deployment demo/web: annotation stash.appscode.com/backup-blueprint-0000 is not one Stash, KubeStash or this policy \
             reads, and no known key under stash.appscode.com/ is close to it"
        );
        assert_eq!(
            lines[MAX_WARNED],
            "Deployment demo/web: and 4995 more annotations that neither Stash nor this policy reads"
        );

        // Thousands of keys whose prefix must be compared: only the first MAX_COMPARED are.
        let keys: Vec<String> = (0..5000).map(|i| format!("stash.appscode.c{i:04}/x")).collect();
        let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(find(&map(&keys)), NearMisses::default());
        keys.push("stash.appscode.co/backup-blueprint");
        assert!(find(&map(&keys)).is_empty(), "sorted after the first 256 compared");
        keys.truncate(100);
        keys.push("stash.appscode.co/backup-blueprint");
        assert_eq!(suggestion_of(&keys), Some(BACKUP_BLUEPRINT.to_string()));
    }

    #[test]
    fn nothing_is_allocated_for_foreign_keys() {
        let near = find(&map(&["app.kubernetes.io/name", "deployment.kubernetes.io/revision"]));
        assert!(near.is_empty());
        assert_eq!(near, NearMisses(None));
        assert!(near.warnings(OBJECT).is_empty());
    }
}
