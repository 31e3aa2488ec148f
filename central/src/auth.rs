//! Tokens: who a bearer token stands for. Each token is bound to a role, a clinic (`lpuId`),
//! for kiosks and boards a device id, and for doctors optionally their cabinets and doctor id;
//! central takes identity from the token, never from request params.
//!
//! Tokens are high-entropy random strings ([`generate`]); central keeps only their SHA-256
//! ([`hash`]), so the tokens file is not a secret, only integrity-protected (root-owned). A
//! token is found by its hash and the hashes compared in constant time, so response timing
//! tells nothing about the token.
//!
//! The tokens file (`deploy/central-tokens.example`) is TOML, one `[[token]]` table per token:
//!
//! ```toml
//! [[token]]
//! sha256 = "…64 hex digits…"
//! role = "kiosk"        # kiosk, board, doctor, infodesk, head, admin
//! lpu = 1               # the clinic (its branches included)
//! device = 2            # kiosks and boards: their `kiosk.id`
//! rooms = ["214"]       # doctors, optional: the cabinets they may call to
//! doctor_id = 101       # doctors, optional
//! name = "Киоск, холл"  # for people reading logs and the console
//! printer = "tcp://10.1.0.40:9100"  # info desks, optional: the desk's ticket printer
//! ```
//!
//! Staff may instead log in to the console with a login and password of their own: one
//! `[[person]]` table each, the password kept as an Argon2id hash (`central staff add`):
//!
//! ```toml
//! [[person]]
//! login = "ivanova"
//! password = "$argon2id$v=19$m=19456,t=2,p=1$…"
//! role = "doctor"
//! lpu = 1
//! rooms = ["214"]
//! name = "Иванова М. П."
//! ```
//!
//! The old format, `KIOSK_ID=TOKEN` lines with tokens in clear, is still read (role kiosk of the
//! default clinic, with a warning); `central token migrate` rewrites it hashed.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use protocol::Role;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{origin}: cannot read: {source}")]
    Read { origin: String, source: std::io::Error },
    #[error("{origin}: not a tokens file: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: token {index}: {message}")]
    Record { origin: String, index: usize, message: String },
    #[error("{origin}: line {line}: {message}")]
    Legacy { origin: String, line: usize, message: String },
    #[error(
        "{origin}: token {index} is the same token as an earlier one: each device and person needs its own"
    )]
    Duplicate { origin: String, index: usize },
    #[error("an empty token is not accepted")]
    Empty,
    #[error("cannot get random bytes for a token: {0}")]
    Random(String),
}

/// Who a token stands for. Carries no secret: safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub role: Role,
    /// The clinic; its branches (clinics whose parent it is) are covered too.
    pub lpu: u32,
    /// Kiosks and boards: the device id (`kioskId` on the wire, `kiosk.id` in its config).
    pub device: Option<u32>,
    /// Doctors: the cabinets they may call patients to (empty: any of the clinic's).
    pub rooms: Vec<String>,
    pub doctor_id: Option<u64>,
    /// For people: logs, metrics, the staff console.
    pub name: String,
    /// Info desks: where the desk's ticket printer is (a link URL, `tcp://HOST:PORT`, ...).
    pub printer: Option<String>,
    /// Stable and secret-free: scopes request ids, rate limits and feed connections.
    pub key: String,
}

impl Identity {
    pub fn new(role: Role, lpu: u32, device: Option<u32>) -> Identity {
        let mut i = Identity {
            role,
            lpu,
            device,
            rooms: Vec::new(),
            doctor_id: None,
            name: String::new(),
            printer: None,
            key: String::new(),
        };
        i.key = i.default_key(None);
        i
    }

    fn default_key(&self, hash: Option<&[u8; 32]>) -> String {
        match (self.device, hash) {
            (Some(d), _) => format!("{}/{}/{d}", self.lpu, self.role),
            // Staff without a device: one key per token, from (a prefix of) its hash.
            (None, Some(h)) => format!("{}/{}/t{}", self.lpu, self.role, hex(&h[..6])),
            (None, None) => format!("{}/{}", self.lpu, self.role),
        }
    }

