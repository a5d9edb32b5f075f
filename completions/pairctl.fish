# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pairctl_global_optspecs
    string join \n c/config= o/output= timeout= v/verbose q/quiet color= y/yes accept-new-host-keys h/help V/version
end

function __fish_pairctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pairctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pairctl_using_subcommand
    set -l cmd (__fish_pairctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pairctl -n "__fish_pairctl_needs_command" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_needs_command" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_needs_command" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_needs_command" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_needs_command" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_needs_command" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_needs_command" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "status" -d 'Show the cluster: version details, node roles, every check, a verdict'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "failover" -d 'The standby takes over now (the active is sick or gone)'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "swap" -d 'Planned role exchange with both nodes healthy'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "rejoin" -d 'Bring a fenced node back as a healthy standby (after a failover)'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "history" -d 'List the role changes (swap, failover, rejoin) recorded on the nodes'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "snapshot" -d 'Collect one redacted support bundle from both nodes'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "exporter" -d 'Serve Prometheus metrics for one or many clusters on warm connections'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "deploy" -d 'Install the cluster onto two prepared nodes (idempotent)'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "maintenance" -d 'Freeze role changes for planned work, with a reason and an expiry'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "man" -d 'Print the man page (roff), or write all pages into a directory'
complete -c pairctl -n "__fish_pairctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s w -l watch -d 'Redraw every SECONDS (default 2) on the same connections until interrupted' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -l dry-run -d 'Print the preflight and the plan, change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -l force -d 'Proceed even when the old active cannot be confirmed down or fenced (risk of split brain: you must know it is dead), when it holds writes the survivor lacks, or during a maintenance; also takes over the cluster lock of another operation'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand failover" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -l force -d 'Override a named precondition (repeatable): replica-fresh, gluster-healed, services-ready, maintenance; `lock` takes over the cluster lock of another operation. Split brain and an unreachable standby are never overridden' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -l dry-run -d 'Print the preflight and the plan, change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand swap" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l dry-run -d 'Print the divergence report and the plan, change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l discard-divergent -d 'Rejoin even though the node committed writes the active never got (it ran as primary after the split): they are discarded and the node gets a full copy (SST)'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l force -d 'Proceed during a maintenance or with an unreadable Gluster heal backlog; also takes over the cluster lock of another operation. Split-brain files are never overridden'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand rejoin" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s O -l output-file -d 'Output file, or directory for the generated name' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l since -d 'Start of the log window: a duration back from now (e.g. 2h) or a time' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l until -d 'End of the log window (a time; default now)' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l node -d 'Collect from this node only' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l no-redact -d 'Do not redact secrets (the bundle will contain passwords and keys)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -f -a "inspect" -d 'Print a bundle\'s manifest and verify every sha256'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and not __fish_seen_subcommand_from inspect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Print a bundle\'s manifest and verify every sha256'
complete -c pairctl -n "__fish_pairctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l listen -d 'Serve Prometheus metrics on ADDR (GET /metrics; /metrics?cluster=NAME for one cluster), e.g. 127.0.0.1:9181' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l textfile -d 'Instead of serving: write DIR/pairctl.prom every --interval (temporary file, then rename) for node_exporter\'s textfile collector' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l interval -d 'With --textfile: the time between rounds' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l once -d 'With --textfile: write once and exit with the worst verdict\'s code (for cron or a timer)'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand exporter" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l only -d 'Run only this stage (the preflight\'s checks run regardless)' -r -f -a "preflight\t''
ssh-trust\t''
ingress\t''
galera\t''
gluster\t''
witness\t''
k3s\t''
record\t''
keepalived\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l from -d 'Start at this stage (earlier stages are skipped)' -r -f -a "preflight\t''
ssh-trust\t''
ingress\t''
galera\t''
gluster\t''
witness\t''
k3s\t''
record\t''
keepalived\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l dry-run -d 'Print per stage and node exactly what would change; change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l force -d 'Deploy even while a cluster maintenance is in force (`pairctl maintenance on`); also takes over the cluster lock of another operation'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand deploy" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -f -a "on" -d 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -f -a "off" -d 'End the maintenance now, on both nodes'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and not __fish_seen_subcommand_from on off help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l node -d 'Put only this node into maintenance (it may be stopped, rebooted, upgraded); without it the whole pair is frozen' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l reason -d 'Why: shown in status and kept in the history' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l for -d 'How long until it expires by itself, e.g. 30m, 2h' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l force -d 'Allow node maintenance of the active node (its services stop with it)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l dry-run -d 'Print what would be recorded, change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from on" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -l dry-run -d 'Print what would be ended, change nothing'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from off" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "on" -d 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "off" -d 'End the maintenance now, on both nodes'
complete -c pairctl -n "__fish_pairctl_using_subcommand maintenance; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -l dir -d 'Write pairctl.1 and one page per subcommand into DIR' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s c -l config -d 'Configuration file [default: $PAIRCTL_CONFIG, ./pairctl.toml, ~/.config/pairctl/pairctl.toml, /etc/pairctl/pairctl.toml]; `exporter` takes several, or a directory of *.toml files' -r -F
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
prometheus\t'Prometheus text exposition (status only)'
nagios\t'A Nagios/Icinga plugin line with perfdata (status only)'"
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -l timeout -d 'Hard deadline for the whole command, e.g. 10s, 1m [default: 10s for status, 60s for swap and failover]' -r
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -l color -d 'When to use colour (NO_COLOR is honoured with auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s v -l verbose -d 'More diagnostics on stderr (repeat for more)'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s q -l quiet -d 'Only errors on stderr'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s y -l yes -d 'Answer yes to the confirmation prompt (required without a TTY)'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -l accept-new-host-keys -d 'Learn the host key of a node seen for the first time (writes known_hosts); a changed key is still refused'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pairctl -n "__fish_pairctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "status" -d 'Show the cluster: version details, node roles, every check, a verdict'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "failover" -d 'The standby takes over now (the active is sick or gone)'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "swap" -d 'Planned role exchange with both nodes healthy'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "rejoin" -d 'Bring a fenced node back as a healthy standby (after a failover)'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "history" -d 'List the role changes (swap, failover, rejoin) recorded on the nodes'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "snapshot" -d 'Collect one redacted support bundle from both nodes'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "exporter" -d 'Serve Prometheus metrics for one or many clusters on warm connections'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "deploy" -d 'Install the cluster onto two prepared nodes (idempotent)'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "maintenance" -d 'Freeze role changes for planned work, with a reason and an expiry'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "man" -d 'Print the man page (roff), or write all pages into a directory'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and not __fish_seen_subcommand_from status failover swap rejoin history snapshot exporter deploy maintenance completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and __fish_seen_subcommand_from snapshot" -f -a "inspect" -d 'Print a bundle\'s manifest and verify every sha256'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and __fish_seen_subcommand_from maintenance" -f -a "on" -d 'Freeze role changes — the whole pair, or one node that may then be stopped — with a reason, until an expiry the nodes enforce themselves'
complete -c pairctl -n "__fish_pairctl_using_subcommand help; and __fish_seen_subcommand_from maintenance" -f -a "off" -d 'End the maintenance now, on both nodes'
