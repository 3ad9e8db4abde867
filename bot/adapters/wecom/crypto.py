"""WeCom callback crypto (WXBizMsgCrypt): SHA1 message signatures and AES-256-CBC bodies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from enum import IntEnum

ENCODING_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
PAD_BLOCK = 32  # WeCom pads PKCS#7 to 32 bytes, not AES's 16
RANDOM_BYTES = 16


class CryptoCode(IntEnum):
    """The official sample library's error codes, kept so logs match WeCom's documentation."""

    SIGNATURE = -40001
    ILLEGAL_AES_KEY = -40004
    RECEIVE_ID = -40005
    DECRYPT = -40007
    BASE64 = -40010


class CryptoError(Exception):
    """A callback that does not verify or decrypt; `code` is WeCom's error code."""

    def __init__(self, code: CryptoCode, reason: str) -> None:
        super().__init__(f"{reason} ({int(code)})")
        self.code = code


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """msg_signature: SHA1 hex of the four strings sorted and concatenated."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypt))).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey; ValueError if malformed."""
    if not ENCODING_AES_KEY.fullmatch(encoding_aes_key):
        raise ValueError("an EncodingAESKey is 43 letters, digits, + or /")
    return base64.b64decode(encoding_aes_key + "=")


class MessageCrypto:
    """Verifies and decrypts what WeCom posts to a callback URL (apps and smart robots)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        try:
            self._key = aes_key(encoding_aes_key)
        except ValueError as exc:
            raise CryptoError(CryptoCode.ILLEGAL_AES_KEY, str(exc)) from exc
        self.receive_id = receive_id.encode()

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Raise CryptoError unless `msg_signature` signs these values with our token."""
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise CryptoError(CryptoCode.SIGNATURE, "the message signature does not match")

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside `encrypt`; CryptoError if it is garbled or for someone else."""
        try:
            sealed = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError(CryptoCode.BASE64, "the body is not base64") from exc
        if not sealed or len(sealed) % 16:
            raise CryptoError(CryptoCode.DECRYPT, "the body is not whole AES blocks")
        # Imported here: only bots receiving WeCom callbacks need the library.
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError(CryptoCode.DECRYPT, "bad padding: wrong key or tampered body")
        content = plain[RANDOM_BYTES:-pad]
        if len(content) < 4:
            raise CryptoError(CryptoCode.DECRYPT, "the body is too short")
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise CryptoError(CryptoCode.DECRYPT, "the stated length overruns the body")
        message, receive_id = content[4 : 4 + length], content[4 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id):
            raise CryptoError(CryptoCode.RECEIVE_ID, "the body is addressed to another receiver")
        return message

    def decrypt_media(self, sealed: bytes) -> bytes:
        """A media file a smart robot's message links to: AES-256-CBC with the callback's key
        (IV its first 16 bytes), PKCS#7-padded to 32 bytes; CryptoError if it is garbled."""
        if not sealed or len(sealed) % 16:
            raise CryptoError(CryptoCode.DECRYPT, "the file is not whole AES blocks")
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError(CryptoCode.DECRYPT, "bad padding: wrong key or tampered file")
        return plain[:-pad]

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Verify the signature first, then decrypt."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)
