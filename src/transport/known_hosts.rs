//! known_hosts as OpenSSH writes and reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): hashed
//! `|1|salt|hash` names, `[host]:port` for other ports, `*`/`?` wildcards and `!` negation,
//! tabs or runs of spaces between fields, `@cert-authority` lines that vouch for host
//! certificates and `@revoked` lines that refuse a key whatever else says. russh's own matcher
//! understands only part of this (see STACK-NOTES.md), hence this module.

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Certificate, HashAlg, PublicKey};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    CertAuthority,
    Revoked,
}

#[derive(Debug, Clone)]
struct Entry {
    /// 1-based line in the file, as an editor shows it.
    line: usize,
    marker: Marker,
    hosts: String,
    key: KeyData,
}

/// The parsed file. A missing file is an empty one (every key is unknown).
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

/// What the file says about the key a host presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A plain entry for this host holds the key, or a trusted authority signed its valid
    /// certificate.
    Known,
    /// Nothing about this host (or nothing for this key type): a new host.
    Unknown,
    /// Entries for this host hold other keys of the same type: possibly a man in the middle.
    Changed { line: usize },
    /// An `@revoked` line names the key (or the authority that signed it).
    Revoked { line: usize },
    /// A certificate from a trusted authority that does not hold for this host.
    BadCertificate { reason: String },
}

/// The name known_hosts records for a host: `host` on port 22, `[host]:port` otherwise.
pub fn host_port_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

impl KnownHosts {
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Lines that cannot be read (an unknown marker, a key that does not decode) are skipped,
    /// as OpenSSH skips them: they can vouch for nothing.
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_ascii_whitespace();
            let Some(mut first) = fields.next() else {
                continue;
            };
            let marker = match first {
                "@cert-authority" => Marker::CertAuthority,
                "@revoked" => Marker::Revoked,
                m if m.starts_with('@') => {
                    tracing::debug!(line = i + 1, marker = m, "known_hosts: unknown marker");
                    continue;
                }
                _ => Marker::None,
            };
            if marker != Marker::None {
                match fields.next() {
                    Some(f) => first = f,
                    None => continue,
                }
            }
            let (Some(kind), Some(blob)) = (fields.next(), fields.next()) else {
                continue;
            };
            match PublicKey::from_openssh(&format!("{kind} {blob}")) {
                Ok(key) => entries.push(Entry {
                    line: i + 1,
                    marker,
                    hosts: first.to_string(),
                    key: key.key_data().clone(),
                }),
                Err(e) => tracing::debug!(line = i + 1, "known_hosts: key does not decode: {e}"),
            }
        }
        KnownHosts { entries }
    }

    fn matching<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| hosts_match(&e.hosts, name))
    }

    /// Whether an `@cert-authority` line covers this host: only then is it worth asking the
    /// server for a certificate.
    pub fn has_authority_for(&self, host: &str, port: u16) -> bool {
        let name = host_port_name(host, port);
        let found = self
            .matching(&name)
            .any(|e| e.marker == Marker::CertAuthority);
        found
    }

    /// Judges a plain host key.
    pub fn check_key(&self, host: &str, port: u16, key: &PublicKey) -> Verdict {
        let name = host_port_name(host, port);
        if let Some(line) = self.revoked(&name, key.key_data()) {
            return Verdict::Revoked { line };
        }
        self.check_plain(&name, key.key_data())
    }

    fn revoked(&self, name: &str, key: &KeyData) -> Option<usize> {
        self.matching(name)
            .find(|e| e.marker == Marker::Revoked && &e.key == key)
            .map(|e| e.line)
    }

    fn check_plain(&self, name: &str, key: &KeyData) -> Verdict {
        let mut changed = None;
        for e in self.matching(name).filter(|e| e.marker == Marker::None) {
            if &e.key == key {
                return Verdict::Known;
            }
            if e.key.algorithm() == key.algorithm() && changed.is_none() {
                changed = Some(e.line);
            }
        }
        match changed {
            Some(line) => Verdict::Changed { line },
            None => Verdict::Unknown,
        }
    }

    /// Judges a host certificate: valid when an `@cert-authority` line for the host holds the
    /// key that signed it, it is a host certificate, valid now, with the host among its
    /// principals (an empty list means any host, as OpenSSH reads it) and no critical option.
    /// Without a trusted authority the certificate's plain key is judged as a host key, as
    /// OpenSSH does.
    pub fn check_certificate(
        &self,
        host: &str,
        port: u16,
        cert: &Certificate,
        now: u64,
    ) -> Verdict {
        let name = host_port_name(host, port);
        for key in [cert.public_key(), cert.signature_key()] {
            if let Some(line) = self.revoked(&name, key) {
                return Verdict::Revoked { line };
            }
        }
        let authorities: Vec<_> = self
            .matching(&name)
            .filter(|e| e.marker == Marker::CertAuthority && &e.key == cert.signature_key())
            .map(|e| e.key.fingerprint(HashAlg::Sha256))
            .collect();
        if authorities.is_empty() {
            return self.check_plain(&name, cert.public_key());
        }
        let bad = |reason: String| Verdict::BadCertificate { reason };
        if cert.cert_type() != CertType::Host {
            return bad("it is a user certificate, not a host certificate".into());
        }
        if let Err(e) = cert.validate_at(now, &authorities) {
            let when = if now < cert.valid_after() {
                " (not valid yet)"
            } else if now >= cert.valid_before() {
                " (expired)"
            } else {
                ""
            };
            return bad(format!("it does not validate{when}: {e}"));
        }
        let principals = cert.valid_principals();
        if !principals.is_empty() && !principals.iter().any(|p| p.eq_ignore_ascii_case(host)) {
            return bad(format!("it is for {}, not {host}", principals.join(", ")));
        }
        if let Some((option, _)) = cert.critical_options().iter().next() {
            return bad(format!("it carries the unknown critical option {option}"));
        }
        Verdict::Known
    }
}

