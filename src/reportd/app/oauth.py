"""OAuth 2.0 client credentials (RFC 6749 section 4.4), refresh tokens, and token sign-in.

Why here and not in the token routes: four doors hand out tokens (``/oauth/token``, getbill's
``/token``, PingOne's ``/{envID}/as/token``, Spectra's ``/api-token-auth/``) and every door
accepts them; the rules (client authentication, scope narrowing, lifetimes, revocation) are
written once. The routes only parse the form and render RFC 6749's bodies.

A token names its holder and that holder's ``version``; each use reads the holder's row, so a
revoked client or a disabled user (both bump the version) is refused at once, everywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from reportd.app.ports import ClientRepository, UserRepository
from reportd.app.tokens import TokenSigner
from reportd.domain.credentials import Holder, OAuthClient, TokenClaims, User
from reportd.domain.errors import AuthenticationFailed, OAuthError, ValidationError
from reportd.domain.models import Principal, Scope, Tenant

__all__ = [
    "CreatedClient",
    "OAuthService",
    "TokenGrant",
    "TokenPolicy",
    "check_scopes",
]

CLIENT_PREFIX: Final = "rc_"
SECRET_PREFIX: Final = "rcs_"  # noqa: S105 - a prefix, not a secret
GRANT_CLIENT_CREDENTIALS: Final = "client_credentials"
GRANT_REFRESH: Final = "refresh_token"


class TenantLookup(Protocol):
    def get_tenant(self, tenant_id: str) -> Tenant: ...


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """Lifetimes in seconds (``[oauth]``): getbill's documented hour for access tokens."""

    access_ttl: int = 3600
    refresh_ttl: int = 30 * 86_400
    user_ttl: int = 3600


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """RFC 6749 section 5.1's successful response."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105


@dataclass(frozen=True, slots=True)
class CreatedClient:
    client: OAuthClient
    secret: str


def hash_secret(secret: str) -> str:
    """Client secrets are 256 random bits: a plain SHA-256 is enough (no password to guess)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    known = {s.value for s in Scope}
    wanted = frozenset(scopes)
    unknown = sorted(wanted - known)
    if unknown:
        raise ValidationError(f"unknown scopes {unknown}; known: {sorted(known)}")
    return wanted


def _narrow(granted: frozenset[str], asked: str | None) -> frozenset[str]:
    """The scopes a token gets: all of the holder's, or the asked ones if it holds them all."""
    if asked is None or not asked.strip():
        return granted
    wanted = frozenset(asked.split())
    allowed = granted if Scope.ADMIN not in granted else {s.value for s in Scope}
    if not wanted <= allowed:
        extra = " ".join(sorted(wanted - allowed))
        raise OAuthError("invalid_scope", f"the client may not ask for: {extra}")
    return wanted


def _invalid_client(message: str = "client authentication failed") -> OAuthError:
    return OAuthError("invalid_client", message, status=401)


