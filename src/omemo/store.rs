//! Where an account's OMEMO state lives: `$XDG_DATA_HOME/xft/omemo/ACCOUNT/` (else
//! `~/.local/share/xft/omemo/ACCOUNT/`), a directory of mode 0700 holding
//! `identity.json` (our keys), `sessions.json` (one ratchet per peer device) and
//! `trust.json` (what we think of each key), each 0600 and replaced by rename, never
//! written in place.
//!
//! Every change is a transaction under an exclusive lock on the directory's `lock`
//! file: the state is read from disk, changed, and written back before the lock is
//! released. Two xft processes of the same account (a `recv` that runs all day and a
//! `send --encrypt` from cron) therefore never advance the same ratchet from the same
//! state, which would break the session for good.
//!
//! A file that cannot be read is a damaged store, said as such: xft never replaces a
//! damaged identity with a new one on its own (a new identity looks to every contact
//! like a new, unverified device).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{de::DeserializeOwned, Serialize};

use super::identity::Identity;
use super::ratchet::Session;
use super::trust::Contact;

/// Largest store file read (a session with all its skipped keys is well under 1 MiB).
const MAX_FILE: u64 = 64 << 20;

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No directory to keep it in.
    #[error("no place for the OMEMO store: set XDG_DATA_HOME or HOME")]
    NoHome,
    /// A file or directory could not be read or written.
    #[error("OMEMO store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is there but does not hold what xft wrote.
    #[error("the OMEMO store file {path} is damaged ({reason}); move it away to start over (a new identity is a new device for your contacts)")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// Another xft process of this account held the lock for the whole `--timeout`.
    #[error("another xft process of this account holds the OMEMO store ({0}) for too long")]
    Busy(PathBuf),
}

/// Sessions by peer and device: `"bare-jid device-id"`.
pub type Sessions = BTreeMap<String, Session>;
/// What we know of each JID's keys.
pub type TrustBook = BTreeMap<String, Contact>;

/// The key a session is stored under.
pub fn session_key(jid: &str, device: u32) -> String {
    format!("{jid} {device}")
}

/// The whole state, as a transaction sees it.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Our device; `None` before first use.
    pub identity: Option<Identity>,
    /// Ratchets with peer devices.
    pub sessions: Sessions,
    /// Trust in peer keys.
    pub trust: TrustBook,
}

