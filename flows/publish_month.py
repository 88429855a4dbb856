"""Flow: publish a month — consolidate, freeze a new version when anything changed, (optionally) send it, and for the
final publication lock the month."""

from __future__ import annotations

from prefect import flow

from core.errors import FupinError
from core.month import Month
from flows.labor_steps import write_labor_lists
from flows.runtime import load_runtime, run_log
from tasks.intake.provenance import cli_source
from tasks.mail.send import sink_from_settings
from tasks.publish import steps
from tasks.publish.brief import MissingFont
from tasks.publish.content import PublicationContent
from tasks.publish.record import latest_publication
from tasks.review.lock import lock_month
from warehouse.seed import ensure_months


class EmptyMonth(FupinError):
    """No unit has an accepted report for the month: there is nothing to publish (exit 1)."""


def _summary(content: PublicationContent, final: bool) -> str:
    total = content.rates.iloc[-1]
    return (
        f"{content.cover_line}。应报 {total['expected']} 个单位，已报 {total['reported']} 个（报送率 "
        f"{total['reporting_rate']:.0%}），按时 {total['on_time']} 个（按时报送率 {total['on_time_rate']:.0%}）；"
        f"警告 {len(content.warnings)} 条，其中未说明 {content.n_unexplained} 条。"
        + ("本版为终版，本月已锁定。" if final else "")
    )


@flow(name="publish-month", retries=0)
def publish_month(
    month: str, send: bool = False, final: bool = False, dry_run: bool = False, actor: str | None = None
) -> dict:
    """Write FUPIN_HOME/outputs/MONTH/ (version N+1 with a 变更 sheet when submissions changed, and its one-page
    brief as PDF and PNG); `send` mails both
    (with the districts' lists-ready notices, and any receipt or rejection still owed after a failed send);
    `final` locks the month after publishing (the deployment's parameter); `dry_run` sends and locks nothing and
    says who would receive what. A month with no accepted report is refused."""
    month = Month(month)
    rt = load_runtime()
    cfg, engine, paths = rt.config, rt.engine, rt.settings.paths
    log = run_log()
    with engine.begin() as conn:
        ensure_months(conn, cfg, [month])
    content = steps.gather_month(engine, cfg, month)
    if content.n_reported == 0:
        raise EmptyMonth(
            f"{month} 没有任何已接受的报表，不发布 / no accepted report for {month}: nothing published "
            f"({content.cover_line})"
        )
    missing = content.n_expected - content.n_reported
    if missing:
        log.warning("%s: %d unit(s) have not reported; %s", month, missing, content.cover_line)
    previous = latest_publication(engine, month)
    if previous and previous.submission_ids == content.submission_ids and (paths.home / previous.path).is_file():
        pub, created = previous, False
        log.info("nothing changed since version %s of %s: not republished", previous.version, month)
    else:
        path, sha, version = steps.write_month_workbook(cfg, content, paths, previous)
        pub = steps.record(engine, month, version, path.relative_to(paths.home), sha, content.submission_ids)
        created = True
        log.info("published %s version %s: %s", month, version, path)
    brief_pdf, _ = steps.brief_paths(cfg, month, pub.version, paths)
    if created or not brief_pdf.is_file():
        try:
            brief_pdf, _ = steps.write_month_brief(engine, cfg, content, paths, pub.version)
            log.info("brief of %s version %s: %s", month, pub.version, brief_pdf)
        except MissingFont as exc:  # a machine without fonts-noto-cjk still publishes and sends the workbook
            log.warning("简报未生成 / the brief was not written: %s", exc)
    locked = []
    if final and not dry_run:
        who = actor or cli_source()
        locked = lock_month(engine, cfg, month, who, "终版发布 / final publication", pub.publication_id, strict=False)
    sent = []
    if send:
        sink = None if dry_run else sink_from_settings(rt.settings)
        sender = rt.settings.mail_from
        # Receipts and rejections went out at each ingest; only what is still owed (a send that failed) goes here.
        sent += steps.notify_submissions(engine, cfg, paths, sink, sender, dry_run)
        # The lists are written on demand, not at the labor load: make sure each is there (and current) before the
        # districts hear it is ready, or before it goes attached and encrypted with the platform off. An unchanged
        # list is not rewritten, so after the close's own step this costs a glance; a dry run writes nothing.
        if not dry_run:
            write_labor_lists(rt, month)
        sent += steps.send_labor_lists(engine, cfg, month, paths, rt.settings.web_url, sink, sender, dry_run)
        mailed = steps.send_publication(engine, cfg, pub, paths, _summary(content, final), sink, sender, dry_run)
        sent += [mailed] if mailed else []
    return {
        "month": month,
        "version": pub.version,
        "created": created,
        "path": str(paths.home / pub.path),
        "sha256": pub.sha256,
        "brief": str(brief_pdf) if brief_pdf.is_file() else None,
        "cover": content.cover_line,
        "missing": missing,
        "final": final,
        "locked": len(locked),
        "dry_run": dry_run,
        "sent": [d.detail for d in sent],
    }
