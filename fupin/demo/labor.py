"""Generate the HR bureau's person-level labor records: Attachment 1 exactly, plus configurable noise."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from config import Config
from contracts.identity import check_chars

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉兵辉")
EMPLOYERS = [
    f"北京{a}{b}有限公司"
    for a in ("华信", "京城", "宏达", "永安", "中盛", "恒通", "安泰", "首创")
    for b in ("物业管理", "餐饮服务", "建筑工程", "保洁服务", "物流")
]
# Origins outside the paired counties, for the central/western provinces' remaining people (illustrative).
OTHER_ORIGINS = [
    ("河南省", "周口市", "郸城县"),
    ("四川省", "南充市", "仪陇县"),
    ("甘肃省", "定西市", "岷县"),
    ("贵州省", "毕节市", "威宁县"),
    ("云南省", "昭通市", "镇雄县"),
    ("安徽省", "阜阳市", "临泉县"),
    ("湖北省", "恩施土家族苗族自治州", "利川市"),
    ("湖南省", "邵阳市", "隆回县"),
    ("山西省", "忻州市", "静乐县"),
    ("陕西省", "商洛市", "商南县"),
    ("江西省", "赣州市", "于都县"),
    ("广西壮族自治区", "百色市", "田东县"),
]
AREA_CODES = np.array([410000 + i for i in range(1, 90)] + [510100 + i for i in range(1, 60)])
HEADERS = ["序号", "姓名", "性别", "公民身份号码", "户籍省", "户籍市", "户籍县", "就业区", "用工单位", "参保状态"]


@dataclass(frozen=True)
class Noise:
    """Rows that must not change Attachment 1: lapsed people, repeated numbers and invalid numbers."""

    lapsed: int = 0
    duplicates: int = 0
    invalid_ids: int = 0


def attachment1_counts(cfg: Config) -> tuple[dict[str, int], dict[tuple[str, str, str], int]]:
    """The notice's district counts (表1) and every paired county with a known figure (表2)."""
    ref = cfg.reference
    by_county = {}
    for c in cfg.paired_counties:
        figure = ref["labor_by_paired_county"].get(c.province, {}).get("counties", {}).get(c.county)
        if figure:
            by_county[(c.province, c.city, c.county)] = int(figure)
    return {k: int(v) for k, v in ref["labor_by_district"].items()}, by_county


