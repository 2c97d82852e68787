#!/usr/bin/env python3
"""Prints the current one-time code (RFC 6238: HMAC-SHA-1, 6 digits, 30 s) of a base32 secret.

For the demo's admin account (scripts/demo.sh); a real admin uses an authenticator app with the
otpauth:// URI that `isms user totp NAME` prints.
Usage: scripts/totp.py SECRET
"""
import base64
import hashlib
import hmac
import struct
import sys
import time


def code(secret: str, at: float) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1000000:06d}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: totp.py BASE32_SECRET")
    print(code(sys.argv[1], time.time()))
