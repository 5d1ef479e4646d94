#!/usr/bin/env python3
"""Generate password-hash test vectors with the real Python libraries that
users migrate from (Werkzeug/Flask, Django, bcrypt, argon2-cffi).

Output (JSON on stdout) is committed as server/tests/fixtures/legacy_hashes.json
and consumed by the Rust legacy-hash verification tests.

Setup and run (throwaway venv; versions are recorded in the JSON):

    python3 -m venv /tmp/hashvenv
    /tmp/hashvenv/bin/pip install werkzeug django bcrypt argon2-cffi
    /tmp/hashvenv/bin/python server/tests/support/make_legacy_hashes.py \
        > server/tests/fixtures/legacy_hashes.json

Costs are deliberately tiny so the Rust tests stay fast. Salts are random, so
every run produces different (but equally valid) hashes. The script checks
each vector with the library's own verifier before printing, and exits
non-zero if any vector fails.
"""

import json
import sys
import unicodedata
from importlib.metadata import version

import argon2
import bcrypt
from werkzeug.security import check_password_hash, generate_password_hash

# Django needs settings before its hashers can be used. Only the *stock*
# hashers are registered, so check_password() in the self-check verifies
# with unmodified Django code that reads the costs from the hash itself.
from django.conf import settings

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    ]
)
from django.contrib.auth import hashers as dj  # noqa: E402

VERSIONS = {
    name: version(name)
    for name in ("werkzeug", "django", "bcrypt", "argon2-cffi", "argon2-cffi-bindings")
}

# One ASCII and one non-ASCII password per format (both NFC; no library here
# normalises Unicode, they all hash the UTF-8 bytes as given).
PASSWORDS = ["correct horse 1", "pässwörd ünïcode 2"]
assert all(unicodedata.is_normalized("NFC", p) for p in PASSWORDS)


# Low-cost subclasses of the stock Django hashers (used for hashing only).
class FastPBKDF2(dj.PBKDF2PasswordHasher):
    iterations = 1000


class FastArgon2(dj.Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 256  # KiB
    parallelism = 2


class FastBCryptSHA256(dj.BCryptSHA256PasswordHasher):
    rounds = 4


def lib(*names):
    return " + ".join(f"{n} {VERSIONS[n]}" for n in names)


# format name -> (hash function, library label)
argon2_ph = argon2.PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
FORMATS = {
    "werkzeug_pbkdf2": (
        lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"),
        lib("werkzeug"),
    ),
    "werkzeug_scrypt": (
        lambda pw: generate_password_hash(pw, method="scrypt:1024:8:1"),
        lib("werkzeug"),
    ),
    "django_pbkdf2_sha256": (
        lambda pw: dj.make_password(pw, hasher=FastPBKDF2()),
        lib("django"),
    ),
    "django_argon2": (
        lambda pw: dj.make_password(pw, hasher=FastArgon2()),
        lib("django", "argon2-cffi"),
    ),
    "django_bcrypt_sha256": (
        lambda pw: dj.make_password(pw, hasher=FastBCryptSHA256()),
        lib("django", "bcrypt"),
    ),
    "bcrypt_2b": (
        lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode(),
        lib("bcrypt"),
    ),
    # $2a$ is what e.g. Ruby's bcrypt gem (Devise) stores. pyca/bcrypt keeps the
    # prefix of the salt it is given, so this is a genuine $2a$ hash.
    "bcrypt_2a": (
        lambda pw: bcrypt.hashpw(
            pw.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")
        ).decode(),
        lib("bcrypt"),
    ),
    "argon2id_phc": (lambda pw: argon2_ph.hash(pw), lib("argon2-cffi")),
}


def library_check(fmt, password, hashed):
    """Verify with each library's own public check function."""
    if fmt.startswith("werkzeug_"):
        return check_password_hash(hashed, password)
    if fmt.startswith("django_"):
        return dj.check_password(password, hashed)
    if fmt.startswith("bcrypt_"):
        return bcrypt.checkpw(password.encode(), hashed.encode())
    if fmt == "argon2id_phc":
        try:
            return argon2.PasswordHasher().verify(hashed, password)
        except argon2.exceptions.VerificationError:
            return False
    raise AssertionError(fmt)


vectors = [
    {"format": fmt, "password": pw, "hash": make(pw), "library": label}
    for fmt, (make, label) in FORMATS.items()
    for pw in PASSWORDS
]

# Self-check: every vector verifies with its password, and not with a wrong one.
for v in vectors:
    assert library_check(v["format"], v["password"], v["hash"]), v
    assert not library_check(v["format"], v["password"] + "x", v["hash"]), v
# Prefix sanity checks on the formats the Rust side dispatches on.
assert all(v["hash"].startswith("$2a$04$") for v in vectors if v["format"] == "bcrypt_2a")
assert all(v["hash"].startswith("bcrypt_sha256$$2b$04$") for v in vectors if v["format"] == "django_bcrypt_sha256")
assert all(v["hash"].startswith("argon2$argon2id$v=19$") for v in vectors if v["format"] == "django_argon2")

json.dump(
    {
        "generated_by": "server/tests/support/make_legacy_hashes.py",
        "libraries": VERSIONS,
        "vectors": vectors,
    },
    sys.stdout,
    indent=2,
    ensure_ascii=False,
)
sys.stdout.write("\n")
