
use builtin;
use str;

set edit:completion:arg-completer[pairctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'pairctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'pairctl'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Show the cluster: version details, node roles, every check, a verdict'
            cand failover 'The standby takes over now (the active is sick or gone)'
            cand swap 'Planned role exchange with both nodes healthy'
            cand rejoin 'Bring a fenced node back as a healthy standby (after a failover)'
            cand history 'List the role changes (swap, failover, rejoin) recorded on the nodes'
            cand snapshot 'Collect one redacted support bundle from both nodes'
            cand exporter 'Serve Prometheus metrics for one or many clusters on warm connections'
            cand deploy 'Install the cluster onto two prepared nodes (idempotent)'
            cand maintenance 'Freeze role changes for planned work, with a reason and an expiry'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff), or write all pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;status'= {
            cand -w 'Redraw every SECONDS (default 2) on the same connections until interrupted'
            cand --watch 'Redraw every SECONDS (default 2) on the same connections until interrupted'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;failover'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --dry-run 'Print the preflight and the plan, change nothing'
            cand --force 'Proceed even when the old active cannot be confirmed down or fenced (risk of split brain: you must know it is dead), when it holds writes the survivor lacks, or during a maintenance; also takes over the cluster lock of another operation'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;swap'= {
            cand --force 'Override a named precondition (repeatable): replica-fresh, gluster-healed, services-ready, maintenance; `lock` takes over the cluster lock of another operation. Split brain and an unreachable standby are never overridden'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --dry-run 'Print the preflight and the plan, change nothing'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;rejoin'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --dry-run 'Print the divergence report and the plan, change nothing'
            cand --discard-divergent 'Rejoin even though the node committed writes the active never got (it ran as primary after the split): they are discarded and the node gets a full copy (SST)'
            cand --force 'Proceed during a maintenance or with an unreadable Gluster heal backlog; also takes over the cluster lock of another operation. Split-brain files are never overridden'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;history'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;snapshot'= {
            cand -O 'Output file, or directory for the generated name'
            cand --output-file 'Output file, or directory for the generated name'
            cand --since 'Start of the log window: a duration back from now (e.g. 2h) or a time'
            cand --until 'End of the log window (a time; default now)'
            cand --node 'Collect from this node only'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --no-redact 'Do not redact secrets (the bundle will contain passwords and keys)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand inspect 'Print a bundle''s manifest and verify every sha256'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;snapshot;inspect'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;snapshot;help'= {
            cand inspect 'Print a bundle''s manifest and verify every sha256'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;snapshot;help;inspect'= {
        }
        &'pairctl;snapshot;help;help'= {
        }
        &'pairctl;exporter'= {
            cand --listen 'Serve Prometheus metrics on ADDR (GET /metrics; /metrics?cluster=NAME for one cluster), e.g. 127.0.0.1:9181'
            cand --textfile 'Instead of serving: write DIR/pairctl.prom every --interval (temporary file, then rename) for node_exporter''s textfile collector'
            cand --interval 'With --textfile: the time between rounds'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --once 'With --textfile: write once and exit with the worst verdict''s code (for cron or a timer)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;deploy'= {
            cand --only 'Run only this stage (the preflight''s checks run regardless)'
            cand --from 'Start at this stage (earlier stages are skipped)'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --dry-run 'Print per stage and node exactly what would change; change nothing'
            cand --force 'Deploy even while a cluster maintenance is in force (`pairctl maintenance on`); also takes over the cluster lock of another operation'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;maintenance'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand on 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
            cand off 'End the maintenance now, on both nodes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;maintenance;on'= {
            cand --node 'Put only this node into maintenance (it may be stopped, rebooted, upgraded); without it the whole pair is frozen'
            cand --reason 'Why: shown in status and kept in the history'
            cand --for 'How long until it expires by itself, e.g. 30m, 2h'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --force 'Allow node maintenance of the active node (its services stop with it)'
            cand --dry-run 'Print what would be recorded, change nothing'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;maintenance;off'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand --dry-run 'Print what would be ended, change nothing'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;maintenance;help'= {
            cand on 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
            cand off 'End the maintenance now, on both nodes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;maintenance;help;on'= {
        }
        &'pairctl;maintenance;help;off'= {
        }
        &'pairctl;maintenance;help;help'= {
        }
        &'pairctl;completions'= {
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;man'= {
            cand --dir 'Write pairctl.1 and one page per subcommand into DIR'
            cand -c 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand --config 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --timeout 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]'
            cand --color 'When to use colour (NO_COLOR is honoured with auto)'
            cand -v 'More diagnostics on stderr (repeat for more)'
            cand --verbose 'More diagnostics on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -y 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --yes 'Answer yes to the confirmation prompt (required without a TTY)'
            cand --accept-new-host-keys 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'pairctl;help'= {
            cand status 'Show the cluster: version details, node roles, every check, a verdict'
            cand failover 'The standby takes over now (the active is sick or gone)'
            cand swap 'Planned role exchange with both nodes healthy'
            cand rejoin 'Bring a fenced node back as a healthy standby (after a failover)'
            cand history 'List the role changes (swap, failover, rejoin) recorded on the nodes'
            cand snapshot 'Collect one redacted support bundle from both nodes'
            cand exporter 'Serve Prometheus metrics for one or many clusters on warm connections'
            cand deploy 'Install the cluster onto two prepared nodes (idempotent)'
            cand maintenance 'Freeze role changes for planned work, with a reason and an expiry'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff), or write all pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'pairctl;help;status'= {
        }
        &'pairctl;help;failover'= {
        }
        &'pairctl;help;swap'= {
        }
        &'pairctl;help;rejoin'= {
        }
        &'pairctl;help;history'= {
        }
        &'pairctl;help;snapshot'= {
            cand inspect 'Print a bundle''s manifest and verify every sha256'
        }
        &'pairctl;help;snapshot;inspect'= {
        }
        &'pairctl;help;exporter'= {
        }
        &'pairctl;help;deploy'= {
        }
        &'pairctl;help;maintenance'= {
            cand on 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
            cand off 'End the maintenance now, on both nodes'
        }
        &'pairctl;help;maintenance;on'= {
        }
        &'pairctl;help;maintenance;off'= {
        }
        &'pairctl;help;completions'= {
        }
        &'pairctl;help;man'= {
        }
        &'pairctl;help;help'= {
        }
    ]
    $completions[$command]
}
