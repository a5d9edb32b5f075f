//! `pairctl completions` and `pairctl man`: generated from the clap model. The copies in
//! completions/ and man/ are committed and a test fails when they are stale.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;

pub const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "pairctl.bash"),
    (Shell::Zsh, "_pairctl"),
    (Shell::Fish, "pairctl.fish"),
    (Shell::PowerShell, "_pairctl.ps1"),
    (Shell::Elvish, "pairctl.elv"),
];

pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pairctl", &mut buf);
    buf
}

/// (file name, roff) for pairctl.1 and one page per subcommand.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    if clap_mangen::Man::new(cmd.clone()).render(&mut top).is_ok() {
        pages.push(("pairctl.1".to_string(), top));
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("pairctl-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        let mut buf = Vec::new();
        if clap_mangen::Man::new(sub).render(&mut buf).is_ok() {
            pages.push((format!("{name}.1"), buf));
        }
    }
    pages
}

/// The JSON documents pairctl prints, by file name under `schema/`: (file, document id, schema).
/// Generated from the Rust types that are serialised, so a field added to a type shows up here
/// and the committed copy goes stale until regenerated.
pub fn json_schemas() -> Vec<(&'static str, Vec<u8>)> {
    use crate::{deploy, maintenance, model, plan, snapshot};
    use schemars::{generate::SchemaSettings, JsonSchema};

    fn document<T: JsonSchema>(id: &str, title: &str) -> Vec<u8> {
        let mut schema = SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>();
        schema.insert("title".into(), format!("{id}: {title}").into());
        // The `schema` field names the document's shape: pin it.
        if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
            if props.contains_key("schema") {
                props.insert(
                    "schema".into(),
                    serde_json::json!({"type": "string", "const": id}),
                );
            }
        }
        let mut text = serde_json::to_vec_pretty(&schema).unwrap_or_default();
        text.push(b'\n');
        text
    }

    /// `pairctl history -o json`.
    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct History {
        schema: String,
        changes: Vec<plan::actions::HistoryRecord>,
    }

    vec![
        (
            "pairctl.status-1.json",
            document::<model::ClusterReport>(model::STATUS_SCHEMA, "pairctl status -o json"),
        ),
        (
            "pairctl.operation-1.json",
            document::<plan::OperationReport>(plan::swap::SCHEMA, "pairctl swap|failover -o json"),
        ),
        (
            "pairctl.maintenance-1.json",
            document::<maintenance::MaintenanceReport>(
                maintenance::REPORT_SCHEMA,
                "pairctl maintenance on|off -o json",
            ),
        ),
        (
            "pairctl.deploy-1.json",
            document::<deploy::report::DeployReport>(deploy::SCHEMA, "pairctl deploy -o json"),
        ),
        (
            "pairctl.snapshot-manifest-1.json",
            document::<snapshot::manifest::Manifest>(
                snapshot::manifest::SCHEMA,
                "manifest.json inside a snapshot bundle",
            ),
        ),
        (
            "pairctl.snapshot-summary-1.json",
            document::<snapshot::manifest::Summary>(
                snapshot::manifest::SCHEMA,
                "pairctl snapshot -o json",
            ),
        ),
        (
            "pairctl.history-1.json",
            document::<History>(plan::actions::HISTORY_SCHEMA, "pairctl history -o json"),
        ),
    ]
}
