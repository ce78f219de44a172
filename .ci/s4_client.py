"""Scenario S4 (legal-tech, SPEC §11) through the client openapi-python-client generated
from Deputy's own OpenAPI document (R57): typed requests and typed answers only, so an
operation, model or status the document gets wrong fails here.

Usage: python3 s4_client.py BASE_URL ADMIN_PASSWORD   (with deputy_client importable)
"""

import sys

from deputy_client import AuthenticatedClient, Client
from deputy_client.api.auth import accept_invitation, change_password, sign_in
from deputy_client.api.checks import check
from deputy_client.api.operations import outbox
from deputy_client.api.partners import give_partner_role, propose_grant, revoke_grant
from deputy_client.api.principals import create_user, get_principal
from deputy_client.api.resources import create_resource
from deputy_client.api.session import switch
from deputy_client.api.tenants import create_tenant, set_partner
from deputy_client.models import (
    CheckAnswer,
    CheckRequest,
    Created,
    Flag,
    GrantRequest,
    InvitationAccept,
    MailPage,
    NewTenantRequest,
    NewUserRequest,
    PartnerRoleGiven,
    PartnerRoleRequest,
    PasswordChange,
    PrincipalView,
    ResourceRequest,
    SessionCreated,
    SignIn,
    SwitchRequest,
    UserCreated,
)

BASE, FIRST_PASSWORD = sys.argv[1], sys.argv[2]
PASSWORD = "orbit velvet lantern quarry 42"
anonymous = Client(base_url=BASE, raise_on_unexpected_status=True)


def as_(token):
    return AuthenticatedClient(base_url=BASE, token=token, raise_on_unexpected_status=True)


def expect(response, status, model=None):
    """The answer has this status and, when given, parses as this model."""
    assert response.status_code == status, (response.status_code, response.content)
    if model is not None:
        assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    return response.parsed


def consistency_token(response):
    token = response.headers.get("consistency-token")
    assert token, f"a write answers a consistency token (R50): {response.headers}"
    return token


def invite_and_join(admin, tenant, logon, email):
    """Adds a user with an invitation (R12), reads the link from the outbox (R61), accepts."""
    body = NewUserRequest(logon=logon, first_name=logon, last_name="Example", email=email)
    expect(create_user.sync_detailed(tenant, client=admin, body=body), 201, UserCreated)
    mails = expect(outbox.sync_detailed(client=operator, limit=500), 200, MailPage)
    links = [
        line
        for mail in mails.items
        if mail.recipient == email
        for line in mail.body.splitlines()
        if "/invitation/" in line
    ]
    assert links, f"an invitation mail to {email}"
    token = links[-1].rsplit("/", 1)[-1].strip()
    accepted = accept_invitation.sync_detailed(
        client=anonymous, body=InvitationAccept(token=token, password=PASSWORD)
    )
    return as_(expect(accepted, 200, SessionCreated).token)


# The first admin signs in with the one-time password and must change it first (R14).
first = sign_in.sync_detailed(client=anonymous, body=SignIn(logon="admin", password=FIRST_PASSWORD))
first = expect(first, 200, SessionCreated)
assert first.must_change_password
changed = change_password.sync_detailed(
    client=as_(first.token),
    body=PasswordChange(current_password=FIRST_PASSWORD, new_password=PASSWORD),
)
operator = as_(expect(changed, 200, SessionCreated).token)

# A law firm and a legal-services provider, a partner.
for key, name in [("law-firm", "Smith & Partners LLP"), ("legal-services", "Legal Services Inc")]:
    made = create_tenant.sync_detailed("root", client=operator, body=NewTenantRequest(key=key, name=name))
    expect(made, 201, Created)
expect(set_partner.sync_detailed("legal-services", client=operator, body=Flag(value=True)), 204)
firm_admin = invite_and_join(operator, "law-firm", "firm-admin", "fiona@firm.example")
provider_admin = invite_and_join(operator, "legal-services", "provider-admin", "paul@legal.example")
invite_and_join(provider_admin, "legal-services", "ann", "ann@example.com")
# Ann once had a direct account in the firm, with the same verified e-mail.
invite_and_join(firm_admin, "law-firm", "ann.lee", "ann@example.com")
matter = ResourceRequest(key="matter-1042", name="Matter 1042", type_="matter")
expect(create_resource.sync_detailed("law-firm", client=firm_admin, body=matter), 201, Created)

# The firm grants the provider the ceiling {paralegal, viewer}.
terms = GrantRequest(partner="legal-services", ceiling=["paralegal", "viewer"])
grant = expect(propose_grant.sync_detailed("law-firm", client=firm_admin, body=terms), 201, Created).id

# The provider's admin gives Ann only `viewer` in the firm: her old account is replaced (R44).
given = give_partner_role.sync_detailed(
    "ann", client=provider_admin, body=PartnerRoleRequest(role="viewer", client="law-firm")
)
given = expect(given, 201, PartnerRoleGiven)
assert len(given.replaced) == 1, given
old = expect(get_principal.sync_detailed("ann.lee", client=firm_admin), 200, PrincipalView)
assert old.status == "deactivated", old.status

# Ann switches tenant (R43); she can view the matter but not edit it.
ann = expect(sign_in.sync_detailed(client=anonymous, body=SignIn(logon="ann", password=PASSWORD)), 200, SessionCreated)
switched = switch.sync_detailed(client=as_(ann.token), body=SwitchRequest(tenant="law-firm"))
expect(switched, 200, SessionCreated)


def may(permission, **extra):
    body = CheckRequest(principal="ann", permission=permission, target="resource:matter-1042", **extra)
    return expect(check.sync_detailed(client=firm_admin, body=body), 200, CheckAnswer).allowed


assert may("matters.view", switched_into="law-firm")
assert not may("matters.edit", switched_into="law-firm")
# A portal's back end asks without a session: the partner path counts (R51).
assert may("matters.view")

# The firm revokes the grant: Ann's next check with the revocation's token is denied (R50).
revoked = revoke_grant.sync_detailed(grant, client=firm_admin)
expect(revoked, 204)
token = consistency_token(revoked)
assert not may("matters.view", switched_into="law-firm", consistency_token=token)
assert not may("matters.view", consistency_token=token)
print("s4_client.py: scenario S4 passed through the generated client")
