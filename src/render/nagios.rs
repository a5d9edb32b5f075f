//! The status report as Nagios/Icinga plugin output (monitoring-plugins guidelines): one line
//! `PAIRCTL <STATUS> - <short text> | <perfdata>`, then one line per check that is not ok.
//! The exit code is the verdict's, as for every status output (0 OK … 3 UNKNOWN).

use crate::model::{Check, CheckId, CheckResult, ClusterReport, Impact, Verdict};
use std::fmt::Write;

/// The short text is for a pager's screen: one line, cut here.
const SHORT_LIMIT: usize = 160;
/// A long-text line per failed check, cut here.
const LINE_LIMIT: usize = 400;

pub fn status_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Healthy => "OK",
        Verdict::Degraded => "WARNING",
        Verdict::Critical => "CRITICAL",
        Verdict::Unknown => "UNKNOWN",
    }
}

/// A typed check value shown as performance data: `'<subject> <label>'=<value><uom>`.
struct Perf {
    check: CheckId,
    value: &'static str,
    label: &'static str,
    uom: &'static str,
}

const PERF: &[Perf] = &[
    Perf {
        check: CheckId::Ssh,
        value: "connect_seconds",
        label: "ssh_connect",
        uom: "s",
    },
    Perf {
        check: CheckId::Galera,
        value: "cluster_size",
        label: "galera_cluster_size",
        uom: "",
    },
    Perf {
        check: CheckId::GlusterVolume,
        value: "heal_pending_entries",
        label: "heal_pending",
        uom: "",
    },
    Perf {
        check: CheckId::GlusterVolume,
        value: "split_brain_entries",
        label: "split_brain",
        uom: "",
    },
    Perf {
        check: CheckId::Replica,
        value: "age_seconds",
        label: "replica_age",
        uom: "s",
    },
    Perf {
        check: CheckId::Workloads,
        value: "services_ready",
        label: "services_ready",
        uom: "",
    },
];

pub fn render(r: &ClusterReport) -> String {
    let failed = r
        .checks
        .iter()
        .filter(|c| c.result == CheckResult::Fail)
        .count();
    let warned = r
        .checks
        .iter()
        .filter(|c| c.result == CheckResult::Warn)
        .count();
    let mut s = format!(
        "PAIRCTL {} - {} | 'checks_failed'={failed};;;0 'checks_warning'={warned};;;0 'elapsed'={}s;;;0",
        status_word(r.verdict),
        short_text(r),
        super::prometheus::number(r.elapsed_ms as f64 / 1000.0)
    );
    for check in &r.checks {
        let subject = check.name.subject.as_deref().unwrap_or(&check.node);
        for p in PERF.iter().filter(|p| p.check == check.name.id) {
            let Some(v) = check.values.get(p.value) else {
                continue;
            };
            // The replica's configured maximum age is the warning threshold it is judged by.
            let warn = match (p.value, check.values.get("max_age_seconds")) {
                ("age_seconds", Some(max)) => super::prometheus::number(*max),
                _ => String::new(),
            };
            let _ = write!(
                s,
                " '{} {}'={}{};{warn};;0",
                perf_label(subject),
                p.label,
                super::prometheus::number(*v),
                p.uom
            );
        }
    }
    s.push('\n');
    for c in worst_first(r) {
        let line = format!(
            "{} {} {}: {}",
            c.name,
            c.node,
            match c.result {
                CheckResult::Ok => "ok",
                CheckResult::Warn => "warn",
                CheckResult::Fail => "fail",
            },
            c.detail
        );
        s.push_str(&one_line(&line, LINE_LIMIT));
        s.push('\n');
    }
    s
}

/// Healthy: the cluster and its active; otherwise the worst check, and how many more.
fn short_text(r: &ClusterReport) -> String {
    let bad = worst_first(r);
    let text = match bad.first() {
        None => format!(
            "{} healthy, {} active, {} checks ok",
            r.cluster,
            r.active.as_deref().unwrap_or("no node"),
            r.checks.len()
        ),
        Some(c) => {
            let what = if c.node == "cluster" {
                format!("{}: {}", c.name, c.detail)
            } else {
                format!("{} on {}: {}", c.name, c.node, c.detail)
            };
            match bad.len() {
                1 => format!("{} {}: {what}", r.cluster, r.verdict.as_str()),
                n => format!(
                    "{} {}: {what} (+{} more)",
                    r.cluster,
                    r.verdict.as_str(),
                    n - 1
                ),
            }
        }
    };
    one_line(&text, SHORT_LIMIT)
}

/// Checks that are not ok: critical, then unknown, then degraded; fails before warnings.
fn worst_first(r: &ClusterReport) -> Vec<&Check> {
    let rank = |c: &Check| {
        let impact = match c.impact {
            Some(Impact::Critical) => 0,
            Some(Impact::Unknown) => 1,
            _ => 2,
        };
        (impact, std::cmp::Reverse(c.result))
    };
    let mut bad: Vec<&Check> = r.failing().collect();
    bad.sort_by_key(|c| rank(c));
    bad
}