    /// The device id a request may name as `kioskId` (0 for tokens without a device).
    pub fn kiosk_id(&self) -> u32 {
        self.device.unwrap_or(0)
    }
}

/// One record of the tokens file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub sha256: String,
    pub role: Role,
    pub lpu: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not the token, but nothing about tokens goes to logs.
        f.debug_struct("TokenRecord")
            .field("sha256", &"<hidden>")
            .field("role", &self.role)
            .field("lpu", &self.lpu)
            .field("device", &self.device)
            .field("rooms", &self.rooms)
            .field("name", &self.name)
            .finish()
    }
}

impl TokenRecord {
    /// A record for `token` (only its hash is kept).
    pub fn new(token: &str, who: &Identity) -> TokenRecord {
        TokenRecord {
            sha256: hex(&hash(token)),
            role: who.role,
            lpu: who.lpu,
            device: who.device,
            rooms: who.rooms.clone(),
            doctor_id: who.doctor_id,
            name: who.name.clone(),
            printer: who.printer.clone(),
        }
    }

    /// The record as a `[[token]]` table, to append to a tokens file.
    pub fn to_toml(&self) -> String {
        one_table("token", self)
    }

    fn check(&self) -> Result<([u8; 32], Identity), String> {
        let h = unhex32(&self.sha256).ok_or("sha256: expected 64 hex digits")?;
        if self.role.is_device() && self.device.is_none() {
            return Err(format!("role {} needs `device` (the machine's kiosk.id)", self.role));
        }
        let mut who = identity(self.role, self.lpu, &self.rooms, self.doctor_id, &self.name, &self.printer)?;
        who.device = self.device;
        who.key = who.default_key(Some(&h));
        Ok((h, who))
    }
}

/// `record` as one `[[name]]` table.
fn one_table(name: &str, record: &impl Serialize) -> String {
    let mut t = toml::Table::new();
    let value = toml::Value::try_from(record).expect("a record serialises");
    t.insert(name.to_owned(), toml::Value::Array(vec![value]));
    toml::to_string(&t).expect("a record serialises")
}

/// The identity a record describes, its fields checked.
fn identity(
    role: Role,
    lpu: u32,
    rooms: &[String],
    doctor_id: Option<u64>,
    name: &str,
    printer: &Option<String>,
) -> Result<Identity, String> {
    if !rooms.is_empty() && role != Role::Doctor {
        return Err(format!("rooms: only doctors are bound to cabinets, not role {role}"));
    }
    if rooms.iter().any(|r| r.trim().is_empty()) {
        return Err("rooms: an empty cabinet number".into());
    }
    if let Some(p) = printer {
        if role != Role::Infodesk {
            return Err(format!("printer: only info desks have a ticket printer, not role {role}"));
        }
        drivers::link::LinkSpec::parse(p).map_err(|e| format!("printer: {e}"))?;
    }
    let mut who = Identity::new(role, lpu, None);
    who.rooms = rooms.to_vec();
    who.doctor_id = doctor_id;
    who.name = name.to_owned();
    who.printer = printer.clone();
    Ok(who)
}

/// A member of staff who logs in to the console with a login and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    pub login: String,
    /// The password's Argon2id hash as a PHC string (never the password).
    pub password: String,
    pub role: Role,
    pub lpu: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

impl fmt::Debug for PersonRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonRecord")
            .field("login", &self.login)
            .field("password", &"<hidden>")
            .field("role", &self.role)
            .field("lpu", &self.lpu)
            .finish_non_exhaustive()
    }
}

/// Shortest password `central staff add` accepts.
pub const PASSWORD_MIN: usize = 10;

