//! The reports of `deploylink tracker connect|list|disconnect`.

use serde::Serialize;

use super::Report;

/// `tracker connect`: the tracker written, and whom Jira knows its credentials as.
#[derive(Serialize)]
pub struct Connected {
    pub tracker: String,
    pub connected_as: String,
    pub file: String,
    /// Whether a tracker of that name was there already.
    pub replaced: bool,
}

impl Report for Connected {
    fn human(&self) -> String {
        format!(
            "Jira is connected as {}\n{} tracker '{}' in {}\n",
            self.connected_as,
            if self.replaced { "updated" } else { "added" },
            self.tracker,
            self.file
        )
    }
}

/// `tracker list`: the trackers in the file's order, each checked with `--check`.
#[derive(Serialize)]
pub struct TrackerList {
    pub trackers: Vec<TrackerRow>,
}

#[derive(Serialize)]
pub struct TrackerRow {
    pub name: String,
    pub kind: &'static str,
    pub url: String,
    /// Where the credentials come from (`<from $JIRA_API_TOKEN>`), never their values.
    pub credentials: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<TrackerCheck>,
}

/// The live check of one tracker: whom it is connected as, or why it failed.
#[derive(Serialize)]
pub struct TrackerCheck {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_as: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TrackerCheck {
    pub fn new(result: Result<&str, String>) -> TrackerCheck {
        match result {
            Ok(who) => TrackerCheck {
                ok: true,
                connected_as: Some(who.to_owned()),
                error: None,
            },
            Err(error) => TrackerCheck {
                ok: false,
                connected_as: None,
                error: Some(error),
            },
        }
    }
}

impl TrackerList {
    /// How many trackers failed their check.
    pub fn failures(&self) -> usize {
        self.trackers
            .iter()
            .filter(|t| t.check.as_ref().is_some_and(|c| !c.ok))
            .count()
    }
}

impl Report for TrackerList {
    fn human(&self) -> String {
        let mut text = String::new();
        for t in &self.trackers {
            text.push_str(&format!(
                "{:<12} {:<17} {}  {}\n",
                t.name, t.kind, t.url, t.credentials
            ));
            match &t.check {
                Some(TrackerCheck {
                    connected_as: Some(who),
                    ..
                }) => text.push_str(&format!("{:<12} ok: connected as {who}\n", "")),
                Some(TrackerCheck { error: Some(e), .. }) => {
                    text.push_str(&format!("{:<12} FAILED: {e}\n", ""))
                }
                _ => {}
            }
        }
        text
    }
}

/// `tracker disconnect`: the tracker removed, and the projects here that still name it.
#[derive(Serialize)]
pub struct Disconnected {
    pub tracker: String,
    pub file: String,
    pub projects_using_it: Vec<String>,
}

impl Report for Disconnected {
    fn human(&self) -> String {
        let mut text = format!("removed tracker '{}' from {}\n", self.tracker, self.file);
        if !self.projects_using_it.is_empty() {
            text.push_str(&format!(
                "projects of this repository that used it: {}\n  they fail until you connect it again or choose another tracker (`tracker:` in .deploylink.yml)\n",
                self.projects_using_it.join(", ")
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{render, Format};
    use serde_json::{json, Value};

    fn json_of(report: &impl Report) -> Value {
        serde_json::from_str(&render(report, Format::Json)).unwrap()
    }

    #[test]
    fn list_checked_and_unchecked() {
        let row = |name: &str, check| TrackerRow {
            name: name.into(),
            kind: "jira-cloud",
            url: "https://acme.atlassian.net".into(),
            credentials: "<from $JIRA_USER>, <from $JIRA_API_TOKEN>".into(),
            check,
        };
        let list = TrackerList {
            trackers: vec![
                row("good", Some(TrackerCheck::new(Ok("Dana")))),
                row("bad", Some(TrackerCheck::new(Err("401".into())))),
                row("quiet", None),
            ],
        };
        assert_eq!(list.failures(), 1);
        assert_eq!(
            list.human(),
            "good         jira-cloud        https://acme.atlassian.net  <from $JIRA_USER>, <from $JIRA_API_TOKEN>\n\
             \x20            ok: connected as Dana\n\
             bad          jira-cloud        https://acme.atlassian.net  <from $JIRA_USER>, <from $JIRA_API_TOKEN>\n\
             \x20            FAILED: 401\n\
             quiet        jira-cloud        https://acme.atlassian.net  <from $JIRA_USER>, <from $JIRA_API_TOKEN>\n"
        );
        let value = json_of(&list);
        assert_eq!(
            value["trackers"][0]["check"],
            json!({"ok": true, "connected_as": "Dana"})
        );
        assert_eq!(
            value["trackers"][1]["check"],
            json!({"ok": false, "error": "401"})
        );
        assert_eq!(
            value["trackers"][2],
            json!({"name": "quiet", "kind": "jira-cloud", "url": "https://acme.atlassian.net",
                   "credentials": "<from $JIRA_USER>, <from $JIRA_API_TOKEN>"})
        );
    }

    #[test]
    fn connect_and_disconnect() {
        let connected = Connected {
            tracker: "acme".into(),
            connected_as: "Dana".into(),
            file: "trackers.yml".into(),
            replaced: true,
        };
        assert_eq!(
            connected.human(),
            "Jira is connected as Dana\nupdated tracker 'acme' in trackers.yml\n"
        );
        assert_eq!(
            json_of(&connected),
            json!({"tracker": "acme", "connected_as": "Dana", "file": "trackers.yml", "replaced": true})
        );
        let disconnected = Disconnected {
            tracker: "acme".into(),
            file: "trackers.yml".into(),
            projects_using_it: vec!["shop".into()],
        };
        assert!(disconnected
            .human()
            .starts_with("removed tracker 'acme' from trackers.yml\nprojects of this repository that used it: shop\n"));
        assert_eq!(
            json_of(&disconnected),
            json!({"tracker": "acme", "file": "trackers.yml", "projects_using_it": ["shop"]})
        );
    }
}
