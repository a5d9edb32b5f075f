//! ingress: nginx serving HTTPS on 443 with a certificate for the VIP and both node
//! addresses, started by keepalived's notify script on the active node only (so no
//! autostart).
//!
//! The certificate, in order of preference:
//! 1. `deploy.tls_cert_file` + `deploy.tls_key_file`: installed as they are on both nodes.
//! 2. What the nodes have, when it is valid: issued by the trusted CA (`ingress.ca_file`, or
//!    else the cluster CA on the first node), not a CA itself, its SANs cover the VIP and
//!    both node addresses, its key matches, and it is good for 30 more days. A node without a
//!    valid one gets a copy from the node that has one.
//! 3. Otherwise a new one, issued on the first node by the trusted CA: the key of
//!    `ingress.ca_file` given as `deploy.ca_key_file` (installed on the first node), or the
//!    cluster CA already there (/etc/pairctl/tls/ca.{crt,key}), or — when no `ingress.ca_file`
//!    is configured — a cluster CA generated there. Then copied to the second node.

use super::Env;
use crate::deploy::files::{self, Desired, Effect, FileState};
use crate::deploy::remote::{self, parse_units, Script, Sections};
use crate::deploy::templates::{
    CA_CERT, CA_KEY, DB_TLS_CERT, DB_TLS_KEY, INGRESS_CERT, INGRESS_KEY, NGINX_DEFAULT,
    NGINX_ENABLED, NGINX_SITE, TLS_DIR,
};
use crate::deploy::{Action, Change, Problem, StagePlan};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const NGINX: &str = "nginx.service";
const RELOAD: &[Effect] = &[Effect::Reload(NGINX)];
const CA_END: &str = "PAIRCTL_CA_END";
/// Re-issue a certificate that expires within this many seconds (30 days).
const RENEW_BEFORE: u32 = 30 * 24 * 3600;

fn managed_paths() -> [&'static str; 9] {
    [
        DB_TLS_CERT,
        DB_TLS_KEY,
        INGRESS_CERT,
        INGRESS_KEY,
        NGINX_SITE,
        NGINX_ENABLED,
        NGINX_DEFAULT,
        CA_CERT,
        CA_KEY,
    ]
}

pub fn script(env: &Env, node: usize) -> String {
    let verify = match &env.ca_pem {
        Some(pem) if !pem.contains(CA_END) => format!(
            "if [ -s {INGRESS_CERT} ]; then t=$(mktemp); cat > \"$t\" <<'{CA_END}'\n{}\n{CA_END}\n\
openssl verify -CAfile \"$t\" {INGRESS_CERT} 2>&1 | tail -n 1; rm -f \"$t\"; fi",
            pem.trim_end()
        ),
        _ => format!(
            "if [ -s {INGRESS_CERT} ] && [ -s {CA_CERT} ]; then openssl verify -CAfile {CA_CERT} {INGRESS_CERT} 2>&1 | tail -n 1; fi"
        ),
    };
    let mut s = Script::new()
        .section("units", &remote::units_fragment(&[NGINX]))
        .section("files", &files::check_fragment(&managed_paths()))
        .section(
            "cert",
            &format!(
                "if [ -s {INGRESS_CERT} ]; then openssl x509 -in {INGRESS_CERT} -noout -ext subjectAltName,basicConstraints; \
openssl x509 -in {INGRESS_CERT} -noout -checkend {RENEW_BEFORE} >/dev/null && echo 'checkend|ok'; \
if [ -s {INGRESS_KEY} ]; then a=$(openssl x509 -in {INGRESS_CERT} -noout -pubkey | sha256sum); \
b=$(openssl pkey -in {INGRESS_KEY} -pubout | sha256sum); [ \"$a\" = \"$b\" ] && echo 'key|match'; fi; fi"
            ),
        )
        .raw_section("verify", &verify);
    if node == 0 && env.ca_pem.is_none() {
        s = s.section("ca", &format!("cat {CA_CERT}"));
    }
    s.build()
}

