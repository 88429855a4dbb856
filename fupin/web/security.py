"""What every request passes: security headers, the session cookie, the anonymous gate, CSRF, roles, the audit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, RedirectResponse

from flows.runtime import Runtime
from fupin.web.settings import WebSettings
from tasks.accounts import audit
from tasks.accounts.sessions import session_user
from tasks.accounts.tokens import csrf_ok, csrf_token, new_token, sign, unsign
from tasks.accounts.users import User

SESSION_COOKIE = "fupin_session"
PRE_COOKIE = "fupin_pre"  # binds the sign-in and set-password forms' CSRF token before there is a session
# Anonymous callers reach only these: the sign-in page, a set-password link, the styles and the health check;
# /api/local/ checks its own token (fupin/web/local.py) and answers only this machine.
PUBLIC_PREFIXES = ("/login", "/set-password/", "/static/", "/api/login", "/healthz", "/api/local/")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def rt_of(request: Request) -> Runtime:
    return request.app.state.rt


def web_of(request: Request) -> WebSettings:
    return request.app.state.web


def address(request: Request) -> str | None:
    """The client's address (uvicorn has already taken X-Forwarded-For from a trusted proxy)."""
    return request.client.host if request.client else None


def is_public(path: str) -> bool:
    return path == "/login" or path.startswith(PUBLIC_PREFIXES)


def _same_origin(request: Request) -> bool:
    """A browser's cross-site POST names its origin; scripts send none. Only a foreign origin is refused."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Resolve the session, send anonymous callers to the sign-in page (401 under /api/), add the headers."""
    web, rt = web_of(request), rt_of(request)
    token = unsign(web.secret, "session", request.cookies.get(SESSION_COOKIE))
    request.state.session_token = token
    request.state.user = await run_in_threadpool(session_user, rt.engine, token) if token else None
    path = request.url.path
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
        response: Response = JSONResponse({"detail": "cross-site request refused / 拒绝跨站请求"}, status_code=403)
    elif request.state.user is None and not is_public(path):
        if path.startswith("/api/"):
            response = JSONResponse({"detail": "sign in first / 请先登录"}, status_code=401)
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    else:
        response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.state.user is not None or path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def user_of(request: Request) -> User:
    """The signed-in account (the guard lets no anonymous request through to a route that asks for it)."""
    user = request.state.user
    if user is None:
        raise HTTPException(401, "sign in first / 请先登录")
    return user


def office_only(request: Request) -> User:
    """The signed-in account, if it is an office role; a unit clerk gets 403."""
    user = user_of(request)
    if not user.is_office:
        raise HTTPException(403, "仅限办公室人员 / office roles only")
    return user


def set_session(response: Response, web: WebSettings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(web.secret, "session", token),
        max_age=int(web.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies,
        path="/",
    )


def clear_session(response: Response, web: WebSettings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=web.secure_cookies)


def pre_token(request: Request) -> str:
    """The CSRF token of a form shown before sign-in, bound to a signed random cookie (set on `response`)."""
    web = web_of(request)
    bound = unsign(web.secret, "pre", request.cookies.get(PRE_COOKIE))
    if bound is None:
        bound = new_token()
        request.state.new_pre = sign(web.secret, "pre", bound)
    return csrf_token(web.secret, bound)


def keep_pre(request: Request, response: Response) -> Response:
    """Set the pre-sign-in cookie when pre_token made a new one."""
    value = getattr(request.state, "new_pre", None)
    if value:
        web = web_of(request)
        response.set_cookie(PRE_COOKIE, value, httponly=True, samesite="lax", secure=web.secure_cookies, path="/")
    return response


def form_token(request: Request) -> str:
    """The CSRF token for the signed-in session's forms."""
    return csrf_token(web_of(request).secret, request.state.session_token or "")


def check_csrf(request: Request, given: object, before_sign_in: bool = False) -> None:
    """403 unless the form carried the token of this session (or of the pre-sign-in cookie)."""
    web = web_of(request)
    bound = (
        unsign(web.secret, "pre", request.cookies.get(PRE_COOKIE)) if before_sign_in else request.state.session_token
    )
    if not csrf_ok(web.secret, bound, given if isinstance(given, str) else None):
        raise HTTPException(403, "表单已过期，请刷新后重试 / the form expired or was forged: reload and try again")


def log(
    request: Request,
    action: str,
    *,
    username: str | None = None,
    unit_code: str | None = None,
    submission_id: int | None = None,
    detail: str | None = None,
) -> None:
    """One audit event with the caller's name and address (and unit, unless another is named)."""
    user = request.state.user
    event = audit.Event(
        action=action,
        username=username or (user.username if user else None),
        address=address(request),
        unit_code=unit_code or (user.unit_code if user else None),
        submission_id=submission_id,
        detail=detail,
    )
    audit.record(rt_of(request).engine, event)


async def small_form(request: Request) -> FormData:
    """A form of a few text fields (sign-in, sign-out, explanations, the paper copy): no files, bounded."""
    return await request.form(max_files=0, max_fields=200, max_part_size=64 << 10)
