//! The OpenAPI 3.1 document (R57), generated from the handlers' annotations.
//!
//! An annotation declares what its handler and its caller extractor answer, mostly with
//! the shared sets below ([`ErrorsOfRead`], [`ErrorsOfWrite`], …). What follows from an
//! operation's shape and the layers every route shares ([`crate::routes::routes`]) is
//! added by [`Layers`] in this one place, so no annotation repeats it or forgets it: 400
//! for a malformed JSON body, query, path segment or `Idempotency-Key` (bodies are read
//! with `ApiJson`, queries with `ApiQuery`), 403 for a cross-site write (R23), 409 and 422
//! for a key in use or reused, 413 for a body over the limit, 500 for a server failure.
//! Every error is a problem document (`application/problem+json`), also when the
//! framework answered first.

use crate::problem::Problem;
use crate::routes::{checks, health, roles, sessions, tenants, users};
use axum::Json;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Deputy", description = "Delegated access for multi-tenant portals: who may manage whom, and may this principal do this here."),
    paths(
        health::healthz, health::readyz, health::metrics,
        sessions::sign_in, sessions::sign_out, sessions::change_password, sessions::accept_invitation,
        sessions::forgot_password, sessions::reset_password, sessions::access_token, sessions::jwks, users::password_reset, users::unlock,
        users::me, users::get_principal, users::create_user, users::invite,
        users::create_api_key, users::set_status, users::cancel,
        roles::assign, roles::unassign,
        crate::routes::sessions::switch, crate::routes::sessions::impersonate,
        crate::routes::sessions::stop_impersonating,
        tenants::get_tenant, tenants::list_tenants,
        crate::routes::resources::get_resource, crate::routes::resources::tenant_resources,
        crate::routes::groups::get_group,
        crate::routes::users::tenant_principals, crate::routes::tenants::tenant_children,
        crate::routes::activity::activity,
        crate::routes::tenants::create_tenant, crate::routes::tenants::create_customer,
        crate::routes::tenants::create_sub_account, crate::routes::tenants::create_parent_account,
        crate::routes::tenants::set_entitlements, crate::routes::tenants::set_suspended,
        crate::routes::tenants::set_partner, crate::routes::partners::propose_grant,
        crate::routes::partners::approve_grant, crate::routes::partners::revoke_grant,
        crate::routes::partners::give_partner_role, crate::routes::users::create_delegate,
        crate::routes::users::set_delegate_access, crate::routes::groups::create_group,
        crate::routes::groups::place_in_group, crate::routes::resources::create_resource,
        crate::routes::users::update_profile, crate::routes::access::issue_access_code,
        crate::routes::access::redeem_access_code,
        crate::routes::tenants::update_tenant, crate::routes::partners::change_grant,
        crate::routes::groups::delete_group, crate::routes::users::create_service_account,
        crate::routes::partners::tenant_grants, crate::routes::partners::grant, crate::routes::users::delegates,
        crate::routes::checks::lookup_resources, crate::routes::checks::lookup_subjects,
        crate::routes::reports::what_if, crate::routes::reports::review_tenant,
        crate::routes::reports::review_principal, crate::routes::catalog::catalog,
        crate::routes::catalog::change_catalog, crate::routes::users::list_api_keys,
        crate::routes::users::revoke_api_key, crate::routes::outbox::outbox,
        checks::check, checks::check_batch, checks::explain,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&Security, &Layers, &Schemas),
    security(("bearer" = []), ("cookie" = [])),
)]
#[derive(Debug)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("deputy"))),
        );
    }
}

const IDEMPOTENCY_KEY: &str = "Retrying with the same key answers the first request's answer \
    instead of doing it again (kept 24 hours, per credential).";
const CROSS_SITE: &str = "cross-site request refused (R23): with the session cookie, a write \
    must come from this origin and carry the CSRF token or a JSON content type";

/// What the shared layers and extractors answer, added to every operation they apply to
/// (see the module's documentation).
struct Layers;

impl Modify for Layers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let reads = [item.get.as_mut(), item.head.as_mut(), item.options.as_mut()];
            let writes =
                [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()];
            for op in reads.into_iter().flatten() {
                declare_shared(op, false);
            }
            for op in writes.into_iter().flatten() {
                // R57: writes accept an Idempotency-Key (see crate::idempotency).
                let idempotent = !crate::idempotency::carries_secrets(path);
                if idempotent {
                    let key = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]{1,255}$"));
                    let parameter = ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(IDEMPOTENCY_KEY))
                        .schema(Some(key))
                        .build();
                    op.parameters.get_or_insert_with(Vec::new).push(parameter.into());
                }
                declare_shared(op, idempotent);
                declare(op, "403", CROSS_SITE);
                if idempotent {
                    declare(
                        op,
                        "409",
                        "the first request with this `Idempotency-Key` is still being answered",
                    );
                    declare(op, "422", "this `Idempotency-Key` was used for another request");
                }
            }
        }
    }
}