class OAuthService:
    def __init__(
        self,
        *,
        clients: ClientRepository,
        users: UserRepository,
        tenants: TenantLookup,
        signer: TokenSigner,
        policy: TokenPolicy | None = None,
    ) -> None:
        self.clients = clients
        self.users = users
        self.tenants = tenants
        self.signer = signer
        self.policy = policy or TokenPolicy()

    # -- clients ---------------------------------------------------------------------------

    def create_client(self, tenant_id: str, name: str, scopes: Iterable[str]) -> CreatedClient:
        wanted = check_scopes(scopes)
        if not name or len(name) > 200:
            raise ValidationError("a client name is 1 to 200 characters")
        self.tenants.get_tenant(tenant_id)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        client = OAuthClient(
            id=CLIENT_PREFIX + secrets.token_urlsafe(16),
            tenant_id=tenant_id,
            name=name,
            scopes=wanted,
            secret_hash=hash_secret(secret),
        )
        return CreatedClient(client=self.clients.create_client(client), secret=secret)

    def revoke_client(self, client_id: str, tenant_id: str | None = None) -> None:
        self.clients.revoke_client(client_id, tenant_id)

    # -- the token endpoint ----------------------------------------------------------------

    def grant(
        self,
        form: Mapping[str, str],
        basic: tuple[str, str] | None,
        *,
        tenant_id: str | None = None,
        with_refresh: bool = False,
    ) -> TokenGrant:
        """Answer a token request; ``tenant_id``: the door names a tenant (PingOne's envID).

        ``with_refresh``: the door's vendor documents refresh tokens (getbill), so a client
        credentials grant also returns one (RFC 6749 4.4.3 leaves that to the server).
        """
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in (GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH):
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not served")
        client = self._client(form, basic, tenant_id)
        if grant_type == GRANT_REFRESH:
            return self._refresh(client, form, with_refresh=True)
        scopes = _narrow(client.scopes, form.get("scope"))
        return self._grant(client, scopes, with_refresh=with_refresh)

    def _client(
        self, form: Mapping[str, str], basic: tuple[str, str] | None, tenant_id: str | None
    ) -> OAuthClient:
        """RFC 6749 2.3.1: HTTP Basic or the body's client_id/client_secret, never both."""
        in_body = "client_secret" in form
        if basic is not None and in_body:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        client_id, secret = (
            basic
            if basic is not None
            else (form.get("client_id", ""), form.get("client_secret", ""))
        )
        if not client_id or not secret:
            raise _invalid_client("client_id and client_secret are required")
        found = self.clients.find_client(client_id)
        if found is None:
            raise _invalid_client()
        client, tenant = found
        if client.revoked_at is not None:
            raise _invalid_client()
        if not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
            raise _invalid_client()
        if tenant_id is not None and tenant.id != tenant_id:
            raise _invalid_client("the client is not of this environment")
        return client

    def _grant(
        self, client: OAuthClient, scopes: frozenset[str], *, with_refresh: bool
    ) -> TokenGrant:
        def sign(ttl: int, refresh: bool) -> str:
            return self.signer.issue(
                holder=Holder.CLIENT,
                subject=client.id,
                tenant_id=client.tenant_id,
                scopes=scopes,
                version=client.version,
                ttl=ttl,
                refresh=refresh,
            )

        access = sign(self.policy.access_ttl, False)
        refresh = sign(self.policy.refresh_ttl, True) if with_refresh else None
        return TokenGrant(
            access_token=access,
            expires_in=self.policy.access_ttl,
            scope=" ".join(sorted(scopes)),
            refresh_token=refresh,
        )

    def _refresh(
        self, client: OAuthClient, form: Mapping[str, str], *, with_refresh: bool
    ) -> TokenGrant:
        claims = self.signer.verify(form.get("refresh_token", ""))
        if (
            claims is None
            or not claims.refresh
            or claims.holder is not Holder.CLIENT
            or claims.subject != client.id
            or claims.version != client.version
        ):
            raise OAuthError("invalid_grant", "the refresh token is not valid")
        scopes = _narrow(claims.scopes & client.scopes, form.get("scope"))
        return self._grant(client, scopes, with_refresh=with_refresh)

    # -- tokens in use ---------------------------------------------------------------------

    def user_token(self, user: User) -> str:
        """An access token for a signed-in user (``reportd.app.users``)."""
        return self.signer.issue(
            holder=Holder.USER,
            subject=user.id,
            tenant_id=user.tenant_id,
            scopes=user.scopes,
            version=user.version,
            ttl=self.policy.user_ttl,
        )

    def authenticate(self, token: str) -> Principal:
        """The caller a live access token stands for; AuthenticationFailed otherwise."""
        claims = self.signer.verify(token)
        if claims is None or claims.refresh:
            raise AuthenticationFailed("the access token is not valid or has expired")
        holder = self._holder(claims)
        if holder is None:
            raise AuthenticationFailed("the access token has been revoked")
        name, scopes, tenant = holder
        return Principal(
            tenant=tenant, key_id=claims.subject, name=name, scopes=claims.scopes & scopes
        )

    def _holder(self, claims: TokenClaims) -> tuple[str, frozenset[str], Tenant] | None:
        """(name, current scopes, tenant) of a holder whose row still matches the token."""
        if claims.holder is Holder.CLIENT:
            found_client = self.clients.find_client(claims.subject)
            if found_client is None:
                return None
            client, tenant = found_client
            live = client.revoked_at is None and client.version == claims.version
            return (client.name, client.scopes, tenant) if live else None
        found_user = self.users.find_user(user_id=claims.subject)
        if found_user is None:
            return None
        user, tenant = found_user
        live = user.disabled_at is None and user.version == claims.version
        live = live and tenant.id == claims.tenant_id
        return (user.username, user.scopes, tenant) if live else None
