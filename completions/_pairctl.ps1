
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'pairctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'pairctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'pairctl' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the cluster: version details, node roles, every check, a verdict')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'The standby takes over now (the active is sick or gone)')
            [CompletionResult]::new('swap', 'swap', [CompletionResultType]::ParameterValue, 'Planned role exchange with both nodes healthy')
            [CompletionResult]::new('rejoin', 'rejoin', [CompletionResultType]::ParameterValue, 'Bring a fenced node back as a healthy standby (after a failover)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the role changes (swap, failover, rejoin) recorded on the nodes')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Collect one redacted support bundle from both nodes')
            [CompletionResult]::new('exporter', 'exporter', [CompletionResultType]::ParameterValue, 'Serve Prometheus metrics for one or many clusters on warm connections')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Install the cluster onto two prepared nodes (idempotent)')
            [CompletionResult]::new('maintenance', 'maintenance', [CompletionResultType]::ParameterValue, 'Freeze role changes for planned work, with a reason and an expiry')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff), or write all pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;status' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Redraw every SECONDS (default 2) on the same connections until interrupted')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Redraw every SECONDS (default 2) on the same connections until interrupted')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;failover' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the preflight and the plan, change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Proceed even when the old active cannot be confirmed down or fenced (risk of split brain: you must know it is dead), when it holds writes the survivor lacks, or during a maintenance; also takes over the cluster lock of another operation')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;swap' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Override a named precondition (repeatable): replica-fresh, gluster-healed, services-ready, maintenance; `lock` takes over the cluster lock of another operation. Split brain and an unreachable standby are never overridden')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the preflight and the plan, change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;rejoin' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the divergence report and the plan, change nothing')
            [CompletionResult]::new('--discard-divergent', '--discard-divergent', [CompletionResultType]::ParameterName, 'Rejoin even though the node committed writes the active never got (it ran as primary after the split): they are discarded and the node gets a full copy (SST)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Proceed during a maintenance or with an unreadable Gluster heal backlog; also takes over the cluster lock of another operation. Split-brain files are never overridden')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;history' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;snapshot' {
            [CompletionResult]::new('-O', '-O ', [CompletionResultType]::ParameterName, 'Output file, or directory for the generated name')
            [CompletionResult]::new('--output-file', '--output-file', [CompletionResultType]::ParameterName, 'Output file, or directory for the generated name')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start of the log window: a duration back from now (e.g. 2h) or a time')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the log window (a time; default now)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Collect from this node only')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Do not redact secrets (the bundle will contain passwords and keys)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print a bundle''s manifest and verify every sha256')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;snapshot;inspect' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;snapshot;help' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print a bundle''s manifest and verify every sha256')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;snapshot;help;inspect' {
            break
        }
        'pairctl;snapshot;help;help' {
            break
        }
        'pairctl;exporter' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics on ADDR (GET /metrics; /metrics?cluster=NAME for one cluster), e.g. 127.0.0.1:9181')
            [CompletionResult]::new('--textfile', '--textfile', [CompletionResultType]::ParameterName, 'Instead of serving: write DIR/pairctl.prom every --interval (temporary file, then rename) for node_exporter''s textfile collector')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --textfile: the time between rounds')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'With --textfile: write once and exit with the worst verdict''s code (for cron or a timer)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;deploy' {
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only this stage (the preflight''s checks run regardless)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Start at this stage (earlier stages are skipped)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print per stage and node exactly what would change; change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Deploy even while a cluster maintenance is in force (`pairctl maintenance on`); also takes over the cluster lock of another operation')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;maintenance' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'End the maintenance now, on both nodes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;maintenance;on' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Put only this node into maintenance (it may be stopped, rebooted, upgraded); without it the whole pair is frozen')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why: shown in status and kept in the history')
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'How long until it expires by itself, e.g. 30m, 2h')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow node maintenance of the active node (its services stop with it)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be recorded, change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;maintenance;off' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be ended, change nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;maintenance;help' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'End the maintenance now, on both nodes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;maintenance;help;on' {
            break
        }
        'pairctl;maintenance;help;off' {
            break
        }
        'pairctl;maintenance;help;help' {
            break
        }
        'pairctl;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write pairctl.1 and one page per subcommand into DIR')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured with auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics on stderr (repeat for more)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to the confirmation prompt (required without a TTY)')
            [CompletionResult]::new('--accept-new-host-keys', '--accept-new-host-keys', [CompletionResultType]::ParameterName, 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'pairctl;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the cluster: version details, node roles, every check, a verdict')
            [CompletionResult]::new('failover', 'failover', [CompletionResultType]::ParameterValue, 'The standby takes over now (the active is sick or gone)')
            [CompletionResult]::new('swap', 'swap', [CompletionResultType]::ParameterValue, 'Planned role exchange with both nodes healthy')
            [CompletionResult]::new('rejoin', 'rejoin', [CompletionResultType]::ParameterValue, 'Bring a fenced node back as a healthy standby (after a failover)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the role changes (swap, failover, rejoin) recorded on the nodes')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Collect one redacted support bundle from both nodes')
            [CompletionResult]::new('exporter', 'exporter', [CompletionResultType]::ParameterValue, 'Serve Prometheus metrics for one or many clusters on warm connections')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Install the cluster onto two prepared nodes (idempotent)')
            [CompletionResult]::new('maintenance', 'maintenance', [CompletionResultType]::ParameterValue, 'Freeze role changes for planned work, with a reason and an expiry')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff), or write all pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'pairctl;help;status' {
            break
        }
        'pairctl;help;failover' {
            break
        }
        'pairctl;help;swap' {
            break
        }
        'pairctl;help;rejoin' {
            break
        }
        'pairctl;help;history' {
            break
        }
        'pairctl;help;snapshot' {
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'Print a bundle''s manifest and verify every sha256')
            break
        }
        'pairctl;help;snapshot;inspect' {
            break
        }
        'pairctl;help;exporter' {
            break
        }
        'pairctl;help;deploy' {
            break
        }
        'pairctl;help;maintenance' {
            [CompletionResult]::new('on', 'on', [CompletionResultType]::ParameterValue, 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves')
            [CompletionResult]::new('off', 'off', [CompletionResultType]::ParameterValue, 'End the maintenance now, on both nodes')
            break
        }
        'pairctl;help;maintenance;on' {
            break
        }
        'pairctl;help;maintenance;off' {
            break
        }
        'pairctl;help;completions' {
            break
        }
        'pairctl;help;man' {
            break
        }
        'pairctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
