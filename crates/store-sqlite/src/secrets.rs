//! [`SecretStore`] on SQLite: the `password`, `secret` and `outbox` tables of migration 3.

use deputy_store::StoreError;
use deputy_store::secrets::{
    AttemptCount, Idempotent, NewMail, OutboxRow, PasswordRow, SecretKind, SecretRow, SecretStore,
    SigningKeyRow, StoredAnswer,
};
use rusqlite::{OptionalExtension, Row, params};

use crate::{SqliteStore, sql_error};

const SECRET_COLUMNS: &str =
    "hash, kind, principal, created_ms, expires_ms, last_used_ms, used_ms, data";

fn secret_row(row: &Row<'_>) -> rusqlite::Result<SecretRow> {
    let kind: String = row.get(1)?;
    Ok(SecretRow {
        hash: row.get(0)?,
        kind: SecretKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("unknown secret kind `{kind}`").into(),
            )
        })?,
        principal: row.get(2)?,
        created_ms: row.get(3)?,
        expires_ms: row.get(4)?,
        last_used_ms: row.get(5)?,
        used_ms: row.get(6)?,
        data: row.get(7)?,
    })
}

fn outbox_row(row: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: row.get(0)?,
        created_ms: row.get(1)?,
        recipient: row.get(2)?,
        subject: row.get(3)?,
        body: row.get(4)?,
        sent_ms: row.get(5)?,
        attempts: row.get(6)?,
        last_error: row.get(7)?,
    })
}

impl SecretStore for SqliteStore {
    fn put_password(&self, p: &PasswordRow) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO password (principal, phc, must_change, changed_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (principal) DO UPDATE SET phc = ?2, must_change = ?3, changed_ms = ?4",
                params![p.principal, p.phc, p.must_change, p.changed_ms],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn password(&self, principal: u32) -> Result<Option<PasswordRow>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT principal, phc, must_change, changed_ms FROM password WHERE principal = ?1",
            )
            .and_then(|mut s| {
                s.query_row([principal], |r| {
                    Ok(PasswordRow {
                        principal: r.get(0)?,
                        phc: r.get(1)?,
                        must_change: r.get(2)?,
                        changed_ms: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(sql_error)
        })
    }

    fn insert_secret(&self, s: &SecretRow) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO secret ({SECRET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    s.hash,
                    s.kind.as_str(),
                    s.principal,
                    s.created_ms,
                    s.expires_ms,
                    s.last_used_ms,
                    s.used_ms,
                    s.data
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn secret(&self, hash: &str) -> Result<Option<SecretRow>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {SECRET_COLUMNS} FROM secret WHERE hash = ?1"))
                .and_then(|mut s| s.query_row([hash], secret_row).optional())
                .map_err(sql_error)
        })
    }

    fn redeem_secret(
        &self,
        hash: &str,
        kind: SecretKind,
        now_ms: i64,
    ) -> Result<Option<SecretRow>, StoreError> {
        // One UPDATE under the write lock: of concurrent redeemers exactly one sees a row.
        self.write(|tx| {
            tx.prepare_cached(&format!(
                "UPDATE secret SET used_ms = ?3
                 WHERE hash = ?1 AND kind = ?2 AND used_ms IS NULL
                   AND (expires_ms IS NULL OR expires_ms > ?3)
                 RETURNING {SECRET_COLUMNS}"
            ))
            .and_then(|mut s| {
                s.query_row(params![hash, kind.as_str(), now_ms], secret_row).optional()
            })
            .map_err(sql_error)
        })
    }

    fn touch_secret(&self, hash: &str, now_ms: i64, data: Option<&str>) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE secret SET last_used_ms = ?2, data = coalesce(?3, data) WHERE hash = ?1",
                params![hash, now_ms, data],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn delete_secret(&self, hash: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM secret WHERE hash = ?1", [hash]).map_err(sql_error)? > 0)
        })
    }

    fn delete_secrets_of(&self, principal: u32, kinds: &[SecretKind]) -> Result<usize, StoreError> {
        self.write(|tx| {
            let mut n = 0;
            for kind in kinds {
                n += tx
                    .execute(
                        "DELETE FROM secret WHERE principal = ?1 AND kind = ?2",
                        params![principal, kind.as_str()],
                    )
                    .map_err(sql_error)?;
            }
            Ok(n)
        })
    }

    fn secrets_of(&self, principal: u32, kind: SecretKind) -> Result<Vec<SecretRow>, StoreError> {
        self.read(|c| {
            let mut s = c
                .prepare_cached(&format!(
                    "SELECT {SECRET_COLUMNS} FROM secret WHERE principal = ?1 AND kind = ?2
                     ORDER BY created_ms DESC, hash"
                ))
                .map_err(sql_error)?;
            let rows = s
                .query_map(params![principal, kind.as_str()], secret_row)
                .map_err(sql_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_error)?;
            Ok(rows)
        })
    }

