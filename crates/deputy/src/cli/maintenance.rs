//! Looking after a deployment at the console: creating it, exporting and importing it,
//! backups and restores into a new epoch (R66), checkpoints.

use super::{Cli, Failure, Outcome, done, initialised, open};
use deputy_core::Change;
use deputy_service::Deputy;
use serde_json::json;
use std::path::Path;

/// Creates a new deployment: the catalog and the root tenant.
pub(super) fn init(cli: &Cli, catalog: Option<&Path>, root_key: &str, root_name: &str) -> Outcome {
    let d = open(&cli.db)?;
    if d.is_initialised() {
        return Err(Failure::Conflict(format!("`{}` holds a deployment already", cli.db)));
    }
    let text = catalog
        .map(std::fs::read_to_string)
        .transpose()
        .map_err(|e| Failure::Usage(format!("--catalog: {e}")))?;
    let c = d.initialise(text.as_deref(), root_key, root_name)?;
    done(
        c.revision,
        format!("created deployment with root tenant `{root_key}` in {}", cli.db),
        json!({"root": c.output.to_string()}),
    )
}

/// Writes the whole deployment as JSON.
pub(super) fn export(cli: &Cli, file: &Path) -> Outcome {
    let d = initialised(&cli.db)?;
    let s = d.snapshot();
    let doc =
        json!({"format": "deputy-export-v1", "revision": s.revision, "changes": s.to_changes()});
    std::fs::write(file, doc.to_string())
        .map_err(|e| Failure::Internal(format!("cannot write `{}`: {e}", file.display())))?;
    Ok((
        json!({"revision": s.revision}),
        format!("exported revision {} to {}", s.revision, file.display()),
        0,
    ))
}

/// Loads an export into an empty database.
pub(super) fn import(cli: &Cli, file: &Path) -> Outcome {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("`{}` is not valid JSON: {e}", file.display())))?;
    if doc.get("format").and_then(|f| f.as_str()) != Some("deputy-export-v1") {
        return Err(Failure::Usage(format!(
            "`{}` is not a Deputy export (format `deputy-export-v1`)",
            file.display()
        )));
    }
    let changes: Vec<Change> =
        serde_json::from_value(doc.get("changes").cloned().unwrap_or_default()).map_err(|e| {
            Failure::Usage(format!("`{}`: changes are malformed: {e}", file.display()))
        })?;
    let d = open(&cli.db)?;
    // A progress bar on a terminal; nothing when stderr is redirected or with --json.
    let bar = if cli.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(changes.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("importing {bar:40} {pos}/{len} changes ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let revision = d.import(&changes, 10_000, &mut |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    done(revision, format!("imported {} changes", changes.len()), json!({}))
}

/// A consistent copy of the live database (R66).
pub(super) fn backup(cli: &Cli, file: &Path) -> Outcome {
    let store = deputy_backends::open(&cli.db)?;
    store.backup_to(file)?;
    Ok((
        json!({"backup": file.display().to_string()}),
        format!("backed up {} to {}", cli.db, file.display()),
        0,
    ))
}

/// Restores a backup into a new database, as a new epoch (R66).
pub(super) fn restore(cli: &Cli, backup: &Path) -> Outcome {
    let store = deputy_backends::restore(backup, &cli.db)?;
    let d = Deputy::open(store)?;
    let token = d.token();
    Ok((
        json!({"token": token.to_string()}),
        format!(
            "restored {} into {} as a new epoch (tokens from before are refused); newest token {token}",
            backup.display(),
            cli.db
        ),
        0,
    ))
}

/// Saves a checkpoint so the next start replays less.
pub(super) fn checkpoint(cli: &Cli) -> Outcome {
    let d = initialised(&cli.db)?;
    let revision = d.checkpoint()?;
    done(revision, "checkpoint saved".into(), json!({}))
}
