"""Files the platform hands out: a download with its Chinese name intact (RFC 6266 / 5987) and never cached."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(data: bytes, name: str, media_type: str = XLSX) -> Response:
    """`data` as a download called `name`; an ASCII fallback name for old clients, the UTF-8 name for the rest."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
