//! The key rules of SPEC section 5, one behaviour per test.

use deploylink::keys::{IssueKey, KeyRules, KeyRulesError, KeyRulesSpec, NOT_ISSUE_KEYS};

fn spec(projects: &[&str]) -> KeyRulesSpec {
    KeyRulesSpec {
        projects: projects.iter().map(|p| p.to_string()).collect(),
        ..KeyRulesSpec::default()
    }
}

fn rules(spec: &KeyRulesSpec) -> KeyRules {
    match KeyRules::new(spec) {
        Ok(rules) => rules,
        Err(e) => panic!("{spec:?} should compile: {e}"),
    }
}

fn kafka() -> KeyRules {
    rules(&spec(&["KAFKA"]))
}

fn kafka_any_case() -> KeyRules {
    rules(&KeyRulesSpec {
        case_insensitive: true,
        ..spec(&["KAFKA"])
    })
}

fn keys(rules: &KeyRules, text: impl AsRef<[u8]>) -> Vec<String> {
    let found = rules.extract(text.as_ref());
    found.iter().map(|k| k.as_str().to_string()).collect()
}

fn error(spec: &KeyRulesSpec) -> KeyRulesError {
    match KeyRules::new(spec) {
        Ok(_) => panic!("{spec:?} should be rejected"),
        Err(e) => e,
    }
}

type Keys = &'static [&'static str];

/// SPEC 5's acceptance table: text, then the keys under the default rule, under
/// `projects: [KAFKA]`, and under that plus `case_insensitive: true`.
#[rustfmt::skip]
const ACCEPTANCE: &[(&str, Keys, Keys, Keys)] = &[
    ("KAFKA-17710; Rework the assignor", &["KAFKA-17710"], &["KAFKA-17710"], &["KAFKA-17710"]),
    ("KAFKA-1, KAFKA-22: two fixes", &["KAFKA-1", "KAFKA-22"], &["KAFKA-1", "KAFKA-22"], &["KAFKA-1", "KAFKA-22"]),
    ("[SPARK-123][SQL] fix", &["SPARK-123"], &[], &[]),
    ("Merge pull request #1944 from li4wang/ZOOKEEPER-4632", &["ZOOKEEPER-4632"], &[], &[]),
    ("Merge branch 'bbejeck/KAFKA-6205_restore_state'", &["KAFKA-6205"], &["KAFKA-6205"], &["KAFKA-6205"]),
    ("feature/KAFKA-12-add-login", &["KAFKA-12"], &["KAFKA-12"], &["KAFKA-12"]),
    ("See https://issues.apache.org/jira/browse/KAFKA-123", &["KAFKA-123"], &["KAFKA-123"], &["KAFKA-123"]),
    ("Revert \"KAFKA-15661: flaky test\"", &["KAFKA-15661"], &["KAFKA-15661"], &["KAFKA-15661"]),
    ("KAFKA-13258/13259/13260: three", &["KAFKA-13258"], &["KAFKA-13258"], &["KAFKA-13258"]),
    ("KAFKA-16646Don't retry", &[], &[], &[]),
    ("JIRA_KAFKA-4276 branch", &[], &["KAFKA-4276"], &["KAFKA-4276"]),
    ("Use UTF-8, SHA-256 and AES-256", &[], &[], &[]),
    ("Fix CVE-2024-8184 (KIP-932, RFC-6750, JDK-8274524)", &[], &[], &[]),
    ("KSTREAM-MAP-0000000001 and Integer.MAX_VALUE-8", &[], &[], &[]),
    ("SNYK-JAVA-ORGAPACHECOMMONS-1316638", &[], &[], &[]),
    ("Kafka-14748: fix (#kafka-13739)", &[], &[], &["KAFKA-14748", "KAFKA-13739"]),
    ("kafka-1-metadata-loader thread; zookeeper-3.5.9.jar", &[], &[], &[]),
    ("KAFKA 14515: space, not a dash", &[], &[], &[]),
];

