//! The API as a scenario layer: every write is a request as its actor, signed in with a
//! session of its own (switched or impersonating as the step says), and every check and
//! explain is asked by the operator with the last write's consistency token (R50).

use super::{PASSWORD, Server, start};
use deputy_scenarios::ScenarioFile;
use deputy_scenarios::driver::{self, Answer, Explained, Outcome, PathText, Runner};
use deputy_scenarios::model::*;
use deputy_store::secrets::SecretStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Runs a scenario file on a fresh deployment through the API.
pub fn run_file(file: &ScenarioFile) -> Api {
    let mut api = Api::new();
    if let Err(failures) = driver::run(&mut api, file) {
        panic!("{failures}");
    }
    api
}

/// A signed-in principal: its session's token and where it acts.
#[derive(Debug, Clone)]
struct SignedIn {
    token: String,
    home: String,
    switched: Option<String>,
    impersonating: Option<String>,
}

pub struct Api {
    rt: tokio::runtime::Runtime,
    pub server: Server,
    sessions: HashMap<String, SignedIn>,
    passwords: HashMap<String, String>,
    /// Grants and groups this run created, by (client, partner) and (owner, name).
    grants: HashMap<(String, String), String>,
    groups: HashMap<(String, String), String>,
    /// The consistency token of the last write.
    last: Option<String>,
}

impl Api {
    /// The current session token of a signed-in principal.
    pub fn session(&self, logon: &str) -> String {
        self.sessions[logon].token.clone()
    }

    /// The password a principal signs in with (a generated one, where the step had one).
    pub fn password(&self, logon: &str) -> String {
        self.passwords.get(logon).cloned().unwrap_or_else(|| PASSWORD.into())
    }

    /// The consistency token of the last write.
    pub fn last_token(&self) -> Option<String> {
        self.last.clone()
    }

    pub fn new() -> Api {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(start());
        let mut api = Api {
            rt,
            server,
            sessions: HashMap::new(),
            passwords: HashMap::new(),
            grants: HashMap::new(),
            groups: HashMap::new(),
            last: None,
        };
        api.passwords.insert("operator".into(), PASSWORD.into());
        api
    }

    pub fn call(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value, Option<String>) {
        self.rt.block_on(self.server.call(method, token, path, body))
    }

    fn sign_in(&mut self, logon: &str) -> Result<String, String> {
        let password = self.passwords.get(logon).cloned().unwrap_or_else(|| PASSWORD.into());
        let (status, body, _) = self.call(
            Method::POST,
            None,
            "/v1/auth/sign-in",
            json!({"logon": logon, "password": password}),
        );
        if status != StatusCode::OK {
            return Err(format!("`{logon}` cannot sign in: {status} {body}"));
        }
        let token = body["token"].as_str().ok_or("no token")?.to_owned();
        let (_, me, _) = self.call(Method::GET, Some(&token), "/v1/me", json!({}));
        let home = me["home"]["key"].as_str().ok_or_else(|| format!("no home in {me}"))?.to_owned();
        self.sessions.insert(
            logon.into(),
            SignedIn { token: token.clone(), home, switched: None, impersonating: None },
        );
        Ok(token)
    }

    /// A token of `logon` acting in `session`: signs in, switches and impersonates as needed.
    fn token(&mut self, logon: &str, session: &Session) -> Result<String, String> {
        if !self.sessions.contains_key(logon) {
            self.sign_in(logon)?;
        }
        let mut s = self.sessions.get(logon).cloned().ok_or("no session")?;
        if s.impersonating.is_some() && session.impersonator.is_none() {
            let stopped = self.post(&s.token, "/v1/session/stop-impersonating", json!({}))?;
            s.token = stopped["token"].as_str().ok_or("no token")?.to_owned();
            s.impersonating = None;
        }
        if s.switched != session.switched_into {
            let to = session.switched_into.clone().unwrap_or_else(|| s.home.clone());
            let switched = self.post(&s.token, "/v1/session/switch", json!({"tenant": to}))?;
            s.token = switched["token"].as_str().ok_or("no token")?.to_owned();
            s.switched = session.switched_into.clone();
        }
        self.sessions.insert(logon.into(), s.clone());
        Ok(s.token)
    }

    fn post(&self, token: &str, path: &str, body: Value) -> Result<Value, String> {
        let (status, value, _) = self.call(Method::POST, Some(token), path, body);
        if status.is_success() { Ok(value) } else { Err(format!("{path}: {status} {value}")) }
    }