impl PersonRecord {
    /// A record for `who` logging in as `login` with `password` (hashed here with Argon2id and
    /// a random salt).
    pub fn new(login: &str, password: &str, who: &Identity) -> Result<PersonRecord, TokenError> {
        use argon2::password_hash::{PasswordHasher, SaltString};
        if password.chars().count() < PASSWORD_MIN {
            return Err(TokenError::Random(format!("a password needs at least {PASSWORD_MIN} characters")));
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| TokenError::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| TokenError::Random(e.to_string()))?;
        let phc = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| TokenError::Random(e.to_string()))?
            .to_string();
        Ok(PersonRecord {
            login: login.to_owned(),
            password: phc,
            role: who.role,
            lpu: who.lpu,
            rooms: who.rooms.clone(),
            doctor_id: who.doctor_id,
            name: who.name.clone(),
            printer: who.printer.clone(),
        })
    }

    /// The record as a `[[person]]` table, to append to a tokens file.
    pub fn to_toml(&self) -> String {
        one_table("person", self)
    }

    fn check(&self) -> Result<Person, String> {
        if self.role.is_device() {
            return Err(format!("role {}: machines log in with tokens, not passwords", self.role));
        }
        let login = self.login.trim();
        if login.is_empty() || login.len() > 64 || login.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("login: 1 to 64 characters, no spaces".into());
        }
        argon2::PasswordHash::new(&self.password)
            .map_err(|e| format!("password: not an Argon2 hash: {e}"))?;
        let mut who = identity(self.role, self.lpu, &self.rooms, self.doctor_id, &self.name, &self.printer)?;
        // One key per person, from the login (not secret, stable across password changes).
        who.key = format!("{}/{}/p{}", who.lpu, who.role, hex(&hash(login)[..6]));
        Ok(Person { phc: self.password.clone(), who: Arc::new(who) })
    }
}

/// The hash an unknown login's password is checked against (of a random password nobody has).
fn dummy_phc() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let password = generate().unwrap_or_else(|_| "x".repeat(64));
        PersonRecord::new("-", &password, &Identity::new(Role::Admin, 0, None))
            .map(|r| r.password)
            .unwrap_or_default()
    })
}

/// A person's password hash and who they are.
#[derive(Clone)]
struct Person {
    phc: String,
    who: Arc<Identity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenRecord>,
    #[serde(default)]
    person: Vec<PersonRecord>,
}

/// The tokens central accepts, by hash, and the people who log in with a password.
#[derive(Default, Clone)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Arc<Identity>>,
    persons: HashMap<String, Person>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokens({} accepted)", self.by_hash.len())
    }
}

/// What reading a tokens file found besides the tokens: things the operator should fix.
pub type Warnings = Vec<String>;

impl Tokens {
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Who logs in as `login` with `password`, if the password is theirs. Argon2 makes each
    /// guess cost tens of milliseconds; the console also limits guesses per login.
    pub fn person(&self, login: &str, password: &str) -> Option<(Arc<Identity>, [u8; 32])> {
        use argon2::password_hash::PasswordVerifier;
        let p = self.persons.get(login.trim());
        // An unknown login costs the same hashing as a known one: timing tells nobody which
        // logins exist.
        let phc: &str = match p {
            Some(p) => &p.phc,
            None => dummy_phc(),
        };
        let parsed = argon2::PasswordHash::new(phc).ok()?;
        let verified = argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        let p = p.filter(|_| verified)?;
        Some((p.who.clone(), hash(&p.phc)))
    }

    /// The person logged in as `login`, while their password hash is still `phc_hash` (a
    /// console session keeps it: a changed password or a removed person ends the session).
    pub fn person_current(&self, login: &str, phc_hash: &[u8; 32]) -> Option<Arc<Identity>> {
        let p = self.persons.get(login)?;
        constant_time_eq(&hash(&p.phc), phc_hash).then(|| p.who.clone())
    }

