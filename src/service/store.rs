//! The server's durable state: sessions with every revision, and the names of uploaded
//! networks, in one SQLite database under the data directory.
//!
//! Why SQLite (rusqlite, built from source with the `bundled` feature) rather than redb: its
//! crash safety is the most tested of any embedded store, a transaction per acknowledged change
//! maps directly onto "written before the RPC returns", and an operator can inspect or back up
//! the file with the stock `sqlite3` tool (`.backup`) while the server runs.
//!
//! Durability settings: WAL journal with `synchronous=FULL`, so every commit is fsynced before
//! it returns (in WAL mode `NORMAL` may lose the last commits on power loss, which would break
//! the promise to an analyst who saw the RPC succeed). `locking_mode=EXCLUSIVE` keeps a second
//! server from opening the same data directory; the lock goes with the process, even on kill -9.
//!
//! Every method blocks (disk I/O and fsync): call them from the blocking pool.

use super::error::ServiceError;
use super::sessions::Change;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "credence.sqlite3";

/// The schema; `user_version` says which one a file holds. Version 2 added owners: a session's
/// creator and readers, an upload's uploader (empty for rows written before, or without
/// authentication).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    network_hash TEXT NOT NULL,
    description TEXT NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions (
    session TEXT NOT NULL,
    number INTEGER NOT NULL,
    changes TEXT NOT NULL,
    source TEXT NOT NULL,
    note TEXT NOT NULL,
    applied_ns INTEGER NOT NULL,
    PRIMARY KEY (session, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS networks (
    name TEXT PRIMARY KEY,
    file TEXT NOT NULL
);
";

/// From version 1 to 2: owners (the columns `SCHEMA` does not create, so one path serves a new
/// file and an old one).
const MIGRATE_TO_2: &str = "
ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN readers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE networks ADD COLUMN owner TEXT NOT NULL DEFAULT '';
";

/// A session as stored: enough to rebuild it, revisions replayed from their changes.
#[derive(Debug)]
pub struct StoredSession {
    /// Its id.
    pub id: String,
    /// The network's name.
    pub network: String,
    /// The network's content hash when the session was created.
    pub network_hash: String,
    /// Free text from the creator.
    pub description: String,
    /// When it was created.
    pub created: SystemTime,
    /// The creator's name (empty: created without authentication, or before owners).
    pub owner: String,
    /// Names it is shared with ("*": everyone).
    pub readers: Vec<String>,
    /// Every revision, oldest first.
    pub revisions: Vec<StoredRevision>,
}

/// An uploaded network as stored.
#[derive(Debug, PartialEq, Eq)]
pub struct StoredNetwork {
    /// The client's name for it.
    pub name: String,
    /// The server-chosen file in the uploads directory.
    pub file: String,
    /// Who uploaded it (empty: without authentication, or before owners).
    pub owner: String,
}

/// A revision as stored.
#[derive(Debug)]
pub struct StoredRevision {
    /// From 1.
    pub number: i64,
    /// What it changed.
    pub changes: Vec<Change>,
    /// Where the evidence came from.
    pub source: String,
    /// Free text.
    pub note: String,
    /// When it was applied.
    pub applied: SystemTime,
}

/// The database. One connection behind a mutex: writes are serialised by SQLite anyway, and
/// each is one short transaction.
#[derive(Debug)]
pub struct Store {
    connection: Mutex<Connection>,
    path: PathBuf,
}

fn storage(path: &Path) -> impl Fn(rusqlite::Error) -> ServiceError + '_ {
    move |e| ServiceError::Storage(format!("{}: {e}", path.display()))
}

fn to_nanos(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn from_nanos(nanos: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos.max(0) as u64)
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`.
    ///
    /// # Errors
    /// The directory cannot be created, the file is not a Credence database of a known
    /// version, or another server holds it.
    pub fn open(data_dir: &Path) -> Result<Store, ServiceError> {
        create_private_dir(data_dir).map_err(|e| {
            ServiceError::Storage(format!(
                "cannot create the data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(DATABASE_FILE);
        // Created private before SQLite opens it; SQLite gives its WAL and shared-memory files
        // the database's permissions.
        create_private_file(&path)
            .map_err(|e| ServiceError::Storage(format!("{}: {e}", path.display())))?;
        let fail = storage(&path);
        // SQLite's busy error means another process holds the exclusive lock.
        let busy_or_fail = |e: rusqlite::Error| match e {
            rusqlite::Error::SqliteFailure(code, _)
                if code.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                ServiceError::Storage(format!(
                    "the data directory {} is in use by another server",
                    data_dir.display()
                ))
            }
            other => fail(other),
        };
        let connection = Connection::open(&path).map_err(&fail)?;
        connection
            .busy_timeout(Duration::from_millis(200))
            .map_err(&fail)?;
        connection
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(&fail)?;
        let mode: String = connection
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(&busy_or_fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ServiceError::Storage(format!(
                "{}: SQLite refused write-ahead logging (journal mode {mode})",
                path.display()
            )));
        }
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(&fail)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(&fail)?;
        if version > SCHEMA_VERSION {
            return Err(ServiceError::Storage(format!(
                "{} has schema version {version}, newer than this server's {SCHEMA_VERSION}; run a newer Credence",
                path.display()
            )));
        }
        let migration = if version < 2 { MIGRATE_TO_2 } else { "" };
        // The first write takes the exclusive lock, so a second server fails here, at start.
        connection
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} {migration} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(&busy_or_fail)?;
        drop(fail);
        Ok(Store {
            connection: Mutex::new(connection),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ServiceError> {
        // A panic while holding the lock cannot leave a transaction half-applied (SQLite rolls
        // back an unfinished one), so a poisoned lock is still safe to use.
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut connection).map_err(storage(&self.path))
    }

    /// Records a new session (durably, before returning).
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn create_session(
        &self,
        id: &str,
        network: &str,
        network_hash: &str,
        description: &str,
        created: SystemTime,
        owner: &str,
    ) -> Result<(), ServiceError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, network, network_hash, description, created_ns, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, network, network_hash, description, to_nanos(created), owner],
            )
            .map(|_| ())
        })
    }

    /// Sets the names session `id` is shared with (durably, before returning).
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn set_readers(&self, id: &str, readers: &[String]) -> Result<(), ServiceError> {
        let readers = serde_json::to_string(readers)
            .map_err(|e| ServiceError::Internal(format!("cannot encode readers: {e}")))?;
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET readers = ?2 WHERE id = ?1",
                params![id, readers],
            )
            .map(|_| ())
        })
    }

    /// Records a revision of session `id` (durably, before returning).
    ///
    /// # Errors
    /// [`ServiceError::Storage`], including a revision number already stored.
    pub fn append_revision(
        &self,
        id: &str,
        number: i64,
        changes: &[Change],
        source: &str,
        note: &str,
        applied: SystemTime,
    ) -> Result<(), ServiceError> {
        let changes = serde_json::to_string(changes)
            .map_err(|e| ServiceError::Internal(format!("cannot encode changes: {e}")))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO revisions (session, number, changes, source, note, applied_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, number, changes, source, note, to_nanos(applied)],
            )
            .map(|_| ())
        })
    }

    /// Removes session `id` and its history (durably, before returning).
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn delete_session(&self, id: &str) -> Result<(), ServiceError> {
        self.with(|c| {
            let transaction = c.transaction()?;
            transaction.execute("DELETE FROM revisions WHERE session = ?1", params![id])?;
            transaction.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
            transaction.commit()
        })
    }

    /// Every stored session with its full history, in id order.
    ///
    /// # Errors
    /// [`ServiceError::Storage`], or a revision whose changes cannot be decoded.
    pub fn sessions(&self) -> Result<Vec<StoredSession>, ServiceError> {
        let (mut sessions, revisions) = self.with(|c| {
            let mut statement = c.prepare(
                "SELECT id, network, network_hash, description, created_ns, owner, readers FROM sessions ORDER BY id",
            )?;
            let sessions = statement
                .query_map([], |row| {
                    let readers: String = row.get(6)?;
                    Ok(StoredSession {
                        id: row.get(0)?,
                        network: row.get(1)?,
                        network_hash: row.get(2)?,
                        description: row.get(3)?,
                        created: from_nanos(row.get(4)?),
                        owner: row.get(5)?,
                        // Written by `set_readers` only; unreadable means shared with no one.
                        readers: serde_json::from_str(&readers).unwrap_or_default(),
                        revisions: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut statement = c.prepare(
                "SELECT session, number, changes, source, note, applied_ns FROM revisions ORDER BY session, number",
            )?;
            let revisions = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, i64>(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((sessions, revisions))
        })?;
        let mut index = 0;
        for (session, number, changes, source, note, applied) in revisions {
            while index < sessions.len() && sessions[index].id < session {
                index += 1;
            }
            let Some(owner) = sessions.get_mut(index).filter(|s| s.id == session) else {
                continue; // A revision without its session: left over, harmless.
            };
            let changes: Vec<Change> = serde_json::from_str(&changes).map_err(|e| {
                ServiceError::Storage(format!(
                    "{}: revision {number} of session '{session}' cannot be decoded: {e}",
                    self.path.display()
                ))
            })?;
            owner.revisions.push(StoredRevision {
                number,
                changes,
                source,
                note,
                applied: from_nanos(applied),
            });
        }
        Ok(sessions)
    }

    /// Maps the client's network `name` to the server-chosen `file` (durably).
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn set_network(&self, name: &str, file: &str, owner: &str) -> Result<(), ServiceError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO networks (name, file, owner) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET file = excluded.file, owner = excluded.owner",
                params![name, file, owner],
            )
            .map(|_| ())
        })
    }

    /// The server-chosen file of an uploaded network.
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn network_file(&self, name: &str) -> Result<Option<String>, ServiceError> {
        self.with(|c| {
            c.query_row(
                "SELECT file FROM networks WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()
        })
    }

    /// Forgets an uploaded network's name (durably).
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn remove_network(&self, name: &str) -> Result<(), ServiceError> {
        self.with(|c| {
            c.execute("DELETE FROM networks WHERE name = ?1", params![name])
                .map(|_| ())
        })
    }

    /// Every uploaded network, by name.
    ///
    /// # Errors
    /// [`ServiceError::Storage`].
    pub fn networks(&self) -> Result<Vec<StoredNetwork>, ServiceError> {
        self.with(|c| {
            let mut statement =
                c.prepare("SELECT name, file, owner FROM networks ORDER BY name")?;
            statement
                .query_map([], |row| {
                    Ok(StoredNetwork {
                        name: row.get(0)?,
                        file: row.get(1)?,
                        owner: row.get(2)?,
                    })
                })?
                .collect()
        })
    }
}

/// Creates `dir` (and missing parents) readable by the server's user only (0700 on Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens `path` for writing, creating it readable by the server's user only (0600 on Unix);
/// an existing file keeps its content.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "credence-store-{tag}-{}-{}",
            std::process::id(),
            to_nanos(SystemTime::now())
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn sessions_and_revisions_survive_reopening() {
        let dir = temporary("reopen");
        {
            let store = Store::open(&dir).unwrap();
            let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
            store
                .create_session("s1", "asia", "h", "d", t, "alice")
                .unwrap();
            store
                .create_session("s2", "alarm", "h2", "", t, "")
                .unwrap();
            store.set_readers("s1", &["bob".to_string()]).unwrap();
            let changes = vec![
                Change::SetHard {
                    variable: "smoke".into(),
                    state: "yes".into(),
                },
                Change::SetSoft {
                    variable: "xray".into(),
                    values: vec![0.1, 1e-300],
                },
                Change::Retract("smoke".into()),
            ];
            store
                .append_revision("s1", 1, &changes, "src", "note", t)
                .unwrap();
            store
                .append_revision("s1", 2, &changes[..1], "", "", t)
                .unwrap();
            let duplicate = store
                .append_revision("s1", 2, &changes[..1], "", "", t)
                .unwrap_err();
            assert!(matches!(duplicate, ServiceError::Storage(_)));
            store.delete_session("s2").unwrap();
            store.set_network("mine", "upload-1.bif", "alice").unwrap();
            store.set_network("mine", "upload-2.bif", "bob").unwrap();
        }
        let store = Store::open(&dir).unwrap();
        let sessions = store.sessions().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].id, "s1");
        assert_eq!(
            to_nanos(sessions[0].created),
            1_700_000_000_123_456_789,
            "times keep their nanoseconds"
        );
        assert_eq!(sessions[0].revisions.len(), 2);
        assert_eq!(sessions[0].revisions[0].changes.len(), 3);
        assert_eq!(
            sessions[0].revisions[0].changes[1],
            Change::SetSoft {
                variable: "xray".into(),
                values: vec![0.1, 1e-300]
            }
        );
        assert_eq!(
            (sessions[0].owner.as_str(), &sessions[0].readers[..]),
            ("alice", &["bob".to_string()][..])
        );
        assert_eq!(
            store.networks().unwrap(),
            [StoredNetwork {
                name: "mine".to_string(),
                file: "upload-2.bif".to_string(),
                owner: "bob".to_string()
            }]
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_and_database_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temporary("private");
        let store = Store::open(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(store.path()), 0o600);
        store
            .create_session("s1", "asia", "h", "", SystemTime::now(), "")
            .unwrap();
        let wal = dir.join(format!("{DATABASE_FILE}-wal"));
        assert_eq!(mode(&wal), 0o600, "the write-ahead log too");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A version-1 file (before owners) opens and gains the owner columns, its rows unowned.
    #[test]
    fn a_version_1_database_is_migrated() {
        let dir = temporary("migrate");
        std::fs::create_dir_all(&dir).unwrap();
        {
            let c = Connection::open(dir.join(DATABASE_FILE)).unwrap();
            c.execute_batch(&format!(
                "{SCHEMA} PRAGMA user_version = 1; INSERT INTO sessions VALUES ('s1', 'asia', 'h', 'd', 5); INSERT INTO networks VALUES ('mine', 'upload-1.bif');"
            ))
            .unwrap();
        }
        let store = Store::open(&dir).unwrap();
        let sessions = store.sessions().unwrap();
        assert_eq!(sessions[0].owner, "");
        assert!(sessions[0].readers.is_empty());
        assert_eq!(store.networks().unwrap()[0].owner, "");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_server_on_the_same_directory_is_refused() {
        let dir = temporary("exclusive");
        let first = Store::open(&dir).unwrap();
        let second = Store::open(&dir).unwrap_err().to_string();
        assert!(second.contains("is in use by another server"), "{second}");
        drop(first);
        Store::open(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