/// One line of plugin text: no newline, no `|` (it starts the perfdata), node text made
/// inert (`sanitize::terminal`), at most `limit` characters.
fn one_line(text: &str, limit: usize) -> String {
    let clean = super::sanitize::terminal(text);
    let mut s = String::with_capacity(clean.len().min(limit + 4));
    for (i, c) in clean.chars().enumerate() {
        if i == limit {
            s.push('…');
            break;
        }
        s.push(match c {
            '|' => '/',
            '\n' | '\r' => ' ',
            c => c,
        });
    }
    s
}

/// Perfdata labels keep to letters, digits, `_`, `.` and `-` (quotes and `=` would break
/// the grammar).
fn perf_label(subject: &str) -> String {
    subject
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::render::prometheus::tests::sample_report;

    /// The monitoring-plugins perfdata grammar: `'label'=value[UOM];[warn];[crit];[min];[max]`,
    /// space separated; UOM one of s ms us % B KB MB TB c or empty.
    fn assert_perfdata(perf: &str) {
        let mut rest = perf.trim_start();
        assert!(!rest.is_empty(), "no perfdata");
        while !rest.is_empty() {
            let (label, after) = match rest.strip_prefix('\'') {
                Some(quoted) => {
                    let end = quoted
                        .find('\'')
                        .unwrap_or_else(|| panic!("open quote: {rest}"));
                    (&quoted[..end], &quoted[end + 1..])
                }
                None => rest.split_at(rest.find('=').unwrap_or_else(|| panic!("no = in {rest}"))),
            };
            assert!(!label.is_empty() && !label.contains('='), "label {label:?}");
            let after = after
                .strip_prefix('=')
                .unwrap_or_else(|| panic!("no = after {label}"));
            let (data, next) = after.split_at(after.find(' ').unwrap_or(after.len()));
            let mut fields = data.split(';');
            let value = fields.next().unwrap();
            let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
            let uom = &value[digits.len()..];
            assert!(digits.parse::<f64>().is_ok(), "value {value:?} of {label}");
            assert!(
                ["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom),
                "unit {uom} of {label}"
            );
            let thresholds: Vec<&str> = fields.collect();
            assert!(thresholds.len() <= 4, "{data}");
            for t in thresholds {
                assert!(
                    t.is_empty() || t.parse::<f64>().is_ok(),
                    "threshold {t:?} of {label}"
                );
            }
            rest = next.trim_start();
        }
    }

    #[test]
    fn plugin_line_and_perfdata_grammar() {
        let mut r = sample_report("lab");
        r.checks[1].detail = "split brain: 10.0.0.10 is held by n1 and n2".into();
        let text = render(&r);
        let first = text.lines().next().unwrap();
        let (head, perf) = first.split_once(" | ").unwrap();
        assert_eq!(
            head,
            "PAIRCTL CRITICAL - lab critical: vip: split brain: 10.0.0.10 is held by n1 and n2 (+1 more)"
        );
        assert_perfdata(perf);
        for item in [
            "'checks_failed'=1;;;0",
            "'checks_warning'=1;;;0",
            "'elapsed'=0.25s;;;0",
            "'n1 galera_cluster_size'=2;;;0",
            "'shared split_brain'=0;;;0",
            "'n1 ssh_connect'=0.012s;;;0",
        ] {
            assert!(perf.contains(item), "{item} not in {perf}");
        }
        // One long-text line per check that is not ok, worst first.
        let rest: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rest.len(), 2, "{text}");
        assert!(rest[0].starts_with("vip cluster fail: split brain"));
        assert!(rest[1].starts_with("keepalived n2 warn:"));
    }

    #[test]
    fn healthy_is_ok_and_node_text_cannot_break_the_line() {
        let mut r = sample_report("lab");
        r.verdict = Verdict::Healthy;
        r.active = Some("n1".into());
        for c in &mut r.checks {
            c.result = CheckResult::Ok;
            c.impact = None;
        }
        let text = render(&r);
        assert!(text.starts_with("PAIRCTL OK - lab healthy, n1 active, 7 checks ok | "));
        assert_eq!(text.lines().count(), 1);

        r.verdict = Verdict::Degraded;
        r.checks[0].result = CheckResult::Fail;
        r.checks[0].impact = Some(Impact::Degraded);
        r.checks[0].detail = format!("evil | 'x'=1\n\x1b[2Jmore{}", "y".repeat(1000));
        let text = render(&r);
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("PAIRCTL WARNING - "));
        assert_eq!(first.matches(" | ").count(), 1, "{first}");
        assert!(!text.contains('\x1b'));
        assert_perfdata(first.split_once(" | ").unwrap().1);
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().all(|l| l.chars().count() < 1000));
    }

    #[test]
    fn status_words_follow_the_exit_codes() {
        for (v, word) in [
            (Verdict::Healthy, "OK"),
            (Verdict::Degraded, "WARNING"),
            (Verdict::Critical, "CRITICAL"),
            (Verdict::Unknown, "UNKNOWN"),
        ] {
            assert_eq!(status_word(v), word);
        }
    }
}
