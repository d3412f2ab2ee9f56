//! Replays every fuzz seed and every saved fuzz finding (`fuzz/seeds/`, `fuzz/regressions/`)
//! through the same checks the fuzz targets run (`fuzz/checks.rs`), on stable Rust: a finding
//! fixed once stays fixed, and the checks themselves are built and run by `cargo test`.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let mut inputs = 0;
    for folder in ["seeds", "regressions"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join(folder)
            .join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
            inputs += 1;
        }
    }
    assert!(inputs > 0, "no saved inputs for the {target} target");
}

#[test]
fn config_inputs_replay() {
    replay("config", checks::config);
}

#[test]
fn hook_stdin_inputs_replay() {
    replay("hook_stdin", checks::hook_stdin);
}

#[test]
fn keys_inputs_replay() {
    replay("keys", checks::keys);
}

#[test]
fn jira_response_inputs_replay() {
    replay("jira_response", checks::jira_response);
}