/// An account's store directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store of `account` (a bare JID) under the user's data directory.
    pub fn for_account(account: &str) -> Result<Store, StoreError> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".local/share"))
            })
            .ok_or(StoreError::NoHome)?;
        Ok(Store::at(
            base.join("xft").join("omemo").join(directory_name(account)),
        ))
    }

    /// The store in exactly `dir`.
    pub fn at(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `change` on the state under the account's lock, and writes back what it
    /// changed. The lock is waited for at most `timeout`.
    pub async fn transaction<T>(
        &self,
        timeout: Duration,
        change: impl FnOnce(&mut State) -> T,
    ) -> Result<T, StoreError> {
        let lock = self.lock(timeout).await?;
        let before = self.load()?;
        let mut state = before.clone();
        let out = change(&mut state);
        self.save(&before, &state)?;
        drop(lock);
        Ok(out)
    }

    /// Reads the state under the lock, changing nothing.
    pub async fn read(&self, timeout: Duration) -> Result<State, StoreError> {
        let _lock = self.lock(timeout).await?;
        self.load()
    }

    async fn lock(&self, timeout: Duration) -> Result<std::fs::File, StoreError> {
        create_private_dir(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let path = self.dir.join("lock");
        let file = open_options(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Busy(path)),
                Err(std::fs::TryLockError::Error(e)) => return Err(self.io(&path, e)),
            }
        }
    }

    fn io(&self, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }

    fn load(&self) -> Result<State, StoreError> {
        let identity: Option<Identity> = self.read_file("identity.json")?;
        if let Some(me) = &identity {
            if !me.is_consistent() {
                return Err(StoreError::Damaged {
                    path: self.dir.join("identity.json"),
                    reason: "its signed prekey's signature does not verify".into(),
                });
            }
        }
        Ok(State {
            identity,
            sessions: self.read_file("sessions.json")?.unwrap_or_default(),
            trust: self.read_file("trust.json")?.unwrap_or_default(),
        })
    }

    fn save(&self, before: &State, after: &State) -> Result<(), StoreError> {
        let pairs: [(&str, Option<String>, Option<String>); 3] = [
            (
                "identity.json",
                json(&before.identity),
                json(&after.identity),
            ),
            (
                "sessions.json",
                json(&before.sessions),
                json(&after.sessions),
            ),
            ("trust.json", json(&before.trust), json(&after.trust)),
        ];
        for (name, old, new) in pairs {
            match new {
                Some(text) if Some(&text) != old.as_ref() => self.write_file(name, &text)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A file's value; `None` when it does not exist.
    fn read_file<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        let path = self.dir.join(name);
        let mut file = match open_options(false).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(&path, e)),
        };
        let damaged = |reason: String| StoreError::Damaged {
            path: path.clone(),
            reason,
        };
        let meta = file.metadata().map_err(|e| self.io(&path, e))?;
        if !meta.is_file() {
            return Err(damaged("not a regular file".into()));
        }
        if meta.len() > MAX_FILE {
            return Err(damaged(format!("larger than {MAX_FILE} bytes")));
        }
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(&path, e))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| damaged(e.to_string()))
    }

    /// Writes `text` to `name` through a temporary file, synced, then renamed.
    fn write_file(&self, name: &str, text: &str) -> Result<(), StoreError> {
        let path = self.dir.join(name);
        let temp = self.dir.join(format!("{name}.new"));
        let _ = std::fs::remove_file(&temp);
        let written = open_options(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut f| {
                f.write_all(text.as_bytes())?;
                f.sync_all()
            });
        written
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|e| self.io(&path, e))
    }
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Files of the store: 0600, never through a symbolic link, never blocking on a FIFO.
fn open_options(write: bool) -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    if write {
        options.write(true).create(true);
    }
    options
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The account's directory name: its bare JID, with anything but letters, digits and
/// `@.-_+` percent-encoded (a JID cannot make it a path of its own).
fn directory_name(account: &str) -> String {
    let mut name = String::new();
    for c in account.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+') {
            name.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                name.push_str(&format!("%{b:02X}"));
            }
        }
    }
    match name.starts_with('.') {
        true => format!("%2E{}", &name[1..]),
        false => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn transactions_persist_and_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("a@x"));
        let id = store
            .transaction(Duration::from_secs(1), |s| {
                let me = Identity::generate(&[], &mut rand::rng());
                let id = me.device_id;
                s.identity = Some(me);
                id
            })
            .await
            .unwrap();
        let state = store.read(Duration::from_secs(1)).await.unwrap();
        assert_eq!(state.identity.map(|i| i.device_id), Some(id));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.dir().join("identity.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(store.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);

        let text = std::fs::read_to_string(store.dir().join("identity.json")).unwrap();
        std::fs::write(store.dir().join("identity.json"), &text[..text.len() / 2]).unwrap();
        assert!(matches!(
            store.read(Duration::from_secs(1)).await,
            Err(StoreError::Damaged { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let signature = value["signed_pre_key"]["signature"]
            .as_str()
            .unwrap()
            .to_owned();
        let flipped = if signature.starts_with('0') { "1" } else { "0" };
        value["signed_pre_key"]["signature"] = format!("{flipped}{}", &signature[1..]).into();
        std::fs::write(store.dir().join("identity.json"), value.to_string()).unwrap();
        assert!(
            matches!(
                store.read(Duration::from_secs(1)).await,
                Err(StoreError::Damaged { .. })
            ),
            "a signature that does not verify"
        );
        std::fs::remove_file(store.dir().join("identity.json")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", store.dir().join("identity.json")).unwrap();
        assert!(
            store.read(Duration::from_secs(1)).await.is_err(),
            "symbolic links are not followed"
        );
    }

    #[tokio::test]
    async fn a_held_lock_makes_others_wait_then_give_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("b@x"));
        let held = store.lock(Duration::from_secs(1)).await.unwrap();
        let second = std::fs::File::open(store.dir().join("lock")).unwrap();
        assert!(second.try_lock().is_err());
        assert!(matches!(
            store.read(Duration::from_millis(100)).await,
            Err(StoreError::Busy(_))
        ));
        drop(held);
        assert!(store.read(Duration::from_millis(100)).await.is_ok());
    }

    #[test]
    fn account_names_cannot_leave_the_directory() {
        assert_eq!(directory_name("alice@example.org"), "alice@example.org");
        assert_eq!(directory_name("../x"), "%2E.%2Fx");
        assert!(!directory_name("a/b").contains('/'));
    }
}