/// What the check says about a node's ingress certificate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertFacts {
    pub present: bool,
    pub ips: Vec<IpAddr>,
    pub is_ca: bool,
    pub lasts: bool,
    pub key_matches: bool,
    pub verified: bool,
}

pub fn parse_cert(cert: &str, verify: &str) -> CertFacts {
    let mut f = CertFacts {
        present: !cert.trim().is_empty(),
        ..CertFacts::default()
    };
    for line in cert.lines().map(str::trim) {
        if line == "CA:TRUE" || line.starts_with("CA:TRUE,") {
            f.is_ca = true;
        }
        if line == "checkend|ok" {
            f.lasts = true;
        }
        if line == "key|match" {
            f.key_matches = true;
        }
        for part in line.split(',') {
            if let Some(ip) = part.trim().strip_prefix("IP Address:") {
                if let Ok(ip) = ip.trim().parse() {
                    f.ips.push(ip);
                }
            }
        }
    }
    f.verified = verify.trim_end().ends_with(": OK");
    f
}

impl CertFacts {
    /// Why this certificate will not do (empty: it will).
    pub fn problems(&self, wanted: &[IpAddr], trust: &str) -> Vec<String> {
        if !self.present {
            return vec!["none installed".into()];
        }
        let mut p = Vec::new();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|ip| !self.ips.contains(ip))
            .map(|ip| ip.to_string())
            .collect();
        if !missing.is_empty() {
            p.push(format!("does not cover {}", missing.join(", ")));
        }
        if self.is_ca {
            p.push("is a CA certificate (TLS clients refuse it as a server certificate)".into());
        }
        if !self.key_matches {
            p.push("its key does not match".into());
        }
        if !self.lasts {
            p.push("expires within 30 days".into());
        }
        if !self.verified {
            p.push(format!("is not issued by {trust}"));
        }
        p
    }
}

fn reload_changes(node: usize, phase: u8, units: &Sections) -> Result<Vec<Change>, Problem> {
    let units = parse_units(units.get("units")?);
    let mut out = vec![Change::new(
        node,
        phase,
        "check the nginx configuration (nginx -t)",
        Action::Run {
            shown: "nginx -t".into(),
            script: "nginx -t -q\n".into(),
            limit: Duration::from_secs(30),
        },
    )];
    let effects: BTreeSet<Effect> = RELOAD.iter().copied().collect();
    out.extend(files::effect_changes(node, phase, &effects, &units));
    Ok(out)
}

/// The shell script that issues the ingress certificate on the first node (creating the
/// cluster CA first when `new_ca`).
pub fn issue_script(env: &Env, new_ca: bool) -> String {
    let cfg = env.cfg;
    let mut sans: Vec<String> = vec![format!("IP:{}", cfg.vip)];
    sans.extend(cfg.nodes.iter().map(|n| format!("IP:{}", n.address)));
    sans.extend(cfg.nodes.iter().map(|n| format!("DNS:{}", n.name)));
    remote::with_params(
        include_str!("../scripts/ingress-issue.sh"),
        &[
            ("TLS_DIR", TLS_DIR),
            ("CLUSTER", &cfg.name),
            ("VIP", &cfg.vip.to_string()),
            ("SANS", &sans.join(",")),
            ("NEW_CA", if new_ca { "1" } else { "0" }),
            ("INGRESS_KEY", INGRESS_KEY),
            ("INGRESS_CERT", INGRESS_CERT),
        ],
    )
}

pub fn plan(env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    let mut plan = StagePlan::default();
    let mut states = Vec::new();
    for s in seen {
        states.push(files::parse_states(s.get("files")?));
    }
    let mut touched = vec![false; seen.len()];
    site_changes(env, seen, &states, &mut plan, &mut touched)?;
    if env.cfg.deploy.tls_cert_file.is_none() {
        certificate_changes(env, seen, &states, &mut plan, &mut touched)?;
    }
    for (i, s) in seen.iter().enumerate() {
        if touched[i] {
            plan.extend(reload_changes(i, 3, s)?);
        }
        let same = |a: &str, b: &str| match (states[i].get(a), states[i].get(b)) {
            (Some(FileState::File { sha256: x, .. }), Some(FileState::File { sha256: y, .. })) => {
                x == y
            }
            _ => false,
        };
        if touched[i] || !same(INGRESS_CERT, DB_TLS_CERT) || !same(INGRESS_KEY, DB_TLS_KEY) {
            plan.push(db_tls_change(i));
        }
    }
    Ok(plan)
}

