//! CLI snapshots: `--help`, usage and configuration errors, and their exit codes.
//! Regenerate after an intended change with `TRYCMD=overwrite cargo test --test it cli_snapshots`,
//! then read the diff.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", "/nonexistent/deploylink-test")
        .case("tests/cmd/*.md")
        .case("tests/cmd/*.toml");
}
