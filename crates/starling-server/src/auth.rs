//! API tokens: made at random, shown once, stored only as SHA-256 hashes in `tokens.json`
//! (readable by its owner alone), each with a role.

use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a token may do; each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read: search, posts, watches, detections, the stream, metrics.
    Reader,
    /// Also change watches and import.
    Editor,
    /// Also manage tokens.
    Admin,
}

impl Role {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// `reader`, `editor` or `admin`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "reader" => Some(Role::Reader),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The tokens file inside the data folder.
pub const TOKENS_FILE: &str = "tokens.json";

/// One token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who or what it is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Why tokens could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The tokens file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what Starling writes.
    #[error("{path}: not a tokens file ({message})")]
    Corrupt {
        /// The tokens file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A token of that name exists.
    #[error("a token named {0:?} exists; remove it first")]
    Exists(String),
    /// The name is empty or too long.
    #[error("token names are 1 to 100 characters without control characters, not {0:?}")]
    Name(String),
    /// No randomness was to be had.
    #[error("no random bytes for a token: {0}")]
    Random(String),
}

/// The tokens of one data folder.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    entries: RwLock<Vec<TokenEntry>>,
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Tokens {
    /// Reads `data_dir/tokens.json` (none yet is no tokens).
    pub fn open(data_dir: &Path) -> Result<Tokens, TokenError> {
        let path = data_dir.join(TOKENS_FILE);
        let entries = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| TokenError::Corrupt {
                path: path.clone(),
                message: error.to_string(),
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(TokenError::Io { path, source }),
        };
        Ok(Tokens {
            path,
            entries: RwLock::new(entries),
        })
    }

    /// The tokens, without their secrets.
    pub fn list(&self) -> Vec<TokenEntry> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Makes a token called `name` with `role`; the token itself, which is not kept.
    pub fn add(&self, name: &str, role: Role) -> Result<String, TokenError> {
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(TokenError::Name(name.to_owned()));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| TokenError::Random(error.to_string()))?;
        let token = format!(
            "stl_{}",
            bytes
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        );
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.iter().any(|entry| entry.name == name) {
            return Err(TokenError::Exists(name.to_owned()));
        }
        entries.push(TokenEntry {
            name: name.to_owned(),
            role,
            sha256: hash(&token),
            created_at: chrono::Utc::now(),
        });
        if let Err(error) = self.save(&entries) {
            entries.pop();
            return Err(error);
        }
        Ok(token)
    }

    /// Removes the token called `name`; whether there was one.
    pub fn remove(&self, name: &str) -> Result<bool, TokenError> {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let before = entries.clone();
        entries.retain(|entry| entry.name != name);
        if entries.len() == before.len() {
            return Ok(false);
        }
        if let Err(error) = self.save(&entries) {
            *entries = before;
            return Err(error);
        }
        Ok(true)
    }

    /// The token's entry, when `token` is one.
    pub fn check(&self, token: &str) -> Option<TokenEntry> {
        let wanted = hash(token);
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|entry| entry.sha256 == wanted)
            .cloned()
    }

    /// Writes the file whole (a new file renamed over the old), readable by its owner only.
    fn save(&self, entries: &[TokenEntry]) -> Result<(), TokenError> {
        let io = |source| TokenError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(entries).map_err(|error| io(error.into()))?;
        let temporary = self.path.with_extension("json.new");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&temporary).map_err(io)?;
            file.write_all(&json).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&temporary, &self.path).map_err(io)
    }
}

/// Who may call the API.
#[derive(Debug)]
pub enum Access {
    /// Anyone who can connect: only when the server is bound to a loopback address.
    Open,
    /// A token with the role a route needs.
    Tokens(Tokens),
}

impl Access {
    /// The role `authorization` (an `Authorization` header's value) grants, if any.
    pub fn role(&self, authorization: Option<&str>) -> Option<Role> {
        match self {
            Access::Open => Some(Role::Admin),
            Access::Tokens(tokens) => {
                let (scheme, token) = authorization?.trim().split_once(' ')?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return None;
                }
                let token = token.trim();
                tokens.check(token).map(|entry| entry.role)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_checked_and_removed() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let tokens = Tokens::open(dir.path()).expect("no file yet");
        let token = tokens.add("newsdesk", Role::Editor).expect("made");
        assert!(token.starts_with("stl_") && token.len() == 68);
        let file = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).expect("written");
        assert!(!file.contains(&token), "the token itself is never stored");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKENS_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        let again = Tokens::open(dir.path()).expect("read back");
        assert_eq!(
            again.check(&token).map(|entry| entry.role),
            Some(Role::Editor)
        );
        assert_eq!(again.check("stl_wrong"), None);
        assert!(matches!(
            again.add("newsdesk", Role::Reader),
            Err(TokenError::Exists(_))
        ));
        let access = Access::Tokens(again);
        assert_eq!(
            access.role(Some(&format!("Bearer {token}"))),
            Some(Role::Editor)
        );
        assert_eq!(
            access.role(Some(&token)),
            None,
            "the Bearer scheme is needed"
        );
        assert_eq!(
            access.role(Some(&format!("bearer  {token} "))),
            Some(Role::Editor),
            "the scheme's name is case-insensitive"
        );
        assert_eq!(access.role(None), None);
        let Access::Tokens(tokens) = access else {
            unreachable!()
        };
        assert!(tokens.remove("newsdesk").expect("removed"));
        assert_eq!(tokens.check(&token), None);
        assert!(!tokens.remove("newsdesk").expect("nothing to remove"));
    }
}
