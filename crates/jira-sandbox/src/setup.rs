//! How the sandbox's Jira site is set up beyond which issues exist: what the account may do in
//! each project and which fields each project's edit screen shows. Tests narrow it to imitate a
//! site where deploylink's account lacks a permission or a field is missing from a screen.

use std::collections::BTreeSet;

/// What the account may do and see. The default allows everything and puts every field on
/// every edit screen, as a site administrator's account would see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Setup {
    /// `(project key, permission key)` pairs the account lacks, e.g.
    /// `("WEB", "ADMINISTER_PROJECTS")`. Permission keys are Jira's (`BROWSE_PROJECTS`,
    /// `EDIT_ISSUES`, `TRANSITION_ISSUES`, `ADMINISTER_PROJECTS`, ...).
    pub denied: BTreeSet<(String, String)>,
    /// `(project key, field id)` pairs missing from the project's edit screen, e.g.
    /// `("WEB", "fixVersions")`.
    pub off_screen: BTreeSet<(String, String)>,
}

impl Setup {
    /// Whether the account has `permission` in `project`.
    pub fn allows(&self, project: &str, permission: &str) -> bool {
        !self
            .denied
            .contains(&(project.to_string(), permission.to_string()))
    }

    /// Whether `field` is on `project`'s edit screen.
    pub fn on_screen(&self, project: &str, field: &str) -> bool {
        !self
            .off_screen
            .contains(&(project.to_string(), field.to_string()))
    }
}

/// The project key of an issue key (`WEB` of `WEB-12`).
pub fn project_of(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(project, _)| project)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denies_only_what_is_listed() {
        let mut setup = Setup::default();
        setup
            .denied
            .insert(("WEB".into(), "ADMINISTER_PROJECTS".into()));
        setup
            .off_screen
            .insert(("OPS".into(), "fixVersions".into()));
        assert!(!setup.allows("WEB", "ADMINISTER_PROJECTS"));
        assert!(setup.allows("OPS", "ADMINISTER_PROJECTS"));
        assert!(setup.allows("WEB", "EDIT_ISSUES"));
        assert!(!setup.on_screen("OPS", "fixVersions"));
        assert!(setup.on_screen("WEB", "fixVersions"));
        assert_eq!(project_of("WEB-12"), "WEB");
        assert_eq!(project_of("A_B-3"), "A_B");
    }
}