    fn operator(&mut self) -> Result<String, String> {
        self.token("operator", &Session::HOME)
    }

    /// Uses the newest link mailed to `email` to set a password; returns the new session.
    fn accept_invitation(&mut self, email: &str) -> Result<String, String> {
        let mail = self.server.app.deputy().store().outbox(0, 10_000).map_err(|e| e.to_string())?;
        let link = mail
            .iter()
            .rev()
            .find(|m| m.recipient == email)
            .and_then(|m| m.body.lines().find(|l| l.contains("/invitation/")).map(str::to_owned))
            .ok_or_else(|| format!("no invitation mailed to {email}"))?;
        let token = link.rsplit('/').next().unwrap_or_default();
        let (status, body, _) = self.call(
            Method::POST,
            None,
            "/v1/auth/invitations/accept",
            json!({"token": token, "password": PASSWORD}),
        );
        if status != StatusCode::OK {
            return Err(format!("the invitation to {email}: {status} {body}"));
        }
        Ok(body["token"].as_str().ok_or("no token")?.to_owned())
    }

    /// A request as an actor; 4xx answers are refusals, with the problem's rule and words.
    fn send(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<Result<Value, Outcome>, String> {
        let (status, value, consistency) = self.call(method, Some(token), path, body);
        if status.is_success() {
            if consistency.is_some() {
                self.last = consistency;
            }
            return Ok(Ok(value));
        }
        if status.is_client_error() {
            let rule = value["rule"].as_str().map(str::to_owned);
            let message = value["detail"].as_str().unwrap_or_default().to_owned();
            let message = if status == StatusCode::NOT_FOUND {
                format!("not found: {message}")
            } else {
                message
            };
            return Ok(Err(Outcome::Refused { rule, message, status: Some(status.as_u16()) }));
        }
        Err(format!("{path}: {status} {value}"))
    }

    fn principal(&mut self, logon: &str) -> Result<Value, String> {
        let operator = self.operator()?;
        let (status, v, _) =
            self.call(Method::GET, Some(&operator), &format!("/v1/principals/{logon}"), json!({}));
        if status.is_success() { Ok(v) } else { Err(format!("`{logon}`: {status} {v}")) }
    }

    fn write_as(&mut self, token: &str, action: &Action) -> Result<Result<Value, Outcome>, String> {
        Ok(match action {
            Action::Join(u) => {
                let path = format!("/v1/tenants/{}/users", u.home);
                let body = json!({"logon": u.logon, "first_name": u.first_name, "last_name": u.last_name, "email": u.email()});
                if let Err(refused) = self.send(token, Method::POST, &path, body)? {
                    return Ok(Err(refused));
                }
                let session = self.accept_invitation(&u.email())?;
                self.sessions.insert(
                    u.logon.clone(),
                    SignedIn {
                        token: session,
                        home: u.home.clone(),
                        switched: None,
                        impersonating: None,
                    },
                );
                Ok(Value::Null)
            }
            Action::CreateTenant(t) => {
                let path = format!("/v1/tenants/{}/children", t.parent);
                let created =
                    self.send(token, Method::POST, &path, json!({"key": t.key, "name": t.name}))?;
                if created.is_err() || !t.partner {
                    return Ok(created);
                }
                let path = format!("/v1/tenants/{}/partner", t.key);
                self.send(token, Method::PUT, &path, json!({"value": true}))?
            }
            Action::CreateSubAccount { client, key, name } => {
                let path = format!("/v1/tenants/{client}/sub-accounts");
                self.send(token, Method::POST, &path, json!({"key": key, "name": name}))?
            }
            Action::CreateUser(u) => {
                let mut body = json!({"logon": u.logon, "first_name": u.first_name(), "last_name": u.last_name(), "email": u.email(), "send_invitation": u.status != "pending"});
                match (u.status.as_str(), u.password.as_deref()) {
                    ("active", Some("generated")) => body["password"] = json!({"generate": true}),
                    ("active", _) => body["password"] = json!({"value": PASSWORD}),
                    _ => {}
                }
                let path = format!("/v1/tenants/{}/users", u.home);
                let created = self.send(token, Method::POST, &path, body)?;
                if let Ok(v) = &created {
                    if v["status"] != u.status.as_str() {
                        return Err(format!(
                            "`{}` was created {}, expected {}",
                            u.logon, v["status"], u.status
                        ));
                    }
                    let password = v["generated_password"]
                        .as_str()
                        .map_or_else(|| PASSWORD.to_owned(), str::to_owned);
                    self.passwords.insert(u.logon.clone(), password);
                }
                created
            }
            Action::Invite { principal } => self.send(
                token,
                Method::POST,
                &format!("/v1/principals/{principal}/invitation"),
                json!({}),
            )?,
            Action::Assign(a) => {
                if let (Some(issuer), Some(role)) = (&a.redeemed_from, &a.role) {
                    let issuer = self.token(issuer, &Session::HOME)?;
                    let path = format!("/v1/tenants/{}/access-codes", a.tenant);
                    let code =
                        match self.send(&issuer, Method::POST, &path, json!({"roles": [role]}))? {
                            Ok(code) => code,
                            Err(refused) => return Ok(Err(refused)),
                        };
                    let holder = self.token(&a.principal, &Session::HOME)?;
                    let redeemed = self.send(
                        &holder,
                        Method::POST,
                        "/v1/access-codes/redeem",
                        json!({"code": code["code"]}),
                    )?;
                    if let Ok(r) = &redeemed
                        && r["assignments"].as_array().map(Vec::len) != Some(1)
                    {
                        return Err(format!("the access code gave {r}"));
                    }
                    return Ok(redeemed);
                }
                let mut body = json!({"tenant": a.tenant, "subtree": a.subtree});
                if let Some(r) = &a.role {
                    body["role"] = json!(r);
                }
                if let Some(p) = &a.permission {
                    body["permission"] = json!(p);
                }
                self.send(
                    token,
                    Method::POST,
                    &format!("/v1/principals/{}/assignments", a.principal),
                    body,
                )?
            }
            Action::Unassign { principal, role, permission, tenant } => {
                let (status, view, _) = self.call(
                    Method::GET,
                    Some(token),
                    &format!("/v1/principals/{principal}"),
                    json!({}),
                );
                if !status.is_success() {
                    return Err(format!("the actor cannot read `{principal}`: {status} {view}"));
                }
                let id = view["assignments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| {
                        a["target"]["key"] == tenant.as_str()
                            && (role.is_none() || a["role"] == json!(role))
                            && (permission.is_none() || a["permission"] == json!(permission))
                    })
                    .and_then(|a| a["id"].as_str())
                    .ok_or_else(|| format!("no such assignment in {view}"))?
                    .to_owned();
                self.send(
                    token,
                    Method::DELETE,
                    &format!("/v1/principals/{principal}/assignments/{id}"),
                    json!({}),
                )?
            }
            Action::CreateResource(r) => {
                let mut body = json!({"key": r.key, "name": r.name.clone().unwrap_or_else(|| r.key.clone()), "type": r.resource_type});
                if let Some(k) = &r.kind {
                    body["kind"] = json!(k);
                }
                self.send(
                    token,
                    Method::POST,
                    &format!("/v1/tenants/{}/resources", r.tenant),
                    body,
                )?
            }
            Action::CreateDelegate(d) => {
                let body = json!({"logon": d.logon, "first_name": d.first_name, "last_name": d.last_name, "email": d.email()});
                let created = self.send(
                    token,
                    Method::POST,
                    &format!("/v1/principals/{}/delegates", d.owner),
                    body,
                )?;
                if created.is_ok() {
                    // The delegate sets its password from the mailed link (R34, R12).
                    self.accept_invitation(&d.email())?;
                }
                created
            }
            Action::CreateGroup { owner, name } => {
                let created = self.send(
                    token,
                    Method::POST,
                    "/v1/groups",
                    json!({"owner_principal": owner, "name": name}),
                )?;
                if let Ok(g) = &created {
                    let id = g["id"].as_str().ok_or("no group id")?.to_owned();
                    self.groups.insert((owner.clone(), name.clone()), id);
                }
                created
            }
            Action::PlaceInGroup { owner, group, tenant } => {
                let id = self
                    .groups
                    .get(&(owner.clone(), group.clone()))
                    .cloned()
                    .ok_or("no such group")?;
                self.send(
                    token,
                    Method::PUT,
                    &format!("/v1/groups/{id}/tenants/{tenant}"),
                    json!({}),
                )?
            }
            Action::SetDelegateAccess { delegate, groups, kinds } => {
                let owner = self.principal(delegate)?["owner"]["logon"]
                    .as_str()
                    .ok_or("not a delegate")?
                    .to_owned();
                let groups = match groups {
                    Some(gs) => Some(
                        gs.iter()
                            .map(|g| {
                                self.groups
                                    .get(&(owner.clone(), g.clone()))
                                    .cloned()
                                    .ok_or("no such group")
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                    ),
                    None => None,
                };
                let body = json!({"groups": groups, "kinds": kinds});
                self.send(
                    token,
                    Method::PUT,
                    &format!("/v1/principals/{delegate}/delegate-access"),
                    body,
                )?
            }
            Action::ProposeGrant(g) => {
                let body =
                    json!({"partner": g.partner, "ceiling": g.ceiling, "subtree": g.subtree});
                let created = self.send(
                    token,
                    Method::POST,
                    &format!("/v1/tenants/{}/grants", g.client),
                    body,
                )?;
                if let Ok(v) = &created {
                    let id = v["id"].as_str().ok_or("no grant id")?.to_owned();
                    self.grants.insert((g.client.clone(), g.partner.clone()), id);
                }
                created
            }
            Action::RevokeGrant { client, partner } => {
                let id = self
                    .grants
                    .get(&(client.clone(), partner.clone()))
                    .cloned()
                    .ok_or("no such grant")?;
                self.send(token, Method::POST, &format!("/v1/grants/{id}/revoke"), json!({}))?
            }
            Action::GivePartnerRole(p) => {
                let body = json!({"role": p.role, "client": p.client});
                self.send(
                    token,
                    Method::POST,
                    &format!("/v1/principals/{}/partner-roles", p.principal),
                    body,
                )?
            }
            Action::SwitchTenant { .. } => return Err("switching is done by `write`".into()),
            Action::SetStatus { principal, status } => self.send(
                token,
                Method::POST,
                &format!("/v1/principals/{principal}/status"),
                json!({"status": status}),
            )?,
            Action::Cancel { principal } => self.send(
                token,
                Method::POST,
                &format!("/v1/principals/{principal}/cancel"),
                json!({}),
            )?,
            Action::UpdateProfile { principal, first_name, phone } => {
                let mut body = json!({});
                if let Some(f) = first_name {
                    body["first_name"] = json!(f);
                }
                if let Some(p) = phone {
                    body["phone"] = json!(p);
                }
                self.send(token, Method::PATCH, &format!("/v1/principals/{principal}"), body)?
            }
            Action::SetEntitlements { tenant, remove, add } => {
                let (_, view, _) = self.call(
                    Method::GET,
                    Some(token),
                    &format!("/v1/tenants/{tenant}"),
                    json!({}),
                );
                let mut names: Vec<String> = view["entitlements"]
                    .as_array()
                    .ok_or_else(|| format!("no entitlements in {view}"))?
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .filter(|p| !remove.contains(p))
                    .collect();
                names.extend(add.iter().cloned());
                self.send(
                    token,
                    Method::PUT,
                    &format!("/v1/tenants/{tenant}/entitlements"),
                    json!({"permissions": names}),
                )?
            }
        })
    }

    fn ask(&mut self, path: &str, query: &Query) -> Result<Value, String> {
        let mut body = json!({"principal": query.principal, "permission": query.permission, "target": query.target});
        let s = &query.session;
        match (&s.switched_into, s.sessionless) {
            (Some(c), _) => body["switched_into"] = json!(c),
            (None, false) => body["context"] = json!("home"),
            (None, true) => {}
        }
        if let Some(i) = &s.impersonator {
            body["impersonator"] = json!(i);
        }
        if let Some(t) = &self.last {
            body["consistency_token"] = json!(t);
        }
        let operator = self.operator()?;
        let (status, answer, _) = self.call(Method::POST, Some(&operator), path, body);
        if status == StatusCode::OK {
            Ok(answer)
        } else {
            Err(format!("{path} {query}: {status} {answer}"))
        }
    }

    /// A logon for a principal id as explain's paths carry it.
    fn logon_of(&mut self, id: &Value) -> String {
        let id = match serde_json::from_value::<deputy_core::PrincipalId>(id.clone()) {
            Ok(id) => id.to_string(),
            Err(_) => match id.as_str() {
                Some(id) => id.to_owned(),
                None => return id.to_string(),
            },
        };
        self.principal(&id).ok().and_then(|p| p["logon"].as_str().map(str::to_owned)).unwrap_or(id)
    }
}

impl Runner for Api {
    fn layer(&self) -> Layer {
        Layer::Http
    }

    fn write(
        &mut self,
        actor: Option<&str>,
        session: &Session,
        action: &Action,
    ) -> Result<Outcome, String> {
        let actor = actor.unwrap_or("operator");
        let token = match &session.impersonator {
            Some(impersonator) => {
                // The impersonator's session, switched as the step says, impersonates the actor.
                let own = Session { impersonator: None, ..session.clone() };
                let current = self.sessions.get(impersonator).and_then(|s| s.impersonating.clone());
                if current.as_deref() == Some(actor) {
                    self.sessions.get(impersonator).map(|s| s.token.clone()).ok_or("no session")?
                } else {
                    let from = self.token(impersonator, &own)?;
                    let acting = self.post(
                        &from,
                        "/v1/session/impersonate",
                        json!({"target": actor, "reason": "scenario step"}),
                    )?;
                    let token = acting["token"].as_str().ok_or("no token")?.to_owned();
                    if let Some(s) = self.sessions.get_mut(impersonator) {
                        s.token = token.clone();
                        s.impersonating = Some(actor.to_owned());
                    }
                    token
                }
            }
            None => self.token(actor, session)?,
        };
        if let Action::SwitchTenant { tenant } = action {
            let switched = Session { switched_into: Some(tenant.clone()), ..session.clone() };
            self.token(actor, &switched)?;
            return Ok(Outcome::DONE);
        }
        match self.write_as(&token, action)? {
            Ok(v) => {
                let replaced = match v["replaced"].as_array() {
                    Some(ids) => ids.clone().iter().map(|id| self.logon_of(id)).collect(),
                    None => Vec::new(),
                };
                Ok(Outcome::Done { replaced })
            }
            Err(refused) => Ok(refused),
        }
    }

    fn check(&mut self, query: &Query) -> Result<Answer, String> {
        let a = self.ask("/v1/check", query)?;
        Ok(Answer {
            allowed: a["allowed"].as_bool().ok_or_else(|| format!("no answer in {a}"))?,
            failed_step: a["failed_step"].as_str().map(str::to_owned),
        })
    }

    fn explain(&mut self, query: &Query) -> Result<Explained, String> {
        let a = self.ask("/v1/explain", query)?;
        let catalog = self.server.app.deputy().snapshot().catalog.clone();
        let mut paths = Vec::new();
        for p in a["paths"].as_array().into_iter().flatten() {
            let role = serde_json::from_value::<deputy_core::RoleId>(p["role"].clone());
            let permission = serde_json::from_value::<deputy_core::PermId>(p["permission"].clone());
            let holds = match (role, permission) {
                (Ok(r), _) => format!("role `{}`", catalog.role_name(r)),
                (Err(_), Ok(x)) => format!("permission `{}`", catalog.perm_name(x)),
                _ => "nothing named".into(),
            };
            let through = p["through_delegates"].as_array().cloned().unwrap_or_default();
            paths.push(PathText {
                origin: p["origin"].as_str().unwrap_or_default().to_owned(),
                holder: self.logon_of(&p["holder"]),
                through_delegates: through.iter().map(|d| self.logon_of(d)).collect(),
                holds,
            });
        }
        Ok(Explained {
            allowed: a["allowed"].as_bool().ok_or_else(|| format!("no answer in {a}"))?,
            failed_step: a["failed_step"].as_str().map(str::to_owned),
            reason: a["reason"].as_str().map(str::to_owned),
            paths,
        })
    }

    fn status(&mut self, logon: &str) -> Result<String, String> {
        let p = self.principal(logon)?;
        p["status"].as_str().map(str::to_owned).ok_or_else(|| format!("no status in {p}"))
    }

    fn contact(&mut self, tenant: &str) -> Result<Option<String>, String> {
        let operator = self.operator()?;
        let (status, t, _) =
            self.call(Method::GET, Some(&operator), &format!("/v1/tenants/{tenant}"), json!({}));
        if !status.is_success() {
            return Err(format!("`{tenant}`: {status} {t}"));
        }
        Ok(t["contact"]["logon"].as_str().map(str::to_owned))
    }

    fn is_admin(&mut self, logon: &str) -> Result<bool, String> {
        Ok(self.principal(logon)?["admin"] == true)
    }
}
