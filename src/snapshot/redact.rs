//! Redaction of secrets on a byte stream, line by line, before anything reaches the disk.
//!
//! What is caught: values of keys that name a password, secret or token (`password = x`,
//! `password=x`, `"token": "x"`, `--password x`, keepalived's `auth_pass x`, Galera's
//! `wsrep_sst_auth=user:x`), SQL `IDENTIFIED BY '…'` / `PASSWORD('…')`, `Bearer <token>` and
//! `Authorization: Basic …`, PEM private key blocks (whole lines or JSON-escaped on one line),
//! Kubernetes env entries whose name is secret-looking (`"name": "DB_PASSWORD"` then
//! `"value": …`), and every occurrence of the configuration's own secrets. Besides, the
//! shapes credential scanners look for wherever they appear (gitleaks', trufflehog's and
//! `sos clean`'s rules are the anchors): a password glued to `-p` on a MySQL/MariaDB client
//! command line (`mysqldump -u root -pSECRET`), `user:password@` in URLs, AWS access key IDs,
//! GitHub, GitLab, Slack, Stripe and Google API tokens, and JWTs.
//!
//! Speed matters (a 1 GB log passes through here): one case-insensitive Aho-Corasick pass over
//! each chunk finds the few lines that contain a trigger word; all other bytes are copied as
//! they are. Lines are kept whole across chunk boundaries (up to `MAX_LINE`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::{memchr, memmem, memrchr};
use std::borrow::Cow;
use std::sync::Arc;

/// What replaces a secret.
pub const MARK: &str = "[redacted]";
/// Secrets from the configuration shorter than this are not matched verbatim: they would
/// match ordinary text everywhere. (The key/value rules still catch them in context.)
pub const MIN_SECRET_LEN: usize = 4;
/// A line longer than this is cut at a blank near the limit and processed in pieces.
const MAX_LINE: usize = 1 << 20;
/// A PEM block without an END line stops swallowing lines after this many.
const MAX_PEM_LINES: usize = 500;

/// Words that make a key's value a secret (matched case-insensitively inside the key).
const KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "auth_pass",
    "sst_auth",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "mysql_pwd",
    // litestream.yml's replica credentials (Azure, S3 SSE-C, NATS).
    "account-key",
    "customer-key",
    "jwt",
    "nkey",
    // A kubeconfig's client key (base64 of a PEM key, so the PEM rule does not see it).
    "key-data",
];
/// Keys with these endings name where a secret is, not the secret: `password_file = /x`.
const KEY_EXCEPTIONS: &[&str] = &[
    "file",
    "path",
    "dir",
    "_length",
    "_timeout",
    "_ttl",
    "_expiry",
    "_lifetime",
];
/// Other trigger words, each with the line rule it calls for.
const LINE_WORDS: &[(&str, u16)] = &[
    ("identified", need::IDENTIFIED),
    ("bearer", need::BEARER),
    ("authorization", need::BEARER),
    ("private key", need::PEM),
    // `-pSECRET` is looked for on lines of the MySQL client family only, and only where a
    // flag starts: `mysql`/`mariadb` are on every line of a MariaDB journal, `-p` seldom.
    // A line that starts with `-p`: by the newline before it, or the block's first line by
    // `starts_with_glued_flag`.
    ("\n-p", need::GLUED_PASSWORD),
    (" -p", need::GLUED_PASSWORD),
    ("\t-p", need::GLUED_PASSWORD),
    ("'-p", need::GLUED_PASSWORD),
    ("\"-p", need::GLUED_PASSWORD),
    ("://", need::URL),
];
/// Tokens recognisable by their prefix: (prefix, at least this many characters after it,
/// only upper-case letters and digits after it). From gitleaks' and trufflehog's rules.
const TOKEN_PREFIXES: &[(&str, usize, bool)] = &[
    ("AKIA", 16, true),
    ("ASIA", 16, true),
    ("ABIA", 16, true),
    ("ACCA", 16, true),
    ("ghp_", 30, false),
    ("gho_", 30, false),
    ("ghu_", 30, false),
    ("ghs_", 30, false),
    ("ghr_", 30, false),
    ("github_pat_", 20, false),
    ("glpat-", 20, false),
    ("xoxb-", 10, false),
    ("xoxp-", 10, false),
    ("xoxa-", 10, false),
    ("xoxr-", 10, false),
    ("xoxs-", 10, false),
    ("sk_live_", 16, false),
    ("rk_live_", 16, false),
    ("AIza", 30, false),
    // A JWT: header.payload.signature, the header JSON starting `{"`.
    ("eyJ", 17, false),
];

/// The rules a line's trigger words call for, as bits: a rule can only act on a line that
/// holds one of its own words (`Rules::needs`), and a replacement never forms a new word (the
/// mark holds none, and no word contains its brackets), so the others are skipped. On logs
/// the few lines that hold a word usually hold one (`mariadbd[…]`: only the `-p` rule), and
/// running every rule on them was most of the redaction's time.
mod need {
    pub const KEY_VALUES: u16 = 1 << 0;
    pub const IDENTIFIED: u16 = 1 << 1;
    pub const BEARER: u16 = 1 << 2;
    pub const PEM: u16 = 1 << 3;
    pub const GLUED_PASSWORD: u16 = 1 << 4;
    pub const URL: u16 = 1 << 5;
    pub const TOKENS: u16 = 1 << 6;
    pub const ALL: u16 = u16::MAX;
}

/// Each trigger word with the rules it calls for.
fn trigger_words() -> Vec<(Vec<u8>, u16)> {
    let mut words: Vec<(Vec<u8>, u16)> = KEY_WORDS
        .iter()
        // `password(` is the identified rule's word too.
        .map(|w| {
            let extra = if *w == "password" {
                need::IDENTIFIED
            } else {
                0
            };
            (w.as_bytes().to_vec(), need::KEY_VALUES | extra)
        })
        .collect();
    words.extend(
        LINE_WORDS
            .iter()
            .map(|(w, rule)| (w.as_bytes().to_vec(), *rule)),
    );
    words.extend(
        TOKEN_PREFIXES
            .iter()
            .map(|(p, _, _)| (p.to_ascii_lowercase().into_bytes(), need::TOKENS)),
    );
    words
}

/// What the search for lines to look at looks for: each trigger word contains one of these
/// (a test checks it), so no line with a trigger word is passed over. Fewer than the words
/// themselves (`key` stands for seven of them): fewer patterns per Teddy bucket, fewer false
/// candidates to verify. Not shorter than needed (`auth` alone would stop at every
/// `/v1/auth/health` of an access log).
#[rustfmt::skip]
const PREFILTER_WORDS: &[&str] = &[
    "passw", "secret", "token", "auth_", "_auth", "authoriz", "key", "_pwd", "jwt", "identified",
    "bearer", "\n-p", " -p", "\t-p", "'-p", "\"-p", "://", "akia", "asia", "abia", "acca", "ghp_",
    "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "k_live_", "aiza", "eyj",
];