/// Appends `name key` (what accept-new learns), creating the file and its directory.
pub fn append(path: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut openssh = key.clone();
    openssh.set_comment("");
    let encoded = openssh.to_openssh().map_err(std::io::Error::other)?;
    let existing = std::fs::read(path).unwrap_or_default();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let newline = if existing.last().is_some_and(|b| *b != b'\n') {
        "\n"
    } else {
        ""
    };
    writeln!(
        file,
        "{newline}{} {}",
        host_port_name(host, port),
        encoded.trim()
    )
}

/// A comma-separated pattern list against one name: a negated pattern that matches excludes
/// the line whatever else matches; otherwise any match includes it.
fn hosts_match(list: &str, name: &str) -> bool {
    let mut positive = false;
    for pattern in list.split(',') {
        if let Some(hashed) = pattern.strip_prefix("|1|") {
            positive |= hashed_match(hashed, name);
        } else if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(&negated.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
                return false;
            }
        } else if wildcard_match(&pattern.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
            positive = true;
        }
    }
    positive
}

/// `salt|hash`, both base64: HMAC-SHA1 of the name keyed with the salt.
fn hashed_match(salt_and_hash: &str, name: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// OpenSSH's `match_pattern`: `*` any run, `?` one character, everything else literal.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlY33zuRGmdwxkSP5oiqwkd4oOGp1DsLxIy2QFvrwJ8";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUNlhcdt+lZpDbGYGDBRAcuXTaaNpm6rJE2iKe88GjX";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("10.0.0.*", "10.0.0.7"));
        assert!(wildcard_match("*.example.com", "a.b.example.com"));
        assert!(wildcard_match("n?", "n1"));
        assert!(!wildcard_match("n?", "n12"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("a*b", "acbd"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn plain_tabs_spaces_lists_and_ports() {
        let kh = KnownHosts::parse(&format!(
            "# comment\n\nn1,10.0.0.1\t{KEY_A}  root@n1\n[10.0.0.2]:2222   {KEY_A}\n"
        ));
        assert_eq!(kh.check_key("10.0.0.1", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(kh.check_key("N1", 22, &key(KEY_A)), Verdict::Known);
        // Another port is another name, in OpenSSH as here.
        assert_eq!(
            kh.check_key("10.0.0.1", 2222, &key(KEY_A)),
            Verdict::Unknown
        );
        assert_eq!(kh.check_key("10.0.0.2", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(kh.check_key("10.0.0.2", 22, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(
            kh.check_key("10.0.0.1", 22, &key(KEY_B)),
            Verdict::Changed { line: 3 }
        );
    }

    #[test]
    fn wildcard_and_negation() {
        let kh = KnownHosts::parse(&format!("10.0.0.*,!10.0.0.9 {KEY_A}\n"));
        assert_eq!(kh.check_key("10.0.0.5", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(kh.check_key("10.0.0.9", 22, &key(KEY_A)), Verdict::Unknown);
    }

    #[test]
    fn hashed_names_as_ssh_keygen_writes_them() {
        // `ssh-keygen -H` of "10.213.57.11" and of "[10.213.57.11]:2222".
        let salt = BASE64.encode(b"0123456789abcdefghij");
        let hash = |name: &str| {
            let mac = Hmac::<sha1::Sha1>::new_from_slice(b"0123456789abcdefghij")
                .unwrap()
                .chain_update(name.as_bytes());
            BASE64.encode(&mac.finalize().into_bytes())
        };
        let kh = KnownHosts::parse(&format!(
            "|1|{salt}|{} {KEY_A}\n|1|{salt}|{} {KEY_B}\n",
            hash("10.213.57.11"),
            hash("[10.213.57.11]:2222")
        ));
        assert_eq!(
            kh.check_key("10.213.57.11", 22, &key(KEY_A)),
            Verdict::Known
        );
        assert_eq!(
            kh.check_key("10.213.57.11", 2222, &key(KEY_B)),
            Verdict::Known
        );
        assert_eq!(
            kh.check_key("10.213.57.12", 22, &key(KEY_A)),
            Verdict::Unknown
        );
    }

    #[test]
    fn several_keys_of_one_type_for_a_host_are_all_accepted() {
        let kh = KnownHosts::parse(&format!("h {KEY_B}\nh {KEY_A}\n"));
        assert_eq!(kh.check_key("h", 22, &key(KEY_A)), Verdict::Known);
    }

    #[test]
    fn revoked_wins_over_a_plain_entry() {
        let kh = KnownHosts::parse(&format!("h {KEY_A}\n@revoked * {KEY_A}\n"));
        assert_eq!(
            kh.check_key("h", 22, &key(KEY_A)),
            Verdict::Revoked { line: 2 }
        );
    }

    #[test]
    fn bad_lines_are_skipped() {
        let kh = KnownHosts::parse(&format!(
            "@bogus h {KEY_A}\nh ssh-ed25519 notbase64\nh\nh {KEY_A}\n"
        ));
        assert_eq!(kh.check_key("h", 22, &key(KEY_A)), Verdict::Known);
        assert!(!kh.has_authority_for("h", 22));
        let kh = KnownHosts::parse(&format!("@cert-authority *.lab {KEY_A}\n"));
        assert!(kh.has_authority_for("n1.lab", 22));
        assert!(!kh.has_authority_for("n1.other", 22));
    }

    #[test]
    fn append_writes_a_line_check_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        append(&path, "10.0.0.1", 2222, &key(KEY_A)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("[10.0.0.1]:2222 ssh-ed25519 "), "{text}");
        let kh = KnownHosts::load(&path).unwrap();
        assert_eq!(kh.check_key("10.0.0.1", 2222, &key(KEY_A)), Verdict::Known);
        assert!(KnownHosts::load(&dir.path().join("none"))
            .unwrap()
            .entries
            .is_empty());
    }
}
