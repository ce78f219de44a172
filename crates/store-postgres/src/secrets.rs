//! [`SecretStore`] on PostgreSQL: the `password`, `secret`, `outbox`, `signing_key`,
//! `idempotency`, `sign_in_failure` and `rate_window` tables of migration 1.
//!
//! Each call is one statement or one short transaction. Where a call reads and then writes
//! by key (counting a sign-in attempt, claiming an idempotency key), it first takes a
//! transaction-scoped advisory lock on that key, so concurrent callers on any replica are
//! serialised per key and each sees the one before it.

use deputy_store::StoreError;
use deputy_store::secrets::{
    AttemptCount, Idempotent, NewMail, OutboxRow, PasswordRow, SecretKind, SecretRow, SecretStore,
    SigningKeyRow, StoredAnswer,
};
use postgres::{Row, Transaction};

use crate::{PostgresStore, get, pg_error, sql_limit};

const SECRET_COLUMNS: &str =
    "hash, kind, principal, created_ms, expires_ms, last_used_ms, used_ms, data";

const OUTBOX_COLUMNS: &str =
    "id, created_ms, recipient, subject, body, sent_ms, attempts, last_error";

/// The advisory-lock classes of per-key locks (the first half of the two-key form).
const SIGN_IN_LOCKS: i32 = 1;
const IDEMPOTENCY_LOCKS: i32 = 2;

/// Holds the advisory lock of `key` in `class` until the transaction ends.
fn lock_key(transaction: &mut Transaction<'_>, class: i32, key: &str) -> Result<(), StoreError> {
    transaction
        .execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&class, &key])
        .map_err(pg_error)?;
    Ok(())
}

fn principal_value(principal: u32) -> i64 {
    i64::from(principal)
}

fn secret_row(row: &Row) -> Result<SecretRow, StoreError> {
    let kind: String = get(row, 1)?;
    let principal: i64 = get(row, 2)?;
    Ok(SecretRow {
        hash: get(row, 0)?,
        kind: SecretKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown secret kind `{kind}`")))?,
        principal: u32::try_from(principal)
            .map_err(|_| StoreError::Corrupt(format!("principal {principal} out of range")))?,
        created_ms: get(row, 3)?,
        expires_ms: get(row, 4)?,
        last_used_ms: get(row, 5)?,
        used_ms: get(row, 6)?,
        data: get(row, 7)?,
    })
}

fn outbox_row(row: &Row) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id: get(row, 0)?,
        created_ms: get(row, 1)?,
        recipient: get(row, 2)?,
        subject: get(row, 3)?,
        body: get(row, 4)?,
        sent_ms: get(row, 5)?,
        attempts: get(row, 6)?,
        last_error: get(row, 7)?,
    })
}

fn count_value(count: i64) -> Result<u32, StoreError> {
    u32::try_from(count).map_err(|_| StoreError::Corrupt(format!("count {count} out of range")))
}