/// The search for lines to look at: fat Teddy (16 buckets, AVX2) when the CPU has it — on
/// logs it ran at twice the speed of the automaton's own choice — else the automaton.
enum Prefilter {
    Teddy(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Prefilter {
    fn new(words: &[&str]) -> Self {
        let mut teddy = aho_corasick::packed::Config::new()
            .only_teddy_fat(Some(true))
            .builder();
        teddy.extend(words);
        match teddy.build() {
            Some(searcher) => Prefilter::Teddy(searcher),
            None => Prefilter::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(words)
                    .expect("the prefilter words are plain literals"),
            ),
        }
    }

    /// Where the first word in `text` starts.
    fn find(&self, text: &[u8]) -> Option<usize> {
        match self {
            Prefilter::Teddy(s) => s.find(text).map(|m| m.start()),
            Prefilter::Automaton(a) => a.find(text).map(|m| m.start()),
        }
    }
}

/// The compiled rules, shared by every stream of a run.
pub struct Rules {
    prefilter: Prefilter,
    /// The trigger words again, case-insensitive and overlapping: which rules a line needs.
    classifier: AhoCorasick,
    /// Per classifier pattern, the rules it calls for.
    needs: Vec<u16>,
    /// The configuration's secrets, longest first, each with its searcher built once.
    secrets: Vec<memmem::Finder<'static>>,
}

impl Rules {
    /// `secrets`: the exact values to remove wherever they appear (the configuration's
    /// database password, ingress token…). Each line of a multi-line secret counts alone.
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Arc<Rules> {
        let mut exact: Vec<Vec<u8>> = Vec::new();
        for s in secrets {
            for line in s.as_ref().split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() >= MIN_SECRET_LEN && !exact.iter().any(|e| e == line) {
                    exact.push(line.to_vec());
                }
            }
        }
        // Longest first: a secret that contains another is replaced whole.
        exact.sort_by_key(|s| std::cmp::Reverse(s.len()));
        // The prefilter runs on a lower-cased copy of the text: a case-sensitive automaton
        // gets a SIMD search (a case-insensitive one does not, and ran at a third of the speed).
        // The secrets are not in it: a block that holds one is looked at line by line.
        let prefilter = Prefilter::new(PREFILTER_WORDS);
        let (words, needs): (Vec<Vec<u8>>, Vec<u16>) = trigger_words().into_iter().unzip();
        let classifier = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&words)
            .expect("the trigger words are plain literals");
        Arc::new(Rules {
            prefilter,
            classifier,
            needs,
            secrets: exact
                .iter()
                .map(|s| memmem::Finder::new(s).into_owned())
                .collect(),
        })
    }

    /// The rules the trigger words in `line` call for.
    fn needs(&self, line: &[u8]) -> u16 {
        let start = if starts_with_glued_flag(line) {
            need::GLUED_PASSWORD
        } else {
            0
        };
        self.classifier
            .find_overlapping_iter(line)
            .fold(start, |need, m| need | self.needs[m.pattern().as_usize()])
    }

    /// Redacts one piece of text (an error message, a status document) completely.
    pub fn redact_text(self: &Arc<Self>, text: &str) -> (String, u64) {
        let mut r = Redactor::new(self.clone());
        let mut out = Vec::with_capacity(text.len());
        r.push(text.as_bytes(), &mut out);
        r.finish(&mut out);
        (String::from_utf8_lossy(&out).into_owned(), r.count())
    }
}

/// One stream's redaction state.
pub struct Redactor {
    rules: Arc<Rules>,
    /// The incomplete last line of what was pushed so far.
    partial: Vec<u8>,
    /// Inside a PEM private key block: lines swallowed so far.
    pem_lines: Option<usize>,
    /// After a secret-looking env `name`: lines left in which to redact a `value`.
    env_pending: u8,
    count: u64,
    /// The block being searched, lower-cased.
    lower: Vec<u8>,
    /// Look at every line with every rule (the tests compare it with the skipping).
    every_rule: bool,
}

impl Redactor {
    pub fn new(rules: Arc<Rules>) -> Self {
        Redactor {
            rules,
            partial: Vec::new(),
            pem_lines: None,
            env_pending: 0,
            count: 0,
            lower: Vec::new(),
            every_rule: false,
        }
    }