    /// Adds a person (the demo, tests).
    pub fn add_person(&mut self, record: &PersonRecord) -> Result<(), TokenError> {
        let p = record.check().map_err(|message| TokenError::Record {
            origin: "built-in".into(),
            index: 0,
            message,
        })?;
        self.persons.insert(record.login.trim().to_owned(), p);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Who `presented` stands for, if central knows it.
    pub fn lookup(&self, presented: &str) -> Option<Arc<Identity>> {
        // Found by its hash (timing can only tell about the hash, which says nothing about the
        // token), then compared in constant time anyway.
        self.lookup_hash(&hash(presented))
    }

    /// The identity of the token whose SHA-256 is `h` (a console session keeps the hash, not
    /// the token, and finds the identity again on every request: a revoked token ends it).
    pub fn lookup_hash(&self, h: &[u8; 32]) -> Option<Arc<Identity>> {
        let (k, v) = self.by_hash.get_key_value(h)?;
        constant_time_eq(k, h).then(|| v.clone())
    }

    /// Adds a token given in clear (the demo, tests). Empty or repeated tokens are refused.
    pub fn add(&mut self, token: &str, who: Identity) -> Result<(), TokenError> {
        if token.trim().is_empty() {
            return Err(TokenError::Empty);
        }
        let h = hash(token);
        if self.by_hash.contains_key(&h) {
            return Err(TokenError::Duplicate { origin: "built-in".into(), index: self.by_hash.len() + 1 });
        }
        let mut who = who;
        if who.key.is_empty() || who.device.is_none() {
            who.key = who.default_key(Some(&h));
        }
        self.by_hash.insert(h, Arc::new(who));
        Ok(())
    }

    /// Adds every token of `other`; a token in both is refused.
    pub fn merge(&mut self, other: Tokens, origin: &str) -> Result<(), TokenError> {
        for (login, p) in other.persons {
            if self.persons.insert(login, p).is_some() {
                return Err(TokenError::Duplicate { origin: origin.into(), index: self.persons.len() });
            }
        }
        for (h, who) in other.by_hash {
            if self.by_hash.insert(h, who).is_some() {
                return Err(TokenError::Duplicate { origin: origin.into(), index: self.by_hash.len() });
            }
        }
        Ok(())
    }

    /// Reads a tokens file: TOML records, or legacy `KIOSK_ID=TOKEN` lines (kiosks of
    /// `default_lpu`, with a warning).
    pub fn parse(text: &str, origin: &str, default_lpu: u32) -> Result<(Tokens, Warnings), TokenError> {
        if let Some(lines) = legacy_lines(text) {
            return Tokens::parse_legacy(&lines, origin, default_lpu);
        }
        let file: TokensFile = toml::from_str(text)
            .map_err(|e| TokenError::Syntax { origin: origin.into(), message: e.to_string() })?;
        let mut out = Tokens::default();
        for (i, r) in file.token.iter().enumerate() {
            let (h, who) = r.check().map_err(|message| TokenError::Record {
                origin: origin.into(),
                index: i + 1,
                message,
            })?;
            if out.by_hash.insert(h, Arc::new(who)).is_some() {
                return Err(TokenError::Duplicate { origin: origin.into(), index: i + 1 });
            }
        }
        for (i, r) in file.person.iter().enumerate() {
            let p = r.check().map_err(|message| TokenError::Record {
                origin: origin.into(),
                index: i + 1,
                message: format!("person {}: {message}", r.login),
            })?;
            if out.persons.insert(r.login.trim().to_owned(), p).is_some() {
                return Err(TokenError::Record {
                    origin: origin.into(),
                    index: i + 1,
                    message: format!("person {}: the login is taken by an earlier person", r.login),
                });
            }
        }
        let mut warnings = Vec::new();
        if out.is_empty() && out.persons.is_empty() {
            warnings.push(format!("{origin}: no tokens: every request will get 401"));
        }
        Ok((out, warnings))
    }

    fn parse_legacy(
        lines: &[(usize, u32, &str)],
        origin: &str,
        default_lpu: u32,
    ) -> Result<(Tokens, Warnings), TokenError> {
        let mut out = Tokens::default();
        for &(line, id, token) in lines {
            if token.is_empty() {
                return Err(TokenError::Legacy {
                    origin: origin.into(),
                    line,
                    message: "empty token".into(),
                });
            }
            let h = hash(token);
            let who = Identity::new(Role::Kiosk, default_lpu, Some(id));
            if out.by_hash.insert(h, Arc::new(who)).is_some() {
                return Err(TokenError::Legacy {
                    origin: origin.into(),
                    line,
                    message: "the same token as an earlier line: each device needs its own".into(),
                });
            }
        }
        let warnings = vec![format!(
            "{origin}: old KIOSK_ID=TOKEN format, tokens in clear, every one a kiosk of clinic {default_lpu}: \
             convert it with `central token migrate --from {origin} --to NEW` (docs/OPERATIONS.md)"
        )];
        Ok((out, warnings))
    }

    pub fn load(path: &Path, default_lpu: u32) -> Result<(Tokens, Warnings), TokenError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| TokenError::Read { origin: origin.clone(), source })?;
        Tokens::parse(&text, &origin, default_lpu)
    }

    /// Records of a legacy file, hashed: what `central token migrate` writes.
    pub fn migrate(text: &str, origin: &str, default_lpu: u32) -> Result<Vec<TokenRecord>, TokenError> {
        let Some(lines) = legacy_lines(text) else {
            return Err(TokenError::Syntax {
                origin: origin.into(),
                message: "not the old KIOSK_ID=TOKEN format".into(),
            });
        };
        Tokens::parse_legacy(&lines, origin, default_lpu)?;
        Ok(lines
            .iter()
            .map(|&(_, id, token)| {
                TokenRecord::new(token, &Identity::new(Role::Kiosk, default_lpu, Some(id)))
            })
            .collect())
    }
}