    fn queue_mail(&self, mail: &NewMail, now_ms: i64) -> Result<i64, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO outbox (created_ms, recipient, subject, body) VALUES (?1, ?2, ?3, ?4)",
                params![now_ms, mail.recipient, mail.subject, mail.body],
            )
            .map_err(sql_error)?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn outbox(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        self.read(|c| {
            let mut s = c
                .prepare_cached(
                    "SELECT id, created_ms, recipient, subject, body, sent_ms, attempts, last_error
                     FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
                )
                .map_err(sql_error)?;
            let rows = s
                .query_map(params![after, limit as i64], outbox_row)
                .map_err(sql_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_error)?;
            Ok(rows)
        })
    }

    fn mark_mail(
        &self,
        id: i64,
        sent_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET sent_ms = ?2, last_error = ?3, attempts = attempts + 1 WHERE id = ?1",
                params![id, sent_ms, error],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn redact_mail(&self, id: i64, body: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("UPDATE outbox SET body = ?2 WHERE id = ?1", params![id, body])
                .map_err(sql_error)?;
            Ok(())
        })
    }

    fn due_mail(
        &self,
        now_ms: i64,
        max_attempts: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.read(|c| {
            let mut s = c
                .prepare_cached(
                    "SELECT id, created_ms, recipient, subject, body, sent_ms, attempts, last_error
                     FROM outbox WHERE sent_ms IS NULL AND attempts < ?2 AND next_attempt_ms <= ?1
                     ORDER BY id LIMIT ?3",
                )
                .map_err(sql_error)?;
            let rows = s
                .query_map(params![now_ms, max_attempts, limit as i64], outbox_row)
                .map_err(sql_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_error)?;
            Ok(rows)
        })
    }

    fn retry_mail(&self, id: i64, error: &str, next_attempt_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 WHERE id = ?1",
                params![id, error, next_attempt_ms],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn sign_in_failures(&self, key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT count, last_ms FROM sign_in_failure WHERE key = ?1")
                .and_then(|mut s| s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(sql_error)
        })
    }

    fn count_sign_in_attempt(
        &self,
        key: &str,
        now_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<AttemptCount, StoreError> {
        // One immediate transaction: read the previous attempt, then count this one, so
        // concurrent attempts are serialised and each sees the one before it.
        self.write(|tx| {
            let previous: Option<(u32, i64)> = tx
                .query_row(
                    "SELECT count, last_ms FROM sign_in_failure WHERE key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_error)?;
            let restart = previous
                .is_none_or(|(count, last)| count >= lock_after && now_ms >= last + lock_ms);
            let count = if restart { 1 } else { previous.map_or(1, |(c, _)| c.saturating_add(1)) };
            tx.execute(
                "INSERT INTO sign_in_failure (key, count, last_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET count = ?2, last_ms = ?3",
                params![key, count, now_ms],
            )
            .map_err(sql_error)?;
            Ok(AttemptCount {
                count,
                previous_ms: if restart { None } else { previous.map(|(_, last)| last) },
            })
        })
    }

    fn forgive_sign_in_attempt(&self, key: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sign_in_failure SET count = count - 1 WHERE key = ?1 AND count > 0",
                [key],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn count_in_window(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<u32, StoreError> {
        self.write(|tx| {
            tx.query_row(
                "INSERT INTO rate_window (key, start_ms, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN ?2 >= start_ms + ?3 THEN 1 ELSE count + 1 END,
                   start_ms = CASE WHEN ?2 >= start_ms + ?3 THEN ?2 ELSE start_ms END
                 RETURNING count",
                params![key, now_ms, window_ms],
                |r| r.get(0),
            )
            .map_err(sql_error)
        })
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM sign_in_failure WHERE key = ?1", [key]).map_err(sql_error)?;
            Ok(())
        })
    }

    fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO signing_key (kid, created_ms, activates_ms, retired_ms, private_der)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.kid, key.created_ms, key.activates_ms, key.retired_ms, key.private_der],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        self.read(|c| {
            let mut s = c
                .prepare_cached(
                    "SELECT kid, created_ms, activates_ms, retired_ms, private_der FROM signing_key
                     ORDER BY created_ms, kid",
                )
                .map_err(sql_error)?;
            let rows = s
                .query_map([], |r| {
                    Ok(SigningKeyRow {
                        kid: r.get(0)?,
                        created_ms: r.get(1)?,
                        activates_ms: r.get(2)?,
                        retired_ms: r.get(3)?,
                        private_der: r.get(4)?,
                    })
                })
                .map_err(sql_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_error)?;
            Ok(rows)
        })
    }

    fn retire_signing_key(&self, kid: &str, at_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE signing_key SET retired_ms = ?2 WHERE kid = ?1 AND retired_ms IS NULL",
                params![kid, at_ms],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn delete_signing_keys_retired_before(&self, before_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM signing_key WHERE retired_ms < ?1", [before_ms])
                .map_err(sql_error)?;
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
            tx.execute(
                "DELETE FROM idempotency WHERE scope = ?1 AND key = ?2 AND expires_ms <= ?3",
                params![scope, key, now_ms],
            )
            .map_err(sql_error)?;
            let found = tx
                .query_row(
                    "SELECT fingerprint, status, headers, body FROM idempotency WHERE scope = ?1 AND key = ?2",
                    params![scope, key],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<u16>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<Vec<u8>>>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(sql_error)?;
            Ok(match found {
                None => {
                    tx.execute(
                        "INSERT INTO idempotency (scope, key, fingerprint, created_ms, expires_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![scope, key, fingerprint, now_ms, expires_ms],
                    )
                    .map_err(sql_error)?;
                    Idempotent::Proceed
                }
                Some((stored, _, _, _)) if stored != fingerprint => Idempotent::Mismatch,
                Some((_, Some(status), headers, body)) => Idempotent::Done(StoredAnswer {
                    status,
                    headers: headers.unwrap_or_default(),
                    body: body.unwrap_or_default(),
                }),
                Some(_) => Idempotent::InProgress,
            })
        })
    }

    fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE idempotency SET status = ?3, headers = ?4, body = ?5 WHERE scope = ?1 AND key = ?2",
                params![scope, key, answer.status, answer.headers, answer.body],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }

    fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM idempotency WHERE scope = ?1 AND key = ?2 AND status IS NULL",
                params![scope, key],
            )
            .map_err(sql_error)?;
            Ok(())
        })
    }
}