type States = std::collections::BTreeMap<String, FileState>;

/// nginx's site, from the bundle or built in; the distribution's default site off; the
/// certificate given in deploy.tls_cert_file/tls_key_file; nginx's autostart off.
fn site_changes(
    env: &Env,
    seen: &[Sections],
    states: &[States],
    plan: &mut StagePlan,
    touched: &mut [bool],
) -> Result<(), Problem> {
    let cfg = env.cfg;
    let site = env
        .bundle
        .get("ingress.nginx.conf")
        .unwrap_or_else(|| Arc::new(super::super::templates::nginx_site(cfg).into_bytes()));
    let mut desired = vec![
        Desired::shared(NGINX_SITE, site, 0o644, RELOAD),
        Desired::link(NGINX_ENABLED, "../sites-available/pairctl-ingress", RELOAD),
        Desired::absent(NGINX_DEFAULT, RELOAD),
    ];
    if let (Some(cert), Some(key)) = (&cfg.deploy.tls_cert_file, &cfg.deploy.tls_key) {
        let pem = std::fs::read(cert).map_err(|e| {
            Problem::new(
                None,
                format!("cannot read deploy.tls_cert_file {}: {e}", cert.display()),
            )
        })?;
        desired.push(Desired::file(INGRESS_CERT, pem, 0o644, RELOAD));
        desired.push(Desired::file(
            INGRESS_KEY,
            format!("{}\n", key.expose().trim_end()),
            0o600,
            RELOAD,
        ));
    }
    for (i, s) in seen.iter().enumerate() {
        let (changes, _) = files::plan_files(i, 0, &desired, &states[i]);
        touched[i] |= !changes.is_empty();
        plan.extend(changes);
        let units = parse_units(s.get("units")?);
        if units.get(NGINX).map(|u| u.is_enabled()) == Some(true) {
            plan.push(files::systemctl(
                i,
                0,
                "disable nginx's autostart (keepalived's notify script starts it on the active node)".into(),
                "disable nginx.service",
                Duration::from_secs(30),
            ));
        }
    }
    Ok(())
}

/// What a node copies from another: the ingress certificate and its key.
fn cert_files() -> Vec<(String, &'static str, u32)> {
    vec![
        (INGRESS_CERT.to_string(), files::ROOT, 0o644),
        (INGRESS_KEY.to_string(), files::ROOT, 0o600),
    ]
}

/// The SHA-256 of `path` on the node whose file states are `states`, if it is a file.
fn sha(states: &States, path: &str) -> Option<String> {
    match states.get(path) {
        Some(FileState::File { sha256, .. }) => Some(sha256.clone()),
        _ => None,
    }
}