/// What the derives leave out of the schemas, so that a request the document admits is
/// one the server reads (schemathesis checks both ways): a consistency token's form
/// (`EPOCH.REVISION`, R50), and the variants of a tagged enum that refuses unknown fields
/// (`WhatIfChange`) closed like the structs that do.
struct Schemas;

/// The tagged enums read with `deny_unknown_fields`.
const CLOSED_ENUMS: [&str; 1] = ["WhatIfChange"];

impl Modify for Schemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, schema) in components.schemas.iter_mut() {
            let RefOr::T(schema) = schema else { continue };
            match schema {
                Schema::Object(object) => {
                    if let Some(RefOr::T(Schema::Object(token))) =
                        object.properties.get_mut("consistency_token")
                    {
                        token.pattern = Some(TOKEN_PATTERN.to_owned());
                    }
                }
                Schema::OneOf(one_of) if CLOSED_ENUMS.contains(&name.as_str()) => {
                    for variant in one_of.items.iter_mut() {
                        if let RefOr::T(Schema::Object(object)) = variant {
                            object.additional_properties =
                                Some(Box::new(AdditionalProperties::FreeForm(false)));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A consistency token (R50): the epoch in hexadecimal and the revision.
pub const TOKEN_PATTERN: &str = "^[0-9a-f]{1,16}\\.[0-9]{1,19}$";

/// 400 for what the operation's shape lets be malformed, 413 and 500 everywhere.
fn declare_shared(op: &mut Operation, idempotent: bool) {
    let params = op.parameters.iter().flatten().filter_map(|p| match p {
        RefOr::T(p) => Some(&p.parameter_in),
        RefOr::Ref(_) => None,
    });
    let (mut path, mut query) = (false, false);
    for place in params {
        path |= *place == ParameterIn::Path;
        query |= *place == ParameterIn::Query;
    }
    let mut malformed = Vec::new();
    if op.request_body.is_some() {
        malformed.push("JSON body");
    }
    if query {
        malformed.push("query");
    }
    if idempotent {
        malformed.push("`Idempotency-Key`");
    }
    if path {
        malformed.push("path segment (not UTF-8)");
    }
    if let Some((last, rest)) = malformed.split_last() {
        let list = if rest.is_empty() {
            (*last).to_owned()
        } else {
            format!("{} or {last}", rest.join(", "))
        };
        declare(op, "400", &format!("malformed {list}"));
    }
    let limit = crate::routes::MAX_BODY_BYTES / (1024 * 1024);
    declare(op, "413", &format!("the request body is over the limit ({limit} MiB)"));
    declare(op, "500", "the server failed; the cause is in its log");
}

/// Declares a problem document answered with `status`, or adds `description` to the one
/// the annotation declared.
fn declare(op: &mut Operation, status: &str, description: &str) {
    match op.responses.responses.get_mut(status) {
        Some(RefOr::T(response)) if response.description.is_empty() => {
            response.description = description.to_owned();
        }
        Some(RefOr::T(response)) => {
            if !response.description.contains(description) {
                response.description = format!("{}; or {description}", response.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let problem =
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/problem+json", problem)
                .build();
            op.responses.responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}

/// A signed-in caller is needed; one whose password change is due (R14) is let in.
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfSession {
    /// not signed in, or the session or API key has ended or was revoked
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
}

/// A signed-in caller is needed, with no password change due (R14).
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfCaller {
    /// not signed in, or the session or API key has ended or was revoked
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// a password change is due first (R14)
    #[response(status = 403, content_type = "application/problem+json")]
    PasswordChangeRequired(Problem),
}

/// Reading something named in the path or query, which the caller must be allowed to see.
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfRead {
    /// not signed in, or the session or API key has ended or was revoked
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// a password change is due first (R14)
    #[response(status = 403, content_type = "application/problem+json")]
    PasswordChangeRequired(Problem),
    /// not found, or not visible to the caller (R58); the problem's `field` names which
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// A change the engine decides as the caller, under every rule.
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfWrite {
    /// not signed in, or the session or API key has ended or was revoked
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// refused by the rules (the problem's `rule` names the one), or a password change is due first (R14)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// not found, or not visible to the caller (R58); the problem's `field` names which
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// conflicts with the current state (the problem's `rule` names the one)
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// not valid: the problem's `field` names what
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// A mail is sent, within the limits per recipient and per source (R13).
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfMail {
    /// too many mails to this address or from this source for now (R13)
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u32, description = "seconds until a mail may be sent again")))]
    TooManyMails(Problem),
}

/// A password is hashed or verified, within the permits for that work (R15).
#[derive(Debug, IntoResponses)]
pub enum ErrorsOfHashing {
    /// too many sign-ins or password changes at once (R15)
    #[response(status = 503, content_type = "application/problem+json",
        headers(("Retry-After" = u32, description = "seconds to wait before trying again")))]
    Busy(Problem),
}

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
