//! The one driver: it builds a scenario's world through a [`Runner`], runs its steps, and
//! compares every answer with the file. A runner is one layer (the engine, the service, the
//! API); the driver knows none of them.

use crate::ScenarioFile;
use crate::model::*;
use crate::snapshot::{self, Mismatch};

/// What a layer does for the driver. Every name is a name people type (tenant keys, logons);
/// the runner resolves them its own way (the engine by its indexes, the API by its paths).
pub trait Runner {
    fn layer(&self) -> Layer;
    /// Does `action` as `actor` (a logon; `None`: the console, the operator through the
    /// API) in the actor's `session`. A refusal by the rules is an [`Outcome::Refused`];
    /// anything else going wrong is an `Err`.
    fn write(
        &mut self,
        actor: Option<&str>,
        session: &Session,
        action: &Action,
    ) -> Result<Outcome, String>;
    /// The answer to a check, on data at least as fresh as the last write.
    fn check(&mut self, query: &Query) -> Result<Answer, String>;
    /// Why, as the console (the operator through the API) is told.
    fn explain(&mut self, query: &Query) -> Result<Explained, String>;
    /// A principal's status (`active`, `cancelled`, …).
    fn status(&mut self, logon: &str) -> Result<String, String>;
    /// A tenant's contact person.
    fn contact(&mut self, tenant: &str) -> Result<Option<String>, String>;
    /// Whether a principal is shown with the crown: it holds `admin` in its home (R7).
    fn is_admin(&mut self, logon: &str) -> Result<bool, String>;
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; `replaced` names the accounts a partner role replaced (R44).
    Done { replaced: Vec<String> },
    /// Refused by the rules: nothing changed. `status` is the HTTP status, where there is one.
    Refused { rule: Option<String>, message: String, status: Option<u16> },
}

impl Outcome {
    pub const DONE: Outcome = Outcome::Done { replaced: Vec::new() };
}

/// A check's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub allowed: bool,
    /// For a denial, the first step that failed (`paths`, `entitlement`, …).
    pub failed_step: Option<String>,
}

/// An explanation, with names in place of ids, as every layer can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub allowed: bool,
    pub failed_step: Option<String>,
    pub reason: Option<String>,
    pub paths: Vec<PathText>,
}

/// A granting path with names (R52): who holds what, through which delegates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathText {
    pub origin: String,
    pub holder: String,
    pub through_delegates: Vec<String>,
    /// `role `tax-preparer`` or `permission `returns.file``.
    pub holds: String,
}

impl Explained {
    /// The text a file holds: the decision and, for a denial, the first failed step and why;
    /// for an allow, a line per granting path.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if self.allowed {
            text.push_str("allowed\n");
            for p in &self.paths {
                let through = if p.through_delegates.is_empty() {
                    String::new()
                } else {
                    format!(" (for {})", quoted(&p.through_delegates))
                };
                text.push_str(&format!(
                    "- {}: `{}`{through} holds {}\n",
                    p.origin, p.holder, p.holds
                ));
            }
        } else {
            let step = self.failed_step.as_deref().unwrap_or("?");
            text.push_str(&format!("denied at step `{step}`\n"));
            if let Some(r) = &self.reason {
                text.push_str(&format!("because {r}\n"));
            }
        }
        crate::snapshot::redact_times(&text)
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// Everything that did not hold, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures(pub Vec<String>);

impl std::fmt::Display for Failures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for line in &self.0 {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// Which part of a file a step is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Setup,
    Steps,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Setup => "setup",
            Part::Steps => "steps",
        }
    }
}