/// Without deploy.tls_cert_file: each node's certificate good for the VIP and both
/// addresses, signed by the cluster CA and not expiring soon; else copied from a node whose
/// certificate is good, else issued on the first node (with a new CA if there is none).
fn certificate_changes(
    env: &Env,
    seen: &[Sections],
    states: &[States],
    plan: &mut StagePlan,
    touched: &mut [bool],
) -> Result<(), Problem> {
    let cfg = env.cfg;
    let mut wanted: Vec<IpAddr> = vec![cfg.vip];
    wanted.extend(cfg.nodes.iter().map(|n| n.address));
    let trust = match &cfg.ingress.ca_file {
        Some(p) => format!("the CA in {}", p.display()),
        None => format!("the cluster CA on {}", env.node_name(0)),
    };
    let mut facts: Vec<CertFacts> = Vec::new();
    for s in seen {
        facts.push(parse_cert(s.get("cert")?, s.get("verify")?));
    }
    // Without ingress.ca_file only the first node has the CA: the second node's
    // certificate is good when it is the first node's.
    if env.ca_pem.is_none() && facts.len() == 2 && !facts[1].verified {
        facts[1].verified = facts[0].verified
            && sha(&states[1], INGRESS_CERT).is_some()
            && sha(&states[1], INGRESS_CERT) == sha(&states[0], INGRESS_CERT)
            && sha(&states[1], INGRESS_KEY) == sha(&states[0], INGRESS_KEY);
    }
    let problems: Vec<Vec<String>> = facts.iter().map(|f| f.problems(&wanted, &trust)).collect();
    let good: Vec<usize> = (0..facts.len())
        .filter(|i| problems[*i].is_empty())
        .collect();
    let files = cert_files();
    let Some(&from) = good.first() else {
        return issue_changes(env, states, &wanted, &trust, &problems, plan, touched);
    };
    for i in (0..facts.len()).filter(|i| !good.contains(i)) {
        plan.push(Change::new(
            i,
            2,
            format!(
                "copy the ingress certificate and key from {} (this node's {})",
                env.node_name(from),
                problems[i].join(", ")
            ),
            Action::CopyFiles {
                source: from,
                files: files.clone(),
            },
        ));
        touched[i] = true;
    }
    Ok(())
}