    /// How many secrets were replaced so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Redacts `data`, appending every completed line to `out`; an incomplete last line is
    /// kept until the next push or `finish`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            match memchr(b'\n', data) {
                Some(i) => {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&data[..=i]);
                    self.line(&line, out);
                    line.clear();
                    self.partial = line;
                    data = &data[i + 1..];
                }
                None => {
                    self.partial.extend_from_slice(data);
                    self.cut_long_partial(out);
                    return;
                }
            }
        }
        let rest = match memrchr(b'\n', data) {
            Some(last) => {
                self.block(&data[..=last], out);
                &data[last + 1..]
            }
            None => data,
        };
        self.partial.extend_from_slice(rest);
        self.cut_long_partial(out);
    }

    /// Flushes the last line (one without a newline at the end of the stream).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, out);
        }
    }

    /// A line that never ends (binary data, minified JSON) is processed in pieces, cut at a
    /// blank so that a secret token is not split in two.
    fn cut_long_partial(&mut self, out: &mut Vec<u8>) {
        while self.partial.len() > MAX_LINE {
            let window_start = MAX_LINE.saturating_sub(4096);
            let cut = self.partial[window_start..MAX_LINE]
                .iter()
                .rposition(|b| b.is_ascii_whitespace())
                .map(|i| window_start + i + 1)
                .unwrap_or(MAX_LINE);
            let head: Vec<u8> = self.partial.drain(..cut).collect();
            self.line(&head, out);
        }
    }

    /// Complete lines: copies the lines without a trigger word, looks closely at the others.
    fn block(&mut self, block: &[u8], out: &mut Vec<u8>) {
        let mut lower = std::mem::take(&mut self.lower);
        lower.clear();
        lower.extend(block.iter().map(u8::to_ascii_lowercase));
        self.search_block(block, &lower, out);
        self.lower = lower;
    }

    fn search_block(&mut self, block: &[u8], lower: &[u8], out: &mut Vec<u8>) {
        // The configuration's own secrets are rare in a block: one that holds any is looked at
        // line by line, the others by the prefilter alone.
        let every_line =
            self.every_rule || self.rules.secrets.iter().any(|s| s.find(block).is_some());
        let mut pos = 0;
        while pos < block.len() {
            // `pos` is always where a line starts.
            if self.pem_lines.is_some()
                || self.env_pending > 0
                || every_line
                || starts_with_glued_flag(&lower[pos..])
            {
                let end = memchr(b'\n', &block[pos..])
                    .map(|i| pos + i + 1)
                    .unwrap_or(block.len());
                self.line(&block[pos..end], out);
                pos = end;
                continue;
            }
            let Some(found) = self.rules.prefilter.find(&lower[pos..]) else {
                out.extend_from_slice(&block[pos..]);
                return;
            };
            let mut at = pos + found;
            if block[at] == b'\n' {
                at += 1; // `\n-p`: the line after the newline.
            }
            let start = memrchr(b'\n', &block[pos..at])
                .map(|i| pos + i + 1)
                .unwrap_or(pos);
            let end = memchr(b'\n', &block[at..])
                .map(|i| at + i + 1)
                .unwrap_or(block.len());
            out.extend_from_slice(&block[pos..start]);
            self.line(&block[start..end], out);
            pos = end;
        }
    }

    /// One line, with its terminator if it has one.
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let body_end = line
            .iter()
            .rposition(|b| *b != b'\n' && *b != b'\r')
            .map(|i| i + 1)
            .unwrap_or(0);
        let (body, terminator) = line.split_at(body_end);

        if let Some(swallowed) = self.pem_lines {
            match find_pem_end(body) {
                Some((end_marker, _)) => {
                    // What follows the END marker on its line is text like any other (found
                    // by the property test: a secret right after the marker came out whole).
                    self.pem_lines = None;
                    let rest = line[end_marker..].to_vec();
                    self.line(&rest, out);
                }
                None if swallowed + 1 >= MAX_PEM_LINES => self.pem_lines = None,
                None => self.pem_lines = Some(swallowed + 1),
            }
            return;
        }

        let need = if self.every_rule {
            need::ALL
        } else {
            self.rules.needs(body)
        };
        let mut text: Cow<[u8]> = Cow::Borrowed(body);
        text = self.exact(text);
        let mut pem_started = false;
        if need & need::PEM != 0 {
            (text, pem_started) = self.pem(text);
        }
        if need & need::IDENTIFIED != 0 {
            text = self.identified(text);
        }
        if need & need::BEARER != 0 {
            text = self.bearer(text);
        }
        if need & need::KEY_VALUES != 0 {
            text = self.key_values(text);
        }
        if need & need::GLUED_PASSWORD != 0 {
            text = self.glued_password(text);
        }
        if need & need::URL != 0 {
            text = self.url_credentials(text);
        }
        if need & need::TOKENS != 0 {
            text = self.prefixed_tokens(text);
        }
        // A pending env `value` is looked for on the next lines whatever they hold.
        if need & need::KEY_VALUES != 0 || self.env_pending > 0 {
            text = self.env_entries(text);
        }
        out.extend_from_slice(&text);
        if pem_started {
            out.extend_from_slice(b"\n");
            out.extend_from_slice(MARK.as_bytes());
        }
        out.extend_from_slice(terminator);
    }

    /// Every occurrence of the configuration's own secrets.
    fn exact<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        for secret in &self.rules.secrets {
            if secret.find(&text).is_none() {
                continue;
            }
            let mut replaced = Vec::with_capacity(text.len());
            let mut pos = 0;
            for at in secret.find_iter(&text) {
                if at < pos {
                    continue;
                }
                replaced.extend_from_slice(&text[pos..at]);
                replaced.extend_from_slice(MARK.as_bytes());
                pos = at + secret.needle().len();
                self.count += 1;
            }
            replaced.extend_from_slice(&text[pos..]);
            text = Cow::Owned(replaced);
        }
        text
    }

    /// PEM private keys: the body between BEGIN and END goes. A block that continues on the
    /// next lines cuts this line at the BEGIN marker and swallows lines until END.
    fn pem<'a>(&mut self, text: Cow<'a, [u8]>) -> (Cow<'a, [u8]>, bool) {
        let mut search = 0;
        let mut text = text;
        while let Some(body_start) = find_pem_begin(&text, search) {
            self.count += 1;
            let Some((end_start, _)) = find_pem_end(&text[body_start..]) else {
                let kept = text[..body_start].to_vec();
                self.pem_lines = Some(0);
                return (Cow::Owned(kept), true);
            };
            let end_start = body_start + end_start;
            let separator = separator_between(&text[body_start..end_start]);
            let mut replaced = Vec::with_capacity(text.len());
            replaced.extend_from_slice(&text[..body_start]);
            replaced.extend_from_slice(separator.as_bytes());
            replaced.extend_from_slice(MARK.as_bytes());
            replaced.extend_from_slice(separator.as_bytes());
            search = replaced.len();
            replaced.extend_from_slice(&text[end_start..]);
            text = Cow::Owned(replaced);
        }
        (text, false)
    }

    /// `IDENTIFIED BY 'x'`, `IDENTIFIED VIA ed25519 USING PASSWORD('x')`, `PASSWORD('x')`:
    /// the first quoted string after the trigger.
    fn identified<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        for trigger in [&b"identified"[..], &b"password("[..]] {
            let mut from = 0;
            while let Some(at) = find_ci(&text, trigger, from) {
                let after = at + trigger.len();
                // The quoted value must come soon, before anything that ends the clause.
                let window_end = (after + 200).min(text.len());
                let quote = text[after..window_end]
                    .iter()
                    .position(|b| matches!(b, b'\'' | b'"' | b'`' | b';'))
                    .map(|i| after + i);
                match quote {
                    Some(q) if text[q] != b';' => {
                        let (value_end, close_len) = quoted_end(&text, q);
                        let value = &text[q + 1..value_end];
                        if is_real_value(value) {
                            let mut replaced = Vec::with_capacity(text.len());
                            replaced.extend_from_slice(&text[..q + 1]);
                            replaced.extend_from_slice(MARK.as_bytes());
                            let resume = replaced.len();
                            replaced.extend_from_slice(&text[value_end..]);
                            text = Cow::Owned(replaced);
                            self.count += 1;
                            from = resume + close_len;
                        } else {
                            from = value_end;
                        }
                    }
                    _ => from = after,
                }
            }
        }
        text
    }

    /// `Bearer <token>`, `Authorization: Basic <credentials>`.
    fn bearer<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        let has_authorization = find_ci(&text, b"authorization", 0).is_some();
        let schemes: &[&[u8]] = if has_authorization {
            &[b"bearer", b"basic"]
        } else {
            &[b"bearer"]
        };
        for scheme in schemes {
            let mut from = 0;
            while let Some(at) = find_ci(&text, scheme, from) {
                from = at + scheme.len();
                if at > 0 && text[at - 1].is_ascii_alphanumeric() {
                    continue;
                }
                let mut v = from;
                while v < text.len() && matches!(text[v], b' ' | b'\t') {
                    v += 1;
                }
                if v == from {
                    continue;
                }
                let end = v + text[v..]
                    .iter()
                    .position(|b| !is_token_char(*b))
                    .unwrap_or(text.len() - v);
                let token = &text[v..end];
                if end == v || !is_real_value(token) {
                    continue;
                }
                // `Bearer x` as a header writes it capitalised; in lower case it is often just
                // a word ("the bearer of…"): then only something token-shaped counts.
                let header_style = matches!(
                    &text[at..at + scheme.len()],
                    b"Bearer" | b"BEARER" | b"Basic" | b"BASIC"
                );
                let token_shaped =
                    token.len() >= 8 && token.iter().any(|b| !b.is_ascii_alphabetic());
                if !header_style && !token_shaped {
                    continue;
                }
                let mut replaced = Vec::with_capacity(text.len());
                replaced.extend_from_slice(&text[..v]);
                replaced.extend_from_slice(MARK.as_bytes());
                from = replaced.len();
                replaced.extend_from_slice(&text[end..]);
                text = Cow::Owned(replaced);
                self.count += 1;
            }
        }
        text
    }

    /// `key = value`, `key: value`, `"key": "value"`, `--key value` and, for a key at the
    /// start of a line (configuration style), `key value`.
    fn key_values<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        let mut from = 0;
        while let Some((word_at, word_len)) = find_key_word(&text, from) {
            from = word_at + word_len;
            let mut key_start = word_at;
            while key_start > 0 && is_key_char(text[key_start - 1]) {
                key_start -= 1;
            }
            let mut key_end = word_at + word_len;
            while key_end < text.len() && is_key_char(text[key_end]) {
                key_end += 1;
            }
            from = key_end.max(from);
            let key = &text[key_start..key_end];
            let lower_key = key.to_ascii_lowercase();
            if KEY_EXCEPTIONS
                .iter()
                .any(|e| lower_key.ends_with(e.as_bytes()))
            {
                continue;
            }
            let line_start = text[..key_start]
                .iter()
                .all(|b| b.is_ascii_whitespace() || *b == b'#' || *b == b';');
            let flag = key.starts_with(b"-");
            // Skip the quote that closes a quoted key: "password": "x".
            let mut p = key_end;
            let quoted_key = key_start > 0 && matches!(text[key_start - 1], b'"' | b'\'');
            if quoted_key && p < text.len() && text[p] == text[key_start - 1] {
                p += 1;
            }
            let mut q = p;
            while q < text.len() && matches!(text[q], b' ' | b'\t') {
                q += 1;
            }
            let separator = q < text.len() && matches!(text[q], b'=' | b':');
            let value_start;
            if separator {
                // `a:b` with no blank after a URL scheme is not a key/value pair.
                if text[q] == b':' && text.get(q + 1) == Some(&b'/') {
                    continue;
                }
                let mut v = q + 1;
                if text.get(v) == Some(&b'>') {
                    v += 1; // `=>`
                }
                while v < text.len() && matches!(text[v], b' ' | b'\t') {
                    v += 1;
                }
                value_start = v;
            } else if (line_start || flag) && q > p && ends_with_key_word(&lower_key) {
                // `auth_pass x`, `--password x`; not `server_tokens off`.
                value_start = q;
            } else {
                continue;
            }
            if value_start >= text.len() {
                continue;
            }
            let (inner_start, inner_end, resume_extra) =
                if matches!(text[value_start], b'"' | b'\'') {
                    let (end, close) = quoted_end(&text, value_start);
                    (value_start + 1, end, close)
                } else if line_start && !flag {
                    // Configuration files: the value runs to the end of the line.
                    let end = text
                        .iter()
                        .rposition(|b| !matches!(b, b' ' | b'\t' | b';'))
                        .map(|i| i + 1)
                        .unwrap_or(text.len())
                        .max(value_start);
                    (value_start, end, 0)
                } else {
                    let end = value_start
                        + text[value_start..]
                            .iter()
                            .position(|b| {
                                b.is_ascii_whitespace()
                                    || matches!(
                                        b,
                                        b',' | b';' | b'&' | b')' | b'}' | b']' | b'"' | b'\''
                                    )
                            })
                            .unwrap_or(text.len() - value_start);
                    (value_start, end, 0)
                };
            let value = &text[inner_start..inner_end];
            if !is_real_value(value) || is_non_secret_literal(value) {
                from = inner_end.max(from);
                continue;
            }
            let mut replaced = Vec::with_capacity(text.len());
            replaced.extend_from_slice(&text[..inner_start]);
            replaced.extend_from_slice(MARK.as_bytes());
            from = replaced.len() + resume_extra;
            replaced.extend_from_slice(&text[inner_end..]);
            text = Cow::Owned(replaced);
            self.count += 1;
        }
        text
    }

    /// `mysql -pSECRET`, `mysqldump -u root -p'SECRET'`: the MySQL client family takes the
    /// password glued to `-p` (a lone `-p` prompts, `-P` is the port).
    fn glued_password<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        if find_ci(&text, b"mysql", 0).is_none() && find_ci(&text, b"mariadb", 0).is_none() {
            return text;
        }
        let mut text = text;
        let mut from = 0;
        while let Some(at) = memmem::find(&text[from..], b"-p").map(|i| from + i) {
            from = at + 2;
            let flag_start = at == 0 || matches!(text[at - 1], b' ' | b'\t' | b'\'' | b'"');
            let v = at + 2;
            if !flag_start || v >= text.len() || text[v].is_ascii_whitespace() {
                continue;
            }
            let (inner_start, inner_end) = if matches!(text[v], b'"' | b'\'') {
                (v + 1, quoted_end(&text, v).0)
            } else {
                let end = text[v..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';'))
                    .map_or(text.len(), |i| v + i);
                (v, end)
            };
            if !is_real_value(&text[inner_start..inner_end]) {
                from = inner_end.max(from);
                continue;
            }
            text = Cow::Owned(self.replace(&text, inner_start, inner_end));
            from = inner_start + MARK.len();
        }
        text
    }

    /// `scheme://user:password@host`: the password goes, the user stays.
    fn url_credentials<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        let mut from = 0;
        while let Some(at) = memmem::find(&text[from..], b"://").map(|i| from + i) {
            let start = at + 3;
            from = start;
            let Some(end) = text[start..]
                .iter()
                .position(|b| {
                    b.is_ascii_whitespace()
                        || matches!(b, b'/' | b'?' | b'#' | b'@' | b'"' | b'\'' | b'<' | b'>')
                })
                .map(|i| start + i)
                .filter(|end| text[*end] == b'@')
            else {
                continue;
            };
            let Some(colon) = memchr(b':', &text[start..end]).map(|i| start + i + 1) else {
                continue;
            };
            if !is_real_value(&text[colon..end]) {
                continue;
            }
            text = Cow::Owned(self.replace(&text, colon, end));
            from = colon + MARK.len();
        }
        text
    }

    /// Tokens known by their prefix (`TOKEN_PREFIXES`), replaced whole.
    fn prefixed_tokens<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        let mut text = text;
        for (prefix, min_rest, upper_digits) in TOKEN_PREFIXES {
            let prefix = prefix.as_bytes();
            let jwt = prefix == b"eyJ";
            let mut from = 0;
            while let Some(at) = memmem::find(&text[from..], prefix).map(|i| from + i) {
                from = at + prefix.len();
                if at > 0 && (text[at - 1].is_ascii_alphanumeric() || text[at - 1] == b'_') {
                    continue;
                }
                let rest = &text[from..];
                let len = rest
                    .iter()
                    .position(|b| {
                        !(b.is_ascii_alphanumeric()
                            || matches!(b, b'_' | b'-')
                            || (jwt && *b == b'.'))
                    })
                    .unwrap_or(rest.len());
                let token = &rest[..len];
                let shaped = if *upper_digits {
                    len == *min_rest
                        && token
                            .iter()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                } else if jwt {
                    len >= *min_rest && token.iter().filter(|b| **b == b'.').count() == 2
                } else {
                    len >= *min_rest
                };
                if !shaped {
                    continue;
                }
                text = Cow::Owned(self.replace(&text, at, from + len));
                from = at + MARK.len();
            }
        }
        text
    }

    /// `text` with `start..end` replaced by the mark (counted).
    fn replace(&mut self, text: &[u8], start: usize, end: usize) -> Vec<u8> {
        let mut replaced = Vec::with_capacity(text.len());
        replaced.extend_from_slice(&text[..start]);
        replaced.extend_from_slice(MARK.as_bytes());
        replaced.extend_from_slice(&text[end..]);
        self.count += 1;
        replaced
    }

    /// Kubernetes env entries: `"name": "DB_PASSWORD",` then `"value": "x"` on one of the
    /// next lines (kubectl prints `name` before `value`); YAML alike.
    fn env_entries<'a>(&mut self, text: Cow<'a, [u8]>) -> Cow<'a, [u8]> {
        if self.env_pending > 0 {
            self.env_pending -= 1;
            if let Some(v) = field_value_start(&text, b"value") {
                self.env_pending = 0;
                let (inner_start, inner_end) = if matches!(text[v], b'"' | b'\'') {
                    let (end, _) = quoted_end(&text, v);
                    (v + 1, end)
                } else {
                    (v, text.len())
                };
                if is_real_value(&text[inner_start..inner_end]) {
                    let mut replaced = Vec::with_capacity(text.len());
                    replaced.extend_from_slice(&text[..inner_start]);
                    replaced.extend_from_slice(MARK.as_bytes());
                    replaced.extend_from_slice(&text[inner_end..]);
                    self.count += 1;
                    return Cow::Owned(replaced);
                }
            }
            return text;
        }
        if let Some(v) = field_value_start(&text, b"name") {
            if find_key_word(&text[v..], 0).is_some() {
                self.env_pending = 3;
            }
        }
        text
    }
}