/// Legacy files are lines of `DIGITS=TOKEN` (and comments); TOML never looks like that
/// (an unquoted value is not TOML).
fn legacy_lines(text: &str) -> Option<Vec<(usize, u32, &str)>> {
    let mut out = Vec::new();
    for (n, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (id, token) = l.split_once('=')?;
        let id: u32 = id.trim().parse().ok()?;
        let token = token.trim();
        if token.starts_with(['"', '\'', '[', '{']) {
            return None;
        }
        out.push((n + 1, id, token));
    }
    (!out.is_empty()).then_some(out)
}

/// A legacy `HashMap<token, kiosk id>` (what tests and the kiosk's rig pass): kiosks of clinic 1.
impl From<HashMap<String, u32>> for Tokens {
    fn from(m: HashMap<String, u32>) -> Tokens {
        let mut t = Tokens::default();
        for (token, id) in m {
            // Empty or repeated tokens cannot come from a map's distinct non-empty keys; an
            // empty one is dropped rather than accepted.
            let _ = t.add(&token, Identity::new(Role::Kiosk, 1, Some(id)));
        }
        t
    }
}

/// The demo's tokens (`--seed demo`, the embedded central): clinic 1's kiosk 2 (`demo`, what
/// the kiosk's rig and tests present), its board 50 (`demo-board`), a duty doctor who may call
/// to any cabinet (`demo-doctor`), the info desk (`demo-desk`) and the head (`demo-head`).
pub fn demo_tokens() -> Tokens {
    let mut t = Tokens::default();
    for (token, who) in demo_tokens_in_clear() {
        t.add(token, who).expect("distinct demo tokens");
    }
    t
}

/// The demo's tokens with who they stand for (public on purpose: demo and tests only).
pub fn demo_tokens_in_clear() -> Vec<(&'static str, Identity)> {
    let named = |role, device, name: &str| {
        let mut i = Identity::new(role, 1, device);
        i.name = name.into();
        i
    };
    vec![
        (DEMO_KIOSK, named(Role::Kiosk, Some(2), "Демо-киоск 2")),
        (DEMO_BOARD, named(Role::Board, Some(50), "Демо-табло 50")),
        (DEMO_DOCTOR, named(Role::Doctor, None, "Демо-врач")),
        (DEMO_DESK, named(Role::Infodesk, None, "Демо-регистратура")),
        (DEMO_ADMIN, named(Role::Admin, None, "Демо-ИТ")),
        (DEMO_HEAD, named(Role::Head, None, "Демо-заведующий")),
    ]
}

pub const DEMO_KIOSK: &str = "demo";
pub const DEMO_BOARD: &str = "demo-board";
pub const DEMO_DOCTOR: &str = "demo-doctor";
pub const DEMO_DESK: &str = "demo-desk";
pub const DEMO_HEAD: &str = "demo-head";
pub const DEMO_ADMIN: &str = "demo-admin";

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new token: 32 random bytes from the operating system, as 64 hex digits.
pub fn generate() -> Result<String, TokenError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(hex(&b))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

