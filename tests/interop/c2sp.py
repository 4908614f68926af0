#!/usr/bin/env python3
"""c2sp.py - an independent implementation of the published formats of a
witnessed log, written from the specifications alone (it shares no code with
lib/tlog.c or lib/note.c): RFC 9162 section 2.1 (Merkle tree hashes,
inclusion and consistency proofs), c2sp.org/signed-note (Ed25519 notes, key
ids, verifier keys), c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature
(cosignature/v1), c2sp.org/tlog-proof and the add-checkpoint request body of
c2sp.org/tlog-witness. Python 3 with PyNaCl and hashlib only.

Commands (exit status 0: valid, 1: invalid, 2: usage):

  c2sp.py check-checkpoint --log-vkey V [--witness-vkey W]... [--quorum K] FILE
  c2sp.py check-proof --log-vkey V [--witness-vkey W]... (--leaf-hex HEX |
          --leaf-hash-hex HEX) FILE
  c2sp.py check-consistency --log-vkey V [--witness-vkey W]... (--old FILE |
          --old-root-hex HEX) FILE
  c2sp.py emit --n N --log-seed HEX --wit-seed HEX --wit2-seed HEX
          --origin O --wit-name W --wit2-name W --time T DIR
  c2sp.py check-dir --n N --log-vkey V --witness-vkey W... DIR

A vkey argument is the key text or a file holding it. check-proof's FILE is a
tlog-proof file; check-consistency's FILE is an add-checkpoint body (old size,
consistency proof, signed checkpoint) and --old the signed checkpoint of the
old size. Every witness given must have cosigned, unless --quorum K asks for
K of them. emit writes, for a tree of N synthetic leaves (leaf i is 0x00 ||
SHA-256("interop leaf <i>")): the vkeys, the signed and cosigned checkpoint
of each size in the test's set, tlog-proof files for some indices, and
add-checkpoint bodies from some old sizes; check-dir checks such a directory
and that each file is byte for byte what this implementation makes.
"""

import base64
import functools
import hashlib
import os
import struct
import sys

import nacl.exceptions
import nacl.signing

EMDASH = "\u2014"
SIG_ED25519 = 0x01
SIG_COSIG_V1 = 0x04
MAX_SIGS = 64
MAX_NOTE = 16384
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class Invalid(Exception):
    """What a file or key gets wrong, in words."""


def sha256(b):
    return hashlib.sha256(b).digest()