impl SecretStore for PostgresStore {
    fn put_password(&self, p: &PasswordRow) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "INSERT INTO password (principal, phc, must_change, changed_ms) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (principal) DO UPDATE SET phc = EXCLUDED.phc, \
                 must_change = EXCLUDED.must_change, changed_ms = EXCLUDED.changed_ms",
                &[&principal_value(p.principal), &p.phc, &p.must_change, &p.changed_ms],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn password(&self, principal: u32) -> Result<Option<PasswordRow>, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_opt(
                    "SELECT phc, must_change, changed_ms FROM password WHERE principal = $1",
                    &[&principal_value(principal)],
                )
                .map_err(pg_error)?;
            row.map(|r| {
                Ok(PasswordRow {
                    principal,
                    phc: get(&r, 0)?,
                    must_change: get(&r, 1)?,
                    changed_ms: get(&r, 2)?,
                })
            })
            .transpose()
        })
    }

    fn insert_secret(&self, s: &SecretRow) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                &format!(
                    "INSERT INTO secret ({SECRET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &s.hash,
                    &s.kind.as_str(),
                    &principal_value(s.principal),
                    &s.created_ms,
                    &s.expires_ms,
                    &s.last_used_ms,
                    &s.used_ms,
                    &s.data,
                ],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn secret(&self, hash: &str) -> Result<Option<SecretRow>, StoreError> {
        self.with_client(|c| {
            c.query_opt(&format!("SELECT {SECRET_COLUMNS} FROM secret WHERE hash = $1"), &[&hash])
                .map_err(pg_error)?
                .as_ref()
                .map(secret_row)
                .transpose()
        })
    }

    fn redeem_secret(
        &self,
        hash: &str,
        kind: SecretKind,
        now_ms: i64,
    ) -> Result<Option<SecretRow>, StoreError> {
        // One conditional UPDATE: a concurrent redeemer waits for the row lock, then finds
        // `used_ms` set and updates nothing. Exactly one sees a row.
        self.with_client(|c| {
            c.query_opt(
                &format!(
                    "UPDATE secret SET used_ms = $3 \
                     WHERE hash = $1 AND kind = $2 AND used_ms IS NULL \
                       AND (expires_ms IS NULL OR expires_ms > $3) \
                     RETURNING {SECRET_COLUMNS}"
                ),
                &[&hash, &kind.as_str(), &now_ms],
            )
            .map_err(pg_error)?
            .as_ref()
            .map(secret_row)
            .transpose()
        })
    }

    fn touch_secret(&self, hash: &str, now_ms: i64, data: Option<&str>) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE secret SET last_used_ms = $2, data = coalesce($3, data) WHERE hash = $1",
                &[&hash, &now_ms, &data],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn delete_secret(&self, hash: &str) -> Result<bool, StoreError> {
        self.with_client(|c| {
            Ok(c.execute("DELETE FROM secret WHERE hash = $1", &[&hash]).map_err(pg_error)? > 0)
        })
    }

    fn delete_secrets_of(&self, principal: u32, kinds: &[SecretKind]) -> Result<usize, StoreError> {
        let kinds: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
        self.with_client(|c| {
            let n = c
                .execute(
                    "DELETE FROM secret WHERE principal = $1 AND kind = ANY($2)",
                    &[&principal_value(principal), &kinds],
                )
                .map_err(pg_error)?;
            usize::try_from(n).map_err(|_| StoreError::Backend(format!("{n} rows deleted")))
        })
    }

    fn secrets_of(&self, principal: u32, kind: SecretKind) -> Result<Vec<SecretRow>, StoreError> {
        self.with_client(|c| {
            c.query(
                &format!(
                    "SELECT {SECRET_COLUMNS} FROM secret WHERE principal = $1 AND kind = $2 \
                     ORDER BY created_ms DESC, hash"
                ),
                &[&principal_value(principal), &kind.as_str()],
            )
            .map_err(pg_error)?
            .iter()
            .map(secret_row)
            .collect()
        })
    }

    fn queue_mail(&self, mail: &NewMail, now_ms: i64) -> Result<i64, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_one(
                    "INSERT INTO outbox (created_ms, recipient, subject, body) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&now_ms, &mail.recipient, &mail.subject, &mail.body],
                )
                .map_err(pg_error)?;
            get(&row, 0)
        })
    }

    fn outbox(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        self.with_client(|c| {
            c.query(
                &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id > $1 ORDER BY id LIMIT $2"),
                &[&after, &sql_limit(limit)],
            )
            .map_err(pg_error)?
            .iter()
            .map(outbox_row)
            .collect()
        })
    }

    fn mark_mail(
        &self,
        id: i64,
        sent_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE outbox SET sent_ms = $2, last_error = $3, attempts = attempts + 1 \
                 WHERE id = $1",
                &[&id, &sent_ms, &error],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn redact_mail(&self, id: i64, body: &str) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute("UPDATE outbox SET body = $2 WHERE id = $1", &[&id, &body])
                .map_err(pg_error)?;
            Ok(())
        })
    }

    fn due_mail(
        &self,
        now_ms: i64,
        max_attempts: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.with_client(|c| {
            c.query(
                &format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox \
                     WHERE sent_ms IS NULL AND attempts < $2 AND next_attempt_ms <= $1 \
                     ORDER BY id LIMIT $3"
                ),
                &[&now_ms, &max_attempts, &sql_limit(limit)],
            )
            .map_err(pg_error)?
            .iter()
            .map(outbox_row)
            .collect()
        })
    }

    fn retry_mail(&self, id: i64, error: &str, next_attempt_ms: i64) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                 next_attempt_ms = $3 WHERE id = $1",
                &[&id, &error, &next_attempt_ms],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn sign_in_failures(&self, key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        self.with_client(|c| {
            c.query_opt("SELECT count, last_ms FROM sign_in_failure WHERE key = $1", &[&key])
                .map_err(pg_error)?
                .map(|r| Ok((count_value(get(&r, 0)?)?, get(&r, 1)?)))
                .transpose()
        })
    }

    fn count_sign_in_attempt(
        &self,
        key: &str,
        now_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<AttemptCount, StoreError> {
        // Under the key's advisory lock: read the previous attempt, then count this one, so
        // concurrent attempts on any replica are serialised and each sees the one before.
        self.write(|tx| {
            lock_key(tx, SIGN_IN_LOCKS, key)?;
            let previous = tx
                .query_opt("SELECT count, last_ms FROM sign_in_failure WHERE key = $1", &[&key])
                .map_err(pg_error)?
                .map(|r| Ok::<_, StoreError>((count_value(get(&r, 0)?)?, get::<i64>(&r, 1)?)))
                .transpose()?;
            let restart = previous
                .is_none_or(|(count, last)| count >= lock_after && now_ms >= last + lock_ms);
            let count = if restart { 1 } else { previous.map_or(1, |(c, _)| c.saturating_add(1)) };
            tx.execute(
                "INSERT INTO sign_in_failure (key, count, last_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET count = EXCLUDED.count, last_ms = EXCLUDED.last_ms",
                &[&key, &i64::from(count), &now_ms],
            )
            .map_err(pg_error)?;
            Ok(AttemptCount {
                count,
                previous_ms: if restart { None } else { previous.map(|(_, last)| last) },
            })
        })
    }

    fn forgive_sign_in_attempt(&self, key: &str) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE sign_in_failure SET count = count - 1 WHERE key = $1 AND count > 0",
                &[&key],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute("DELETE FROM sign_in_failure WHERE key = $1", &[&key]).map_err(pg_error)?;
            Ok(())
        })
    }

    fn count_in_window(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<u32, StoreError> {
        // One upsert: the conflicting row is locked, and both assignments read its old values.
        self.with_client(|c| {
            let row = c
                .query_one(
                    "INSERT INTO rate_window AS w (key, start_ms, count) VALUES ($1, $2, 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                       count = CASE WHEN $2 >= w.start_ms + $3 THEN 1 ELSE w.count + 1 END, \
                       start_ms = CASE WHEN $2 >= w.start_ms + $3 THEN $2 ELSE w.start_ms END \
                     RETURNING count",
                    &[&key, &now_ms, &window_ms],
                )
                .map_err(pg_error)?;
            count_value(get(&row, 0)?)
        })
    }

    fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "INSERT INTO signing_key (kid, created_ms, activates_ms, retired_ms, private_der) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&key.kid, &key.created_ms, &key.activates_ms, &key.retired_ms, &key.private_der],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        self.with_client(|c| {
            c.query(
                "SELECT kid, created_ms, activates_ms, retired_ms, private_der FROM signing_key \
                 ORDER BY created_ms, kid",
                &[],
            )
            .map_err(pg_error)?
            .iter()
            .map(|r| {
                Ok(SigningKeyRow {
                    kid: get(r, 0)?,
                    created_ms: get(r, 1)?,
                    activates_ms: get(r, 2)?,
                    retired_ms: get(r, 3)?,
                    private_der: get(r, 4)?,
                })
            })
            .collect()
        })
    }

    fn retire_signing_key(&self, kid: &str, at_ms: i64) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE signing_key SET retired_ms = $2 WHERE kid = $1 AND retired_ms IS NULL",
                &[&kid, &at_ms],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn delete_signing_keys_retired_before(&self, before_ms: i64) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute("DELETE FROM signing_key WHERE retired_ms < $1", &[&before_ms])
                .map_err(pg_error)?;
            Ok(())
        })
    }

    fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Idempotent, StoreError> {
        self.write(|tx| {
            lock_key(tx, IDEMPOTENCY_LOCKS, &format!("{scope}\u{1f}{key}"))?;
            tx.execute(
                "DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND expires_ms <= $3",
                &[&scope, &key, &now_ms],
            )
            .map_err(pg_error)?;
            let found = tx
                .query_opt(
                    "SELECT fingerprint, status, headers, body FROM idempotency \
                     WHERE scope = $1 AND key = $2",
                    &[&scope, &key],
                )
                .map_err(pg_error)?;
            let Some(found) = found else {
                tx.execute(
                    "INSERT INTO idempotency (scope, key, fingerprint, created_ms, expires_ms) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&scope, &key, &fingerprint, &now_ms, &expires_ms],
                )
                .map_err(pg_error)?;
                return Ok(Idempotent::Proceed);
            };
            let stored: String = get(&found, 0)?;
            if stored != fingerprint {
                return Ok(Idempotent::Mismatch);
            }
            Ok(match get::<Option<i32>>(&found, 1)? {
                Some(status) => Idempotent::Done(StoredAnswer {
                    status: u16::try_from(status).map_err(|_| {
                        StoreError::Corrupt(format!("stored status {status} out of range"))
                    })?,
                    headers: get::<Option<String>>(&found, 2)?.unwrap_or_default(),
                    body: get::<Option<Vec<u8>>>(&found, 3)?.unwrap_or_default(),
                }),
                None => Idempotent::InProgress,
            })
        })
    }

    fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "UPDATE idempotency SET status = $3, headers = $4, body = $5 \
                 WHERE scope = $1 AND key = $2",
                &[&scope, &key, &i32::from(answer.status), &answer.headers, &answer.body],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }

    fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.with_client(|c| {
            c.execute(
                "DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status IS NULL",
                &[&scope, &key],
            )
            .map_err(pg_error)?;
            Ok(())
        })
    }
}
