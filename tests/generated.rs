//! completions/ and man/ (from the clap model) and schema/ (from the serialised types) are
//! generated and committed: stale copies fail.
#![allow(clippy::unwrap_used)]

use crate::common::repo_root;
use pairctl::commands::generate::{completion, man_pages, SHELLS};

const REGENERATE: &str =
    "regenerate with: tests/generate.sh (or PAIRCTL_BLESS=1 cargo test generated)";

fn compare_or_bless(path: std::path::PathBuf, fresh: &[u8]) {
    if std::env::var_os("PAIRCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{} is missing; {REGENERATE}", path.display()));
    assert!(
        committed == fresh,
        "{} is stale; {REGENERATE}",
        path.display()
    );
}

#[test]
fn completions_are_current() {
    for (shell, file) in SHELLS {
        compare_or_bless(
            repo_root().join("completions").join(file),
            &completion(shell),
        );
    }
}

#[test]
fn man_pages_are_current() {
    let pages = man_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "pairctl.1",
        "pairctl-status.1",
        "pairctl-failover.1",
        "pairctl-swap.1",
        "pairctl-snapshot.1",
        "pairctl-deploy.1",
        "pairctl-exporter.1",
        "pairctl.toml.5",
    ] {
        assert!(
            names.contains(&expected),
            "no man page {expected} in {names:?}"
        );
    }
    for (name, page) in &pages {
        let text = String::from_utf8_lossy(page);
        if name.ends_with(".1") {
            for section in [
                "EXIT STATUS",
                "ENVIRONMENT",
                "FILES",
                "EXAMPLES",
                "SEE ALSO",
            ] {
                assert!(
                    text.contains(&format!(".SH \"{section}\"")),
                    "{name} has no {section} section"
                );
            }
        }
        compare_or_bless(repo_root().join("man").join(name), page);
    }
}

#[test]
fn json_schemas_are_current() {
    let schemas = pairctl::commands::generate::json_schemas();
    for (name, schema) in &schemas {
        let doc: serde_json::Value = serde_json::from_slice(schema).unwrap();
        assert!(
            doc["title"].as_str().unwrap().starts_with("pairctl."),
            "{name}"
        );
        compare_or_bless(repo_root().join("schema").join(name), schema);
    }
    // Monitoring set-ups find the status schema by grepping schema/ for `pairctl.status` (the
    // dot matching any character): no other schema may match, e.g. through a doc comment
    // that says "pairctl status".
    for (name, schema) in &schemas {
        let mentions = schema
            .windows(14)
            .any(|w| w.starts_with(b"pairctl") && w.ends_with(b"status"));
        assert!(
            !mentions || *name == "pairctl.status-1.json",
            "{name} mentions pairctl?status (in a doc comment?): say it another way"
        );
    }
    // Nothing stale left behind under schema/.
    for entry in std::fs::read_dir(repo_root().join("schema")).unwrap() {
        let file = entry.unwrap().file_name();
        let file = file.to_string_lossy();
        assert!(
            schemas.iter().any(|(n, _)| *n == file),
            "schema/{file} is not generated any more; {REGENERATE}"
        );
    }
}