# ---- RFC 9162 2.1 ----


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split_point(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """A tree over a list of leaf hashes, by the recursive definitions."""

    def __init__(self, leaves):
        self.leaves = leaves

    @functools.lru_cache(maxsize=None)
    def mth(self, lo, hi):
        n = hi - lo
        if n == 0:
            return sha256(b"")
        if n == 1:
            return self.leaves[lo]
        k = split_point(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def root(self, n):
        return self.mth(0, n)

    def path(self, m, lo, hi):
        """PATH(m, D[lo:hi]), m relative to lo."""
        n = hi - lo
        if n <= 1:
            return []
        k = split_point(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def inclusion(self, index, n):
        return self.path(index, 0, n)

    def subproof(self, m, lo, hi, b):
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = split_point(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def consistency(self, m, n):
        if m == 0 or m == n:
            return []
        return self.subproof(m, 0, n, True)


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 2.1.4.2, with the trivial cases of tlog-witness (old 0: an
    empty proof; equal sizes: an empty proof and equal roots)."""
    if first > second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---- c2sp.org/signed-note ----


def b64decode(s, what):
    """Standard base64 with padding, canonical (re-encodes to itself)."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as e:
        raise Invalid(f"{what}: not base64 ({e})") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise Invalid(f"{what}: not canonical base64")
    return raw


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def valid_name(name):
    return name != "" and "+" not in name and not any(c.isspace() for c in name) and \
        not any(ord(c) < 0x20 for c in name)


def key_id(name, sig_type, pk):
    return sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + pk)[:4]


class VKey:
    def __init__(self, name, sig_type, pk):
        if not valid_name(name):
            raise Invalid(f"key name {name!r} is not valid")
        self.name, self.type, self.pk = name, sig_type, pk
        self.id = key_id(name, sig_type, pk)

    def text(self):
        return f"{self.name}+{self.id.hex()}+{b64(bytes([self.type]) + self.pk)}"


def parse_vkey(s):
    parts = s.split("+", 2)
    if len(parts) != 3:
        raise Invalid(f"verifier key {s[:40]!r}: not name+id+key")
    name, hexid, key64 = parts
    if len(hexid) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hexid):
        raise Invalid(f"verifier key {s[:40]!r}: the key id is not 8 hex digits")
    raw = b64decode(key64, "verifier key")
    if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIG_V1):
        raise Invalid(f"verifier key {s[:40]!r}: not an Ed25519 or cosignature/v1 key")
    k = VKey(name, raw[0], raw[1:])
    if k.id != bytes.fromhex(hexid):
        raise Invalid(f"verifier key {s[:40]!r}: the key id does not match")
    return k


def load_vkey(arg):
    if os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            arg = f.read().strip()
    return parse_vkey(arg)


class Note:
    def __init__(self, text, sigs):
        self.text = text  # str, ending in a newline
        self.sigs = sigs  # [(name, raw bytes: key id || signature)]

    def encode(self):
        out = self.text + "\n"
        for name, raw in self.sigs:
            out += f"{EMDASH} {name} {b64(raw)}\n"
        return out.encode("utf-8")

    def find(self, k):
        for name, raw in self.sigs:
            if name == k.name and raw[:4] == k.id:
                return raw[4:]
        return None

    def add(self, name, raw):
        """One line per key: a new signature by a key replaces its old one."""
        self.sigs = [(n, r) for n, r in self.sigs if not (n == name and r[:4] == raw[:4])]
        self.sigs.append((name, raw))


def parse_note(data):
    if len(data) > MAX_NOTE:
        raise Invalid(f"note over {MAX_NOTE} bytes")
    try:
        s = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise Invalid(f"note is not UTF-8 ({e})") from None
    for i, c in enumerate(s):
        if ord(c) < 0x20 and c != "\n":
            raise Invalid(f"note holds control character {ord(c):#x} at {i}")
    cut = s.rfind("\n\n")
    if cut < 0:
        raise Invalid("note has no blank line before its signatures")
    text, block = s[: cut + 1], s[cut + 2:]
    if text == "\n":
        raise Invalid("note has an empty text")
    if block == "" or not block.endswith("\n"):
        raise Invalid("note's signature block is empty or lacks its final newline")
    sigs = []
    for line in block[:-1].split("\n"):
        if not line.startswith(EMDASH + " "):
            raise Invalid(f"not a signature line: {line[:40]!r}")
        name, sep, sig64 = line[2:].partition(" ")
        if not sep or not valid_name(name):
            raise Invalid(f"bad signature line: {line[:40]!r}")
        raw = b64decode(sig64, f"signature of {name}")
        if len(raw) < 5:
            raise Invalid(f"signature of {name} is too short")
        sigs.append((name, raw))
        if len(sigs) > MAX_SIGS:
            raise Invalid(f"note has over {MAX_SIGS} signatures")
    return Note(text, sigs)


def ed25519_ok(pk, msg, sig):
    try:
        nacl.signing.VerifyKey(pk).verify(msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


def verify_log_sig(note, k):
    if k.type != SIG_ED25519:
        raise Invalid(f"{k.name}: not an Ed25519 note key")
    sig = note.find(k)
    if sig is None:
        raise Invalid(f"no signature by {k.name}+{k.id.hex()}")
    if len(sig) != 64 or not ed25519_ok(k.pk, note.text.encode("utf-8"), sig):
        raise Invalid(f"the signature by {k.name} does not verify")


def cosig_message(text, ts):
    return f"cosignature/v1\ntime {ts}\n".encode("ascii") + text.encode("utf-8")


def verify_cosig(note, k):
    """The cosignature/v1 by k: its timestamp, or Invalid."""
    if k.type != SIG_COSIG_V1:
        raise Invalid(f"{k.name}: not a cosignature/v1 key")
    sig = note.find(k)
    if sig is None:
        raise Invalid(f"no cosignature by {k.name}+{k.id.hex()}")
    if len(sig) != 72:
        raise Invalid(f"the cosignature by {k.name} is not 72 bytes")
    (ts,) = struct.unpack(">Q", sig[:8])
    if ts > 2**63 - 1:
        raise Invalid(f"the cosignature by {k.name} has a timestamp over 2^63 - 1")
    if not ed25519_ok(k.pk, cosig_message(note.text, ts), sig[8:]):
        raise Invalid(f"the cosignature by {k.name} does not verify")
    return ts


class Signer:
    def __init__(self, seed, name, sig_type):
        self.sk = nacl.signing.SigningKey(seed)
        self.vkey = VKey(name, sig_type, bytes(self.sk.verify_key))

    def sign_note(self, note):
        sig = self.sk.sign(note.text.encode("utf-8")).signature
        note.add(self.vkey.name, self.vkey.id + sig)

    def cosign(self, note, ts):
        sig = self.sk.sign(cosig_message(note.text, ts)).signature
        note.add(self.vkey.name, self.vkey.id + struct.pack(">Q", ts) + sig)


# ---- c2sp.org/tlog-checkpoint ----


def decimal(s, what):
    if s == "" or not s.isascii() or not s.isdigit() or (len(s) > 1 and s[0] == "0"):
        raise Invalid(f"{what} {s[:30]!r} is not a decimal without leading zeros")
    v = int(s)
    if v >= 2**64:
        raise Invalid(f"{what} {s[:30]!r} is over 2^64 - 1")
    return v


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise Invalid("checkpoint: fewer than three lines, or no final newline")
    lines = lines[:-1]
    if any(line == "" for line in lines):
        raise Invalid("checkpoint: an empty line")
    origin = lines[0]
    size = decimal(lines[1], "checkpoint tree size")
    root = b64decode(lines[2], "checkpoint root")
    if len(root) != 32:
        raise Invalid("checkpoint root is not 32 bytes")
    return origin, size, root


def checkpoint_text(origin, size, root):
    return f"{origin}\n{size}\n{b64(root)}\n"


def check_signed_checkpoint(note, log_key, witness_keys, quorum):
    """The parsed checkpoint of a note signed by log_key and cosigned by
    `quorum` of witness_keys; returns (origin, size, root, {witness: ts})."""
    origin, size, root = parse_checkpoint(note.text)
    if origin != log_key.name:
        raise Invalid(f"checkpoint origin {origin!r} is not the log key's name {log_key.name!r}")
    verify_log_sig(note, log_key)
    times, errors = {}, []
    for w in witness_keys:
        try:
            times[w.name] = verify_cosig(note, w)
        except Invalid as e:
            errors.append(str(e))
    if len(times) < quorum:
        raise Invalid(f"{len(times)} of {len(witness_keys)} cosignatures verify, "
                      f"{quorum} needed: " + "; ".join(errors))
    return origin, size, root, times


# ---- c2sp.org/tlog-proof and the tlog-witness add-checkpoint body ----


def parse_hash_lines(lines, what, limit):
    hashes = []
    while True:
        if not lines:
            raise Invalid(f"{what}: no blank line before the checkpoint")
        line = lines.pop(0)
        if line == "":
            return hashes
        h = b64decode(line, f"{what} hash")
        if len(h) != 32:
            raise Invalid(f"{what}: a hash of {len(h)} bytes")
        hashes.append(h)
        if len(hashes) > limit:
            raise Invalid(f"{what}: over {limit} hashes")


def parse_tlog_proof(data):
    try:
        s = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise Invalid(f"proof is not UTF-8 ({e})") from None
    lines = s.split("\n")
    if lines[0] != PROOF_HEADER:
        raise Invalid(f"proof: the first line is not {PROOF_HEADER}")
    lines.pop(0)
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = b64decode(lines.pop(0)[len("extra "):], "proof extra data")
    if not lines or not lines[0].startswith("index "):
        raise Invalid("proof: no index line")
    index = decimal(lines.pop(0)[len("index "):], "proof index")
    hashes = parse_hash_lines(lines, "proof", 64)
    note = parse_note("\n".join(lines).encode("utf-8"))
    return index, extra, hashes, note


def tlog_proof_text(index, extra, hashes, note):
    out = PROOF_HEADER + "\n"
    if extra is not None:
        out += f"extra {b64(extra)}\n"
    out += f"index {index}\n"
    out += "".join(b64(h) + "\n" for h in hashes)
    return out.encode("utf-8") + b"\n" + note.encode()


def parse_add_checkpoint(data):
    try:
        s = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise Invalid(f"add-checkpoint is not UTF-8 ({e})") from None
    lines = s.split("\n")
    if not lines[0].startswith("old "):
        raise Invalid("add-checkpoint: the first line is not 'old N'")
    old = decimal(lines.pop(0)[len("old "):], "add-checkpoint old size")
    proof = parse_hash_lines(lines, "add-checkpoint", 63)
    note = parse_note("\n".join(lines).encode("utf-8"))
    _, size, _ = parse_checkpoint(note.text)
    if old > size:
        raise Invalid(f"add-checkpoint: old size {old} is over the checkpoint's {size}")
    if old == 0 and proof:
        raise Invalid("add-checkpoint: a proof from size 0 must be empty")
    return old, proof, note


def add_checkpoint_text(old, proof, note):
    out = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof)
    return out.encode("utf-8") + b"\n" + note.encode()


# ---- the test's synthetic tree ----


def leaf_data(i):
    return b"\x00" + sha256(f"interop leaf {i}".encode("ascii"))


def indices(n):
    return sorted({i for i in (0, 1, n // 2, n - 1) if 0 <= i < n})


def old_sizes(n):
    return sorted({m for m in (0, 1, 2, 3, n // 2, n - 1) if 0 <= m < n})


def checkpoint_sizes(n):
    return sorted({m for m in old_sizes(n) if m > 0} | {n})


def emit(args):
    n = args.n
    log = Signer(bytes.fromhex(args.log_seed), args.origin, SIG_ED25519)
    wits = [Signer(bytes.fromhex(args.wit_seed), args.wit_name, SIG_COSIG_V1),
            Signer(bytes.fromhex(args.wit2_seed), args.wit2_name, SIG_COSIG_V1)]
    tree = Tree(tuple(leaf_hash(leaf_data(i)) for i in range(n)))
    os.makedirs(args.dir, exist_ok=True)

    def put(name, data):
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(data)

    put("log.vkey", (log.vkey.text() + "\n").encode())
    put("witness.vkey", (wits[0].vkey.text() + "\n").encode())
    put("witness2.vkey", (wits[1].vkey.text() + "\n").encode())
    notes = {}
    for m in checkpoint_sizes(n):
        note = Note(checkpoint_text(args.origin, m, tree.root(m)), [])
        log.sign_note(note)
        for w in wits:
            w.cosign(note, args.time)
        notes[m] = note
        put(f"checkpoint.{m}", note.encode())
    put("checkpoint", notes[n].encode())
    for i in indices(n):
        extra = f"leaf {i}".encode() if i == 0 else None
        put(f"proof.{i}.tlog-proof", tlog_proof_text(i, extra, tree.inclusion(i, n), notes[n]))
    for m in old_sizes(n):
        put(f"consistency.{m}", add_checkpoint_text(m, tree.consistency(m, n), notes[n]))
    return 0


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_dir(args):
    """Every file of an emitted directory checks, and is what we would make."""
    n = args.n
    log_key = load_vkey(args.log_vkey)
    wit_keys = [load_vkey(w) for w in args.witness_vkey]
    tree = Tree(tuple(leaf_hash(leaf_data(i)) for i in range(n)))
    d = args.dir
    count = 0
    for m in checkpoint_sizes(n):
        data = read(os.path.join(d, f"checkpoint.{m}"))
        note = parse_note(data)
        _, size, root, _ = check_signed_checkpoint(note, log_key, wit_keys, len(wit_keys))
        if size != m or root != tree.root(m):
            raise Invalid(f"checkpoint.{m}: size {size} root {root.hex()}, "
                          f"the tree's is {tree.root(m).hex()}")
        if note.encode() != data:
            raise Invalid(f"checkpoint.{m}: does not re-encode to the same bytes")
        count += 1
    if read(os.path.join(d, "checkpoint")) != read(os.path.join(d, f"checkpoint.{n}")):
        raise Invalid("checkpoint differs from checkpoint.N")
    for i in indices(n):
        path = os.path.join(d, f"proof.{i}.tlog-proof")
        data = read(path)
        index, extra, hashes, note = parse_tlog_proof(data)
        check_proof_parts(index, hashes, note, log_key, wit_keys, len(wit_keys),
                          leaf_hash(leaf_data(i)))
        if index != i or hashes != tree.inclusion(i, n):
            raise Invalid(f"{path}: not the proof of leaf {i} this implementation makes")
        if tlog_proof_text(index, extra, hashes, note) != data:
            raise Invalid(f"{path}: does not re-encode to the same bytes")
        count += 1
    for m in old_sizes(n):
        path = os.path.join(d, f"consistency.{m}")
        data = read(path)
        old, proof, note = parse_add_checkpoint(data)
        _, size, root, _ = check_signed_checkpoint(note, log_key, wit_keys, len(wit_keys))
        if old != m or size != n:
            raise Invalid(f"{path}: from {old} to {size}, wanted {m} to {n}")
        if not verify_consistency(m, n, tree.root(m), root, proof):
            raise Invalid(f"{path}: the consistency proof does not verify")
        if proof != tree.consistency(m, n):
            raise Invalid(f"{path}: not the proof this implementation makes")
        if add_checkpoint_text(old, proof, note) != data:
            raise Invalid(f"{path}: does not re-encode to the same bytes")
        count += 1
    print(f"c2sp.py: {d}: {count} files check (n = {n})")
    return 0


def check_proof_parts(index, hashes, note, log_key, wit_keys, quorum, lh):
    _, size, root, _ = check_signed_checkpoint(note, log_key, wit_keys, quorum)
    if not verify_inclusion(index, size, lh, hashes, root):
        raise Invalid(f"the inclusion proof of index {index} in {size} leaves does not verify")
    return size, root


# ---- the command line ----


def cmd_check_checkpoint(a):
    note = parse_note(read(a.file))
    origin, size, root, times = check_signed_checkpoint(
        note, load_vkey(a.log_vkey), [load_vkey(w) for w in a.witness_vkey], a.quorum)
    cosigned = " ".join(f"{w}@{t}" for w, t in sorted(times.items()))
    print(f"checkpoint {origin} {size} {b64(root)} cosigned by {len(times)}: {cosigned}")
    return 0


def cmd_check_proof(a):
    if (a.leaf_hex is None) == (a.leaf_hash_hex is None):
        raise Usage("check-proof: give one of --leaf-hex and --leaf-hash-hex")
    lh = leaf_hash(bytes.fromhex(a.leaf_hex)) if a.leaf_hex is not None else \
        bytes.fromhex(a.leaf_hash_hex)
    index, _, hashes, note = parse_tlog_proof(read(a.file))
    size, _ = check_proof_parts(index, hashes, note, load_vkey(a.log_vkey),
                                [load_vkey(w) for w in a.witness_vkey], a.quorum, lh)
    print(f"proof: leaf {index} is in the tree of {size} leaves")
    return 0


def cmd_check_consistency(a):
    log_key = load_vkey(a.log_vkey)
    wit_keys = [load_vkey(w) for w in a.witness_vkey]
    old, proof, note = parse_add_checkpoint(read(a.file))
    _, size, root, _ = check_signed_checkpoint(note, log_key, wit_keys, a.quorum)
    if (a.old is None) == (a.old_root_hex is None):
        raise Usage("check-consistency: give one of --old and --old-root-hex")
    if a.old is not None:
        onote = parse_note(read(a.old))
        _, osize, oroot, _ = check_signed_checkpoint(onote, log_key, wit_keys, a.quorum)
        if osize != old:
            raise Invalid(f"the old checkpoint has size {osize}, the proof starts at {old}")
    else:
        oroot = bytes.fromhex(a.old_root_hex)
    if not verify_consistency(old, size, oroot, root, proof):
        raise Invalid(f"the consistency proof from {old} to {size} does not verify")
    print(f"consistency: the tree of {size} leaves extends the tree of {old}")
    return 0


class Usage(Exception):
    pass


def main(argv):
    import argparse

    p = argparse.ArgumentParser(prog="c2sp.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def keys(sp):
        sp.add_argument("--log-vkey", required=True)
        sp.add_argument("--witness-vkey", action="append", default=[])
        sp.add_argument("--quorum", type=int, default=None)

    sp = sub.add_parser("check-checkpoint")
    keys(sp)
    sp.add_argument("file")
    sp = sub.add_parser("check-proof")
    keys(sp)
    sp.add_argument("--leaf-hex")
    sp.add_argument("--leaf-hash-hex")
    sp.add_argument("file")
    sp = sub.add_parser("check-consistency")
    keys(sp)
    sp.add_argument("--old")
    sp.add_argument("--old-root-hex")
    sp.add_argument("file")
    sp = sub.add_parser("emit")
    for o in ("--log-seed", "--wit-seed", "--wit2-seed", "--origin", "--wit-name",
              "--wit2-name"):
        sp.add_argument(o, required=True)
    sp.add_argument("--n", type=int, required=True)
    sp.add_argument("--time", type=int, required=True)
    sp.add_argument("dir")
    sp = sub.add_parser("check-dir")
    keys(sp)
    sp.add_argument("--n", type=int, required=True)
    sp.add_argument("dir")
    a = p.parse_args(argv)
    if getattr(a, "quorum", None) is None and hasattr(a, "witness_vkey"):
        a.quorum = len(a.witness_vkey)
    fn = {"check-checkpoint": cmd_check_checkpoint, "check-proof": cmd_check_proof,
          "check-consistency": cmd_check_consistency, "emit": emit,
          "check-dir": check_dir}[a.cmd]
    try:
        return fn(a)
    except Invalid as e:
        print(f"c2sp.py: {a.cmd}: {e}", file=sys.stderr)
        return 1
    except Usage as e:
        print(f"c2sp.py: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"c2sp.py: {a.cmd}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