/// A line that starts with `-p` (either case): the one place a glued password's flag has no
/// trigger word before it.
fn starts_with_glued_flag(line: &[u8]) -> bool {
    line.len() >= 2 && line[0] == b'-' && line[1].eq_ignore_ascii_case(&b'p')
}

/// Where the value of `field` starts when the line is `"field": …` or `field: …` (JSON or
/// YAML, optionally as a list item `- field: …`).
fn field_value_start(text: &[u8], field: &[u8]) -> Option<usize> {
    let mut p = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[p] == b'-' {
        p += 1;
        while p < text.len() && text[p].is_ascii_whitespace() {
            p += 1;
        }
    }
    let quoted = text.get(p) == Some(&b'"');
    if quoted {
        p += 1;
    }
    if !text[p..].starts_with(field) {
        return None;
    }
    p += field.len();
    if quoted {
        if text.get(p) != Some(&b'"') {
            return None;
        }
        p += 1;
    }
    while p < text.len() && text[p].is_ascii_whitespace() {
        p += 1;
    }
    if text.get(p) != Some(&b':') {
        return None;
    }
    p += 1;
    while p < text.len() && text[p].is_ascii_whitespace() {
        p += 1;
    }
    (p < text.len()).then_some(p)
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Empty values, masks and what was already redacted are not secrets to count.
fn is_real_value(value: &[u8]) -> bool {
    !value.is_empty()
        && value != MARK.as_bytes()
        && !value.iter().all(|b| *b == b'*' || b.is_ascii_whitespace())
}

/// Literals after a secret-looking key (`"tokenExpired": false`, `server_tokens off`).
fn is_non_secret_literal(value: &[u8]) -> bool {
    matches!(
        value.to_ascii_lowercase().as_slice(),
        b"null"
            | b"true"
            | b"false"
            | b"none"
            | b"on"
            | b"off"
            | b"yes"
            | b"no"
            | b"{"
            | b"["
            | b"{}"
            | b"[]"
    )
}

fn ends_with_key_word(lower_key: &[u8]) -> bool {
    KEY_WORDS.iter().any(|w| lower_key.ends_with(w.as_bytes()))
}

/// The end of a quoted string starting at `open` (index of the closing quote, or the end of
/// the text when it is not closed) and the closing quote's length (0 or 1). Backslash escapes
/// and doubled quotes stay inside.
fn quoted_end(text: &[u8], open: usize) -> (usize, usize) {
    let quote = text[open];
    let mut i = open + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            c if c == quote => {
                if text.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return (i, 1);
                }
            }
            _ => i += 1,
        }
    }
    (text.len(), 0)
}