def small_counts(cfg: Config, divisor: int = 1000) -> tuple[dict[str, int], dict[tuple[str, str, str], int]]:
    """Attachment 1 scaled down (at least one person everywhere), for fast tests and demos."""
    by_district, by_county = attachment1_counts(cfg)
    return (
        {k: max(1, v // divisor) for k, v in by_district.items()},
        {k: max(1, v // divisor) for k, v in by_county.items()},
    )


def _ids(rng: np.random.Generator, n: int, start: int = 0) -> np.ndarray:
    """n distinct valid numbers: a random area, a birth day and a sequence made unique by a counter."""
    serial = np.arange(start, start + n, dtype=np.int64)
    area = rng.choice(AREA_CODES, n)
    birth = (np.datetime64("1965-01-01") + (serial // 1000) % 12000).astype("datetime64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth), "-", "")
    seq = serial % 1000
    body = np.char.add(np.char.add(area.astype(str), ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - np.uint8(48)
    check = check_chars(digits).view("S1").astype(str)
    return np.char.add(body, check)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    second = np.array(GIVEN + [""] * 10)  # one name in five has a single-character given name
    g = np.char.add(np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], second[rng.integers(0, len(second), n)])
    return np.char.add(s, g)


def _district_text(rng: np.random.Generator, districts: np.ndarray) -> np.ndarray:
    """朝阳区 as the bureau writes it: 朝阳, 朝阳区 or 北京市朝阳区."""
    style = rng.integers(0, 3, len(districts))
    short = np.char.replace(districts.astype(str), "区", "")
    return np.where(style == 0, short, np.where(style == 1, districts, np.char.add("北京市", districts)))


def generate_labor(
    cfg: Config,
    by_district: dict[str, int] | None = None,
    by_paired_county: dict[tuple[str, str, str], int] | None = None,
    noise: Noise = Noise(),
    seed: int = 2020,
) -> pd.DataFrame:
    """Person rows whose insured, valid, distinct people add up to the given counts (default: Attachment 1)."""
    rng = np.random.default_rng(seed)
    ref_district, ref_county = attachment1_counts(cfg)
    by_district = ref_district if by_district is None else by_district
    by_paired_county = ref_county if by_paired_county is None else by_paired_county
    cw = set(cfg.central_western_provinces)
    cw_total = sum(by_district.values())
    cw_paired = {k: v for k, v in by_paired_county.items() if k[0] in cw}
    other_paired = {k: v for k, v in by_paired_county.items() if k[0] not in cw}
    rest = cw_total - sum(cw_paired.values())
    if rest < 0:
        raise ValueError("central/western paired counties exceed the district total")
    others = rng.multinomial(rest, [1 / len(OTHER_ORIGINS)] * len(OTHER_ORIGINS))
    origins = [*cw_paired.items(), *zip(OTHER_ORIGINS, others.tolist(), strict=False)]
    cw_origin = rng.permutation(np.repeat(np.arange(len(origins)), [n for _, n in origins]))
    cw_district = np.repeat(list(by_district), list(by_district.values()))
    nc_origin = np.repeat(np.arange(len(origins), len(origins) + len(other_paired)), list(other_paired.values()))
    all_origins = [o for o, _ in origins] + list(other_paired)
    nc_district = rng.choice([u.name for u in cfg.districts], len(nc_origin))
    origin_idx = np.concatenate([cw_origin, nc_origin, rng.integers(0, len(all_origins), noise.lapsed)])
    district = np.concatenate([cw_district, nc_district, rng.choice([u.name for u in cfg.districts], noise.lapsed)])
    n = len(origin_idx)
    status = np.array([cfg.labor.insured_values[0]] * (n - noise.lapsed) + [cfg.labor.lapsed_values[0]] * noise.lapsed)
    table = np.array(all_origins, dtype=object)[origin_idx]
    frame = pd.DataFrame(
        {
            "姓名": _names(rng, n),
            "性别": rng.choice(["男", "女"], n),
            "公民身份号码": _ids(rng, n),
            "户籍省": [t[0] for t in table],
            "户籍市": [t[1] for t in table],
            "户籍县": [t[2] for t in table],
            "就业区": _district_text(rng, district),
            "用工单位": rng.choice(EMPLOYERS, n),
            "参保状态": status,
        }
    )
    frame = _add_noise(frame, rng, noise)
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame.insert(0, "序号", np.arange(1, len(frame) + 1))
    return frame[HEADERS]


def _add_noise(frame: pd.DataFrame, rng: np.random.Generator, noise: Noise) -> pd.DataFrame:
    """Repeat some rows verbatim and add rows whose number fails its check character."""
    parts = [frame]
    if noise.duplicates:
        parts.append(frame.iloc[rng.choice(len(frame), noise.duplicates, replace=False)])
    if noise.invalid_ids:
        bad = frame.iloc[rng.choice(len(frame), noise.invalid_ids, replace=False)].copy()
        ids = bad["公民身份号码"].str[:17]
        good_last = bad["公民身份号码"].str[17]
        bad["公民身份号码"] = ids + good_last.map(lambda c: "0" if c != "0" else "1")
        parts.append(bad)
    return pd.concat(parts, ignore_index=True)


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8", title: str | None = None) -> Path:
    """The bureau's CSV export, with an optional title row before the header."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        if title:
            csv.writer(fh).writerow([title])
        frame.to_csv(fh, index=False)
    return path


def write_xlsx(frame: pd.DataFrame, path: Path, title: str | None = None, sheet: str = "人员名单") -> Path:
    """The bureau's xlsx export (xlsxwriter, constant memory), with an optional title row before the header."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet(sheet)
    row = 0
    if title:
        ws.write_string(0, 0, title)
        row = 1
    ws.write_row(row, 0, list(frame.columns))
    for offset, values in enumerate(zip(*(frame[c].tolist() for c in frame.columns), strict=False), start=row + 1):
        ws.write_row(offset, 0, values)
    book.close()
    return path


def main(argv: list[str] | None = None) -> None:
    """`python -m fupin.demo.labor OUT_DIR [--scale S]`: write a month of the bureau's export as CSV (GBK) and xlsx."""
    import argparse

    from config import load_config

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=int, default=1, help="divide Attachment 1 by this (1 = the notice's size)")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args(argv)
    cfg = load_config()
    counts = attachment1_counts(cfg) if args.scale == 1 else small_counts(cfg, args.scale)
    n = sum(counts[0].values())
    frame = generate_labor(cfg, *counts, Noise(lapsed=n // 100, duplicates=n // 300, invalid_ids=n // 1000), args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    title = "北京市建档立卡贫困劳动力在京就业人员名单（人社局社保信息）"
    for path in (
        write_csv(frame, args.out / "人社局_建档立卡劳动力.csv", encoding="gb18030", title=title),
        write_xlsx(frame, args.out / "人社局_建档立卡劳动力.xlsx", title=title),
    ):
        print(path)


if __name__ == "__main__":
    main()