/// Runs a whole scenario file: world, setup and steps. Snapshot texts that differ are
/// rewritten in the file when `UPDATE_EXPECT=1`, else reported with everything else.
pub fn run<R: Runner>(runner: &mut R, file: &ScenarioFile) -> Result<(), Failures> {
    let scenario = file.parse().map_err(|e| Failures(vec![e]))?;
    let mut mismatches = Vec::new();
    let mut failures = Vec::new();
    let outcome = build(runner, &scenario, &mut mismatches)
        .and_then(|()| run_steps(runner, &scenario, Part::Steps, &mut mismatches));
    if let Err(e) = outcome {
        failures.push(e);
    }
    if !mismatches.is_empty() {
        if snapshot::updating() {
            if let Err(e) = snapshot::update(file, &mismatches) {
                failures.push(e);
            }
        } else {
            for m in &mismatches {
                failures.push(m.describe(runner.layer(), file));
            }
            failures.push("(run with UPDATE_EXPECT=1 to accept the new texts)".into());
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(Failures(failures)) }
}

/// Builds the world and runs the setup, as the demo does: every expectation of the setup
/// must hold (snapshot texts are not compared).
pub fn load<R: Runner>(runner: &mut R, scenario: &Scenario) -> Result<(), String> {
    build(runner, scenario, &mut Vec::new())
}

fn build<R: Runner>(
    runner: &mut R,
    scenario: &Scenario,
    mismatches: &mut Vec<Mismatch>,
) -> Result<(), String> {
    let home = Session::HOME;
    let done = |runner: &mut R, by: Option<&str>, action: Action, what: String| match runner
        .write(by, &home, &action)
    {
        Ok(Outcome::Done { replaced }) => Ok(replaced),
        Ok(Outcome::Refused { message, .. }) => Err(format!(
            "{} {} world: {what}: refused: {message}",
            runner.layer().name(),
            scenario.id
        )),
        Err(e) => Err(format!("{} {} world: {what}: {e}", runner.layer().name(), scenario.id)),
    };
    for t in &scenario.tenants {
        done(runner, None, Action::CreateTenant(t.clone()), format!("tenant `{}`", t.key))?;
    }
    for u in &scenario.users {
        done(runner, u.by.as_deref(), Action::Join(u.clone()), format!("user `{}`", u.logon))?;
    }
    for a in &scenario.assignments {
        let what = format!("assignment to `{}` in `{}`", a.principal, a.tenant);
        done(runner, a.by.as_deref(), Action::Assign(a.clone()), what)?;
    }
    for r in &scenario.resources {
        done(
            runner,
            r.by.as_deref(),
            Action::CreateResource(r.clone()),
            format!("resource `{}`", r.key),
        )?;
    }
    for d in &scenario.delegates {
        let what = format!("delegate `{}`", d.logon);
        done(runner, Some(&d.owner), Action::CreateDelegate(d.clone()), what)?;
    }
    for g in &scenario.grants {
        let what = format!("grant from `{}` to `{}`", g.client, g.partner);
        done(runner, Some(&g.by), Action::ProposeGrant(g.clone()), what)?;
    }
    for p in &scenario.partner_roles {
        let what = format!("partner role `{}` for `{}` in `{}`", p.role, p.principal, p.client);
        let replaced = done(runner, Some(&p.by), Action::GivePartnerRole(p.clone()), what.clone())?;
        if let Some(expected) = &p.replaces
            && *expected != replaced
        {
            return Err(format!(
                "{} {} world: {what}: replaced {replaced:?}, expected {expected:?}",
                runner.layer().name(),
                scenario.id
            ));
        }
    }
    run_steps(runner, scenario, Part::Setup, mismatches)
}

fn run_steps<R: Runner>(
    runner: &mut R,
    scenario: &Scenario,
    part: Part,
    mismatches: &mut Vec<Mismatch>,
) -> Result<(), String> {
    let steps = match part {
        Part::Setup => &scenario.setup,
        Part::Steps => &scenario.steps,
    };
    for (index, step) in steps.iter().enumerate() {
        if step.only.as_ref().is_some_and(|only| !only.contains(&runner.layer())) {
            continue;
        }
        let layer = runner.layer().name();
        let at = || {
            let note = step.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            format!("{layer} {} {}[{index}]{note}", scenario.id, part.name())
        };
        run_step(runner, step, part, index, mismatches).map_err(|e| format!("{}: {e}", at()))?;
    }
    Ok(())
}

fn sessions(step: &Step, default: SessionName) -> Result<Vec<Session>, String> {
    let names = match &step.context {
        None => vec![default],
        Some(Contexts::One(n)) => vec![*n],
        Some(Contexts::Many(ns)) => ns.clone(),
    };
    if step.switched_into.is_some() && step.context.is_some() {
        return Err("give `context` or `switched_into`, not both".into());
    }
    Ok(names
        .into_iter()
        .map(|n| Session {
            sessionless: step.switched_into.is_none() && n == SessionName::None,
            switched_into: step.switched_into.clone(),
            impersonator: step.impersonator.clone(),
        })
        .collect())
}

fn query(text: &str, session: &Session) -> Result<Query, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    match parts.as_slice() {
        [principal, permission, target] => Ok(Query {
            principal: (*principal).into(),
            permission: (*permission).into(),
            target: (*target).into(),
            session: session.clone(),
        }),
        _ => Err(format!("`{text}` is not `PRINCIPAL PERMISSION TARGET`")),
    }
}

