//! CLI snapshots: `--help`, usage and configuration errors, and their exit codes.
//! Regenerate after an intended change with `TRYCMD=overwrite cargo test --test it cli_snapshots`,
//! then read the diff.

#[test]
fn cli_snapshots() {
    let cases = trycmd::TestCases::new();
    cases
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", "/nonexistent/deploylink-test")
        .case("tests/cmd/*.md")
        .case("tests/cmd/*.toml");
    // Built without the sandbox, `deploylink help` has no `sandbox` command.
    #[cfg(not(feature = "sandbox"))]
    cases
        .skip("tests/cmd/help.md")
        .skip("tests/cmd/help-commands.md")
        .skip("tests/cmd/usage.md");
}