pub(crate) fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_only_hashes_are_kept() {
        let mut who = Identity::new(Role::Doctor, 1, None);
        who.rooms = vec!["214".into()];
        who.name = "Иванова".into();
        let token = generate().unwrap();
        assert_eq!(token.len(), 64);
        let text = TokenRecord::new(&token, &who).to_toml();
        assert!(!text.contains(&token), "{text}");
        let (t, w) = Tokens::parse(&text, "f", 1).unwrap();
        assert!(w.is_empty());
        let found = t.lookup(&token).unwrap();
        assert_eq!((found.role, found.lpu, found.rooms.clone()), (Role::Doctor, 1, vec!["214".to_owned()]));
        assert!(t.lookup("guess").is_none() && t.lookup("").is_none());
        assert!(!format!("{t:?}{:?}", TokenRecord::new(&token, &who)).contains(&hex(&hash(&token))));
    }

    #[test]
    fn bad_files_are_refused_with_the_place() {
        let rec = |token: &str| TokenRecord::new(token, &Identity::new(Role::Kiosk, 1, Some(2))).to_toml();
        let dup = format!("{}\n{}", rec("a"), rec("a"));
        assert!(matches!(Tokens::parse(&dup, "f", 1), Err(TokenError::Duplicate { index: 2, .. })));
        let no_device = rec("b").replace("device = 2\n", "");
        let e = Tokens::parse(&no_device, "f", 1).unwrap_err().to_string();
        assert!(e.contains("token 1") && e.contains("device"), "{e}");
        assert!(Tokens::parse("2=\n", "f", 1).is_err(), "empty legacy token");
        assert!(Tokens::parse("2=x\n3=x\n", "f", 1).is_err(), "duplicate legacy token");
        assert!(
            Tokens::parse("[[token]]\nsha256 = \"zz\"\nrole = \"kiosk\"\nlpu = 1\ndevice = 2\n", "f", 1)
                .is_err()
        );
        assert!(Tokens::parse("[[token]]\nsha256 = \"00\"\nrole = \"root\"\nlpu = 1\n", "f", 1).is_err());
        let mut t = Tokens::default();
        assert!(matches!(t.add(" ", Identity::new(Role::Board, 1, Some(5))), Err(TokenError::Empty)));
    }

    #[test]
    fn people_log_in_with_their_password_and_a_changed_one_ends_sessions() {
        let mut who = Identity::new(Role::Doctor, 1, None);
        who.rooms = vec!["214".into()];
        let rec = PersonRecord::new("ivanova", "correct horse battery", &who).unwrap();
        let text = rec.to_toml();
        assert!(!text.contains("correct horse") && text.contains("$argon2id$"), "{text}");
        assert!(!format!("{rec:?}").contains("argon2"));
        let (t, w) = Tokens::parse(&text, "f", 1).unwrap();
        assert!(w.is_empty(), "{w:?}");
        let (found, phc) = t.person("ivanova", "correct horse battery").unwrap();
        assert_eq!((found.role, found.rooms.clone()), (Role::Doctor, vec!["214".to_owned()]));
        assert!(t.person("ivanova", "wrong password!").is_none() && t.person("petrov", "x").is_none());
        assert!(t.person_current("ivanova", &phc).is_some());
        let changed = PersonRecord::new("ivanova", "another long password", &who).unwrap();
        let (t2, _) = Tokens::parse(&changed.to_toml(), "f", 1).unwrap();
        assert!(t2.person_current("ivanova", &phc).is_none(), "the old session's hash no longer matches");
        assert!(PersonRecord::new("x", "short", &who).is_err());
        let kiosk = rec.to_toml().replace("role = \"doctor\"", "role = \"kiosk\"");
        assert!(Tokens::parse(&kiosk, "f", 1).is_err(), "machines do not log in with passwords");
    }

    #[test]
    fn legacy_lines_are_kiosks_of_the_default_clinic_and_migrate() {
        let (t, w) = Tokens::parse("# c\n2=abc\n50 = def\n", "old", 7).unwrap();
        assert_eq!(w.len(), 1);
        let k = t.lookup("def").unwrap();
        assert_eq!((k.role, k.lpu, k.device), (Role::Kiosk, 7, Some(50)));
        let recs = Tokens::migrate("2=abc\n", "old", 7).unwrap();
        let (t, _) = Tokens::parse(&recs[0].to_toml(), "new", 1).unwrap();
        assert_eq!(t.lookup("abc").unwrap().device, Some(2));
    }
}
