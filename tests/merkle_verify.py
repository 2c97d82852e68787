#!/usr/bin/env python3
"""An independent check of isms's Merkle trees against RFC 9162 section 2.1.

Reads the JSON written by the audit_tests test MerkleVectors.* (records, the root of every tree
size, inclusion and consistency proofs), recomputes every root and every proof with its own
implementation of RFC 9162 (only hashlib), verifies every proof with the RFC's iterative
algorithms, and checks that a proof with one bit flipped no longer verifies.

Usage:
  merkle_verify.py VECTORS.json
  merkle_verify.py --generate AUDIT_TESTS VECTORS.json   (runs AUDIT_TESTS to write the file first)

Exit status 0 when everything agrees, 1 on a disagreement, 2 on a usage or input error.
"""

import functools
import hashlib
import json
import os
import subprocess
import sys


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(record):
    return sha256(b"\x00" + record)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split(n):
    """The largest power of two strictly smaller than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """RFC 9162 2.1.1-2.1.4 over a list of leaf hashes, written from the RFC's definitions."""

    def __init__(self, leaves):
        self.leaves = leaves

    @functools.lru_cache(maxsize=None)
    def mth(self, start, size):
        if size == 0:
            return sha256(b"")
        if size == 1:
            return self.leaves[start]
        k = split(size)
        return node_hash(self.mth(start, k), self.mth(start + k, size - k))

    def path(self, m, start, n):
        """PATH(m, D[start:start+n])."""
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return self.path(m, start, k) + [self.mth(start + k, n - k)]
        return self.path(m - k, start + k, n - k) + [self.mth(start, k)]

    def subproof(self, m, start, n, b):
        """SUBPROOF(m, D[start:start+n], b)."""
        if m == n:
            return [] if b else [self.mth(start, n)]
        k = split(n)
        if m <= k:
            return self.subproof(m, start, k, b) + [self.mth(start + k, n - k)]
        return self.subproof(m - k, start + k, n - k, False) + [self.mth(start, k)]

    def consistency(self, m, n):
        if m == 0 or m == n:
            return []
        return self.subproof(m, 0, n, True)


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, root_m, root_n, proof):
    """RFC 9162 2.1.4.2, with the conventions for m == n and m == 0."""
    if m > n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof and root_m == sha256(b"")
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
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
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


def flip(h):
    return bytes([h[0] ^ 1]) + h[1:]


# Certificate Transparency reference data (RFC 6962 test vectors): records and the roots of the
# trees of their first 0..8 records. Checked first, so the verifier itself is known to be right.
CT_RECORDS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def self_test():
    tree = Tree(tuple(leaf_hash(bytes.fromhex(r)) for r in CT_RECORDS))
    for n, want in enumerate(CT_ROOTS):
        if tree.mth(0, n).hex() != want:
            return f"self-test: root of the reference tree of size {n} is wrong"
    # RFC 9162 2.1.5: the seven-leaf example.
    t = Tree(tuple(leaf_hash(b"d%d" % i) for i in range(7)))
    a, b, c, d, e, f, j = t.leaves
    g, h, i = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l = node_hash(g, h), node_hash(i, j)
    expected = [
        (t.path(0, 0, 7), [b, h, l]), (t.path(3, 0, 7), [c, g, l]),
        (t.path(4, 0, 7), [f, j, k]), (t.path(6, 0, 7), [i, k]),
        (t.consistency(3, 7), [c, d, g, l]), (t.consistency(4, 7), [l]),
        (t.consistency(6, 7), [i, j, k]),
    ]
    if any(got != want for got, want in expected):
        return "self-test: the RFC 9162 2.1.5 example proofs are wrong"
    return None


def check(vectors):
    records = [bytes.fromhex(r) for r in vectors["leaves"]]
    leaves = [leaf_hash(r) for r in records]
    tree = Tree(tuple(leaves))
    roots = [bytes.fromhex(r) for r in vectors["roots"]]
    errors = []

    for n, root in enumerate(roots):
        if tree.mth(0, n) != root:
            errors.append(f"root of size {n}: isms {root.hex()}, RFC 9162 {tree.mth(0, n).hex()}")

    for case in vectors["inclusion"]:
        i, n = case["index"], case["size"]
        proof = [bytes.fromhex(h) for h in case["proof"]]
        where = f"inclusion proof of leaf {i} in size {n}"
        if proof != tree.path(i, 0, n):
            errors.append(f"{where}: differs from RFC 9162 PATH")
        if not verify_inclusion(leaves[i], i, n, proof, roots[n]):
            errors.append(f"{where}: does not verify")
        if verify_inclusion(flip(leaves[i]), i, n, proof, roots[n]):
            errors.append(f"{where}: verifies with a changed leaf")
        if proof and verify_inclusion(leaves[i], i, n, [flip(proof[0])] + proof[1:], roots[n]):
            errors.append(f"{where}: verifies with a changed proof")

    for case in vectors["consistency"]:
        m, n = case["m"], case["n"]
        proof = [bytes.fromhex(h) for h in case["proof"]]
        where = f"consistency proof from size {m} to {n}"
        if proof != tree.consistency(m, n):
            errors.append(f"{where}: differs from RFC 9162 PROOF")
        if not verify_consistency(m, n, roots[m], roots[n], proof):
            errors.append(f"{where}: does not verify")
        if m > 0 and verify_consistency(m, n, flip(roots[m]), roots[n], proof):
            errors.append(f"{where}: verifies with a changed first root")
        if proof and verify_consistency(m, n, roots[m], roots[n], proof[:-1] + [flip(proof[-1])]):
            errors.append(f"{where}: verifies with a changed proof")

    counts = (len(roots), len(vectors["inclusion"]), len(vectors["consistency"]))
    return errors, counts


def main(argv):
    args = argv[1:]
    if len(args) == 3 and args[0] == "--generate":
        generator, path = args[1], args[2]
        env = dict(os.environ, ISMS_MERKLE_VECTORS=path)
        done = subprocess.run([generator, "--gtest_filter=MerkleVectors.*"], env=env,
                              stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            print(f"merkle_verify: {generator} failed with status {done.returncode}",
                  file=sys.stderr)
            return 2
    elif len(args) == 1:
        path = args[0]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(path, encoding="utf-8") as f:
            vectors = json.load(f)
    except (OSError, ValueError) as e:
        print(f"merkle_verify: cannot read {path}: {e}", file=sys.stderr)
        return 2
    problem = self_test()
    if problem:
        print(f"merkle_verify: {problem}", file=sys.stderr)
        return 1
    errors, (roots, inclusion, consistency) = check(vectors)
    if errors:
        for e in errors[:20]:
            print(f"merkle_verify: {e}", file=sys.stderr)
        print(f"merkle_verify: {len(errors)} disagreements", file=sys.stderr)
        return 1
    print(f"merkle_verify: {roots} roots, {inclusion} inclusion proofs and {consistency} "
          "consistency proofs agree with RFC 9162")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