fn run_step<R: Runner>(
    runner: &mut R,
    step: &Step,
    part: Part,
    index: usize,
    mismatches: &mut Vec<Mismatch>,
) -> Result<(), String> {
    if let Some(action) = &step.action {
        if !step.allowed.is_empty() || !step.denied.is_empty() || step.explain.is_some() {
            return Err("a step that writes does not also check: split it".into());
        }
        let session = sessions(step, SessionName::Home)?;
        let [session] = session.as_slice() else {
            return Err("a write has one session".into());
        };
        let outcome = runner.write(step.actor.as_deref(), session, action)?;
        match (&step.refused, outcome) {
            (None, Outcome::Done { replaced }) => {
                if let Action::GivePartnerRole(PartnerRoleDef { replaces: Some(expected), .. }) =
                    action
                    && *expected != replaced
                {
                    return Err(format!("replaced {replaced:?}, expected {expected:?}"));
                }
            }
            (None, Outcome::Refused { message, .. }) => return Err(format!("refused: {message}")),
            (Some(rule), Outcome::Done { .. }) => {
                return Err(format!("done, but the file expects a refusal by {rule}"));
            }
            (Some(rule), Outcome::Refused { rule: got, message, status }) => {
                if got.as_deref() != Some(rule.as_str()) {
                    return Err(format!("refused by {got:?}, expected {rule}: {message}"));
                }
                if let (Some(want), Some(got)) = (step.http_status, status)
                    && want != got
                {
                    return Err(format!("refused with HTTP status {got}, expected {want}"));
                }
                if let Some(says) = &step.says
                    && *says.get_ref() != message
                {
                    mismatches.push(Mismatch::new(part, index, "says", says, message));
                }
            }
        }
    } else if step.refused.is_some() || step.says.is_some() || step.http_status.is_some() {
        return Err("`refused`, `says` and `http_status` belong to a step that writes".into());
    }
    for session in sessions(step, SessionName::None)? {
        for (list, allowed) in [(&step.allowed, true), (&step.denied, false)] {
            for text in list {
                let q = query(text, &session)?;
                let answer = runner.check(&q)?;
                if answer.allowed != allowed {
                    let got = if answer.allowed { "allowed" } else { "denied" };
                    return Err(format!("check {q}: {got}, {:?}", answer.failed_step));
                }
                if !allowed
                    && let Some(want) = &step.failed_step
                    && answer.failed_step.as_ref() != Some(want)
                {
                    return Err(format!(
                        "check {q}: denied at {:?}, expected at {want}",
                        answer.failed_step
                    ));
                }
            }
        }
        if let Some(text) = &step.explain {
            let q = query(text, &session)?;
            let explained = runner.explain(&q)?;
            let check = runner.check(&q)?;
            if check.allowed != explained.allowed {
                return Err(format!("explain {q} and check disagree (R53)"));
            }
            let actual = explained.render();
            match &step.text {
                Some(expected) if *expected.get_ref() == actual => {}
                Some(expected) => {
                    mismatches.push(Mismatch::new(part, index, "text", expected, actual));
                }
                None => {
                    return Err("`explain` needs `text` (give '' and run UPDATE_EXPECT=1)".into());
                }
            }
        }
    }
    for (logon, want) in &step.status {
        let got = runner.status(logon)?;
        if got != *want {
            return Err(format!("`{logon}` is {got}, expected {want}"));
        }
    }
    for (tenant, want) in &step.contact {
        let got = runner.contact(tenant)?;
        if got.as_deref() != Some(want.as_str()) {
            return Err(format!("the contact person of `{tenant}` is {got:?}, expected `{want}`"));
        }
    }
    for logon in &step.admin {
        if !runner.is_admin(logon)? {
            return Err(format!("`{logon}` holds no crown (admin in its home)"));
        }
    }
    Ok(())
}
