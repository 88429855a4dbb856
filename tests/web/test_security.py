"""The platform's doors, tested over HTTP: anonymous callers, sessions, CSRF, lockout, roles, headers, the cap."""

from __future__ import annotations

import re

from starlette.routing import Route

from fupin.web.app import routers
from tasks.accounts import audit
from tasks.accounts.sessions import issue_password_link
from tasks.accounts.users import find_user
from tests.web.conftest import PASSWORD, Platform, csrf_of

PUBLIC = {"/login", "/set-password/{token}", "/api/login", "/healthz"}


def test_anonymous_callers_reach_only_the_sign_in_page(platform: Platform) -> None:
    client = platform.client()
    routes = [r for router in routers() for r in router.routes if isinstance(r, Route)]
    assert len(routes) > 15
    for route in routes:
        if route.path in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods or ():
            if method == "HEAD":
                continue
            answer = client.request(method, path)
            if path.startswith("/api/"):
                assert answer.status_code == 401, (method, path)
            else:
                assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), (method, path)
    assert client.get("/api/anything-else").status_code == 401
    assert client.get("/login").status_code == 200


def test_every_response_carries_the_security_headers(platform: Platform) -> None:
    client = platform.client()
    for answer in (client.get("/login"), client.get("/api/board?month=2020-09"), client.get("/unit")):
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in platform.signed_in("cy-clerk").get("/unit").headers["cache-control"]


def test_signing_in_needs_the_forms_csrf_token_and_gives_a_hardened_cookie(platform: Platform) -> None:
    client = platform.client()
    form = {"username": "cy-clerk", "password": PASSWORD, "next": "/unit"}
    assert client.post("/login", data=form).status_code == 403  # no token
    token = csrf_of(client.get("/login").text)
    assert platform.client().post("/login", data={**form, "csrf": token}).status_code == 403  # not its cookie
    answer = client.post("/login", data={**form, "csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/unit"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    assert client.get("/unit").status_code == 200


def test_an_altered_session_cookie_is_nobody(platform: Platform) -> None:
    client = platform.signed_in("cy-clerk")
    value = client.cookies["fupin_session"]
    client.cookies.set("fupin_session", value[:-1] + ("0" if value[-1] != "0" else "1"))
    assert client.get("/api/submissions?month=2020-09").status_code == 401


def test_signing_out_ends_the_session_on_the_server(platform: Platform) -> None:
    client = platform.signed_in("cy-clerk")
    kept = client.cookies["fupin_session"]
    assert client.post("/logout").status_code == 403  # without the form's token
    page = client.get("/unit").text
    assert client.post("/logout", data={"csrf": csrf_of(page)}).status_code == 303
    replay = platform.client()
    replay.cookies.set("fupin_session", kept)
    assert replay.get("/api/submissions?month=2020-09").status_code == 401


def test_repeated_failures_slow_down_then_lock_and_are_audited(platform: Platform) -> None:
    client = platform.client()
    wrong = {"username": "cy-clerk", "password": "not the password"}
    assert [client.post("/api/login", json=wrong).status_code for _ in range(3)] == [401, 401, 401]
    slowed = client.post("/api/login", json={"username": "cy-clerk", "password": PASSWORD})
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0
    failed = audit.recent(platform.rt.engine, action="login_failed")
    assert len(failed) == 3 and {e["username"] for e in failed} == {"cy-clerk"}
    assert all(e["address"] for e in failed)
    assert platform.client().post("/api/login", json={"username": "nobody", "password": "x"}).status_code == 401


def test_the_lock_holds_even_for_the_right_password(platform: Platform) -> None:
    from tasks.accounts.lockout import Failures
    from tasks.accounts.users import now_utc, store_failures

    user = find_user(platform.rt.engine, "cy-clerk")
    assert user is not None
    store_failures(platform.rt.engine, user, Failures(4, now_utc().replace(year=2000), None))
    client = platform.client()
    assert client.post("/api/login", json={"username": "cy-clerk", "password": "wrong again"}).status_code == 401
    locked = client.post("/api/login", json={"username": "cy-clerk", "password": PASSWORD})
    assert locked.status_code == 429 and "locked" in locked.json()["detail"]


def test_cross_site_posts_are_refused(platform: Platform) -> None:
    client = platform.signed_in("cy-clerk")
    answer = client.post("/api/check", files={"file": ("a.xlsx", b"x")}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403


def test_unit_clerks_do_not_see_the_board(platform: Platform) -> None:
    clerk = platform.signed_in("cy-clerk")
    assert clerk.get("/api/board?month=2020-09").status_code == 403
    assert clerk.get("/board").status_code == 403
    assert clerk.get("/board/units/haidian").status_code == 403
    assert clerk.get("/board.xlsx").status_code == 403
    office = platform.signed_in("office")
    board = office.get("/api/board?month=2020-09")
    assert board.status_code == 200 and len(board.json()["units"]) == len(platform.rt.config.units)
    assert office.get("/unit").status_code == 403  # the office has no unit page of its own


def test_sign_in_goes_back_only_to_this_site(platform: Platform) -> None:
    client = platform.client()
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"username": "cy-clerk", "password": PASSWORD, "next": "//evil.example/x", "csrf": token}
    )
    assert answer.headers["location"] == "/"


def test_uploads_past_the_cap_are_refused_unread(platform: Platform) -> None:
    client = platform.signed_in("cy-clerk")
    big = b"PK\x03\x04" + b"\0" * (platform.web.max_upload_bytes + 1)
    assert client.post("/api/check", files={"file": ("big.xlsx", big)}).status_code == 413
    assert client.post("/api/submissions", files={"file": ("big.xlsx", big)}).status_code == 413
    assert not (platform.home / "inbox" / "chaoyang").exists()


def test_a_set_password_link_sets_the_password_once(platform: Platform) -> None:
    user = find_user(platform.rt.engine, "hd-clerk")
    assert user is not None
    token = issue_password_link(platform.rt.engine, user, platform.web.link_lifetime)
    client = platform.client()
    page = client.get(f"/set-password/{token}")
    assert page.status_code == 200 and "hd-clerk" in page.text
    new = {"password": "a brand new secret", "again": "a brand new secret", "csrf": csrf_of(page.text)}
    assert client.post(f"/set-password/{token}", data={**new, "again": "typo"}).status_code == 400
    assert client.post(f"/set-password/{token}", data=new).headers["location"] == "/login?set=1"
    assert client.get(f"/set-password/{token}").status_code == 404
    ok = client.post("/api/login", json={"username": "hd-clerk", "password": "a brand new secret"})
    assert ok.status_code == 200
