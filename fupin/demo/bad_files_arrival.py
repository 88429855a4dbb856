"""Hostile arrivals: names in GBK bytes, symlinks out of the inbox, sender-set file times, a sparse gigabyte."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from config import Config
from fupin.demo.bad_files import BadFile, good_report

GBK_NAME = "朝阳区2020年9月报表.xlsx".encode("gbk")  # what a Windows PC or a Samba share writes
UNDECODABLE_NAME = b"\xff\xfe report \x80.xlsx"  # neither UTF-8 nor GB18030
FUTURE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
SPARSE_BYTES = 1 << 30


def byte_named(folder: Path, raw_name: bytes, data: bytes) -> Path:
    """A file whose name is exactly `raw_name`, whatever the bytes (os.fsdecode keeps them as surrogates)."""
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), raw_name)))
    path.write_bytes(data)
    return path


def symlink_to(folder: Path, name: str, target: str = "/etc/passwd") -> Path:
    """A link in the drop folder to a file outside it."""
    link = folder / name
    link.symlink_to(target)
    return link


def dated(path: Path, when: dt.datetime) -> Path:
    """Set the file's modification time, as any sender (or a wrong PC clock) can."""
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def sparse(path: Path, size: int = SPARSE_BYTES) -> Path:
    """A file of `size` zero bytes that takes no disk space (truncate)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def arrival_files(cfg: Config, out: Path, with_big: bool = True) -> list[BadFile]:
    """Write the hostile arrivals into `out`; each with the outcome expected."""
    good = good_report(cfg, out / "arrival_good.xlsx").read_bytes()
    byte_named(out, GBK_NAME, good)
    byte_named(out, UNDECODABLE_NAME, good[: len(good) // 2])
    dated(good_report(cfg, out / "dated_2030.xlsx", seed=3), FUTURE)
    symlink_to(out, "passwd_link.xlsx")
    files = [
        BadFile(GBK_NAME.decode("gbk"), "a good file whose name is GBK bytes, not UTF-8", None),
        BadFile(
            UNDECODABLE_NAME.decode("utf-8", "backslashreplace"), "half a file, name in no encoding", "damaged_zip"
        ),
        BadFile("dated_2030.xlsx", "modification time set to 2030: arrival is when we saw it", None),
        BadFile("passwd_link.xlsx", "a symlink to /etc/passwd", "symlink"),
    ]
    if with_big:
        sparse(out / "sparse_1gb.xlsx")
        files.append(BadFile("sparse_1gb.xlsx", "1 GB of zeros (sparse): refused from its size", "file_too_large"))
    return files