#[test]
fn spec_acceptance_table() {
    let columns = [
        ("default", KeyRules::default_rules()),
        ("projects: [KAFKA]", kafka()),
        ("projects: [KAFKA], case_insensitive", kafka_any_case()),
    ];
    assert_eq!(ACCEPTANCE.len(), 18, "every row of the SPEC table");
    for &(text, default, listed, any_case) in ACCEPTANCE {
        for ((column, rules), want) in columns.iter().zip([default, listed, any_case]) {
            assert_eq!(keys(rules, text), want, "{column} on {text:?}");
        }
    }
}

/// Boundaries at the start and the end of the text, CRLF line ends and sentence punctuation.
#[test]
fn boundaries_of_the_text_and_lines() {
    let default = KeyRules::default_rules();
    assert_eq!(keys(&default, "WEB-1"), ["WEB-1"], "the whole text");
    assert_eq!(keys(&default, "WEB-1: x"), ["WEB-1"], "at the start");
    assert_eq!(keys(&default, "x WEB-1"), ["WEB-1"], "at the end");
    // 16 Avro messages and 1 ZooKeeper message have a key right before `\r`.
    assert_eq!(
        keys(&default, "WEB-1\r\n\r\nCloses WEB-2\r"),
        ["WEB-1", "WEB-2"]
    );
    assert_eq!(keys(&kafka_any_case(), "Kafka-1\r\n"), ["KAFKA-1"]);
    assert_eq!(
        keys(&default, "Fixed in WEB-3."),
        ["WEB-3"],
        "a full stop ends a key"
    );
    assert_eq!(
        keys(&default, "WEB-4.5 and WEB-6-7"),
        Vec::<String>::new(),
        "longer numbers"
    );
    assert_eq!(
        keys(&default, "WEB-8-fix"),
        ["WEB-8"],
        "an upper-case key before a word"
    );
    assert_eq!(
        keys(&kafka_any_case(), "kafka-9.x kafka-9-fix"),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(&kafka_any_case(), "see kafka-9."),
        ["KAFKA-9"],
        "lower case, full stop"
    );
}

/// Project keys: 2 to 10 characters by default (Jira Cloud), a letter first, no `_`.
#[test]
fn default_rule_project_shape() {
    let default = KeyRules::default_rules();
    let cases: &[(&str, &[&str])] = &[
        ("ABCDEFGHIJ-1", &["ABCDEFGHIJ-1"]), // 10 characters: Cloud's maximum
        ("ABCDEFGHIJK-1", &[]),              // 11: not a Cloud key, and no part of it is one
        ("R2D2-7", &["R2D2-7"]),             // digits after the first letter
        ("2FA-1", &[]),                      // a digit first
        ("A-1", &[]),                        // one character
        ("MY_PROJ-1", &[]),                  // `_` only with a project list (Data Center)
        ("WEB-0 WEB-012", &[]),              // no issue 0, no leading zero
        ("web-1 Web-2", &[]),                // upper case only
    ];
    for &(text, want) in cases {
        assert_eq!(keys(&default, text), want, "{text:?}");
    }
}

/// The denylist drops its entries under the default rule only, and is not used with a
/// project list: a team whose project really is `PR` lists it and gets its keys.
#[test]
fn not_issue_keys_apply_to_the_default_rule_only() {
    for entry in NOT_ISSUE_KEYS {
        let key = entry.replace('*', "123");
        let project = &key[..key.rfind('-').unwrap()];
        let listed = rules(&spec(&[project]));
        assert_eq!(
            keys(&KeyRules::default_rules(), &key),
            Vec::<String>::new(),
            "{key}"
        );
        assert_eq!(
            keys(&listed, &key),
            [key.as_str()],
            "{key} with projects: [{project}]"
        );
    }
    // Exact entries drop one number; `P-*` entries a project, not a prefix of names.
    let near = "UTF-9 SHA-257 PRX-1 XPR-1 RFCS-2 JDKS-3 SHA31-2 SHAK-1";
    let want = [
        "UTF-9", "SHA-257", "PRX-1", "XPR-1", "RFCS-2", "JDKS-3", "SHA31-2", "SHAK-1",
    ];
    assert_eq!(keys(&KeyRules::default_rules(), near), want);
}

