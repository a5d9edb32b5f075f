//! Snapshot output: the summary of a written bundle and `snapshot inspect`'s manifest tables
//! and verification.

use super::status::new_table;
use super::Style;
use crate::format::human_duration;
use crate::snapshot::archive::Verification;
use crate::snapshot::manifest::{Manifest, Outcome};
use indicatif::HumanBytes;
use std::path::Path;
use std::time::Duration;

/// The written bundle (stdout): its path, and its sha256 on the next line.
pub fn written(path: &str, sha256: &str) -> String {
    format!("{path}\nsha256: {sha256}\n")
}

/// `snapshot inspect -o json`'s word on stderr that the bundle failed verification.
pub fn verification_failed(file: &Path, v: &Verification) -> String {
    format!(
        "error: {} failed verification: {}",
        file.display(),
        v.problems.join("; ")
    )
}

/// What a written bundle holds, for the operator (stderr): counts, sizes, redaction, time,
/// and what is missing from a partial one.
pub fn summary(m: &Manifest, archive_bytes: u64) -> String {
    let collected: u64 = m.items.iter().map(|i| i.bytes).sum();
    let redactions: u64 = m.items.iter().map(|i| i.redactions).sum();
    let mut s = format!(
        "{} items from {} node(s): {} collected, {} compressed, {} in {}{}",
        m.items.len(),
        m.nodes.len(),
        HumanBytes(collected),
        HumanBytes(archive_bytes),
        if m.redacted {
            format!("{redactions} secret(s) redacted")
        } else {
            "NOT redacted".to_string()
        },
        human_duration(Duration::from_millis(m.duration_ms)),
        if m.partial { "; PARTIAL:" } else { "" }
    );
    for n in m.nodes.iter().filter(|n| !n.reachable) {
        s.push_str(&format!(
            "\n  {}: unreachable: {}",
            n.name,
            n.error.as_deref().unwrap_or("?")
        ));
    }
    let unreachable: Vec<&str> = m
        .nodes
        .iter()
        .filter(|n| !n.reachable)
        .map(|n| n.name.as_str())
        .collect();
    let problems: Vec<_> = m
        .items
        .iter()
        .filter(|i| i.outcome.makes_partial() && !unreachable.contains(&i.node.as_str()))
        .collect();
    for i in problems.iter().take(10) {
        s.push_str(&format!(
            "\n  {}: {}: {}",
            i.path,
            i.outcome.as_str(),
            i.error.as_deref().unwrap_or("")
        ));
    }
    if problems.len() > 10 {
        s.push_str(&format!(
            "\n  … and {} more (pairctl snapshot inspect FILE)",
            problems.len() - 10
        ));
    }
    s
}

/// `snapshot inspect`: the manifest's header, one table of items per node with what went
/// wrong under it, and the verification.
pub fn inspect(file: &Path, m: &Manifest, v: &Verification, style: &Style) -> String {
    let mut s = String::new();
    let nodes: Vec<String> = m
        .nodes
        .iter()
        .map(|n| {
            let reach = if n.reachable {
                "reachable".to_string()
            } else {
                format!("UNREACHABLE ({})", n.error.as_deref().unwrap_or("?"))
            };
            format!("{} ({}, {reach})", n.name, n.role)
        })
        .collect();
    for (k, val) in [
        ("Bundle", file.display().to_string()),
        ("Cluster", m.cluster.clone()),
        (
            "Created",
            format!(
                "{} by {} {} in {}",
                m.created,
                m.tool,
                m.tool_version,
                human_duration(Duration::from_millis(m.duration_ms))
            ),
        ),
        (
            "Window",
            format!("{} to {}", m.window.since, m.window.until),
        ),
        (
            "Redacted",
            if m.redacted {
                "yes"
            } else {
                "NO (--no-redact)"
            }
            .to_string(),
        ),
        ("Nodes", nodes.join("; ")),
        (
            "Complete",
            if m.partial { "no (partial)" } else { "yes" }.to_string(),
        ),
    ] {
        s.push_str(&format!("{k:<9} {val}\n"));
    }
    // One table per node: three columns leave room for the item paths in 80 columns;
    // what went wrong is listed under each table, where it can be read whole.
    let mut groups: Vec<&str> = Vec::new();
    for i in &m.items {
        if !groups.contains(&i.node.as_str()) {
            groups.push(&i.node);
        }
    }
    for node in groups {
        let items: Vec<_> = m.items.iter().filter(|i| i.node == node).collect();
        s.push_str(&format!("\n{node}: {} items\n", items.len()));
        let mut t = new_table(style);
        t.set_header(vec!["Item", "Size", "Result"]);
        let mut notes = Vec::new();
        for i in &items {
            let item = i
                .path
                .strip_prefix(&format!("{}/", i.node))
                .unwrap_or(&i.path);
            let check = v.checks.get(&i.path).map(String::as_str);
            let result = match (check, i.outcome) {
                (Some(c), _) if c != "ok" => c.to_uppercase(),
                (_, Outcome::Ok) => "ok".to_string(),
                (_, Outcome::NotApplicable) => "n/a".to_string(),
                (_, Outcome::Failed) => "FAILED".to_string(),
                (_, Outcome::TimedOut) => "TIMED OUT".to_string(),
            };
            if let Some(e) = &i.error {
                notes.push((item.to_string(), format!("{}: {e}", i.outcome.as_str())));
            }
            t.add_row(vec![
                item.to_string(),
                HumanBytes(i.bytes).to_string(),
                result,
            ]);
        }
        s.push_str(&t.to_string());
        s.push('\n');
        s.push_str(&notes_text(&notes));
    }
    s.push('\n');
    let stored = m.items.iter().filter(|i| i.stored()).count();
    if v.ok() {
        s.push_str(&format!(
            "Verified: all {stored} stored items match their sha256; archive sha256 {}{}\n",
            v.archive_sha256,
            match v.sidecar_matches {
                Some(true) => " (matches the .sha256 file)",
                Some(false) => "",
                None => " (no .sha256 file beside it)",
            }
        ));
    } else {
        s.push_str(&format!(
            "FAILED verification ({} problem(s)):\n",
            v.problems.len()
        ));
        for p in &v.problems {
            s.push_str(&format!("  {p}\n"));
        }
    }
    s
}

/// What went wrong, one line per item; the same reason for many items (a node that was
/// down) is said once.
fn notes_text(notes: &[(String, String)]) -> String {
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for (item, reason) in notes {
        match reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, items)) => items.push(item),
            None => reasons.push((reason, vec![item])),
        }
    }
    let mut s = String::new();
    for (reason, items) in reasons {
        if items.len() > 3 {
            s.push_str(&format!("  {} items: {reason}\n", items.len()));
        } else {
            for item in items {
                s.push_str(&format!("  {item}: {reason}\n"));
            }
        }
    }
    s
}
