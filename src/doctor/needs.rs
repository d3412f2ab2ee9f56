//! What a project's configuration asks of Jira: the permissions its actions need, whether
//! `fixVersions` must be on the edit screen, and the statuses its transitions move to. The one
//! place that reads actions for the doctor.

use super::checks::Permission;
use crate::config::{Action, Project};

/// An action the doctor can check for, configured or asked for with `--also` (to check
/// before enabling it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planned {
    RemoteLink,
    Comment,
    FixVersion,
    Transition,
}

impl Planned {
    pub fn as_str(self) -> &'static str {
        match self {
            Planned::RemoteLink => "remote-link",
            Planned::Comment => "comment",
            Planned::FixVersion => "fix-version",
            Planned::Transition => "transition",
        }
    }
}

/// What Jira must allow for a project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub remote_link: bool,
    pub comment: bool,
    pub fix_version: bool,
    /// fix-version creates a version when it is missing: Administer Projects.
    pub needs_version_admin: bool,
    pub transition: bool,
    /// Every status the project's `transition:` paths name, each once.
    pub transition_targets: Vec<String>,
}

/// The needs of `project`'s configured actions, plus `also`: `fix-version` may create a
/// version (Administer Projects); `transition` needs every status its paths name.
pub fn needs_of(project: &Project, also: &[Planned]) -> Needs {
    let mut needs = Needs::default();
    for action in project.actions() {
        match action {
            Action::RemoteLink => needs.remote_link = true,
            Action::Comment => needs.comment = true,
            // Deployment records and development information go through the OAuth client,
            // not the account's permissions.
            Action::Deployment | Action::DevelopmentInfo => {}
            Action::FixVersion => {
                needs.fix_version = true;
                needs.needs_version_admin = true;
            }
            Action::Transition => needs.transition = true,
        }
    }
    for rule in project.transitions() {
        for status in &rule.path {
            if !needs.transition_targets.contains(status) {
                needs.transition_targets.push(status.clone());
            }
        }
    }
    for planned in also {
        match planned {
            Planned::RemoteLink => needs.remote_link = true,
            Planned::Comment => needs.comment = true,
            Planned::FixVersion => {
                needs.fix_version = true;
                needs.needs_version_admin = true;
            }
            Planned::Transition => needs.transition = true,
        }
    }
    needs
}

/// The permissions `needs` asks of the account in each Jira project.
pub fn permissions(needs: &Needs) -> Vec<Permission> {
    let mut all = vec![Permission {
        key: "BROWSE_PROJECTS",
        name: "Browse Projects",
        needed_by: "every action",
    }];
    if needs.remote_link {
        all.push(Permission {
            key: "LINK_ISSUES",
            name: "Link Issues",
            needed_by: "remote-link",
        });
    }
    if needs.comment {
        all.push(Permission {
            key: "ADD_COMMENTS",
            name: "Add Comments",
            needed_by: "comment",
        });
    }
    if needs.fix_version {
        all.push(Permission {
            key: "EDIT_ISSUES",
            name: "Edit Issues",
            needed_by: "fix-version",
        });
    }
    if needs.needs_version_admin {
        all.push(Permission {
            key: "ADMINISTER_PROJECTS",
            name: "Administer Projects",
            needed_by: "fix-version, to create versions",
        });
    }
    if needs.transition {
        all.push(Permission {
            key: "TRANSITION_ISSUES",
            name: "Transition Issues",
            needed_by: "transition",
        });
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_version_needs_edit_and_administer() {
        let needs = Needs {
            fix_version: true,
            needs_version_admin: true,
            ..Needs::default()
        };
        let keys: Vec<&str> = permissions(&needs).iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            ["BROWSE_PROJECTS", "EDIT_ISSUES", "ADMINISTER_PROJECTS"]
        );
        let keys: Vec<&str> = permissions(&Needs::default())
            .iter()
            .map(|p| p.key)
            .collect();
        assert_eq!(keys, ["BROWSE_PROJECTS"]);
    }
}
