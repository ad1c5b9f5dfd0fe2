//! People's names as the approval rules compare them.

use unicode_normalization::UnicodeNormalization;

/// A name as compared: Unicode NFKC, case-folded (lowercase, then NFKC again so folded
/// compatibility characters settle), surrounding whitespace trimmed and inner runs of
/// whitespace collapsed to one space. `Olga`, `"olga "` and `ｏｌｇａ` all become `olga`.
pub fn normalize_name(name: &str) -> String {
    let folded: String = name
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether two names are the same person's by [`normalize_name`].
pub fn same_person(a: &str, b: &str) -> bool {
    normalize_name(a) == normalize_name(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_after_unicode_case_and_space_normalization() {
        assert_eq!(normalize_name("Olga"), "olga");
        assert_eq!(normalize_name("olga "), "olga");
        assert_eq!(normalize_name("  Olga\t Petrova "), "olga petrova");
        assert_eq!(normalize_name("ｏｌｇａ"), "olga");
        assert!(same_person("OLGA", "olga"));
        assert!(!same_person("olga", "olgb"));
    }
}
