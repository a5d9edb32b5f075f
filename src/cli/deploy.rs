use clap::Args;

/// The stage names, in the order they run (`pairctl::deploy::Stage`).
const STAGES: [&str; 9] = [
    "preflight",
    "ssh-trust",
    "ingress",
    "galera",
    "gluster",
    "witness",
    "k3s",
    "record",
    "keepalived",
];

#[derive(Debug, Args)]
#[command(after_help = "\
Stages, in order (each checks, then changes only what differs; a re-run changes nothing):
  preflight   root over SSH, OS, systemd, packages, clocks, disk, one subnet, free ports
  ssh-trust   root SSH between the nodes, host keys checked
  galera      MariaDB + Galera config, bootstrap the first node, join the second,
              the monitoring user (password from galera.password_file)
  gluster     trusted pool, replica-2 volumes, mounts
  witness     with [witness]: garbd (Galera size 3), arbiter bricks (replica 3
              arbiter 1, healed), /etc/pairctl/witness and keys for the takeover
  ingress     nginx on 443 with a certificate for the VIP and both nodes
  k3s         k3s, litestream and the services list from k3s.bundle_dir
  record      the deployment record status shows
  keepalived  unicast VRRP, the maintenance track script, the notify script

Without --yes the plan is printed and confirmed on a TTY; without a TTY deploy refuses.")]
pub struct DeployArgs {
    /// Print per stage and node exactly what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Run only this stage (the preflight's checks run regardless)
    #[arg(long, value_name = "STAGE", conflicts_with = "from", value_parser = STAGES)]
    pub only: Option<String>,
    /// Start at this stage (earlier stages are skipped)
    #[arg(long, value_name = "STAGE", value_parser = STAGES)]
    pub from: Option<String>,
    /// Deploy even while a cluster maintenance is in force (`pairctl maintenance on`); also
    /// takes over the cluster lock of another operation
    #[arg(long)]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn stage_names_match_the_deploy_stages() {
        let names: Vec<&str> = crate::deploy::Stage::ALL.map(|s| s.name()).to_vec();
        assert_eq!(names, super::STAGES.to_vec());
    }
}
