"""Signing in and out, and setting a password through a one-time link; the JSON sign-in for scripts."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from core.errors import UsageError
from fupin.web.app import render
from fupin.web.security import (
    address,
    check_csrf,
    clear_session,
    keep_pre,
    log,
    pre_token,
    rt_of,
    set_session,
    small_form,
    web_of,
)
from tasks.accounts.lockout import Failures, after_failure, may_attempt
from tasks.accounts.passwords import verify_password
from tasks.accounts.sessions import close_session, link_user, open_session, use_password_link
from tasks.accounts.users import User, credentials, now_utc, store_failures

router = APIRouter()


class SignInRefused(Exception):
    """A sign-in that did not succeed: 401 (wrong name or password) or 429 (slowed down or locked)."""

    def __init__(self, status: int, message: str, wait: int = 0) -> None:
        super().__init__(message)
        self.status, self.message, self.wait = status, message, wait


def sign_in(request: Request, username: str, password: str) -> tuple[User, str]:
    """Check a name and password under the lockout policy; a session token on success, SignInRefused otherwise."""
    rt, web = rt_of(request), web_of(request)
    found = credentials(rt.engine, username)
    if found is None or not found[0].is_active:
        verify_password(None, password)  # as slow as a real check, so names cannot be told apart by time
        log(request, "login_failed", username=username, detail="unknown or disabled account")
        raise SignInRefused(401, "用户名或密码错误 / wrong user name or password")
    user, stored, failures = found
    now = now_utc()
    attempt = may_attempt(failures, now, web.lockout)
    if not attempt.allowed:
        log(request, "login_throttled", username=user.username, detail=f"wait {attempt.wait_seconds}s")
        what = "账户已临时锁定 / the account is locked" if attempt.locked else "尝试过于频繁 / too many attempts"
        raise SignInRefused(
            429, f"{what}: 请 {attempt.wait_seconds} 秒后再试 / retry in {attempt.wait_seconds} s", attempt.wait_seconds
        )
    if not verify_password(stored, password):
        state = after_failure(failures, now, web.lockout)
        store_failures(rt.engine, user, state)
        locked = " (locked)" if state.locked_until else ""
        log(request, "login_failed", username=user.username, detail=f"failure {state.count}{locked}")
        raise SignInRefused(401, "用户名或密码错误 / wrong user name or password")
    if failures.count or failures.locked_until:
        store_failures(rt.engine, user, Failures())
    token = open_session(rt.engine, user, web.session_lifetime, address(request))
    request.state.user = user
    log(request, "login")
    return user, token


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if request.state.user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = pre_token(request)
    return keep_pre(request, render(request, "login.html", pre=token, next=_safe_next(next)))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await small_form(request)
    check_csrf(request, form.get("csrf"), before_sign_in=True)
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    try:
        _, token = await run_in_threadpool(sign_in, request, username, password)
    except SignInRefused as exc:
        request.state.user = None
        page = render(
            request,
            "login.html",
            status_code=exc.status,
            pre=pre_token(request),
            error=exc.message,
            next=_safe_next(str(form.get("next") or "/")),
            username=username,
        )
        return keep_pre(request, page)
    response = RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)
    set_session(response, web_of(request), token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    await run_in_threadpool(close_session, rt_of(request).engine, request.state.session_token)
    log(request, "logout")
    response = RedirectResponse("/login", status_code=303)
    clear_session(response, web_of(request))
    return response


@router.get("/set-password/{token}")
def set_password_page(request: Request, token: str) -> Response:
    user = link_user(rt_of(request).engine, token)
    if user is None:
        raise HTTPException(404, "链接无效或已过期，请联系办公室 / the link is invalid or has expired")
    page = render(request, "set_password.html", pre=pre_token(request), account=user.username, token=token)
    return keep_pre(request, page)


@router.post("/set-password/{token}")
async def set_password_submit(request: Request, token: str) -> Response:
    form = await small_form(request)
    check_csrf(request, form.get("csrf"), before_sign_in=True)
    password, again = str(form.get("password") or ""), str(form.get("again") or "")
    rt = rt_of(request)
    user = await run_in_threadpool(link_user, rt.engine, token)
    if user is None:
        raise HTTPException(404, "链接无效或已过期，请联系办公室 / the link is invalid or has expired")
    error = "两次输入的密码不一致 / the two passwords differ" if password != again else None
    if error is None:
        try:
            if await run_in_threadpool(use_password_link, rt.engine, token, password) is None:
                raise HTTPException(404, "链接已使用 / the link was used already")
        except UsageError as exc:
            error = str(exc)
    if error is not None:
        page = render(
            request,
            "set_password.html",
            status_code=400,
            pre=pre_token(request),
            account=user.username,
            token=token,
            error=error,
        )
        return keep_pre(request, page)
    log(request, "password_set", username=user.username, unit_code=user.unit_code)
    return RedirectResponse("/login?set=1", status_code=303)


@router.post("/api/login")
async def api_login(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return JSONResponse({"detail": 'a JSON body {"username", "password"} / 需要用户名和密码'}, status_code=400)
    try:
        user, token = await run_in_threadpool(sign_in, request, body["username"], body["password"])
    except SignInRefused as exc:
        headers = {"Retry-After": str(exc.wait)} if exc.wait else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
    response = JSONResponse({"username": user.username, "role": user.role, "unit": user.unit_code})
    set_session(response, web_of(request), token)
    return response
