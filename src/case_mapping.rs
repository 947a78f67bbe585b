//! Go's one-to-one case mapping (`unicode.ToUpper`/`ToLower`, what envsubst's `${X^^}` and
//! `${X,,}` apply to each character), as two tables of runs. A character whose upper case is
//! several characters (`ß`) stays as it is; `İ` lowers to its first character, `i`.
//!
//! The tables hold the same mapping as Rust's `char::to_uppercase`/`to_lowercase` reduced to
//! one character, in about 5 KB instead of the 26 KB std's full-mapping tables add to
//! policy.wasm. `tables.rs` is generated from std by the test `tables_are_generated_from_std`;
//! run it with `REGENERATE_CASE_TABLES=1` after a Rust update changes the Unicode version.

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

    fn std_upper(c: char) -> char {
        let mut upper = c.to_uppercase();
        match (upper.next(), upper.next()) {
            (Some(single), None) => single,
            _ => c,
        }
    }

    fn std_lower(c: char) -> char {
        c.to_lowercase().next().unwrap_or(c)
    }

    /// The runs of `mapping`: consecutive changed characters (step 1), or every other one
    /// (step 2, Latin Extended's alternating upper and lower case), with the same delta.
    fn runs(mapping: fn(char) -> char) -> Vec<(u32, u32, u32, i32)> {
        let mut runs: Vec<(u32, u32, u32, i32)> = Vec::new();
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let mapped = mapping(c);
            if mapped == c {
                continue;
            }
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

    fn table(name: &str, mapping: fn(char) -> char) -> String {
        let mut text = format!("#[rustfmt::skip]\npub(super) static {name}: &[Run] = &[\n");
        for (first, last, step, delta) in runs(mapping) {
            let span = last - first;
            text += &format!("    Run {{ first: 0x{first:04X}, span: {span}, step: {step}, delta: {delta} }},\n");
        }
        text + "];\n"
    }

    #[test]
    fn tables_are_generated_from_std() {
        let generated = format!(
            "//! Generated from Rust's case mapping by `case_mapping::tests::tables_are_generated_from_std`.\n\
             //! Do not edit: regenerate with `REGENERATE_CASE_TABLES=1 cargo test --lib case_mapping`.\n\n\
             use super::Run;\n\n{}\n{}",
            table("UPPER", std_upper),
            table("LOWER", std_lower)
        );
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/case_mapping/tables.rs");
        if std::env::var_os("REGENERATE_CASE_TABLES").is_some() {
            std::fs::write(path, &generated).expect("tables.rs written");
            return;
        }
        assert!(
            generated == include_str!("case_mapping/tables.rs"),
            "src/case_mapping/tables.rs is not what this Rust's Unicode tables give: \
             regenerate it with `REGENERATE_CASE_TABLES=1 cargo test --lib case_mapping`"
        );
    }

    #[test]
    fn every_character_maps_as_std_does_one_to_one() {
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            assert_eq!(to_upper(c), std_upper(c), "upper case of U+{:04X}", c as u32);
            assert_eq!(to_lower(c), std_lower(c), "lower case of U+{:04X}", c as u32);
        }
    }

    #[test]
    fn go_keeps_characters_whose_upper_case_is_several() {
        assert_eq!(to_upper('ß'), 'ß');
        assert_eq!(to_lower('İ'), 'i');
        assert_eq!(to_upper('ǆ'), 'Ǆ');
        assert_eq!(to_upper('ā'), 'Ā');
        assert_eq!(to_upper('Ā'), 'Ā');
    }
}
