//! The OpenAPI 3.1 document (R57), generated from the handlers' annotations.

use crate::routes::{auth, checks, health, principals, tenants};
use axum::Json;
use utoipa::openapi::Required;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Deputy", description = "Delegated access for multi-tenant portals: who may manage whom, and may this principal do this here."),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::sign_in, auth::sign_out, auth::change_password, auth::accept_invitation,
        auth::forgot_password, auth::reset_password, auth::access_token, auth::jwks, principals::password_reset, principals::unlock,
        principals::me, principals::get_principal, principals::create_user, principals::invite,
        principals::create_api_key, principals::set_status, principals::cancel,
        principals::assign, principals::unassign,
        crate::routes::session::switch, crate::routes::session::impersonate,
        crate::routes::session::stop_impersonating,
        tenants::get_tenant,
        crate::routes::lists::tenant_principals, crate::routes::lists::tenant_children,
        crate::routes::lists::activity,
        crate::routes::manage::create_tenant, crate::routes::manage::create_customer,
        crate::routes::manage::create_sub_account, crate::routes::manage::create_parent_account,
        crate::routes::manage::set_entitlements, crate::routes::manage::set_suspended,
        crate::routes::manage::set_partner, crate::routes::manage::propose_grant,
        crate::routes::manage::approve_grant, crate::routes::manage::revoke_grant,
        crate::routes::manage::give_partner_role, crate::routes::manage::create_delegate,
        crate::routes::manage::set_delegate_access, crate::routes::manage::create_group,
        crate::routes::manage::place_in_group, crate::routes::manage::create_resource,
        crate::routes::manage::update_profile, crate::routes::manage::issue_access_code,
        crate::routes::manage::redeem_access_code,
        crate::routes::manage::update_tenant, crate::routes::manage::change_grant,
        crate::routes::manage::delete_group, crate::routes::manage::create_service_account,
        crate::routes::lists::tenant_grants, crate::routes::lists::delegates,
        crate::routes::reports::lookup_resources, crate::routes::reports::lookup_subjects,
        crate::routes::reports::what_if, crate::routes::reports::review_tenant,
        crate::routes::reports::review_principal, crate::routes::reports::catalog,
        crate::routes::reports::change_catalog, crate::routes::reports::list_api_keys,
        crate::routes::reports::revoke_api_key, crate::routes::reports::outbox,
        checks::check, checks::check_batch, checks::explain,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&Security),
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
        // R57: writes accept an Idempotency-Key (see crate::idempotency).
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.starts_with("/v1/auth/")
                || path.starts_with("/v1/session/")
                || path.ends_with("/api-keys")
            {
                continue;
            }
            for op in
                [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()]
                    .into_iter()
                    .flatten()
            {
                let parameter = ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some("Retrying with the same key answers the first request's answer instead of doing it again (kept 24 hours, per credential)."))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255))))
                    .build();
                op.parameters.get_or_insert_with(Vec::new).push(parameter.into());
            }
        }
    }
}

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