/// No node has a good certificate: issue one on the first node, then copy it to the others.
fn issue_changes(
    env: &Env,
    states: &[States],
    wanted: &[IpAddr],
    trust: &str,
    problems: &[Vec<String>],
    plan: &mut StagePlan,
    touched: &mut [bool],
) -> Result<(), Problem> {
    let cfg = env.cfg;
    let files = cert_files();
    let ca_here = matches!(
        (states[0].get(CA_CERT), states[0].get(CA_KEY)),
        (Some(FileState::File { .. }), Some(FileState::File { .. }))
    );
    let new_ca = match (&env.ca_pem, &cfg.deploy.ca_key) {
        (Some(pem), Some(key)) => {
            let ca = [
                Desired::file(CA_CERT, pem.clone(), 0o644, &[]),
                Desired::file(CA_KEY, format!("{}\n", key.expose().trim_end()), 0o600, &[]),
            ];
            let (changes, _) = files::plan_files(0, 0, &ca, &states[0]);
            plan.extend(changes);
            false
        }
        (Some(pem), None) => {
            if !(ca_here && sha(&states[0], CA_CERT) == Some(files::sha256_hex(pem.as_bytes()))) {
                return Err(Problem::new(
                    Some(0),
                    format!(
                        "the ingress certificate must be (re)issued ({}: {}) and the key of {} is not available",
                        env.node_name(0),
                        problems[0].join(", "),
                        cfg.ingress.ca_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                    ),
                )
                .hint("set deploy.ca_key_file to the CA's key (0600), or install a certificate with deploy.tls_cert_file and deploy.tls_key_file"));
            }
            false
        }
        (None, _) => !ca_here,
    };
    let why = problems[0].join(", ");
    plan.push(Change::new(
        0,
        1,
        if new_ca {
            format!(
                "generate the cluster CA ({CA_CERT}) and issue the ingress certificate for {} (the current one: {why})",
                wanted.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(
                "issue the ingress certificate for {} with {trust} (the current one: {why})",
                wanted.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ")
            )
        },
        Action::Run {
            shown: "openssl x509 -req … (issue the ingress certificate)".into(),
            script: issue_script(env, new_ca),
            limit: Duration::from_secs(60),
        },
    ));
    touched[0] = true;
    for (i, t) in touched.iter_mut().enumerate().skip(1) {
        plan.push(Change::new(
            i,
            2,
            format!(
                "copy the new ingress certificate and key from {}",
                env.node_name(0)
            ),
            Action::CopyFiles {
                source: 0,
                files: files.clone(),
            },
        ));
        *t = true;
    }
    Ok(())
}

/// MariaDB's copy of this node's ingress certificate and key; a running server reloads it
/// (`FLUSH SSL`, no restart).
fn db_tls_change(node: usize) -> Change {
    Change::new(
        node,
        3,
        "install the ingress certificate for MariaDB (FLUSH SSL where it runs)",
        Action::Run {
            shown: format!("install {INGRESS_CERT} {DB_TLS_CERT}; mariadb -e 'FLUSH SSL'"),
            script: remote::with_params(
                include_str!("../scripts/ingress-db-tls.sh"),
                &[
                    ("INGRESS_CERT", INGRESS_CERT),
                    ("INGRESS_KEY", INGRESS_KEY),
                    ("DB_TLS_CERT", DB_TLS_CERT),
                    ("DB_TLS_KEY", DB_TLS_KEY),
                ],
            ),
            limit: Duration::from_secs(30),
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{env_for, lab_cfg, summaries};
    use super::*;

    const CERT_OK: &str = "X509v3 Basic Constraints: critical
    CA:FALSE
X509v3 Subject Alternative Name: \n    IP Address:10.213.57.10, IP Address:10.213.57.11, IP Address:10.213.57.12, DNS:n1, DNS:n2
checkend|ok
key|match
";

    #[test]
    fn certificate_facts() {
        let f = parse_cert(CERT_OK, "/etc/pairctl/tls/ingress.crt: OK\n");
        assert!(f.present && f.lasts && f.key_matches && f.verified && !f.is_ca);
        assert_eq!(f.ips.len(), 3);
        let wanted: Vec<IpAddr> = vec!["10.213.57.13".parse().unwrap()];
        assert_eq!(
            f.problems(&wanted, "x"),
            vec!["does not cover 10.213.57.13"]
        );
        let ca = parse_cert(
            &CERT_OK.replace("CA:FALSE", "CA:TRUE"),
            "error 20 at 0 depth lookup: unable to get local issuer certificate",
        );
        let p = ca.problems(&[], "the CA in /ca.pem");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[1].contains("not issued by the CA in /ca.pem"));
    }

    fn files_of(env: &Env, with_cert: bool, default_site: bool) -> String {
        let site = env.bundle.get("ingress.nginx.conf").unwrap();
        let mut s = format!(
            "S|{NGINX_SITE}|root:root|644|regular file\n{}  {NGINX_SITE}\nS|{NGINX_ENABLED}|root:root|777|symbolic link\nL|{NGINX_ENABLED}|../sites-available/pairctl-ingress\n",
            files::sha256_hex(&site)
        );
        if with_cert {
            s.push_str(&format!(
                "S|{INGRESS_CERT}|root:root|644|regular file\n{}  {INGRESS_CERT}\n",
                "a".repeat(64)
            ));
            s.push_str(&format!(
                "S|{INGRESS_KEY}|root:root|600|regular file\n{}  {INGRESS_KEY}\n",
                "b".repeat(64)
            ));
            s.push_str(&format!(
                "S|{DB_TLS_CERT}|root:root|644|regular file\n{}  {DB_TLS_CERT}\nS|{DB_TLS_KEY}|root:mysql|640|regular file\n{}  {DB_TLS_KEY}\n",
                "a".repeat(64),
                "b".repeat(64)
            ));
        }
        if default_site {
            s.push_str(&format!("S|{NGINX_DEFAULT}|root:root|777|symbolic link\nL|{NGINX_DEFAULT}|/etc/nginx/sites-available/default\n"));
        }
        s
    }

    fn node(units: &str, files: &str, cert: &str, verify: &str) -> Sections {
        Sections::parse(&format!(
            "@@pairctl:units\n{units}\n@@pairctl:files\n{files}@@pairctl:cert\n{cert}@@pairctl:verify\n{verify}\n"
        ))
    }

    #[test]
    fn the_lab_bare_nodes_keep_their_certificate_and_get_the_site() {
        let cfg = lab_cfg();
        let mut env = env_for(&cfg);
        env.ca_pem = Some("-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n".into());
        let bare = |_: usize| {
            node(
                "nginx.service inactive disabled",
                &format!(
                    "S|{INGRESS_CERT}|root:root|644|regular file\n{}  {INGRESS_CERT}\nS|{INGRESS_KEY}|root:root|600|regular file\n{}  {INGRESS_KEY}\nS|{NGINX_DEFAULT}|root:root|777|symbolic link\nL|{NGINX_DEFAULT}|/etc/nginx/sites-available/default\n",
                    "a".repeat(64),
                    "b".repeat(64)
                ),
                CERT_OK,
                "/etc/pairctl/tls/ingress.crt: OK",
            )
        };
        let p = plan(&env, &[bare(0), bare(1)]).unwrap();
        assert_eq!(
            summaries(&p),
            vec![
                "0 n1: write /etc/nginx/sites-available/pairctl-ingress (new)",
                "0 n1: link /etc/nginx/sites-enabled/pairctl-ingress -> ../sites-available/pairctl-ingress (new)",
                "0 n1: remove /etc/nginx/sites-enabled/default",
                "0 n2: write /etc/nginx/sites-available/pairctl-ingress (new)",
                "0 n2: link /etc/nginx/sites-enabled/pairctl-ingress -> ../sites-available/pairctl-ingress (new)",
                "0 n2: remove /etc/nginx/sites-enabled/default",
                "3 n1: check the nginx configuration (nginx -t)",
                "3 n1: install the ingress certificate for MariaDB (FLUSH SSL where it runs)",
                "3 n2: check the nginx configuration (nginx -t)",
                "3 n2: install the ingress certificate for MariaDB (FLUSH SSL where it runs)",
            ]
        );
        // The CA travels in the check script's here-document.
        assert!(script(&env, 1).contains(
            "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\nPAIRCTL_CA_END"
        ));
    }

    #[test]
    fn a_deployed_ingress_needs_nothing_and_a_running_nginx_is_reloaded_on_change() {
        let cfg = lab_cfg();
        let mut env = env_for(&cfg);
        env.ca_pem = Some("PEM".into());
        let n = |units: &str| node(units, &files_of(&env, true, false), CERT_OK, "x: OK");
        let p = plan(
            &env,
            &[
                n("nginx.service active disabled"),
                n("nginx.service inactive disabled"),
            ],
        )
        .unwrap();
        assert!(p.is_empty(), "{:?}", summaries(&p));

        // A new VIP: the certificate no longer covers it; without the CA's key: refused.
        let mut cfg2 = cfg.clone();
        cfg2.vip = "10.213.57.13".parse().unwrap();
        let mut env2 = env_for(&cfg2);
        env2.ca_pem = Some("PEM".into());
        let e = plan(
            &env2,
            &[
                n("nginx.service active disabled"),
                n("nginx.service inactive disabled"),
            ],
        )
        .unwrap_err();
        assert!(
            e.message.contains("does not cover 10.213.57.13"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("deploy.ca_key_file"));
    }

    #[test]
    fn without_a_configured_ca_a_cluster_ca_is_generated_on_the_first_node() {
        let cfg = lab_cfg();
        let env = env_for(&cfg);
        let n = || {
            node(
                "nginx.service inactive disabled",
                &files_of(&env, false, false),
                "",
                "",
            )
        };
        let p = plan(&env, &[n(), n()]).unwrap();
        let s = summaries(&p);
        assert!(s[0].starts_with("1 n1: generate the cluster CA (/etc/pairctl/tls/ca.crt) and issue the ingress certificate for 10.213.57.10, 10.213.57.11, 10.213.57.12"), "{s:?}");
        assert_eq!(
            s[1],
            "2 n2: copy the new ingress certificate and key from n1"
        );
        assert_eq!(s[2], "3 n1: check the nginx configuration (nginx -t)");
        let Action::Run { script, .. } = &p.changes.iter().find(|c| c.phase == 1).unwrap().action
        else {
            panic!()
        };
        // The names are parameters of the script (quoted), never spliced into its text.
        assert!(
            script.starts_with("TLS_DIR=/etc/pairctl/tls\n")
                && script.contains(
                    "\nSANS='IP:10.213.57.10,IP:10.213.57.11,IP:10.213.57.12,DNS:n1,DNS:n2'\n"
                )
                && script.contains("\nNEW_CA=1\n"),
            "{script}"
        );
        assert!(script.contains("\"subjectAltName=$SANS\""));
        assert!(script.contains("basicConstraints=critical,CA:FALSE"));
    }
}
