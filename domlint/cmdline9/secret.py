"""Secrets as libvirt 9.0 hands them to QEMU: AES-256-CBC encrypted with the domain's master key.

libvirt writes a 32-byte master key to the domain's `master-key.aes` (the
`masterKey0` object) and passes every other secret (disk passwords, LUKS
passphrases, TLS key passwords, HTTP cookies) as a `secret` object whose data
is encrypted with that key and a fresh random IV. The random bytes come from
the host: a profile with `randomness: counting` (libvirt's test mock) hands out
0, 1, 2, ... for every request; any other host draws real random bytes.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from ..cmdline.context import Ctx
from ..errors import HostFactMissing, InputError
from .props import Props

MASTER_KEY_ALIAS = "masterKey0"
_MASTER_KEY_LEN = 32
_IV_LEN = 16


def random_bytes(ctx: Ctx, count: int) -> bytes:
    """count random bytes as the host's random source gives them."""
    if ctx.host.raw.get("randomness") == "counting":
        return bytes(i & 0xFF for i in range(count))
    return os.urandom(count)


def master_key(ctx: Ctx) -> bytes:
    """The domain's master key, drawn once per emission."""
    key = ctx.state.get("secret.master_key")
    if key is None:
        key = ctx.state["secret.master_key"] = random_bytes(ctx, _MASTER_KEY_LEN)
    return key


def alias_for(parent: str, use: str | None = None) -> str:
    """A secret object's id: PARENT-USE-secret0, or PARENT-secret0 (qemuAliasForSecret)."""
    return f"{parent}-{use}-secret0" if use else f"{parent}-secret0"


def secret_props(ctx: Ctx, alias: str, plaintext: bytes) -> Props:
    """The -object secret properties carrying plaintext encrypted under the master key."""
    iv = random_bytes(ctx, _IV_LEN)
    data = _aes256_cbc_encrypt(master_key(ctx), iv, plaintext)
    return {"qom-type": "secret", "id": alias, "data": base64.b64encode(data).decode(),
            "keyid": MASTER_KEY_ALIAS, "iv": base64.b64encode(iv).decode(), "format": "base64"}


def lookup(ctx: Ctx, usage_type: str, uuid: str | None, usage: str | None, line: int | None = None) -> bytes:
    """The value of a host secret, found by UUID or by usage id (InputError when the host has none).

    The host profile's `secrets` entries match by `uuid` (`"*"`: any UUID), by
    `usage`, or by `usage_prefix` for volume secrets.
    """
    what = f"uuid '{uuid}'" if uuid else f"usage '{usage}'"
    secrets = ctx.host.raw.get("secrets")
    for entry in secrets or ():
        if _matches(entry, usage_type, uuid, usage):
            value = entry.get("value")
            if value is None:
                raise HostFactMissing(ctx.path, line, f"the command line carries the value of {usage_type} secret "
                                      f"{what} (encrypted), which the host profile does not give", "secrets")
            return str(value).encode()
    if secrets is None:
        raise HostFactMissing(ctx.path, line, f"the command line carries the value of {usage_type} secret {what} "
                              "(encrypted), which only the host's secret driver knows", "secrets")
    raise InputError(ctx.path, line, f"the host has no {usage_type} secret with {what}")


def _matches(entry: dict[str, Any], usage_type: str, uuid: str | None, usage: str | None) -> bool:
    if uuid:
        want = entry.get("uuid")
        return want is not None and (want == "*" or _same_uuid(str(want), uuid))
    if usage is None:
        return False
    if entry.get("usage") == usage:
        return True
    prefix = entry.get("usage_prefix")
    return usage_type == "volume" and prefix is not None and usage.startswith(str(prefix))


def _same_uuid(a: str, b: str) -> bool:
    # libvirt reads a UUID with or without dashes, in either case.
    return a.lower().replace("-", "") == b.lower().replace("-", "")


# --- AES-256 (FIPS-197), encryption only, in CBC mode with PKCS#7 padding ---------------------

def _xtime(a: int) -> int:
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _gmul(a: int, b: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        a = _xtime(a)
        b >>= 1
    return out


def _make_sbox() -> tuple[int, ...]:
    inverse = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _gmul(a, b) == 1:
                inverse[a] = b
                break
    box = []
    for a in range(256):
        x = inverse[a]
        s = x
        for shift in range(1, 5):
            s ^= ((x << shift) | (x >> (8 - shift))) & 0xFF
        box.append(s ^ 0x63)
    return tuple(box)


_SBOX = _make_sbox()


def _expand_key(key: bytes) -> list[list[int]]:
    words = [list(key[i:i + 4]) for i in range(0, 32, 4)]
    rcon = 1
    for i in range(8, 60):
        temp = list(words[i - 1])
        if i % 8 == 0:
            temp = [_SBOX[b] for b in temp[1:] + temp[:1]]
            temp[0] ^= rcon
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            temp = [_SBOX[b] for b in temp]
        words.append([w ^ t for w, t in zip(words[i - 8], temp, strict=True)])
    return [[b for w in words[r * 4:r * 4 + 4] for b in w] for r in range(15)]


def _encrypt_block(round_keys: list[list[int]], block: bytes) -> bytes:
    state = [b ^ k for b, k in zip(block, round_keys[0], strict=True)]
    for rnd in range(1, 15):
        state = [_SBOX[b] for b in state]
        # ShiftRows: column-major state, row r rotates left by r.
        state = [state[(c * 4 + r + 4 * r) % 16] for c in range(4) for r in range(4)]
        if rnd != 14:
            mixed = []
            for c in range(4):
                a = state[c * 4:c * 4 + 4]
                mixed += [_gmul(a[0], 2) ^ _gmul(a[1], 3) ^ a[2] ^ a[3],
                          a[0] ^ _gmul(a[1], 2) ^ _gmul(a[2], 3) ^ a[3],
                          a[0] ^ a[1] ^ _gmul(a[2], 2) ^ _gmul(a[3], 3),
                          _gmul(a[0], 3) ^ a[1] ^ a[2] ^ _gmul(a[3], 2)]
            state = mixed
        state = [b ^ k for b, k in zip(state, round_keys[rnd], strict=True)]
    return bytes(state)


def _aes256_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    pad = 16 - len(plaintext) % 16
    data = plaintext + bytes([pad]) * pad
    round_keys = _expand_key(key)
    out = bytearray()
    prev = iv
    for i in range(0, len(data), 16):
        prev = _encrypt_block(round_keys, bytes(a ^ b for a, b in zip(data[i:i + 16], prev, strict=True)))
        out += prev
    return bytes(out)
