//! `pairctl completions` and `pairctl man`: generated from the clap model (and, for the man
//! pages' own sections, from `man_text`); the JSON Schemas from the serialised types. The
//! copies in completions/, man/ and schema/ are committed and a test fails when they are stale.

use crate::cli::Cli;
use clap::CommandFactory;

#[path = "man_text.rs"]
mod man_text;
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

/// (file name, roff) for pairctl.1, one page per subcommand and pairctl.toml.5. The command
/// pages are clap_mangen's sections (name, synopsis, description, options, subcommands) from
/// the clap model, followed by the sections a reader looks for: EXIT STATUS, ENVIRONMENT,
/// FILES, EXAMPLES and SEE ALSO.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command();
    // Global options then appear on every subcommand's page too.
    cmd.build();
    let subcommands: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .cloned()
        .collect();
    let names: Vec<String> = subcommands
        .iter()
        .map(|s| format!("pairctl-{}", s.get_name()))
        .collect();
    let mut pages = vec![(
        "pairctl.1".to_string(),
        command_page(cmd.clone(), "", &names),
    )];
    for sub in subcommands {
        let name = format!("pairctl-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((
            format!("{name}.1"),
            command_page(page, sub.get_name(), &names),
        ));
    }
    pages.push(("pairctl.toml.5".to_string(), config_page()));
    pages
}

fn command_page(cmd: clap::Command, sub: &str, all: &[String]) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    type Section = fn(&clap_mangen::Man, &mut dyn std::io::Write) -> std::io::Result<()>;
    let mut sections: Vec<Section> = vec![
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
    ];
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        sections.push(clap_mangen::Man::render_options_section);
    }
    if cmd.get_subcommands().any(|s| s.get_name() != "help") {
        sections.push(clap_mangen::Man::render_subcommands_section);
    }
    for render in sections {
        // Writing into a Vec does not fail.
        let _ = render(&man, &mut out);
    }
    let doc = man_text::for_command(sub);
    let mut roff = String::new();
    roff_section(&mut roff, "EXIT STATUS");
    for (status, meaning) in doc.exit {
        roff_item(&mut roff, &status.code().to_string(), meaning);
    }
    roff_section(&mut roff, "ENVIRONMENT");
    for (name, meaning) in man_text::ENVIRONMENT {
        roff_item(&mut roff, name, meaning);
    }
    roff_section(&mut roff, "FILES");
    for (path, meaning) in man_text::FILES.iter().chain(doc.files) {
        roff_item(&mut roff, path, meaning);
    }
    roff_section(&mut roff, "EXAMPLES");
    for (what, command) in doc.examples {
        roff.push_str(".PP\n");
        roff_text(&mut roff, what);
        roff.push_str(".PP\n.RS 4\n.nf\n");
        roff.push_str(&format!("\\fB{}\\fR\n", roff_escape(command)));
        roff.push_str(".fi\n.RE\n");
    }
    roff_section(&mut roff, "SEE ALSO");
    let mut see: Vec<String> = Vec::new();
    if !sub.is_empty() {
        see.push("pairctl(1)".into());
    }
    see.extend(
        all.iter()
            .filter(|n| n.as_str() != format!("pairctl-{sub}"))
            .map(|n| format!("{n}(1)")),
    );
    see.push("pairctl.toml(5)".into());
    see.extend(doc.see_also.iter().map(|s| s.to_string()));
    let see: Vec<String> = see
        .iter()
        .map(|s| match s.split_once('(') {
            Some((name, section)) => format!("\\fB{}\\fR({section}", roff_escape(name)),
            None => roff_escape(s),
        })
        .collect();
    roff.push_str(&see.join(", "));
    roff.push('\n');
    out.extend_from_slice(roff.as_bytes());
    let _ = man.render_version_section(&mut out);
    out
}

/// pairctl.toml(5): the configuration reference, one entry per key.
fn config_page() -> Vec<u8> {
    let mut roff = format!(
        ".TH PAIRCTL.TOML 5 \"\" \"pairctl {}\" \"File Formats\"\n",
        env!("CARGO_PKG_VERSION")
    );
    roff_section(&mut roff, "NAME");
    roff_text(
        &mut roff,
        "pairctl.toml - the configuration of one two-node cluster for pairctl",
    );
    roff_section(&mut roff, "DESCRIPTION");
    for paragraph in man_text::CONFIG_INTRO {
        roff.push_str(".PP\n");
        roff_text(&mut roff, paragraph);
    }
    for (section, about, keys) in man_text::CONFIG {
        roff_section(&mut roff, &section.to_uppercase());
        roff_text(&mut roff, about);
        for (key, meaning) in *keys {
            roff_item(&mut roff, key, meaning);
        }
    }
    roff_section(&mut roff, "EXAMPLE");
    roff.push_str(".PP\n.RS 4\n.nf\n");
    for line in man_text::CONFIG_EXAMPLE.lines() {
        roff.push_str(&roff_escape_line(line));
        roff.push('\n');
    }
    roff.push_str(".fi\n.RE\n");
    roff_section(&mut roff, "FILES");
    for (path, meaning) in &man_text::FILES[..5] {
        roff_item(&mut roff, path, meaning);
    }
    roff_section(&mut roff, "SEE ALSO");
    roff.push_str(
        "\\fBpairctl\\fR(1), \\fBpairctl\\-deploy\\fR(1), \\fBpairctl\\-exporter\\fR(1)\n",
    );
    roff.into_bytes()
}

/// roff text: backslashes and hyphens escaped (a `-` is a hyphen, `\-` the minus that
/// options and commands are written with).
fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// A line of running or preformatted text: escaped, and a leading `.` or `'` made literal.
fn roff_escape_line(line: &str) -> String {
    let escaped = roff_escape(line);
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn roff_text(roff: &mut String, text: &str) {
    roff.push_str(&roff_escape_line(text));
    roff.push('\n');
}

fn roff_section(roff: &mut String, title: &str) {
    roff.push_str(&format!(".SH \"{title}\"\n"));
}

fn roff_item(roff: &mut String, tag: &str, text: &str) {
    roff.push_str(&format!(".TP\n\\fB{}\\fR\n", roff_escape(tag)));
    roff_text(roff, text);
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
            document::<plan::OperationReport>(plan::SCHEMA, "pairctl swap|failover -o json"),
        ),
        (
            "pairctl.rejoin-1.json",
            document::<plan::rejoin::RejoinReport>(plan::rejoin::SCHEMA, "pairctl rejoin -o json"),
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
