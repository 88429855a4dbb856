"""Check a workbook as ingest-file would, storing nothing: the parse, every contract, then the warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine

from config import Config
from contracts.messages import Issue
from contracts.parsed import ParsedReport
from contracts.report import check_report
from tasks.report.parse import parse_report
from tasks.report.warnings import report_warnings


@dataclass(frozen=True)
class WorkbookCheck:
    """What a workbook would become: its parse, the errors that reject it, and the warnings a valid one carries."""

    parsed: ParsedReport
    errors: list[Issue]
    warnings: list[Issue] = field(default_factory=list)


def check_parsed(
    parsed: ParsedReport, config: Config, engine: Engine, received_on: dt.date, folder_unit: str | None = None
) -> WorkbookCheck:
    """The contracts on a parsed report; warnings (against the warehouse's history) only when it passes them."""
    errors = check_report(parsed, config, received_on, folder_unit)
    return WorkbookCheck(parsed, errors, [] if errors else report_warnings(engine, parsed, config))


def check_workbook(
    data: bytes,
    name: str,
    config: Config,
    engine: Engine,
    received_on: dt.date,
    folder_unit: str | None = None,
) -> WorkbookCheck:
    """Parse and check a workbook's bytes as received on `received_on` (office date); nothing is stored."""
    return check_parsed(parse_report(data, name, config), config, engine, received_on, folder_unit)
