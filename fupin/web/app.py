"""The platform's app factory: one FastAPI app over a Runtime, its pages, the pinned JSON API and static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from flows.runtime import Runtime
from fupin.web.security import form_token, guard
from fupin.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, template: str, status_code: int = 200, **context: object) -> Response:
    """A page, with the signed-in account and its CSRF token at hand for the layout and its forms."""
    user = request.state.user
    ctx = {"user": user, "csrf": form_token(request) if user else "", **context}
    return TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code, code=exc.status_code, detail=exc.detail)


def routers() -> list[APIRouter]:
    """The platform's routers: sign-in, the unit's pages, submissions, the board and its review, the JSON API, and the
    local hand-off of `fupin ingest`."""
    from fupin.web import api, auth, board, local, review, submissions, unit

    return [m.router for m in (auth, unit, submissions, board, review, api, local)]


def create_app(rt: Runtime, web: WebSettings) -> FastAPI:
    """The platform over the warehouse, config and folders of `rt`; `web` says how it listens and signs."""
    app = FastAPI(title="北京市扶贫支援办 填报平台", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.rt, app.state.web = rt, web
    app.middleware("http")(guard)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in routers():
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    return app


__all__ = ["HTTPException", "create_app", "render"]
