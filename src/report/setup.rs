//! The reports of the commands that set a repository up: `init` and `install-hook`.

use std::path::PathBuf;

use serde::Serialize;

use super::Report;

/// `init`: the files written (the project file, and the schema next to it unless a URL names
/// one).
#[derive(Serialize)]
pub struct Initialized {
    pub written: Vec<PathBuf>,
}

impl Report for Initialized {
    fn human(&self) -> String {
        let written: Vec<String> = self
            .written
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        format!(
            "wrote {}\nnext: edit it, then `deploylink config check` and `deploylink plan`\n",
            written.join(" and ")
        )
    }
}

/// `install-hook`: the hook written, and the foreign hook it runs first (`--chain`).
#[derive(Serialize)]
pub struct Installed {
    pub hook: PathBuf,
    pub chained: Option<PathBuf>,
}

impl Report for Installed {
    fn human(&self) -> String {
        match &self.chained {
            Some(chained) => format!(
                "installed {} (runs {} first)\n",
                self.hook.display(),
                chained.display()
            ),
            None => format!("installed {}\n", self.hook.display()),
        }
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
    fn init_and_install_hook() {
        let init = Initialized {
            written: vec![
                "/r/.deploylink.yml".into(),
                "/r/.deploylink.schema.json".into(),
            ],
        };
        assert_eq!(
            init.human(),
            "wrote /r/.deploylink.yml and /r/.deploylink.schema.json\n\
             next: edit it, then `deploylink config check` and `deploylink plan`\n"
        );
        assert_eq!(
            json_of(&init),
            json!({"written": ["/r/.deploylink.yml", "/r/.deploylink.schema.json"]})
        );
        let installed = Installed {
            hook: "/r/.git/hooks/pre-push".into(),
            chained: Some("/r/.git/hooks/pre-push.chained".into()),
        };
        assert_eq!(
            installed.human(),
            "installed /r/.git/hooks/pre-push (runs /r/.git/hooks/pre-push.chained first)\n"
        );
        assert_eq!(
            json_of(&installed),
            json!({"hook": "/r/.git/hooks/pre-push", "chained": "/r/.git/hooks/pre-push.chained"})
        );
        let plain = Installed {
            hook: "/r/.git/hooks/commit-msg".into(),
            chained: None,
        };
        assert_eq!(plain.human(), "installed /r/.git/hooks/commit-msg\n");
        assert_eq!(json_of(&plain)["chained"], Value::Null);
    }
}
