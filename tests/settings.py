"""Test settings: production settings with test secrets, a cheap Argon2 and no TLS redirect."""

import os
import tempfile

os.environ.setdefault("TROPA_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("TROPA_AUDIT_KEY", "test-audit-key-" + "y" * 40)
os.environ.setdefault("TROPA_BLIND_INDEX_KEY", "test-blind-index-key-" + "z" * 40)
os.environ.setdefault("TROPA_FIELD_KEYS", '{"1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}')
os.environ.setdefault("TROPA_DATA_DIR", tempfile.mkdtemp(prefix="tropa-test-"))
# The test client speaks HTTP; header tests turn the redirect back on themselves.
os.environ.setdefault("TROPA_SSL_REDIRECT", "0")

from tropa.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["tests.hashers.CheapArgon2PasswordHasher"]
# django-otp waits 1, 2, 4… s after each wrong code; the throttling test turns it on.
OTP_TOTP_THROTTLE_FACTOR = 0
# Serve static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
VAULT_KDF = "test"
HUEY = {"huey_class": "huey.MemoryHuey", "name": "tropa-test", "immediate": True}