/// Digest and algorithm names are not keys, whatever their number: an error message's
/// `SHA3-996` as much as `SHA3-256`.
#[test]
fn digest_names_are_not_keys_without_a_project_list() {
    let text = "unsupported digest SHA3-996 (try SHA3-256, SHA2-512 or SHAKE-128); see WEB-7";
    assert_eq!(keys(&KeyRules::default_rules(), text), ["WEB-7"]);
}

#[test]
fn project_list_allows_data_center_keys_and_joiners_before() {
    let dc = rules(&spec(&["MY_PROJ", "LONGPROJECTKEY", "AB"]));
    let text = "MY_PROJ-7 fixes LONGPROJECTKEY-12345, XMY_PROJ-8 and CAB-9 do not; x_AB-10 does";
    assert_eq!(
        keys(&dc, text),
        ["MY_PROJ-7", "LONGPROJECTKEY-12345", "AB-10"]
    );
    let key = &dc.extract(b"MY_PROJ-7")[0];
    assert_eq!((key.project(), key.number()), ("MY_PROJ", 7));
    // `-` before a listed key is allowed too (a branch such as `fix-zookeeper-4992`).
    assert_eq!(keys(&kafka(), "SNYK-JAVA-KAFKA-5"), ["KAFKA-5"]);
}

/// `case_insensitive` folds ASCII only: the Kelvin sign (U+212A) is not a `K`.
#[test]
fn case_insensitive_is_ascii_only() {
    assert_eq!(
        keys(&kafka_any_case(), "\u{212A}AFKA-1"),
        Vec::<String>::new()
    );
    assert_eq!(keys(&kafka_any_case(), "kAfKa-2"), ["KAFKA-2"]);
}

#[test]
fn case_insensitive_needs_a_project_list() {
    let e = error(&KeyRulesSpec {
        case_insensitive: true,
        ..KeyRulesSpec::default()
    });
    assert!(matches!(e, KeyRulesError::CaseInsensitiveWithoutProjects));
    assert_eq!(e.field(), "keys.case_insensitive");
    assert!(e.to_string().contains("projects: [KAFKA]"), "{e}");
}

/// Non-UTF-8 bytes and non-ASCII characters are boundaries, never a reason to panic.
#[test]
fn non_utf8_and_non_ascii_text() {
    let default = KeyRules::default_rules();
    let bytes = b"\xffWEB-1\xfe and \xc3(WEB-2)\x80 WEB-3\xe2\x80";
    assert_eq!(keys(&default, bytes), ["WEB-1", "WEB-2", "WEB-3"]);
    // CJK text without spaces, an em dash, curly quotes, NBSP (as in ZooKeeper 9aeaae5bb4).
    let text = "修复WEB-4问题 — WEB-5—fix “WEB-6” WEB-7\u{a0}and";
    assert_eq!(keys(&default, text), ["WEB-4", "WEB-5", "WEB-6", "WEB-7"]);
    assert_eq!(keys(&kafka_any_case(), b"\xc3kafka-8\xa9"), ["KAFKA-8"]);
}

/// Several megabytes, with long runs that stress the candidate search: only complete checks.
#[test]
fn multi_megabyte_message() {
    let mut text = String::new();
    for i in 1..=50_000 {
        text.push_str(&format!(
            "line {i}: fixes WEB-{i} in x-{i}.rs, not CVE-2024-{i} or WEB-0{i}\n"
        ));
    }
    // A 2 MB project-like run: its last 10 letters have a letter before them, so no key.
    text.push_str(&"A".repeat(2 << 20));
    text.push_str("-1 ");
    text.push_str(&"AB-".repeat(300_000));
    text.push_str(" WEB-50001");
    assert!(text.len() > 5 << 20, "{} bytes", text.len());
    let found = KeyRules::default_rules().extract(text.as_bytes());
    assert_eq!(found.len(), 50_001, "one key per line, plus the last one");
    assert_eq!(found[0].as_str(), "WEB-1");
    assert_eq!(found[49_999].as_str(), "WEB-50000");
    assert_eq!(found[50_000].as_str(), "WEB-50001");
}

