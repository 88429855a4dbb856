"""Flow: publish a month — consolidate, freeze a new version when anything changed, and (optionally) send it."""

from __future__ import annotations

from prefect import flow, get_run_logger

from core.month import Month
from flows.runtime import load_runtime
from tasks.mail.send import sink_from_settings
from tasks.publish import steps
from tasks.publish.record import latest_publication
from warehouse.seed import ensure_months


def _summary(content) -> str:
    total = content.rates.iloc[-1]
    return (
        f"应报 {total['expected']} 个单位，已报 {total['reported']} 个（报送率 {total['reporting_rate']:.0%}），"
        f"按时 {total['on_time']} 个（按时报送率 {total['on_time_rate']:.0%}）；未关闭警告 {len(content.warnings)} 条。"
    )


@flow(name="publish-month", retries=0)
def publish_month(month: str, send: bool = False) -> dict:
    """Write FUPIN_HOME/outputs/MONTH/ (version N+1 with a 变更 sheet when submissions changed); --send mails it."""
    month = Month(month)
    rt = load_runtime()
    cfg, engine, paths = rt.config, rt.engine, rt.settings.paths
    log = get_run_logger()
    with engine.begin() as conn:
        ensure_months(conn, cfg, [month])
    content = steps.gather_month(engine, cfg, month)
    previous = latest_publication(engine, month)
    if previous and previous.submission_ids == content.submission_ids and (paths.home / previous.path).is_file():
        pub, created = previous, False
        log.info("nothing changed since version %s of %s: not republished", previous.version, month)
    else:
        path, sha, version = steps.write_month_workbook(cfg, content, paths, previous)
        pub = steps.record(engine, month, version, path.relative_to(paths.home), sha, content.submission_ids)
        created = True
        log.info("published %s version %s: %s", month, version, path)
    sent = []
    if send:
        sink = sink_from_settings(rt.settings)
        sender = rt.settings.mail_from
        sent += steps.notify_submissions(engine, cfg, paths, sink, sender)
        sent += steps.send_labor_lists(engine, cfg, month, paths, sink, sender)
        mailed = steps.send_publication(engine, cfg, pub, paths, _summary(content), sink, sender)
        sent += [mailed] if mailed else []
    return {
        "month": month,
        "version": pub.version,
        "created": created,
        "path": str(paths.home / pub.path),
        "sha256": pub.sha256,
        "sent": [d.detail for d in sent],
    }
