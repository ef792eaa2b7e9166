"""Invitation tokens: the URL carries the token, the database only its digest and a sealed copy.

A token is 192 random bits (`secrets.token_urlsafe(24)`). The invitation's `_id` is the token's SHA-256:
the respondent's link is looked up by hashing the presented token (one find by `_id`, as before), and a
database backup gives no link to answer with. No salt or HMAC key is needed for the digest: a salt defeats
precomputed tables and guessing of low-entropy secrets such as passwords, and 2^192 equally likely tokens
leave nothing to precompute or guess; a keyed digest would add only a key to lose for the hot path.

The office still reprints an enterprise's link (the invitation list, the QR PDF and codes, the console), so
each invitation also keeps its token sealed with AES-256-GCM under a key that is not in the database:
`MANYI_TOKEN_KEY` (`make up` generates one into var/token.key), else one derived from `MANYI_ADMIN_KEY`.
The invitation's `_id` is the associated data, so a sealed copy moved onto another invitation does not open.
Rotation: `MANYI_TOKEN_KEY=new,old` seals with the first and opens with any (the admin key's too, so copies
sealed before a token key was set still open). With no key at all, links are shown when issued only, and
asking again re-issues a link that cannot be shown (the old one ends).
"""
import base64
import functools
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def new_token():
    return secrets.token_urlsafe(24)


def invitation_id(token):
    """The stored key of the invitation whose link carries `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aead(secret):
    # The secret may be any string (a generated key, or the admin key): HMAC makes it a 256-bit AES key of
    # its own, distinct from every other use of the same secret.
    return AESGCM(hmac.new(secret.encode(), b"manyi invitation tokens v1", hashlib.sha256).digest())


class TokenSeal:
    """Seals invitation tokens with AES-256-GCM under the first secret; opens with any of them."""

    def __init__(self, *secrets_):
        self._keys = [_aead(s) for s in secrets_]

    def seal(self, token, inv_id):
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._keys[0].encrypt(nonce, token.encode(), inv_id.encode())).decode()

    def open(self, sealed, inv_id):
        """The token, or None when `sealed` is missing or was sealed under another key or invitation."""
        if not sealed:
            return None
        try:
            raw = base64.b64decode(sealed)
        except ValueError:
            return None
        for key in self._keys:
            try:
                token = key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], inv_id.encode()).decode()
            except (InvalidTag, ValueError):
                continue
            return token if invitation_id(token) == inv_id else None
        return None


def seal_of(config):
    """The configured TokenSeal, or None (links then shown when issued only)."""
    return _seal(config.token_key, config.admin_key)


@functools.lru_cache(maxsize=8)
def _seal(token_key, admin_key):
    secrets_ = [k for k in (token_key or "").split(",") if k] + ([admin_key] if admin_key else [])
    return TokenSeal(*secrets_) if secrets_ else None