#[test]
fn order_of_first_appearance_and_dedup() {
    let text = "WEB-2 then WEB-1, again WEB-2 and web-3 WEB-1";
    assert_eq!(keys(&KeyRules::default_rules(), text), ["WEB-2", "WEB-1"]);
    let mut occurrences = Vec::new();
    KeyRules::default_rules().for_each_key(text.as_bytes(), |k| occurrences.push(k.to_string()));
    assert_eq!(occurrences, ["WEB-2", "WEB-1", "WEB-2", "WEB-1"]);
}

#[test]
fn extract_branch_strips_refs_heads() {
    let default = KeyRules::default_rules();
    let cases: &[(&str, &[&str])] = &[
        ("refs/heads/feature/KAFKA-12-add-login", &["KAFKA-12"]),
        ("refs/heads/KAFKA-12", &["KAFKA-12"]),
        ("feature/KAFKA-12", &["KAFKA-12"]), // already a short name
        ("refs/heads/KAFKA-12-2", &[]),      // a part suffix reads as a longer number
        ("refs/heads/main", &[]),
    ];
    for &(refname, want) in cases {
        assert_eq!(keys_of_branch(&default, refname), want, "{refname}");
    }
    let any_case = kafka_any_case();
    assert_eq!(
        keys_of_branch(&any_case, "refs/heads/JIRA_KAFKA-4276"),
        ["KAFKA-4276"]
    );
    assert_eq!(
        keys_of_branch(&any_case, "refs/heads/kafka-123"),
        ["KAFKA-123"]
    );
    // Lower case followed by `-word` is a longer name by SPEC 5, even in a branch.
    assert_eq!(
        keys_of_branch(&any_case, "refs/heads/kafka-123-fix"),
        Vec::<String>::new()
    );
    // A pattern anchored at the start of the branch name sees the name without `refs/heads/`.
    let anchored = KeyRulesSpec {
        pattern: Some("^([A-Z]+-[0-9]+)".to_string()),
        ..KeyRulesSpec::default()
    };
    let branch = "refs/heads/WEB-1-login";
    assert_eq!(keys_of_branch(&rules(&anchored), branch), ["WEB-1"]);
}

fn keys_of_branch(rules: &KeyRules, refname: &str) -> Vec<String> {
    let found = rules.extract_branch(refname);
    found.iter().map(|k| k.as_str().to_string()).collect()
}

#[test]
fn issue_key_parts_display_and_json() {
    let key = &KeyRules::default_rules().extract(b"WEB-12")[0];
    assert_eq!((key.project(), key.number()), ("WEB", 12));
    assert_eq!(key.to_string(), "WEB-12");
    assert_eq!(serde_json::to_string(key).unwrap(), "\"WEB-12\"");
    let max = "WEB-18446744073709551615";
    let found: Vec<IssueKey> = KeyRules::default_rules().extract(max.as_bytes());
    assert_eq!(found[0].number(), u64::MAX);
    let too_big = "WEB-18446744073709551616";
    assert_eq!(
        keys(&KeyRules::default_rules(), too_big),
        Vec::<String>::new()
    );
}

#[test]
fn pattern_replaces_the_rule() {
    let hash = KeyRulesSpec {
        pattern: Some(r"#([A-Za-z]+-[0-9]+)".to_string()),
        ..KeyRulesSpec::default()
    };
    // Only `#`-prefixed keys count; the capture is upper-cased; the boundaries and denylist of
    // the default rule are gone (`#UTF-8` counts), and `#7` does not match the pattern.
    let text = "KAFKA-1 and #web-12 and #7 and #UTF-8";
    assert_eq!(keys(&rules(&hash), text), ["WEB-12", "UTF-8"]);
}

#[test]
fn pattern_captures_that_are_not_keys_are_skipped() {
    let brackets = KeyRulesSpec {
        pattern: Some(r"\[([^\]]*)\]".to_string()),
        ..KeyRulesSpec::default()
    };
    // `SQL` has no number, `A-1` a one-letter project, `KEY-007` a leading zero, `A B-1` a space.
    let text = "[SPARK-123][SQL] [A-1] [KEY-007] [A B-1] [MY_PROJ-9]";
    assert_eq!(keys(&rules(&brackets), text), ["SPARK-123", "MY_PROJ-9"]);
}

