"""Pictures of the month's e-mails for docs/operations.md, as a mail client shows them: the headers a reader sees,
the text body as sent (decoded by its declared charset) and the attachments' names.

Usage: .venv/bin/python scripts/mail_pictures.py FUPIN_HOME/outbox docs/img
(after `make demo`: the outbox holds every mail of the demo month). Needs Debian's chromium and Playwright.
"""

from __future__ import annotations

import email
import email.policy
import html
import sys
from email.message import EmailMessage
from pathlib import Path

KINDS = {
    "【回执】": "mail-receipt",
    "【退回】": "mail-rejection",
    "【汇总】": "mail-publication",
    "【名单】": "mail-labor-list",
}
PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 0; background: #f3f3f3; }}
.mail {{ width: 760px; margin: 16px; background: #fff; border: 1px solid #ccc; }}
.head {{ padding: 12px 16px; border-bottom: 1px solid #ddd; font-size: 13px; color: #444; }}
.head b {{ display: inline-block; width: 64px; color: #777; font-weight: normal; }}
.subject {{ font-size: 17px; color: #111; margin: 4px 0 8px; font-weight: bold; }}
pre {{ font-family: inherit; white-space: pre-wrap; margin: 0; padding: 14px 16px; font-size: 14px; }}
.files {{ padding: 8px 16px 14px; font-size: 13px; }}
.files span {{ display: inline-block; border: 1px solid #bbb; border-radius: 3px; padding: 3px 8px; margin: 2px; }}
</style><div class="mail"><div class="head"><div class="subject">{subject}</div>
<div><b>发件人</b>{sender}</div><div><b>收件人</b>{to}</div><div><b>日期</b>{date}</div></div>
<pre>{body}</pre><div class="files">{files}</div></div>"""


def page(message: EmailMessage) -> str:
    """One mail as a page: headers, the plain-text body, the attachments by name."""
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    names = [html.escape(a.get_filename() or "") for a in message.iter_attachments()]
    files = ("附件 " + "".join(f"<span>{n}</span>" for n in names)) if names else ""
    return PAGE.format(
        subject=html.escape(str(message["Subject"])),
        sender=html.escape(str(message["From"])),
        to=html.escape(str(message["To"])),
        date=html.escape(str(message["Date"])),
        body=html.escape(text.strip()),
        files=files,
    )


def first_of_each_kind(outbox: Path) -> dict[str, EmailMessage]:
    """The first mail of each kind in the outbox, by the subject's marker."""
    found: dict[str, EmailMessage] = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        for marker, name in KINDS.items():
            if marker in str(message["Subject"]) and name not in found:
                found[name] = message
    return found


def main() -> None:
    from playwright.sync_api import sync_playwright

    outbox, out = Path(sys.argv[1]), Path(sys.argv[2])
    mails = first_of_each_kind(outbox)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 800, "height": 200})
        for name, message in mails.items():
            tab.set_content(page(message))
            tab.locator(".mail").screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