/// ASCII case-insensitive search of a lowercase `needle` from `from`: jumps to the
/// candidates for its first byte (either case) with a SIMD search, then compares.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut at = from;
    while at <= last_start {
        let candidate =
            at + memchr::memchr2(first, first.to_ascii_uppercase(), &hay[at..=last_start])?;
        if hay[candidate..candidate + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

/// The next key word (position, length) at or after `from`.
fn find_key_word(text: &[u8], from: usize) -> Option<(usize, usize)> {
    KEY_WORDS
        .iter()
        .filter_map(|w| find_ci(text, w.as_bytes(), from).map(|at| (at, w.len())))
        .min()
}

/// `-----BEGIN … PRIVATE KEY-----` at or after `from`: where the block's body starts.
fn find_pem_begin(text: &[u8], from: usize) -> Option<usize> {
    find_pem_marker(text, from, b"-----begin ").map(|(_, end)| end)
}

/// `-----END … PRIVATE KEY-----` in `text`: (marker start, marker end).
fn find_pem_end(text: &[u8]) -> Option<(usize, usize)> {
    find_pem_marker(text, 0, b"-----end ")
}

fn find_pem_marker(text: &[u8], from: usize, opening: &[u8]) -> Option<(usize, usize)> {
    let mut from = from;
    while let Some(at) = find_ci(text, opening, from) {
        let label_start = at + opening.len();
        let close = memmem::find(&text[label_start..], b"-----").map(|i| label_start + i)?;
        let label = &text[label_start..close];
        if label.len() <= 40 && find_ci(label, b"private key", 0).is_some() {
            return Some((at, close + 5));
        }
        from = close;
    }
    None
}

/// How the body of a one-line PEM block was broken into lines (a JSON `\n` escape, a real
/// blank…), so the replacement keeps the shape.
fn separator_between(body: &[u8]) -> &'static str {
    if memmem::find(body, b"\\n").is_some() {
        "\\n"
    } else {
        " "
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn redact_with(secrets: &[&str], input: &str) -> (String, u64) {
        Rules::new(secrets.iter().copied()).redact_text(input)
    }

    fn redact(input: &str) -> (String, u64) {
        redact_with(&[], input)
    }

    /// Pushes `input` in chunks of every size from 1 to 17 bytes and checks the result is the
    /// same as in one piece.
    fn chunked_equals_whole(secrets: &[&str], input: &str) {
        let rules = Rules::new(secrets.iter().copied());
        let (whole, count) = rules.redact_text(input);
        for size in 1..=17 {
            let mut r = Redactor::new(rules.clone());
            let mut out = Vec::new();
            for chunk in input.as_bytes().chunks(size) {
                r.push(chunk, &mut out);
            }
            r.finish(&mut out);
            assert_eq!(String::from_utf8_lossy(&out), whole, "chunk size {size}");
            assert_eq!(r.count(), count, "chunk size {size}");
        }
    }

    #[test]
    fn mysql_cnf_passwords() {
        let cnf = "\
# This file is managed by pairctl
[client]
user     = pairctl
password = s3cr3t-Galera!pw
socket   = /run/mysqld/mysqld.sock

[mysqld]
wsrep_sst_auth=sstuser:Sst#Pa55
wsrep_provider_options=\"gcache.size=128M\"
ssl_password_file=/etc/mysql/ssl-pass
";
        let (out, n) = redact(cnf);
        assert_eq!(n, 2, "{out}");
        assert!(out.contains("password = [redacted]\n"), "{out}");
        assert!(out.contains("wsrep_sst_auth=[redacted]\n"), "{out}");
        assert!(!out.contains("s3cr3t") && !out.contains("Pa55"), "{out}");
        assert!(out.contains("user     = pairctl\n"));
        assert!(
            out.contains("ssl_password_file=/etc/mysql/ssl-pass"),
            "{out}"
        );
        assert!(out.contains("gcache.size=128M"));
    }

    #[test]
    fn debian_cnf_and_odd_spacing() {
        let (out, n) = redact("[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword =   Xy9 with spaces  \nPASSWD=abc123\n\tpassword\t=\t'quoted one'\n");
        assert_eq!(n, 3, "{out}");
        assert!(out.contains("password =   [redacted]  \n"), "{out}");
        assert!(out.contains("PASSWD=[redacted]\n"), "{out}");
        assert!(out.contains("\tpassword\t=\t'[redacted]'\n"), "{out}");
    }

    #[test]
    fn a_kubeconfig_client_key_and_token() {
        let yml = "\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
    server: https://127.0.0.1:6443
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCERT
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tSECRET
    token: k10aa1f2e3d4c5b6a7::server:deadbeefcafe
";
        let (out, n) = redact(yml);
        assert_eq!(n, 2, "{out}");
        for secret in ["FURS0tLS0tSECRET", "deadbeefcafe"] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        // Certificates are public: left as they are.
        assert!(out.contains("client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCERT"));
    }

    #[test]
    fn litestream_yml_credentials() {
        let yml = "\
dbs:
  - path: /var/lib/rancher/k3s/server/db/state.db
    replica:
      type: sftp
      host: \"10.213.57.12:22\"
      password: hunter2-sftp
      key-path: /root/.ssh/id_ed25519
      host-key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn2\"
      secret-access-key: wJalrXUtnFEMI/K7MDENG
      account-key: bXlBenVyZUtleQ==
      sse-customer-key: c3NlLWtleQ==
      sas-token: sv=2024&sig=abc
";
        let (out, n) = redact(yml);
        assert_eq!(n, 5, "{out}");
        for secret in [
            "hunter2-sftp",
            "wJalrXUtnFEMI",
            "bXlBenVyZUtleQ",
            "c3NlLWtleQ",
            "sig=abc",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.contains("key-path: /root/.ssh/id_ed25519"), "{out}");
        assert!(
            out.contains("host-key: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn2\""),
            "{out}"
        );
    }

    #[test]
    fn keepalived_auth_pass() {
        let conf = "\
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass k33pAl1v
    }
    unicast_peer {
        10.213.57.12
    }
}
";
        let (out, n) = redact(conf);
        assert_eq!(n, 1, "{out}");
        assert!(out.contains("        auth_pass [redacted]\n"), "{out}");
        assert!(out.contains("auth_type PASS"));
        assert!(!out.contains("k33pAl1v"));
    }

    #[test]
    fn json_yaml_and_flags() {
        let (out, n) = redact(
            "{\"user\": \"x\", \"password\": \"p@ss w0rd\", \"token\":\"abc.def\", \"tokenExpired\": false}\n\
             ingress_token: tok-123\n\
             ExecStart=/usr/bin/mysqld --wsrep-sst-password=hunter22 --user=mysql\n\
             mariadb --password hunter23 -e 'SELECT 1'\n",
        );
        assert_eq!(n, 5, "{out}");
        for s in ["p@ss", "abc.def", "tok-123", "hunter22", "hunter23"] {
            assert!(!out.contains(s), "{s} in {out}");
        }
        assert!(out.contains("\"tokenExpired\": false"), "{out}");
        assert!(out.contains("--user=mysql"));
    }

    #[test]
    fn prose_mentioning_passwords_is_left_alone() {
        let lines = "\
2024-05-01T10:00:00+0000 n1 sshd[811]: Accepted password for root from 10.213.57.1 port 5022 ssh2
2024-05-01T10:00:01+0000 n1 sshd[812]: Failed password for invalid user admin from 10.0.0.9
2024-05-01T10:00:02+0000 n1 k3s[90]: level=info msg=\"Password verified locally for node n1\"
ExecStart=/usr/local/bin/k3s server --token-file /var/lib/rancher/k3s/server/token
\t# server_tokens off;
\tserver_tokens on;
";
        let (out, n) = redact(lines);
        assert_eq!(n, 0, "{out}");
        assert_eq!(out, lines);
    }

    #[test]
    fn sql_identified_by_and_password_function() {
        let log = "\
240501 10:00:00     12 Query	CREATE USER 'pairctl'@'%' IDENTIFIED BY 'Mon1tor!ng'
240501 10:00:01     12 Query	GRANT ALL ON *.* TO 'sst'@'localhost' identified by \"sst-pw\"
240501 10:00:02     12 Query	ALTER USER root@localhost IDENTIFIED VIA ed25519 USING PASSWORD('r00t-pw') OR unix_socket
240501 10:00:03     12 Query	SET PASSWORD FOR 'a'@'%' = PASSWORD('it''s-pw')
240501 10:00:04     12 Query	CREATE USER x IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'
240501 10:00:05     12 Query	CREATE USER y IDENTIFIED VIA unix_socket;
";
        let (out, n) = redact(log);
        assert_eq!(n, 5, "{out}");
        for s in ["Mon1tor", "sst-pw", "r00t-pw", "it''s-pw", "94BDCEBE"] {
            assert!(!out.contains(s), "{s} in {out}");
        }
        assert!(out.contains("IDENTIFIED BY '[redacted]'\n"), "{out}");
        assert!(out.contains("IDENTIFIED VIA unix_socket;"), "{out}");
    }

    #[test]
    fn bearer_and_basic_authorization() {
        let (out, n) = redact(
            "May 01 10:00:00 n2 keepalived[1]: auth token Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x\n\
             10.0.0.1 - - \"GET /v1/auth/health\" 200 \"Authorization: Basic dXNlcjpwYXNz\"\n\
             proxy_set_header Authorization \"Bearer 0123456789abcdef\";\n\
             The bearer of this message is fine\n",
        );
        assert_eq!(n, 3, "{out}");
        assert!(out.contains("Bearer [redacted]\n"), "{out}");
        assert!(out.contains("Basic [redacted]\""), "{out}");
        assert!(out.contains("\"Bearer [redacted]\";"), "{out}");
        assert!(
            !out.contains("eyJ")
                && !out.contains("dXNlcjpwYXNz")
                && !out.contains("0123456789abcdef")
        );
        assert!(out.contains("The bearer of this message is fine"));
    }

    const KEY: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAvY3Kx0xMqh8d0r4m6v2nXb0cG5W8w0S8d6y5M1YqKxJrJ9xX
q1pQ3F0r9xGm8O0q0YJ6S3n0jz9s3kqQm1f1T1u7QdJmA0t2pQyQ8v5Xc0fGxLQ=
-----END RSA PRIVATE KEY-----
";

    #[test]
    fn pem_private_key_blocks() {
        let text = format!(
            "ssl_certificate /etc/nginx/tls/server.crt;\n{KEY}-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIK\n-----END PRIVATE KEY-----\ntrailer\n"
        );
        let (out, n) = redact(&text);
        assert_eq!(n, 2, "{out}");
        assert!(!out.contains("MIIEow") && !out.contains("MC4CAQ"), "{out}");
        assert!(
            out.contains(
                "-----BEGIN RSA PRIVATE KEY-----\n[redacted]\n-----END RSA PRIVATE KEY-----\n"
            ),
            "{out}"
        );
        assert!(out.contains("MIIBcert"), "certificates stay: {out}");
        assert!(out.ends_with("trailer\n"));
    }

    #[test]
    fn pem_key_escaped_on_one_line() {
        let line = "{\"tls.key\": \"-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIB\\nAoGCCqGSM49\\n-----END EC PRIVATE KEY-----\\n\", \"x\": 1}\n";
        let (out, n) = redact(line);
        assert_eq!(n, 1, "{out}");
        assert_eq!(
            out,
            "{\"tls.key\": \"-----BEGIN EC PRIVATE KEY-----\\n[redacted]\\n-----END EC PRIVATE KEY-----\\n\", \"x\": 1}\n"
        );
    }

    #[test]
    fn pem_without_end_stops_after_a_bound() {
        let mut text = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for _ in 0..(MAX_PEM_LINES + 10) {
            text.push_str("b3BlbnNzaC1rZXktdjEAAAAA\n");
        }
        text.push_str("after\n");
        let (out, n) = redact(&text);
        assert_eq!(n, 1);
        assert!(
            out.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n[redacted]\n"),
            "{out}"
        );
        assert!(out.ends_with("after\n"));
        assert_eq!(
            out.matches("b3Blbn").count(),
            10,
            "only the lines past the bound remain"
        );
    }

    #[test]
    fn config_secrets_every_occurrence() {
        let secret = "Zq8-galera-Pw";
        let token = "ingress.tok.7f3a";
        let text = format!(
            "mysql: connect as pairctl with {secret}\nretry {secret}{secret}\nGET /x?t={token} 200\nzq8-GALERA-pw is another case\n"
        );
        let (out, n) = redact_with(&[secret, token], &text);
        assert_eq!(n, 4, "{out}");
        assert!(!out.contains(secret) && !out.contains(token), "{out}");
        assert!(out.contains("zq8-GALERA-pw"), "exact match only: {out}");
    }

    #[test]
    fn short_config_secrets_are_not_matched_verbatim() {
        let (out, n) = redact_with(&["ab"], "abc ab\n");
        assert_eq!((out.as_str(), n), ("abc ab\n", 0));
    }

    #[test]
    fn kubernetes_env_entries() {
        let json = r#"            "env": [
              {
                "name": "DB_PASSWORD",
                "value": "k8s-env-secret"
              },
              {
                "name": "LOG_LEVEL",
                "value": "info"
              }
            ],
"#;
        let (out, n) = redact(json);
        assert_eq!(n, 1, "{out}");
        assert!(out.contains("\"value\": \"[redacted]\""), "{out}");
        assert!(out.contains("\"value\": \"info\""));
        let yaml =
            "  - name: API_TOKEN\n    value: yaml-env-secret\n  - name: MODE\n    value: fast\n";
        let (out, n) = redact(yaml);
        assert_eq!(n, 1, "{out}");
        assert!(
            !out.contains("yaml-env-secret") && out.contains("value: fast"),
            "{out}"
        );
    }

    #[test]
    fn split_across_chunk_boundaries() {
        let text = format!(
            "password = chunky-secret-1\nlog Bearer abcdefghijklmnop more\n{KEY}CREATE USER u IDENTIFIED BY 'chunky-2';\nplain line\nconfig-secret-here and again config-secret-here\nno newline at the end token=abc"
        );
        chunked_equals_whole(&["config-secret-here"], &text);
        let (out, n) = redact_with(&["config-secret-here"], &text);
        assert_eq!(n, 7, "{out}");
        assert!(out.ends_with("token=[redacted]"), "{out}");
    }

    /// One planted secret per shape credential scanners know: (line, the secret in it).
    const SHAPES: &[(&str, &str)] = &[
        (
            "May 01 10:00:00 n1 mariadbd[9]: backup: mysqldump -u root -pAcc7glued9 --all-databases",
            "Acc7glued9",
        ),
        ("cron[1]: mysql -uroot -p'Quoted-Glued7' -e 'select 1'", "Quoted-Glued7"),
        ("ExecStart=/usr/bin/mariadb-dump --password=Flag-Pw-31 db", "Flag-Pw-31"),
        ("Environment=MYSQL_PWD=Env-Pw-41", "Env-Pw-41"),
        (
            "litestream[3]: replica url=sftp://backup:Url-Pw-51@10.0.0.5/replica",
            "Url-Pw-51",
        ),
        ("GET https://admin:Url%40Pw61@n1:8443/v1 200", "Url%40Pw61"),
        ("aws: using AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
        ),
        (
            "git clone with ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("glpat-Abcdefghij0123456789 used", "glpat-Abcdefghij0123456789"),
        (
            "slack hook xoxb-123456789012-abcdefABCDEF sent",
            "xoxb-123456789012-abcdefABCDEF",
        ),
        ("stripe sk_live_0123456789abcdefABCD", "sk_live_0123456789abcdefABCD"),
        (
            "maps AIzaSyA-0123456789abcdefghijklmnopqrstu",
            "AIzaSyA-0123456789abcdefghijklmnopqrstu",
        ),
        (
            "k3s[7]: cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZw accepted",
            "c2lnbmF0dXJlLXNpZw",
        ),
        ("curl -H 'Authorization: Bearer Bearer-Tok-71'", "Bearer-Tok-71"),
        ("Authorization: Basic dXNlcjpCYXNpYy1QdzgxCg==", "dXNlcjpCYXNpYy1QdzgxCg=="),
        ("CREATE USER a IDENTIFIED BY 'Sql-Pw-11'", "Sql-Pw-11"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", ""),
    ];

    #[test]
    fn every_credential_shape_is_redacted_in_any_line() {
        for (line, secret) in SHAPES.iter().filter(|(_, s)| !s.is_empty()) {
            // As a journal line, a log line and a config line alike.
            for text in [
                format!("{line}\n"),
                format!("2026-12-01T10:00:00+00:00 n1 {line}\n"),
            ] {
                let (out, n) = redact(&text);
                assert!(!out.contains(secret), "{secret} survived: {out}");
                assert!(n >= 1, "{out}");
                chunked_equals_whole(&[], &text);
            }
        }
        let (out, _) = redact("ssh://root@n1/x mysql -P3306 -p --port 3306 AKIAshort -pe\n");
        assert_eq!(
            out,
            "ssh://root@n1/x mysql -P3306 -p --port 3306 AKIAshort -pe\n"
                .replace("-pe", "-p[redacted]")
        );
        let (out, n) = redact("grep -pattern file; https://example.org/a:b@c\n");
        assert_eq!(n, 0, "not a MySQL line, no userinfo: {out}");
    }

    #[test]
    fn every_trigger_word_holds_a_prefilter_word() {
        for (word, _) in trigger_words() {
            assert!(
                PREFILTER_WORDS
                    .iter()
                    .any(|p| memmem::find(&word, p.as_bytes()).is_some()),
                "{}",
                String::from_utf8_lossy(&word)
            );
        }
        // The search is on lower-cased text.
        assert!(PREFILTER_WORDS.iter().all(|p| p.to_ascii_lowercase() == *p));
    }

    #[test]
    fn both_prefilters_find_the_same_first_word() {
        let automaton = Prefilter::Automaton(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(PREFILTER_WORDS)
                .unwrap(),
        );
        let chosen = Prefilter::new(PREFILTER_WORDS);
        let text = "x\n".repeat(40) + "see /v1/auth/health, then auth_pass q -pw ://x key eyj";
        for from in 0..text.len() {
            let t = &text.as_bytes()[from..];
            assert_eq!(chosen.find(t), automaton.find(t), "from {from}");
        }
    }

    #[test]
    fn a_glued_password_at_the_start_of_a_line_is_found() {
        let line = "-pStart-Pw-9 passed to mariadb-dump\n";
        let rules = Rules::new(Vec::<&str>::new());
        for text in [
            line.to_string(),
            format!("ok\n{line}"),
            format!("{}\n{line}", "x".repeat(100)),
        ] {
            for cut in 0..text.len() {
                let (out, n) = push_cut(&rules, text.as_bytes(), &[cut]);
                let out = String::from_utf8_lossy(&out);
                assert!(!out.contains("Start-Pw-9") && n == 1, "cut at {cut}: {out}");
            }
        }
    }

    /// Pushes `data` cut at `cuts` (positions, any order) and returns the whole output.
    fn push_cut(rules: &Arc<Rules>, data: &[u8], cuts: &[usize]) -> (Vec<u8>, u64) {
        push_cut_with(rules, data, cuts, false)
    }

    /// The same, looking at every line with every rule when `every_rule`.
    fn push_cut_with(
        rules: &Arc<Rules>,
        data: &[u8],
        cuts: &[usize],
        every_rule: bool,
    ) -> (Vec<u8>, u64) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        at.sort_unstable();
        let mut r = Redactor::new(rules.clone());
        r.every_rule = every_rule;
        let mut out = Vec::new();
        let mut from = 0;
        for cut in at.into_iter().chain([data.len()]) {
            r.push(&data[from..cut], &mut out);
            from = cut;
        }
        r.finish(&mut out);
        (out, r.count())
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Bytes with newlines, CRs, quotes, trigger words and PEM markers well represented.
        fn stream() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                prop::collection::vec(any::<u8>(), 0..40),
                prop::sample::select(vec![
                    "\n",
                    "\r\n",
                    " ",
                    "=",
                    ":",
                    "\"",
                    "'",
                    "password",
                    "token",
                    "Bearer ",
                    "Authorization: Basic ",
                    "IDENTIFIED BY ",
                    "-----BEGIN RSA PRIVATE KEY-----",
                    "-----END RSA PRIVATE KEY-----",
                    "mysql -p",
                    "://u:",
                    "@",
                    "AKIA",
                    "eyJ",
                    "mariadbd[811]: ",
                    "mysql",
                    "-p",
                    " -pX9",
                    "\t-p'q",
                    "ghp_",
                    "passwd(",
                    "auth_pass ",
                    "PASSWORD('",
                    "\"name\": \"DB_PASSWORD\"",
                    "\"value\": ",
                    "\\n",
                ])
                .prop_map(|s| s.as_bytes().to_vec()),
            ];
            prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

            /// Arbitrary bytes cut anywhere: no panic, and the same output as in one piece.
            #[test]
            fn any_bytes_any_chunks_same_as_whole(data in stream(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
                let rules = Rules::new(["Zq8galeraPw"]);
                let (whole, n) = push_cut(&rules, &data, &[]);
                let (chunked, m) = push_cut(&rules, &data, &cuts);
                prop_assert_eq!(whole, chunked);
                prop_assert_eq!(n, m);
            }

            /// Skipping the lines without a trigger word, and the rules whose words a line
            /// does not hold, changes nothing: the same output and count as every rule on every
            /// line (shapes and their words mixed into arbitrary bytes, cut anywhere).
            #[test]
            fn skipping_rules_a_line_does_not_call_for_changes_nothing(data in stream(), shapes in prop::collection::vec(0..SHAPES.len(), 0..4), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
                let rules = Rules::new(["Zq8galeraPw"]);
                let mut data = data;
                for (k, which) in shapes.into_iter().enumerate() {
                    let at = (k * 37) % (data.len() + 1);
                    data.splice(at..at, SHAPES[which].0.bytes());
                }
                let skipping = push_cut_with(&rules, &data, &cuts, false);
                let every = push_cut_with(&rules, &data, &cuts, true);
                prop_assert_eq!(skipping, every);
            }

            /// The configuration's secret, anywhere in arbitrary bytes, split across chunks
            /// anywhere: it never comes out.
            #[test]
            fn a_config_secret_never_survives_a_split(before in stream(), after in stream(), cuts in prop::collection::vec(any::<usize>(), 1..8)) {
                let secret = b"Zq8galeraPw";
                let rules = Rules::new(["Zq8galeraPw"]);
                let data = [before.as_slice(), secret, after.as_slice()].concat();
                let (out, n) = push_cut(&rules, &data, &cuts);
                prop_assert!(memmem::find(&out, secret).is_none());
                prop_assert!(n >= 1);
            }

            /// Every credential shape on its own line, whatever lines surround it and wherever
            /// the stream is cut: the secret never comes out.
            #[test]
            fn a_shaped_secret_never_survives_a_split(before in stream(), after in stream(), which in 0..SHAPES.len(), cuts in prop::collection::vec(any::<usize>(), 1..8)) {
                let (line, secret) = SHAPES[which];
                prop_assume!(!secret.is_empty());
                let rules = Rules::new(Vec::<&str>::new());
                let data = [before.as_slice(), b"\n", line.as_bytes(), b"\n", after.as_slice()].concat();
                let (out, _) = push_cut(&rules, &data, &cuts);
                prop_assert!(memmem::find(&out, secret.as_bytes()).is_none(), "{}", String::from_utf8_lossy(&out));
            }
        }
    }

    #[test]
    fn crlf_lines_keep_their_terminator() {
        let (out, n) = redact("password=x1y2\r\nok\r\n");
        assert_eq!((out.as_str(), n), ("password=[redacted]\r\nok\r\n", 1));
    }

    #[test]
    fn very_long_lines_are_cut_at_a_blank() {
        let mut text = "word ".repeat(MAX_LINE / 5 + 100);
        text.push_str("password=long-line-secret end\n");
        let (out, n) = redact(&text);
        assert_eq!(n, 1);
        assert!(!out.contains("long-line-secret"));
        assert_eq!(
            out.len(),
            text.len() - "long-line-secret".len() + MARK.len()
        );
    }

    #[test]
    fn binary_data_passes_through() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let rules = Rules::new(Vec::<&str>::new());
        let mut r = Redactor::new(rules);
        let mut out = Vec::new();
        r.push(&data, &mut out);
        r.finish(&mut out);
        assert_eq!(out, data);
    }
}
