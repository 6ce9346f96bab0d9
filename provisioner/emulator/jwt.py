"""RS256 JSON Web Tokens (RFC 7515/7519), signed and checked with `cryptography`, which the
emulator already has for its TLS certificates (trustme). Only what Entra ID's tokens use."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class InvalidToken(Exception):
    """Not a JWT, an unknown key, or a signature that does not verify."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """An RSA key with its key id (the JWK thumbprint, as Entra's `kid` values are opaque strings)."""

    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem: str) -> "SigningKey":
        # Our own key, checked when it was made: skipping the (slow) validation saves ~60 ms per start.
        key = serialization.load_pem_private_key(pem.encode(), None, unsafe_skip_rsa_key_validation=True)
        return cls(key)

    def pem(self) -> str:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode()

    @property
    def kid(self) -> str:
        numbers = self.private.public_key().public_numbers()
        canonical = json.dumps({"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)},
                               separators=(",", ":"), sort_keys=True)
        return b64url(hashlib.sha256(canonical.encode()).digest())[:27]

    def jwk(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _int_b64(numbers.n),
                "e": _int_b64(numbers.e)}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid}
        signing_input = f"{b64url(_json(header))}.{b64url(_json(claims))}"
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


def public_key(jwk: dict) -> rsa.RSAPublicKey:
    """The RSA public key of a JWK (as in a JWKS document)."""
    try:
        e = int.from_bytes(unb64url(jwk["e"]), "big")
        n = int.from_bytes(unb64url(jwk["n"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidToken(f"not an RSA JSON web key ({error})") from None


def unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of a compact JWS, without checking its signature."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JSON web token")
    try:
        header, claims = json.loads(unb64url(parts[0])), json.loads(unb64url(parts[1]))
    except ValueError:
        raise InvalidToken("not a JSON web token") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("not a JSON web token")
    return header, claims


def verify(token: str, keys: dict[str, rsa.RSAPublicKey]) -> dict:
    """The claims of `token` if it is RS256-signed by one of `keys` (by kid); else InvalidToken."""
    header, claims = unverified(token)
    if header.get("alg") != "RS256":  # never "none", never HMAC with a public key
        raise InvalidToken(f"signing algorithm {header.get('alg')!r} is not RS256")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise InvalidToken("signed with an unknown key")
    signing_input, _, signature = token.rpartition(".")
    try:
        key.verify(unb64url(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise InvalidToken("the signature does not verify") from None
    return claims


def _json(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
