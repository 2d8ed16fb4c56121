"""Encryption at rest of the CRM secrets (client secrets, refresh tokens).

Keys come from `settings.LB_ENCRYPTION_KEY`: one or more Fernet keys (urlsafe base64 of 32 bytes), comma
separated. The first encrypts; all decrypt, so a key can be rotated by putting the new one first and running
`manage.py crm_secrets_rotate`. When the setting is empty a key is derived from SECRET_KEY with HKDF:
acceptable for the demo only, and said once in the log when DEBUG is off.

Nothing here logs a plaintext or a ciphertext.
"""

from __future__ import annotations

import base64
import logging
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

_HKDF_INFO = b"ledgerbridge crm secrets v1"
_lock = threading.Lock()
_cache: dict[tuple[str, str], MultiFernet] = {}
_warned = False


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys (the key changed or the value is corrupt)."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ledgerbridge", info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def _fernet() -> MultiFernet:
    global _warned
    configured = (getattr(settings, "LB_ENCRYPTION_KEY", "") or "").strip()
    cache_key = (configured, settings.SECRET_KEY if not configured else "")
    with _lock:
        cached = _cache.get(cache_key)
        if cached is not None:
            return cached
        if configured:
            keys = []
            for position, raw in enumerate(k.strip() for k in configured.split(",")):
                if not raw:
                    continue
                try:
                    keys.append(Fernet(raw.encode()))
                except (ValueError, TypeError):
                    raise ImproperlyConfigured(
                        f"LB_ENCRYPTION_KEY: key #{position + 1} is not a Fernet key (urlsafe base64 of 32 bytes); "
                        "make one with `python -c 'from cryptography.fernet import Fernet; "
                        "print(Fernet.generate_key().decode())'`"
                    ) from None
            if not keys:
                raise ImproperlyConfigured("LB_ENCRYPTION_KEY: no key given (it is a comma-separated list)")
        else:
            if not settings.DEBUG and not _warned:
                logger.warning(
                    "LB_ENCRYPTION_KEY is not set: CRM secrets are encrypted with a key derived from SECRET_KEY. "
                    "Set LB_ENCRYPTION_KEY in production."
                )
                _warned = True
            keys = [Fernet(_derived_key(settings.SECRET_KEY))]
        fernet = MultiFernet(keys)
        _cache[cache_key] = fernet
        return fernet


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored CRM secret cannot be decrypted with LB_ENCRYPTION_KEY (was the key changed?)"
        ) from None


def rotate(ciphertext: str) -> str:
    """The same secret encrypted with the first (newest) key."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "a stored CRM secret cannot be decrypted with LB_ENCRYPTION_KEY (was the key changed?)"
        ) from None
