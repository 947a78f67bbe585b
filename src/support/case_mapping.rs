//! Go's one-to-one case mapping (`unicode.ToUpper`/`ToLower`, what envsubst's `${X^^}`,
//! `${X,,}`, `${X^}` and `${X,}` apply to each character), as two tables of runs.
//!
//! Go maps with Unicode's *simple* case mappings (UnicodeData.txt fields 12 and 13), of
//! Unicode 15.0.0 since Go 1.21: `ß` has no simple uppercase and stays, `İ` lowers to `i`,
//! `ᾀ` uppers to `ᾈ` (where Rust's full mapping gives two characters). `tables.rs` is generated
//! from the committed extract `UnicodeData-15.0.0-simple-case.txt` by the test
//! `tables_are_generated_from_unicode_data`; the extract itself is checked against Debian's
//! unicode-data 15.0.0 when it is installed (`.ci/run` installs it).

mod tables;

/// Characters `first`, `first + step`, … up to `first + span` map to themselves plus `delta`.
struct Run {
    first: u32,
    span: u16,
    step: u8,
    delta: i32,
}

pub fn to_upper(c: char) -> char {
    map(tables::UPPER, c)
}

pub fn to_lower(c: char) -> char {
    map(tables::LOWER, c)
}

fn map(runs: &[Run], c: char) -> char {
    let code = c as u32;
    let after = runs.partition_point(|run| run.first <= code);
    let Some(run) = after.checked_sub(1).map(|i| &runs[i]) else {
        return c;
    };
    let offset = code - run.first;
    if offset > u32::from(run.span) || !offset.is_multiple_of(u32::from(run.step)) {
        return c;
    }
    code.checked_add_signed(run.delta).and_then(char::from_u32).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const EXTRACT: &str = include_str!("case_mapping/UnicodeData-15.0.0-simple-case.txt");
    const EXTRACT_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/support/case_mapping/UnicodeData-15.0.0-simple-case.txt"
    );
    const DEBIAN_UNICODE_DATA: &str = "/usr/share/unicode/UnicodeData.txt";
    const DEBIAN_DERIVED_AGE: &str = "/usr/share/unicode/DerivedAge.txt";

    /// The simple mappings of the extract: code point → (uppercase, lowercase), absent = itself.
    struct UnicodeData {
        upper: BTreeMap<char, char>,
        lower: BTreeMap<char, char>,
    }

    fn code(field: &str) -> Option<char> {
        (!field.is_empty()).then(|| char::from_u32(u32::from_str_radix(field, 16).unwrap()).unwrap())
    }

    fn unicode_data() -> UnicodeData {
        let mut data = UnicodeData {
            upper: BTreeMap::new(),
            lower: BTreeMap::new(),
        };
        for line in EXTRACT.lines().filter(|line| !line.starts_with('#')) {
            let fields: Vec<&str> = line.split(';').collect();
            assert_eq!(fields.len(), 3, "{line}");
            let c = code(fields[0]).unwrap();
            if let Some(upper) = code(fields[1]) {
                data.upper.insert(c, upper);
            }
            if let Some(lower) = code(fields[2]) {
                data.lower.insert(c, lower);
            }
        }
        data
    }

    /// The runs of `mapping`: consecutive changed characters (step 1), or every other one
    /// (step 2, Latin Extended's alternating upper and lower case), with the same delta.
    fn runs(mapping: &BTreeMap<char, char>) -> Vec<(u32, u32, u32, i32)> {
        let mut runs: Vec<(u32, u32, u32, i32)> = Vec::new();
        for (&c, &mapped) in mapping.iter().filter(|(c, mapped)| c != mapped) {
            let (code, delta) = (c as u32, mapped as i32 - c as i32);
            if let Some((first, last, step, run_delta)) = runs.last_mut()
                && *run_delta == delta
                && *last - *first < u32::from(u16::MAX) - 2
            {
                let gap = code - *last;
                if *last == *first && (gap == 1 || gap == 2) {
                    (*last, *step) = (code, gap);
                    continue;
                }
                if *last != *first && gap == *step {
                    *last = code;
                    continue;
                }
            }
            runs.push((code, code, 1, delta));
        }
        runs
    }

    fn table(name: &str, mapping: &BTreeMap<char, char>) -> String {
        let mut text = format!("#[rustfmt::skip]\npub(super) static {name}: &[Run] = &[\n");
        for (first, last, step, delta) in runs(mapping) {
            let span = last - first;
            text += &format!("    Run {{ first: 0x{first:04X}, span: {span}, step: {step}, delta: {delta} }},\n");
        }
        text + "];\n"
    }

    #[test]
    fn tables_are_generated_from_unicode_data() {
        let data = unicode_data();
        let generated = format!(
            "//! Unicode 15.0.0's simple case mappings (Go's `unicode.ToUpper`/`ToLower`), generated from\n\
             //! `UnicodeData-15.0.0-simple-case.txt` by `case_mapping::tests::tables_are_generated_from_unicode_data`.\n\
             //! Do not edit: regenerate with `REGENERATE_CASE_TABLES=1 cargo test --lib case_mapping`.\n\n\
             use super::Run;\n\n{}\n{}",
            table("UPPER", &data.upper),
            table("LOWER", &data.lower)
        );
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/support/case_mapping/tables.rs");
        if std::env::var_os("REGENERATE_CASE_TABLES").is_some() {
            std::fs::write(path, &generated).expect("tables.rs written");
            return;
        }
        assert!(
            generated == include_str!("case_mapping/tables.rs"),
            "src/support/case_mapping/tables.rs is not what the Unicode data gives: \
             regenerate it with `REGENERATE_CASE_TABLES=1 cargo test --lib case_mapping`"
        );
    }

    #[test]
    fn every_character_maps_as_unicode_data_says() {
        let data = unicode_data();
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let upper = data.upper.get(&c).copied().unwrap_or(c);
            let lower = data.lower.get(&c).copied().unwrap_or(c);
            assert_eq!(to_upper(c), upper, "upper case of U+{:04X}", c as u32);
            assert_eq!(to_lower(c), lower, "lower case of U+{:04X}", c as u32);
        }
    }

    /// Where Go's simple uppercase differs from Rust's full uppercase reduced to one
    /// character: the Greek letters with ypogegrammeni, whose full uppercase is two characters
    /// (`ᾀ` → `ἈΙ`) but whose simple uppercase is the titlecase letter (`ᾈ`).
    #[test]
    fn go_uppercases_27_letters_rust_would_leave_and_keeps_newer_ones() {
        let greek: Vec<char> = (0x1F80..=0x1F87)
            .chain(0x1F90..=0x1F97)
            .chain(0x1FA0..=0x1FA7)
            .chain([0x1FB3, 0x1FC3, 0x1FF3])
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(greek.len(), 27);
        for &c in &greek {
            assert_eq!(to_upper(c) as u32, c as u32 + if c as u32 >= 0x1FB3 { 9 } else { 8 });
            assert!(
                c.to_uppercase().count() > 1,
                "Rust's full mapping of {c} is several characters"
            );
        }
        let rust_one_to_one = |c: char| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(single), None) => single,
                _ => c,
            }
        };
        let data = unicode_data();
        let (in_unicode_15, newer): (Vec<char>, Vec<char>) = (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|&c| to_upper(c) != rust_one_to_one(c))
            .partition(|&c| data.upper.contains_key(&c));
        assert_eq!(
            in_unicode_15, greek,
            "Go's simple mapping differs from Rust's only for these"
        );
        // The others got their uppercase after Unicode 15.0.0 (`ƛ` → `Ƛ` in 16.0): Go keeps them.
        assert!(newer.contains(&'ƛ'), "{newer:?}");
        assert!(newer.iter().all(|&c| to_upper(c) == c), "{newer:?}");
    }

    #[test]
    fn characters_go_keeps_or_maps_one_to_one() {
        assert_eq!(to_upper('ß'), 'ß');
        assert_eq!(to_lower('ß'), 'ß');
        assert_eq!(to_lower('İ'), 'i');
        assert_eq!(to_upper('İ'), 'İ');
        assert_eq!(to_upper('ǅ'), 'Ǆ');
        assert_eq!(to_lower('ǅ'), 'ǆ');
        assert_eq!(to_upper('ǆ'), 'Ǆ');
        assert_eq!(to_upper('ſ'), 'S');
        assert_eq!(to_upper('ā'), 'Ā');
        assert_eq!(to_upper('Ā'), 'Ā');
        assert_eq!(to_upper('ᾈ'), 'ᾈ');
        assert_eq!(to_lower('ᾈ'), 'ᾀ');
    }

    /// The extract is UnicodeData.txt 15.0.0's fields 0, 12 and 13, checked against Debian's
    /// unicode-data package when it is installed (CI installs it).
    #[test]
    fn the_extract_is_unicode_data() {
        let (Ok(unicode_data), Ok(derived_age)) = (
            std::fs::read_to_string(DEBIAN_UNICODE_DATA),
            std::fs::read_to_string(DEBIAN_DERIVED_AGE),
        ) else {
            eprintln!("skipped: {DEBIAN_UNICODE_DATA} is not installed (Debian: unicode-data)");
            return;
        };
        if !derived_age.starts_with("# DerivedAge-15.0.0.txt") {
            eprintln!("skipped: {DEBIAN_UNICODE_DATA} is not Unicode 15.0.0");
            return;
        }
        let expected: Vec<String> = unicode_data
            .lines()
            .map(|line| line.split(';').collect::<Vec<_>>())
            .filter(|fields| !fields[12].is_empty() || !fields[13].is_empty())
            .map(|fields| format!("{};{};{}", fields[0], fields[12], fields[13]))
            .collect();
        let extract: Vec<&str> = EXTRACT.lines().filter(|line| !line.starts_with('#')).collect();
        assert!(
            expected == extract,
            "{EXTRACT_PATH} is not {DEBIAN_UNICODE_DATA}'s fields 0, 12 and 13"
        );
    }
}
