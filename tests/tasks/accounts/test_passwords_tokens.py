"""argon2 password hashes, the minimum for new passwords, random tokens and signed values."""

from __future__ import annotations

from tasks.accounts.passwords import hash_password, password_problem, verify_password
from tasks.accounts.tokens import csrf_ok, csrf_token, new_token, sign, token_hash, unsign

SECRET = b"k" * 32


def test_a_password_verifies_against_its_argon2id_hash_only() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert hash_password("correct horse battery") != stored  # salted


def test_an_account_without_a_password_never_matches() -> None:
    assert not verify_password(None, "")
    assert not verify_password(None, "not-a-real-password-0000")
    assert not verify_password("garbage", "x")


def test_new_passwords_need_length_and_must_not_contain_the_name() -> None:
    assert password_problem("short", "clerk")
    assert password_problem("my-clerk-password", "clerk")
    assert password_problem("a long enough secret", "clerk") is None


def test_tokens_are_random_and_stored_as_hashes() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 43
    assert token_hash(a) != a and len(token_hash(a)) == 64


def test_a_signed_value_comes_back_only_unaltered_and_for_its_purpose() -> None:
    signed = sign(SECRET, "session", "abc")
    assert unsign(SECRET, "session", signed) == "abc"
    assert unsign(SECRET, "pre", signed) is None
    assert unsign(b"x" * 32, "session", signed) is None
    assert unsign(SECRET, "session", "abd" + signed[3:]) is None
    assert unsign(SECRET, "session", None) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    assert csrf_ok(SECRET, "s1", csrf_token(SECRET, "s1"))
    assert not csrf_ok(SECRET, "s2", csrf_token(SECRET, "s1"))
    assert not csrf_ok(SECRET, None, csrf_token(SECRET, "s1"))
    assert not csrf_ok(SECRET, "s1", None)