#[test]
fn pattern_with_projects_and_case_insensitive() {
    let listed = KeyRulesSpec {
        pattern: Some(r"\b([A-Z]+-[0-9]+)".to_string()),
        ..spec(&["KAFKA"])
    };
    assert_eq!(
        keys(&rules(&listed), "KAFKA-1 SPARK-2 kafka-3"),
        ["KAFKA-1"]
    );
    // `case_insensitive` applies to the user's regex, and needs no project list there.
    let any_case = KeyRulesSpec {
        pattern: Some(r"(kafka-[0-9]+)".to_string()),
        case_insensitive: true,
        ..KeyRulesSpec::default()
    };
    assert_eq!(
        keys(&rules(&any_case), "KAFKA-5 Kafka-6"),
        ["KAFKA-5", "KAFKA-6"]
    );
}

#[test]
fn pattern_errors_name_the_field() {
    let pattern = |p: &str| KeyRulesSpec {
        pattern: Some(p.to_string()),
        ..KeyRulesSpec::default()
    };
    let e = error(&pattern(r"[A-Z]+-[0-9]+"));
    assert!(
        matches!(e, KeyRulesError::PatternWithoutGroup { .. }),
        "{e:?}"
    );
    assert_eq!(e.field(), "keys.pattern");
    assert!(e.to_string().contains("capture group 1"), "{e}");

    // Look-behind, as in Jenkins' key regex, is not supported: the hint says so.
    let e = error(&pattern(r"(?<=\s)([A-Z]+-[0-9]+)"));
    assert!(matches!(e, KeyRulesError::Pattern { .. }), "{e:?}");
    assert_eq!(e.field(), "keys.pattern");
    assert!(e.to_string().contains("look-around"), "{e}");
    assert!(
        e.to_string().contains("look-behind, is not supported"),
        "regex's text: {e}"
    );

    // A hostile pattern fails on the size limit instead of taking memory.
    let e = error(&pattern(r"((a{1000}){1000})"));
    assert_eq!(e.field(), "keys.pattern");
    assert!(e.to_string().contains("compiles to more than"), "{e}");
}

/// The size limit leaves room for real patterns: Atlassian's GitHub-for-Jira key regex (less its
/// look-ahead) and many projects.
#[test]
fn size_limit_leaves_room_for_real_rules() {
    let github_for_jira = KeyRulesSpec {
        pattern: Some(r"(?i)(?:^|[^A-Z\d])([A-Z][A-Z\d]{1,255}-[1-9]\d{0,255})".to_string()),
        ..KeyRulesSpec::default()
    };
    assert_eq!(
        keys(&rules(&github_for_jira), "fix web-12, WEB-13"),
        ["WEB-12", "WEB-13"]
    );
    let many = |n: usize| KeyRulesSpec {
        projects: (0..n).map(|i| format!("PROJ{i}")).collect(),
        ..KeyRulesSpec::default()
    };
    assert_eq!(
        keys(&rules(&many(2_000)), "PROJ1999-1 PROJ2000-1"),
        ["PROJ1999-1"]
    );
    let e = error(&many(50_000));
    assert!(
        matches!(e, KeyRulesError::Projects { count: 50_000, .. }),
        "{e:?}"
    );
    assert_eq!(e.field(), "keys.projects");
    assert!(
        e.to_string()
            .contains("only the projects this repository uses"),
        "{e}"
    );
}

#[test]
fn ignore_drops_keys() {
    let ignoring = KeyRulesSpec {
        ignore: vec!["^WEB-1$".to_string(), "^TEST-".to_string()],
        ..KeyRulesSpec::default()
    };
    let text = "WEB-1 WEB-12 TEST-3 TESTS-4";
    assert_eq!(keys(&rules(&ignoring), text), ["WEB-12", "TESTS-4"]);
    // The regexes see the upper-case key, whatever the case in the text.
    let any_case = KeyRulesSpec {
        ignore: vec!["^KAFKA-1$".to_string()],
        case_insensitive: true,
        ..spec(&["KAFKA"])
    };
    assert_eq!(keys(&rules(&any_case), "kafka-1 Kafka-2"), ["KAFKA-2"]);
}

