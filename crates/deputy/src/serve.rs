//! `deputy serve` (R60, R62): opens (creating and migrating) the database, creates the
//! root tenant and a first admin with a one-time password on first start, and serves the
//! API until SIGINT or SIGTERM, finishing the requests in flight.

use crate::config::{Config, LogFormat, MetricsSetting};
use deputy_http::{AppState, HttpConfig, MetricsAccess};
use deputy_service::Deputy;
use deputy_service::auth::Auth;
use std::sync::Arc;

/// How often a server looks for commits made by other processes (R63a).
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEPUTY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never in files or collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Runs the server; returns when it has shut down.
pub fn serve(config: Config) -> Result<(), String> {
    init_logs(config.log_format);
    let store = deputy_backends::open(&config.database)
        .map_err(|e| format!("cannot open `{}`: {e}", config.database))?;
    let deputy = Deputy::open(store).map_err(|e| e.to_string())?;
    for warning in deputy.warnings() {
        tracing::warn!(%warning, "while opening the database");
    }
    // Bound first, so a default public origin names the port actually bound (`:0`).
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let public_origin = config.origin_for(local);
    let settings = config.service_settings(public_origin.clone());
    let first_start = !deputy.is_initialised();
    if first_start {
        deputy.initialise(None, &config.root_key, &config.root_name).map_err(|e| e.to_string())?;
    }
    let auth = Auth::new(Arc::new(deputy), settings).map_err(|e| e.to_string())?;
    if first_start {
        let (_, password) = auth
            .bootstrap_admin(&config.admin_logon, &config.admin_email)
            .map_err(|e| format!("cannot create the first admin: {e}"))?;
        println!("First start: created root tenant `{}` and its first admin.", config.root_key);
        println!("  logon:    {}", config.admin_logon);
        println!("  password: {password}");
        println!("  (shown once, never stored in clear; it must be changed at the first sign-in)");
    }
    auth.maintain_signing_keys().map_err(|e| format!("cannot prepare signing keys: {e}"))?;
    let smtp = config
        .smtp_url
        .as_deref()
        .map(|url| crate::smtp::Smtp::new(url, &config.mail_from))
        .transpose()?
        .map(std::sync::Arc::new);
    if smtp.is_none() {
        tracing::info!("no smtp_url: mail stays in the outbox (`GET /v1/outbox`)");
    }
    let revision = auth.deputy().snapshot().revision;
    let app = AppState::new(
        auth,
        HttpConfig {
            public_origin: public_origin.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            metrics: match &config.metrics {
                MetricsSetting::Open => MetricsAccess::Open,
                MetricsSetting::Token(token) => MetricsAccess::Bearer(token.clone()),
                MetricsSetting::Listen(_) | MetricsSetting::Off => MetricsAccess::Closed,
            },
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        println!(
            "deputy: serving http://{local} (database {}, revision {revision}); public origin {public_origin}",
            config.database,
        );
        tracing::info!(%local, "listening");
        match &config.metrics {
            MetricsSetting::Listen(address) => {
                let metrics = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|e| format!("cannot listen on metrics_listen {address}: {e}"))?;
                let router = axum::Router::new()
                    .route("/metrics", axum::routing::get(deputy_http::routes::health::metrics_here))
                    .with_state(app.clone());
                tracing::info!(%address, "metrics on their own address");
                tokio::spawn(async move {
                    if let Err(e) = axum::serve(metrics, router).await {
                        tracing::error!(error = %e, "metrics listener failed");
                    }
                });
            }
            MetricsSetting::Off => tracing::warn!(
                "listening beyond loopback without metrics_listen or metrics_token: /metrics is not served"
            ),
            MetricsSetting::Open | MetricsSetting::Token(_) => {}
        }
        // R61: the outbox is delivered every few seconds when SMTP is configured.
        if let Some(smtp) = smtp {
            let mailer = app.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    every.tick().await;
                    let (app, smtp) = (mailer.clone(), smtp.clone());
                    let done = tokio::task::spawn_blocking(move || {
                        let now = app.deputy().now();
                        deputy_service::mail::deliver_due(app.deputy().store(), smtp.as_ref(), now)
                    })
                    .await;
                    match done {
                        Ok(Ok(d)) if d.sent + d.failed > 0 => {
                            tracing::info!(sent = d.sent, failed = d.failed, "mail delivery")
                        }
                        Ok(Err(e)) => tracing::error!(error = %e, "mail delivery failed"),
                        _ => {}
                    }
                }
            });
        }
        // R63a: what another process commits (the console on the same database, another
        // replica) reaches this one's checks within a poll.
        let follower = app.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FOLLOW_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let deputy = follower.deputy().clone();
                match tokio::task::spawn_blocking(move || deputy.follow()).await {
                    Ok(Ok(n)) if n > 0 => tracing::debug!(revisions = n, "followed the store"),
                    Ok(Err(e)) => tracing::error!(error = %e, "following the store failed"),
                    _ => {}
                }
            }
        });
        // R71 and R70: signing keys age and rotate, and expiring grants are announced,
        // while the server runs.
        let keeper = app.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                let auth = keeper.clone();
                let done = tokio::task::spawn_blocking(move || {
                    auth.auth().maintain_signing_keys()?;
                    // R70: grants expiring within a week are announced (once) or extended.
                    auth.auth().grant_upkeep(7 * 24 * 3_600_000)
                })
                .await;
                match done {
                    Ok(Ok(n)) if n > 0 => tracing::info!(mails = n, "grant expiry notices queued"),
                    Ok(Err(e)) => tracing::error!(error = %e, "periodic maintenance failed"),
                    _ => {}
                }
            }
        });
        let router = deputy_portal::with_api(app);
        deputy_http::serve_router(listener, router, shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    })
}
