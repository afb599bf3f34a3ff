#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent reference for the tlog module's own fixtures (vectors.json).

Written straight from the texts (RFC 9162 §2.1 MTH/PATH/PROOF, C2SP
signed-note, tlog-checkpoint, tlog-cosignature, docs/LEDGER.md for the leaf
entry and record encodings) with Python's hashlib and the `cryptography`
package, without looking at the C code paths. Run once:

    python3 tests/data/tlog/gen_vectors.py > tests/data/tlog/vectors.json

tests/unit/tlog/test_fixtures.c checks that the C code produces the same
bytes (hashes, proofs, entry encoding, CRC-32C, keys, signed notes,
cosignatures: Ed25519 is deterministic).
"""
import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def h(b):
    return hashlib.sha256(b).digest()


def leaf_hash(d):
    return h(b"\x00" + d)


def node_hash(l, r):
    return h(b"\x01" + l + r)


def k_of(n):  # largest power of two < n
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return h(b"")
    if len(d) == 1:
        return leaf_hash(d[0])
    k = k_of(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def b64(b):
    return base64.b64encode(b).decode()


def key_id(name, typ, pub):
    return h(name.encode() + b"\n" + bytes([typ]) + pub)[:4]


def keys(name, typ, seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    kid = key_id(name, typ, pub)
    return sk, pub, kid, {
        "name": name, "type": typ, "seed_hex": seed.hex(),
        "key_id": kid.hex(),
        "skey": "PRIVATE+KEY+%s+%s+%s" % (name, kid.hex(), b64(bytes([typ]) + seed)),
        "vkey": "%s+%s+%s" % (name, kid.hex(), b64(bytes([typ]) + pub)),
    }


def main():
    n = 33
    data = [bytes(((i * 13 + k * 7 + 1) & 0xFF) for k in range(i % 9 + 1))
            for i in range(n)]
    out = {
        "leaves_hex": [d.hex() for d in data],
        "leaf_hashes": [leaf_hash(d).hex() for d in data],
        "roots": [mth(data[:s]).hex() for s in range(n + 1)],
        "inclusion": [], "consistency": [],
    }
    for s in (1, 2, 3, 5, 8, 13, 21, 32, 33):
        for i in sorted({0, s // 2, s - 1}):
            out["inclusion"].append({"index": i, "size": s,
                                     "proof": [x.hex() for x in path(i, data[:s])]})
    for s2 in (1, 7, 16, 31, 33):
        for s1 in sorted({1, s2 // 3 or 1, s2 // 2 or 1, s2 - 1 or 1, s2}):
            out["consistency"].append({"size1": s1, "size2": s2,
                                       "proof": [x.hex() for x in subproof(s1, data[:s2], True)]})
    # Leaf entry v1 (docs/LEDGER.md): version, action, u64 seq, i64 t_us,
    # u64 version (big-endian), then u8-length actor, type, id, commitment.
    ct = b"\x00ciphertext of one record version\xff"
    commit = h(b"medverse/tlog/record/v1\x00" + ct)
    actor, typ, rid = b"Practitioner/7f1c2d", b"Observation", b"0b6e4d1a-9c1e-4f2a-8d3b-2a1f0e9d8c7b"
    enc = (bytes([1, 2]) + struct.pack(">QqQ", 41, 1700000000123456, 3)
           + bytes([len(actor)]) + actor + bytes([len(typ)]) + typ
           + bytes([len(rid)]) + rid + commit)
    out["entry"] = {"seq": 41, "t_us": 1700000000123456, "action": "update",
                    "actor": actor.decode(), "type": typ.decode(), "id": rid.decode(),
                    "version": 3, "ciphertext_hex": ct.hex(),
                    "commitment": commit.hex(), "encoding_hex": enc.hex()}
    # Record framing in leaves.dat: u32le (0x4c << 24 | len), u64le index,
    # data, u32le CRC-32C of all that.
    rec = struct.pack("<IQ", 0x4C << 24 | len(enc), 41) + enc
    out["record_hex"] = (rec + struct.pack("<I", crc32c(rec))).hex()
    out["crc32c"] = [{"hex": b"123456789".hex(), "crc": crc32c(b"123456789")},
                     {"hex": "", "crc": crc32c(b"")},
                     {"hex": bytes(range(200)).hex(), "crc": crc32c(bytes(range(200)))}]
    # Keys, a signed checkpoint and a cosignature (deterministic Ed25519).
    lsk, lpub, lkid, lk = keys("medverse.test/log", 1, bytes(range(1, 33)))
    wsk, wpub, wkid, wk = keys("witness.test/w1", 4, bytes(range(101, 133)))
    body = ("medverse.test/log\n%d\n%s\n" % (n, b64(mth(data)))).encode()
    sig = lsk.sign(body)
    note = body + b"\n" + "\u2014 ".encode() + b"medverse.test/log " + \
        b64(lkid + sig).encode() + b"\n"
    t = 1700000000
    csig = wsk.sign(b"cosignature/v1\ntime %d\n" % t + body)
    cline = "\u2014 ".encode() + b"witness.test/w1 " + \
        b64(wkid + struct.pack(">Q", t) + csig).encode() + b"\n"
    out["log_key"] = lk
    out["witness_key"] = wk
    out["checkpoint_note"] = note.decode()
    out["cosig_time"] = t
    out["cosig_line"] = cline.decode()
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
