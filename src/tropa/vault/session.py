"""Unlocked private keys never rest on the server.

At the password step the staff private key is opened once and re-encrypted
under a fresh random session key. The server session keeps only that
ciphertext; the session key goes to the browser in an HttpOnly cookie. Each
request joins the two halves in memory. Logout, expiry and revocation delete
the server half, which makes the cookie worthless.
"""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tropa.accounts.models import Staff
from tropa.vault import crypto
from tropa.vault import services as vault

SESSION_BLOB = "tropa.vault.blob"


def _binding(staff_id: int) -> str:
    return f"staff:{staff_id}"


def vault_session_begin(
    *, request: HttpRequest, response: HttpResponse, staff: Staff, password: str
) -> None:
    """Open the private key with the password and split it between session and cookie."""
    try:
        keychain = vault.keychain_unlock(staff=staff, password=password)
    except crypto.MissingWrap:
        return  # an account without a key pair can sign in but open nothing
    session_key = crypto.session_key_generate()
    blob = crypto.session_protect(session_key, keychain.private_key, session_id=_binding(staff.pk))
    request.session[SESSION_BLOB] = base64.b64encode(blob).decode()
    response.set_cookie(
        settings.VAULT_COOKIE_NAME,
        base64.urlsafe_b64encode(session_key).decode(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
        path="/",
    )


def vault_session_end(response: HttpResponse) -> None:
    response.delete_cookie(settings.VAULT_COOKIE_NAME, path="/", samesite="Strict")


def keychain_for(request: HttpRequest) -> vault.Keychain | None:
    """The signed-in person's keychain for this request, or None if it cannot be opened."""
    cached = getattr(request, "_tropa_keychain", None)
    if cached is not None:
        return cached
    user = request.user
    cookie = request.COOKIES.get(settings.VAULT_COOKIE_NAME)
    blob = request.session.get(SESSION_BLOB)
    if not (user.is_authenticated and cookie and blob):
        return None
    try:
        private = crypto.session_unprotect(
            base64.urlsafe_b64decode(cookie),
            base64.b64decode(blob),
            session_id=_binding(user.pk),
        )
    except (crypto.VaultError, binascii.Error, ValueError):
        return None
    keychain = vault.keychain_from_private(staff_id=user.pk, private_key=private)
    request._tropa_keychain = keychain  # type: ignore[attr-defined]
    return keychain