#[test]
fn ignore_errors_name_the_field() {
    let ignoring = |patterns: &[&str]| KeyRulesSpec {
        ignore: patterns.iter().map(|p| p.to_string()).collect(),
        ..KeyRulesSpec::default()
    };
    let e = error(&ignoring(&["^OK-", "^BAD-("]));
    assert!(matches!(e, KeyRulesError::Ignore { index: 1, .. }), "{e:?}");
    assert_eq!(e.field(), "keys.ignore[1]");
    assert!(
        e.to_string().contains("unclosed group"),
        "regex's text: {e}"
    );
    // An empty regex, or `.*`, would silently drop every key.
    for everything in ["", ".*", "X?"] {
        let e = error(&ignoring(&[everything]));
        assert_eq!(e.field(), "keys.ignore[0]", "{everything:?}");
        assert!(e.to_string().contains("drop every key"), "{e}");
    }
}

#[test]
fn project_key_errors_name_the_field_with_a_hint() {
    let long = "A".repeat(256);
    let cases: &[(&str, &str)] = &[
        ("", "it is empty"),
        ("kafka", "write KAFKA"),
        ("Kafka", "write KAFKA"),
        ("KAFKA-1", "list the project instead: KAFKA"),
        ("K", "at least two"),
        ("1ABC", "start with a letter"),
        ("_ABC", "start with a letter"),
        ("ÄBC", "start with a letter"),
        ("KAF KA", "only upper-case letters"),
        (&long, "at most 255"),
    ];
    for &(value, hint) in cases {
        let e = error(&spec(&["KAFKA", value]));
        assert_eq!(e.field(), "keys.projects[1]", "{value:?}");
        let message = e.to_string();
        assert!(message.starts_with("keys.projects[1] is "), "{message}");
        assert!(message.contains(hint), "{value:?}: {message}");
    }
    // The longest Data Center key is fine.
    assert!(KeyRules::new(&spec(&[&"A".repeat(255)])).is_ok());
}

/// Random texts made of key parts, separators and invalid UTF-8: no panic, and every key found
/// is upper case, splits into its parts, and occurs (in some case) in the text.
#[test]
fn random_bytes_give_well_formed_keys() {
    let pieces: &[&[u8]] = &[
        b"AK",
        b"KA_F",
        b"ka_f",
        b"A",
        b"x",
        b"-",
        b"-1",
        b"-12",
        b".",
        b"_",
        b"1",
        b"0",
        b"12",
        b" ",
        b"/",
        b"\r\n",
        b"\xff",
        b"\xe2\x84\xaa", // invalid UTF-8; the Kelvin sign
    ];
    let all = [
        KeyRules::default_rules(),
        rules(&spec(&["AK", "KA_F"])),
        rules(&KeyRulesSpec {
            case_insensitive: true,
            ..spec(&["AK", "KA_F"])
        }),
        rules(&KeyRulesSpec {
            pattern: Some(r"(?-u)(\S+)".to_string()),
            ..KeyRulesSpec::default()
        }),
    ];
    // xorshift64 with a fixed seed, so a failure reproduces.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 32) as usize % below
    };
    let mut found = 0;
    for _ in 0..50_000 {
        let len = next(12);
        let text: Vec<u8> = (0..len)
            .flat_map(|_| pieces[next(pieces.len())].iter().copied())
            .collect();
        let upper = text.to_ascii_uppercase();
        for rules in &all {
            for key in rules.extract(&text) {
                found += 1;
                let s = key.as_str();
                assert_eq!(s, s.to_ascii_uppercase(), "{text:?}");
                assert_eq!(format!("{}-{}", key.project(), key.number()), s, "{text:?}");
                let occurs = upper.windows(s.len()).any(|w| w == s.as_bytes());
                assert!(occurs, "{s} in {text:?}");
            }
        }
    }
    assert!(found > 1_000, "the pieces make keys: {found}");
}
