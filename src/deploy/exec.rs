//! Making a change on the command's SSH connections: every action is one or two remote
//! commands, bounded by its own limit and the command's deadline; file contents, keys and
//! scripts (which may hold secrets) travel on stdin.

use super::files;
use super::{Action, Change};
use crate::probe::node::shell_quote;
use crate::transport::ssh::{Output, SshSession};
use crate::transport::Deadline;
use crate::transport::Exec;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a change failed: the command as it may be shown, and what it said.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub command: String,
    /// Exit status and stderr, or the transport's reason (timed out, connection lost).
    pub reason: String,
    pub stderr: String,
}

fn failure(command: &str, out: &Output) -> Failure {
    let stderr = out.stderr_str();
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    Failure {
        command: command.to_string(),
        reason: out.failure_summary(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    }
}

fn transport(command: &str, reason: String) -> Failure {
    Failure {
        command: command.to_string(),
        reason,
        stderr: String::new(),
    }
}

async fn exec(
    s: &SshSession,
    shown: &str,
    command: &str,
    input: Option<&[u8]>,
    limit: Duration,
) -> Result<Output, Failure> {
    let out = s
        .exec_with_input(command, input, limit)
        .await
        .map_err(|e| transport(shown, e.into()))?;
    if out.success() {
        Ok(out)
    } else {
        Err(failure(shown, &out))
    }
}

/// Time to send a file: generous for a big binary on a slow link.
fn write_limit(len: usize) -> Duration {
    Duration::from_secs(30 + (len / (1024 * 1024)) as u64)
}

/// Adds the key on stdin to authorized_keys; run with `bash -c` (stdin is the key).
const AUTHORIZE: &str = include_str!("scripts/authorize-key.sh");

/// Makes one change on node `change.node`; the text is a detail for the progress line.
pub async fn apply(
    sessions: &[Arc<SshSession>],
    change: &Change,
    deadline: Deadline,
) -> Result<String, Failure> {
    let s = &sessions[change.node];
    let shown = change.action.shown();
    if let Some((command, input, limit)) = command_of(&change.action) {
        exec(s, &shown, &command, input, deadline.cap(limit)).await?;
        return Ok(match &change.action {
            Action::Write { content, .. } => format!("{} bytes", content.len()),
            _ => String::new(),
        });
    }
    match &change.action {
        Action::AuthorizeKeyOf { source } => {
            authorize_key_of(&sessions[*source], s, &shown, deadline).await
        }
        Action::CopyFiles {
            source,
            files: list,
        } => copy_files(&sessions[*source], s, list, deadline).await,
        Action::EnsureRoles {
            vip,
            units,
            replica_db,
        } => ensure_roles(sessions, vip, units, replica_db.as_deref(), deadline).await,
        // The others are one command each (`command_of`).
        _ => Ok(String::new()),
    }
}

/// The command, its stdin and its limit, for the actions that are one command on the node.
fn command_of(action: &Action) -> Option<(String, Option<&[u8]>, Duration)> {
    const SHORT: Duration = Duration::from_secs(20);
    Some(match action {
        Action::Write {
            path,
            content,
            owner,
            mode,
        } => (
            files::write_command(path, owner, *mode),
            Some(content.as_slice()),
            write_limit(content.len()),
        ),
        Action::Chmod { path, owner, mode } => {
            (files::chmod_command(path, owner, *mode), None, SHORT)
        }
        Action::Symlink { path, target } => (files::symlink_command(path, target), None, SHORT),
        Action::Remove { path } => (files::remove_command(path), None, SHORT),
        Action::AppendLine { path, line } => (
            files::append_line_command(path),
            Some(line.as_bytes()),
            SHORT,
        ),
        Action::Run { script, limit, .. } => ("bash -s".into(), Some(script.as_bytes()), *limit),
        Action::AuthorizeKeyOf { .. } | Action::CopyFiles { .. } | Action::EnsureRoles { .. } => {
            return None
        }
    })
}

/// The public key of `source`'s user, added to `target`'s authorized_keys (once).
async fn authorize_key_of(
    source: &SshSession,
    target: &SshSession,
    shown: &str,
    deadline: Deadline,
) -> Result<String, Failure> {
    let read = "cat \"$HOME/.ssh/id_ed25519.pub\"";
    let out = exec(
        source,
        read,
        read,
        None,
        deadline.cap(Duration::from_secs(20)),
    )
    .await?;
    let key = out.stdout_str();
    let key = key
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    if key.is_empty() {
        return Err(transport(read, "the public key is empty".into()));
    }
    exec(
        target,
        shown,
        AUTHORIZE,
        Some(key.as_bytes()),
        deadline.cap(Duration::from_secs(20)),
    )
    .await?;
    Ok(String::new())
}

/// Each file read on `source` and written on `target` with its owner and mode.
async fn copy_files(
    source: &SshSession,
    target: &SshSession,
    list: &[(String, &'static str, u32)],
    deadline: Deadline,
) -> Result<String, Failure> {
    for (path, owner, mode) in list {
        let read = format!("cat {}", shell_quote(path));
        let out = exec(
            source,
            &read,
            &read,
            None,
            deadline.cap(Duration::from_secs(30)),
        )
        .await?;
        exec(
            target,
            &format!("write {path}"),
            &files::write_command(path, owner, *mode),
            Some(&out.stdout),
            deadline.cap(write_limit(out.stdout.len())),
        )
        .await?;
    }
    Ok(String::new())
}

/// Waits until exactly one node holds the VIP, `units` run there and nowhere else. The notify
/// script does this on every VRRP transition; after a grace period this finishes what it
/// did not (a unit that was installed after the transition, a stop that failed). Then, with
/// `replica_db`, litestream's first sync of it to the standby's replica (see `first_sync`).
async fn ensure_roles(
    sessions: &[Arc<SshSession>],
    vip: &str,
    units: &[&str],
    replica_db: Option<&str>,
    deadline: Deadline,
) -> Result<String, Failure> {
    let (holder, said) = settle_roles(sessions, vip, units, deadline).await?;
    Ok(match replica_db {
        Some(db) => format!(
            "{said}; {}",
            first_sync(&*sessions[holder], db, deadline).await
        ),
        None => said,
    })
}

/// litestream on the new active replicates at its sync interval: the standby's replica, which
/// status judges, has nothing until the first sync. Asks for that sync now (`litestream sync
/// -wait`, as swap does). What it said; a sync that fails fails nothing here (litestream
/// syncs again at its interval, and the verification judges the replica either way).
async fn first_sync(active: &impl crate::transport::Exec, db: &str, deadline: Deadline) -> String {
    match crate::plan::actions::sync_replica(active, db, deadline).await {
        Ok(((), said)) => said,
        Err(e) => format!("the first replica sync did not succeed yet: {e}"),
    }
}

/// The settling of `ensure_roles`: the VIP holder's index and what to report.
async fn settle_roles(
    sessions: &[Arc<SshSession>],
    vip: &str,
    units: &[&str],
    deadline: Deadline,
) -> Result<(usize, String), Failure> {
    const GRACE: Duration = Duration::from_secs(3);
    const LIMIT: Duration = Duration::from_secs(45);
    // k3s takes about a second to start after the VIP arrives: look often (one short command
    // per node a round).
    const POLL: Duration = Duration::from_millis(100);
    let started = Instant::now();
    let end = Deadline::after(deadline.cap(LIMIT));
    let probe = format!(
        "ip -o addr show | grep -q ' {vip}/' && echo holds; for u in {}; do echo \"$u $(systemctl is-active $u)\"; done",
        units.join(" ")
    );
    let mut last: String;
    let mut acted = false;
    loop {
        let rounds = futures::future::join_all(
            sessions
                .iter()
                .map(|s| s.exec(&probe, end.cap(Duration::from_secs(10)))),
        )
        .await;
        let mut holders = Vec::new();
        let mut running: Vec<Vec<&str>> = Vec::new();
        let texts: Vec<String> = rounds
            .into_iter()
            .map(|r| r.map(|o| o.stdout_str()).unwrap_or_default())
            .collect();
        for (i, text) in texts.iter().enumerate() {
            if text.lines().any(|l| l.trim() == "holds") {
                holders.push(i);
            }
            running.push(
                text.lines()
                    .filter_map(|l| l.strip_suffix(" active"))
                    .collect(),
            );
        }
        if let [h] = holders.as_slice() {
            let h = *h;
            let missing: Vec<&str> = units
                .iter()
                .copied()
                .filter(|u| !running[h].contains(u))
                .collect();
            let extra: Vec<(usize, Vec<&str>)> = (0..sessions.len())
                .filter(|i| *i != h && !running[*i].is_empty())
                .map(|i| (i, running[i].clone()))
                .collect();
            if missing.is_empty() && extra.is_empty() {
                let name = &sessions[h].target().name;
                let said = format!(
                    "{} on {name}{}",
                    units.join(", "),
                    if acted {
                        " (finished the notify script's work)"
                    } else {
                        ""
                    }
                );
                return Ok((h, said));
            }
            last = format!(
                "VIP on {}; {}{}",
                sessions[h].target().name,
                if missing.is_empty() {
                    String::new()
                } else {
                    format!("not running there: {}", missing.join(", "))
                },
                extra
                    .iter()
                    .map(|(i, u)| format!(
                        "; running on {}: {}",
                        sessions[*i].target().name,
                        u.join(", ")
                    ))
                    .collect::<String>()
            );
            if started.elapsed() >= GRACE {
                if !missing.is_empty() {
                    let _ = sessions[h]
                        .exec(
                            &format!("systemctl start {}", missing.join(" ")),
                            end.cap(Duration::from_secs(30)),
                        )
                        .await;
                    acted = true;
                }
                for (i, u) in &extra {
                    let _ = sessions[*i]
                        .exec(
                            &format!("systemctl stop {}", u.join(" ")),
                            end.cap(Duration::from_secs(30)),
                        )
                        .await;
                    acted = true;
                }
            }
        } else {
            last = match holders.len() {
                0 => format!("no node holds the VIP {vip}"),
                _ => format!("both nodes hold the VIP {vip} (split brain)"),
            };
        }
        if end.remaining() < Duration::from_millis(400) {
            return Err(transport(
                &format!("systemctl start/stop {}", units.join(" ")),
                format!(
                    "not settled after {}: {last}",
                    crate::format::human_duration(started.elapsed())
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::transport::fake::FakeNode;

    #[tokio::test]
    async fn the_first_replica_sync_says_what_litestream_did_and_a_failure_fails_nothing() {
        let active = FakeNode::new("n1").answer(
            "litestream sync -json -wait",
            "{\"db_path\": \"/db/state.db\", \"txid\": 3, \"replica_txid\": 3, \"duration_ms\": 40}\n",
        );
        let said = first_sync(
            &active,
            "/db/state.db",
            Deadline::after(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(
            said,
            "litestream synced txid 3 to the replica (at 3) in 40 ms"
        );
        assert_eq!(active.commands().len(), 1);
        // litestream not answering: asked until the deadline, then said; the step still
        // succeeds (the verification judges the replica).
        let down = FakeNode::new("n1").exits("litestream sync", 1, "Error: no socket");
        let said = first_sync(
            &down,
            "/db/state.db",
            Deadline::after(Duration::from_millis(300)),
        )
        .await;
        assert!(down.commands().len() >= 2, "{:?}", down.commands());
        assert_eq!(
            said,
            "the first replica sync did not succeed yet: litestream sync did not succeed: no socket"
        );
    }
}
