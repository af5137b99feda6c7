#!/usr/bin/env python3
"""Builds the synthetic notebook-PC supply chain of this directory.

    python3 datasets/pc-supply-chain/build.py

writes footprints-pact-v2.json (a PACT v2 list response), footprints-pact-v3.ndjson (PACT v3,
one footprint per line) and bom.csv. The output is deterministic: ids are UUIDv5 of fixed
names and every number is a decimal computed here. Everything is synthetic; see README.md
for the public figures the magnitudes follow.

Each footprint is consistent with its inputs:
    cfp = g2g + gap + sum(amount * cfp(input))
where gap > 0 is upstream the company reports but no supplier footprint explains (untraced)
and gap < 0 is a mismatch (suppliers report more than the company counted). Amounts are in
the input's declared unit, converted where the BOM gives another unit.
"""

import json
import uuid
from decimal import Decimal as D, ROUND_HALF_EVEN
from pathlib import Path

HERE = Path(__file__).resolve().parent
NS = uuid.UUID("6d1e4a52-3f7b-4c1e-9a51-0b8e2c7d9f10")
GXD_SCHEMA = "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json"
BOM_SCHEMA = "urn:mieruka:data-model-extension:bom:1.0.0"
GX_SCHEMA = "urn:mieruka:data-model-extension:gx-attributes:1.0.0"

FY = {
    2023: ("2023-04-01T00:00:00Z", "2024-04-01T00:00:00Z", "2024-06-14T09:00:00Z"),
    2024: ("2024-04-01T00:00:00Z", "2025-04-01T00:00:00Z", "2025-06-13T09:00:00Z"),
}


def q(x, places=4):
    return D(x).quantize(D(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def fid(name):
    # Deterministic, but shaped as the random (version 4) UUIDs PACT asks for.
    return str(uuid.UUID(bytes=uuid.uuid5(NS, name).bytes, version=4))


def product_urn(slug):
    return f"urn:mieruka-demo:product:{slug}"


def company_urn(slug):
    return f"urn:mieruka-demo:company:{slug}"


# slug: company (slug, name), product name, description, CPC, country (or subdivision),
# PACT major version, declared unit, kg per declared unit, GxD calcMethod ("0", "1" or None
# for no GxD extension), and per fiscal year: g2g (None = no Gate-to-Gate data: a black box
# whose cfp is given directly as "cfp"), gap, primary data share, DQRs.
P = {}


def product(slug, company, cname, name, desc, cpc, geo, pact, unit, mass, calc, years, **kw):
    P[slug] = dict(company=company, cname=cname, name=name, desc=desc, cpc=cpc, geo=geo,
                   pact=pact, unit=unit, mass=D(mass), calc=calc, years=years, **kw)


def yr(g2g=None, gap="0", pds="30", dqr=("1.8", "1.6", "1.5"), cfp=None):
    return dict(g2g=None if g2g is None else D(g2g), gap=D(gap), pds=D(pds), dqr=dqr,
                cfp=None if cfp is None else D(cfp))


# --- tier 0 -----------------------------------------------------------------------------
product("kaede-note-14", "kaede", "楓コンピューティング株式会社",
        "ノートPC KAEDE Note 14 / Notebook PC KAEDE Note 14",
        "14型ノートPC（8コアSoC、16GB、512GB SSD、56Wh）; 14-inch notebook PC, 8-core SoC, 16 GB RAM, 512 GB SSD, 56 Wh battery",
        "4521", "JP-09", 3, "piece", "1.36", "0",
        {2023: yr("3.6", "15.2", "41", ("2.0", "1.7", "1.9")),
         2024: yr("3.2", "14.1", "48", ("1.8", "1.5", "1.7"))},
        certificate=("0.8", "非化石証書 (non-fossil certificate)"), verified=2024)

# --- tier 1: component makers -----------------------------------------------------------
product("aoba-lcm-140", "aoba", "株式会社あおば表示デバイス",
        "14型液晶モジュール AB-LCM140 / 14-inch LCD module",
        "14型 FHD IPS 液晶モジュール（バックライト・カバーガラス付）; 14-inch FHD IPS LCD module with backlight and cover glass",
        "4526", "JP-04", 3, "piece", "0.32", "0",
        {2023: yr("4.5", "2.3", "35", ("2.1", "1.8", "2.0")),
         2024: yr("4.1", "2.0", "39", ("1.9", "1.6", "1.8"))})
product("shinonome-mb-k14", "shinonome", "東雲エレクトロニクス株式会社",
        "メインボード SE-MB-K14 / Mainboard SE-MB-K14",
        "実装済みメインボード（SoC、LPDDR5 16GB）; populated mainboard with SoC and 16 GB LPDDR5",
        "4530", "JP-22", 3, "piece", "0.11", "0",
        {2023: yr("6.4", "3.4", "33", ("2.2", "1.9", "2.0")),
         2024: yr("5.8", "3.0", "37", ("2.0", "1.7", "1.8"))},
        draft2024=dict(g2g="6.1"))
product("hanbit-ssd-512", "hanbit-storage", "Hanbit Storage Co., Ltd.",
        "NVMe SSD 512 GB HS-512",
        "M.2 2280 NVMe SSD, 512 GB, TLC NAND",
        "4527", "KR", 3, "piece", "0.008", "0",
        {2023: yr("1.8", "0.9", "28", ("2.3", "2.0", "2.1")),
         2024: yr("1.6", "0.8", "31", ("2.1", "1.9", "2.0"))})
product("lotus-bp-56", "lotus-energy", "Lotus Energy Co., Ltd.",
        "Battery pack LE-56 (56 Wh)",
        "3-cell lithium-ion battery pack, 56 Wh, with battery management board",
        "4642", "TW", 3, "piece", "0.24", "0",
        {2023: yr("1.0", "0.35", "25", ("2.4", "2.1", "2.2")),
         2024: yr("0.9", "0.3", "29", ("2.2", "2.0", "2.1"))})
product("shinano-chassis-k14", "shinano", "信濃精密工業株式会社",
        "アルミ筐体 SP-K14 / Aluminium chassis SP-K14",
        "CNC切削・陽極酸化アルミ筐体（上下カバー）; CNC-machined, anodised aluminium chassis (top and bottom covers)",
        "4530", "JP-20", 2, "kilogram", "1", "0",
        {2023: yr("10.8", "1.7", "44", ("1.6", "1.4", "1.3")),
         2024: yr("9.5", "1.5", "52", ("1.5", "1.3", "1.2"))})
product("pearl-adp-65", "pearl-river", "Pearl River Power Co., Ltd.",
        "USB-C power adapter PRP-65W",
        "65 W USB Power Delivery adapter with 1.8 m cable",
        "4621", "CN-GD", 3, "piece", "0.25", "0",
        # Suppliers report more than the adapter maker counted upstream: a mismatch.
        {2023: yr("0.65", "-0.55", "18", ("2.8", "2.4", "2.6")),
         2024: yr("0.6", "-0.62", "20", ("2.7", "2.3", "2.5"))})
product("wakaba-kb-k14", "wakaba", "若葉入力機器株式会社",
        "キーボードユニット WK-K14 / Keyboard unit WK-K14",
        "日本語配列キーボード＋タッチパッド; Japanese-layout keyboard with touchpad",
        "4526", "JP-11", 2, "kilogram", "1", "1",
        {2023: yr("2.6", "4.3", "12", ("2.6", "2.4", "2.3")),
         2024: yr("2.4", "4.0", "12", ("2.6", "2.4", "2.3"))})

# --- tier 2 and 3: parts and materials ----------------------------------------------------
product("formosa-lcd-cell", "formosa", "Formosa Panel Corp.",
        "TFT-LCD cell, a-Si IPS", "TFT-LCD cell (array, colour filter, liquid crystal) per m² of panel",
        "4713", "TW", 2, "square meter", "2.9", "0",
        {2023: yr("335", "150", "40", ("1.9", "1.8", "1.7")),
         2024: yr("310", "140", "46", ("1.8", "1.7", "1.6"))})
product("kirameki-blu", "kirameki", "煌LED株式会社",
        "LEDバックライトユニット KL-BLU / LED backlight unit",
        "導光板・LEDバー・光学シート; light guide plate, LED bar and optical films",
        "4713", "JP-36", 2, "kilogram", "1", "0",
        # GxD extension without Gate-to-Gate data: a black box.
        {2024: yr(None, pds="0", cfp="95")})
product("hokuto-glass", "hokuto", "北斗ガラス株式会社",
        "無アルカリガラス 0.5mm / Alkali-free glass 0.5 mm",
        "ディスプレイ用無アルカリガラス基板; alkali-free display glass",
        "3712", "JP-01", 2, "kilogram", "1", "0",
        {2023: yr("1.7", "0.8", "55", ("1.5", "1.3", "1.4")),
         2024: yr("1.6", "0.8", "58", ("1.4", "1.3", "1.3"))})
product("hokuriku-al-sheet", "hokuriku", "北陸アルミニウム株式会社",
        "アルミ板 A5052 / Aluminium sheet A5052",
        "圧延アルミニウム板 A5052-H32; rolled aluminium sheet",
        "4153", "JP-16", 2, "kilogram", "1", "1",
        {2023: yr("0.95", "0.3", "10", ("2.5", "2.2", "2.4")),
         2024: yr("0.9", "0.3", "10", ("2.5", "2.2", "2.4"))})
product("sagami-cable", "sagami", "相模電線株式会社",
        "細線同軸ケーブルハーネス / Micro-coax cable harness",
        "LVDS/eDP 用細線同軸ケーブル・コネクタ; micro-coaxial cable harness with connectors",
        "4634", "JP-14", 2, "kilogram", "1", "0",
        {2023: yr("1.5", "0.5", "35", ("2.0", "1.8", "1.9")),
         2024: yr("1.4", "0.5", "38", ("1.9", "1.7", "1.8"))},
        older_gxd=True)
product("meridian-soc", "meridian", "Meridian Semiconductor Inc.",
        "Application processor MS-X9 (packaged)",
        "8-core application processor, 4 nm, packaged",
        "4714", "US", 3, "piece", "0.008", None,
        # No GxD extension: cradle-to-gate only, a black box.
        {2023: yr(None, pds="15", cfp="26.0"),
         2024: yr(None, pds="15", cfp="24.5")})
product("hanbit-dram", "hanbit-memory", "Hanbit Memory Co., Ltd.",
        "LPDDR5 DRAM package", "LPDDR5 DRAM packages, per kg",
        "4714", "KR", 2, "kilogram", "1", "0",
        {2023: yr("1950", "260", "30", ("2.1", "1.9", "2.0")),
         2024: yr("1800", "250", "34", ("2.0", "1.8", "1.9"))})
product("mikawa-pcb-8l", "mikawa", "三河回路基板株式会社",
        "8層プリント基板 / 8-layer printed circuit board",
        "FR-4 8層 HDI 基板（m²あたり）; FR-4 8-layer HDI board, per m²",
        "4712", "JP-23", 2, "square meter", "4.8", "0",
        {2023: yr("104", "62", "42", ("1.8", "1.6", "1.7")),
         2024: yr("95", "60", "45", ("1.7", "1.5", "1.6"))})
product("tamba-mlcc", "tamba", "丹波電子部品株式会社",
        "積層セラミックコンデンサ / Multilayer ceramic capacitors",
        "MLCC 0402/0201 各種（kgあたり）; assorted MLCCs, per kg",
        "4712", "JP-28", 2, "kilogram", "1", "0",
        {2023: yr("128", "46", "38", ("1.9", "1.7", "1.8")),
         2024: yr("120", "45", "40", ("1.8", "1.6", "1.7"))})
product("kioku-nand", "kioku", "記憶半導体株式会社",
        "3D NAND フラッシュ / 3D NAND flash packages",
        "TLC 3D NAND パッケージ（kgあたり）; TLC 3D NAND packages, per kg",
        "4714", "JP-24", 2, "kilogram", "1", "0",
        {2023: yr("5600", "1650", "36", ("2.0", "1.8", "1.9")),
         2024: yr("5200", "1600", "40", ("1.9", "1.7", "1.8"))})
product("jiangnan-cell", "jiangnan", "Jiangnan Cell Technology Co., Ltd.",
        "Lithium-ion pouch cell NCM", "NCM lithium-ion pouch cells, per kg",
        "4642", "CN-JS", 2, "kilogram", "1", "0",
        {2023: yr("7.2", "5.4", "26", ("2.3", "2.0", "2.2")),
         2024: yr("6.5", "5.0", "30", ("2.2", "1.9", "2.1"))})
product("setouchi-pcabs", "setouchi", "瀬戸内樹脂株式会社",
        "PC/ABS 樹脂 / PC/ABS resin", "難燃 PC/ABS ペレット; flame-retardant PC/ABS pellets",
        "3470", "JP-34", 2, "kilogram", "1", "0",
        {2023: yr("0.85", "2.6", "50", ("1.6", "1.4", "1.5")),
         2024: yr("0.8", "2.6", "55", ("1.5", "1.3", "1.4"))},
        revision2024=dict(g2g="0.85"))
product("besshi-copper", "besshi", "別子銅業株式会社",
        "電気銅 / Electrolytic copper cathode", "電気銅（LME グレードA）; copper cathode, grade A",
        "4141", "JP-38", 2, "kilogram", "1", "0",
        {2023: yr("1.2", "2.8", "48", ("1.6", "1.5", "1.5")),
         2024: yr("1.1", "2.8", "50", ("1.5", "1.4", "1.4"))})
product("nordic-al-ingot", "nordic", "Nordic Smelting AS",
        "Primary aluminium ingot, hydropower", "Primary aluminium ingot P1020, smelted with hydropower",
        "4132", "NO", 2, "kilogram", "1", "0",
        {2023: yr("1.9", "2.4", "60", ("1.4", "1.3", "1.3")),
         2024: yr("1.8", "2.4", "62", ("1.3", "1.2", "1.3"))})
product("echigo-wafer-300", "echigo", "越後シリコン株式会社",
        "300mm シリコンウェーハ / 300 mm silicon wafers", "300 mm プライムウェーハ（m²あたり）; prime wafers, per m²",
        "4715", "JP-15", 2, "square meter", "16.3", "0",
        {2023: yr("190", "140", "45", ("1.7", "1.6", "1.6")),
         2024: yr("180", "140", "47", ("1.6", "1.5", "1.5"))})
product("jade-ncm", "jade", "Jade Cathode Materials Co., Ltd.",
        "NCM811 cathode active material", "NCM811 cathode powder",
        "3429", "CN-JX", 2, "kilogram", "1", None,
        # No GxD data and only the older reference period: a black box, and older than the root.
        {2023: yr(None, pds="5", cfp="28")})

# parent, child, amount, unit ('' = the child's declared unit), where declared.
# 'csv' edges go to bom.csv (product level); 'ext' edges are the PC maker's own BOM extension.
BOM = [
    ("kaede-note-14", "aoba-lcm-140", "0.32", "kilogram", "ext"),   # kg → pieces: 0.32 kg / 0.32 kg per piece
    ("kaede-note-14", "shinonome-mb-k14", "1", "", "ext"),
    ("kaede-note-14", "hanbit-ssd-512", "1", "", "ext"),
    ("kaede-note-14", "lotus-bp-56", "1", "", "ext"),
    ("kaede-note-14", "shinano-chassis-k14", "0.42", "", "ext"),
    ("kaede-note-14", "pearl-adp-65", "1", "", "ext"),
    ("kaede-note-14", "wakaba-kb-k14", "0.25", "", "ext"),
    ("aoba-lcm-140", "formosa-lcd-cell", "0.0565", "", "csv"),
    ("aoba-lcm-140", "kirameki-blu", "0.045", "", "csv"),
    ("aoba-lcm-140", "hokuto-glass", "0.09", "", "csv"),
    ("aoba-lcm-140", "hokuriku-al-sheet", "0.06", "", "csv"),
    ("aoba-lcm-140", "sagami-cable", "0.015", "", "csv"),
    ("formosa-lcd-cell", "hokuto-glass", "2.6", "", "csv"),
    ("shinonome-mb-k14", "meridian-soc", "1", "", "csv"),
    ("shinonome-mb-k14", "hanbit-dram", "0.0045", "", "csv"),
    ("shinonome-mb-k14", "mikawa-pcb-8l", "0.032", "", "csv"),
    ("shinonome-mb-k14", "tamba-mlcc", "0.006", "", "csv"),
    ("shinonome-mb-k14", "sagami-cable", "0.008", "", "csv"),
    # A thermal module nobody has published a footprint for: a dangling reference. Its
    # emissions are in the mainboard's untraced upstream.
    ("shinonome-mb-k14", "thermal-module-tm14", "1", "piece", "csv"),
    ("hanbit-ssd-512", "kioku-nand", "0.0035", "", "csv"),
    ("hanbit-ssd-512", "hanbit-dram", "0.0005", "", "csv"),
    ("hanbit-ssd-512", "mikawa-pcb-8l", "0.0025", "", "csv"),
    # Counted in pieces, but the MLCC maker declares per kg and gives no mass per piece:
    # mieruka cannot convert this edge and reports it.
    ("hanbit-ssd-512", "tamba-mlcc", "40", "piece", "csv"),
    ("lotus-bp-56", "jiangnan-cell", "0.22", "", "csv"),
    ("lotus-bp-56", "mikawa-pcb-8l", "0.003", "", "csv"),
    ("lotus-bp-56", "sagami-cable", "0.01", "", "csv"),
    ("lotus-bp-56", "setouchi-pcabs", "0.015", "", "csv"),
    ("shinano-chassis-k14", "hokuriku-al-sheet", "1.7", "", "csv"),
    ("pearl-adp-65", "setouchi-pcabs", "0.09", "", "csv"),
    ("pearl-adp-65", "sagami-cable", "0.07", "", "csv"),
    ("pearl-adp-65", "tamba-mlcc", "0.004", "", "csv"),
    ("pearl-adp-65", "mikawa-pcb-8l", "0.006", "", "csv"),
    ("wakaba-kb-k14", "setouchi-pcabs", "0.55", "", "csv"),
    ("hokuriku-al-sheet", "nordic-al-ingot", "1.05", "", "csv"),
    ("sagami-cable", "besshi-copper", "0.6", "", "csv"),
    ("sagami-cable", "setouchi-pcabs", "0.3", "", "csv"),
    ("mikawa-pcb-8l", "besshi-copper", "2.2", "", "csv"),
    ("hanbit-dram", "echigo-wafer-300", "0.11", "", "csv"),
    ("kioku-nand", "echigo-wafer-300", "0.5", "", "csv"),
    # The SoC is a black box: this input is listed but never descended.
    ("meridian-soc", "echigo-wafer-300", "0.0007", "", "csv"),
    ("jiangnan-cell", "jade-ncm", "0.3", "", "csv"),
]

# Physical quantities the suppliers used in their own calculations where the BOM cannot be
# converted by mieruka: 40 MLCCs weigh 0.4 g.
TRUE_AMOUNT = {("hanbit-ssd-512", "tamba-mlcc"): D("0.0004")}
DANGLING = {"thermal-module-tm14"}


def cfp_of(slug, year, memo):
    if (slug, year) in memo:
        return memo[(slug, year)]
    p = P[slug]
    y = p["years"][year]
    if y["g2g"] is None:
        value = y["cfp"]
    else:
        total = y["g2g"] + y["gap"]
        for parent, child, amount, unit, _ in BOM:
            if parent != slug or child in DANGLING:
                continue
            a = TRUE_AMOUNT.get((parent, child), D(amount))
            c = P[child]
            if unit == "kilogram" and c["unit"] != "kilogram":
                a = a / c["mass"]
            cy = year if year in c["years"] else max(c["years"])
            total += a * cfp_of(child, cy, memo)
        value = q(total)
    memo[(slug, year)] = value
    return value


def dqr_v2(d):
    t, te, g = (float(x) for x in d)
    # PACT v2 rates DQRs 1-3: map the 1-5 scale used here onto it.
    f = lambda x: round(1 + (x - 1) / 2, 2)
    return {"coveragePercent": 95, "technologicalDQR": f(t), "temporalDQR": f(te),
            "geographicalDQR": f(g), "completenessDQR": f((t + te) / 2), "reliabilityDQR": f(g)}


def geography(geo):
    return {"geographyCountrySubdivision": geo} if "-" in geo else {"geographyCountry": geo}


def gxd(p, y, slug):
    if p["calc"] is None:
        return None
    data = {"calcMethod": p["calc"], "FWedition": "1.1"}
    if p["calc"] == "1":
        data["organization"] = {
            "scope3Category": ["1", "4"],
            "scope1DistributionLevel": "site",
            "scope2DistributionLevel": "site",
            "scope3DistributionLevel": "organization",
            "scope1DistributionIndex": "production",
            "scope2DistributionIndex": "production",
            "scope3DistributionIndex": "volume",
            "distributionLevelComment": "工場単位で按分 / allocated per site",
        }
    if y["g2g"] is not None:
        if p.get("older_gxd"):
            # The consortium's earlier field names, still in use by some solutions.
            data["gateToGate"] = {"fossilGhgEmissions": str(y["g2g"]),
                                  "upstreamEmissions": str(q(y["total"] - y["g2g"]))}
        else:
            data["gateToGate"] = {"gateToGateFossilGhgEmissions": str(y["g2g"]),
                                  "unitaryProductAmountComment": f"1 {p['unit']}"}
    if p.get("certificate"):
        amount, kind = p["certificate"]
        data["certificate"] = {"certificateAmount": amount, "certificateType": kind}
    return {"specVersion": "2.0.0", "dataSchema": GXD_SCHEMA, "data": data}


# GX attributes for the requirement sheet: gx_declaration, progress_disclosed,
# publicly_disclosed, certified, circular_inflow_pct, circular_outflow_pct,
# aep_kgco2e_per_unit, additionality, national_target_contribution, support_measures.
# None = not known (an empty CSV cell: scored as missing). The PC maker gives its own in
# mieruka's GX attributes extension on its FY2024 footprint; the others come as CSV.
GX = {
    "kaede-note-14": (True, True, True, None, "12", "45", "18.5", False, True, True),
    "aoba-lcm-140": (True, True, False, False, "8", "30", None, False, True, False),
    "shinonome-mb-k14": (True, True, True, False, "5", "20", None, False, True, True),
    "hanbit-ssd-512": (True, False, True, False, "3", "10", "2.1", False, False, False),
    "lotus-bp-56": (True, True, False, True, "15", "60", None, True, True, True),
    "shinano-chassis-k14": (True, True, True, True, "35", "80", None, False, True, False),
    "pearl-adp-65": (False, False, False, False, "10", "25", None, False, False, False),
    "wakaba-kb-k14": (True, None, None, None, None, None, None, None, None, None),
    "hokuriku-al-sheet": (True, True, True, False, "40", "90", None, False, True, True),
    "nordic-al-ingot": (True, True, True, True, "5", "95", "11.8", True, False, False),
    "jiangnan-cell": (True, False, False, False, "2", "15", None, False, True, True),
}
GX_FIELDS = ["gx_declaration", "progress_disclosed", "publicly_disclosed", "certified",
             "circular_inflow_pct", "circular_outflow_pct", "aep_kgco2e_per_unit", "additionality",
             "national_target_contribution", "support_measures"]


def gx_extension(slug, year):
    if slug != "kaede-note-14" or year != 2024:
        return None
    camel = ["gxDeclaration", "progressDisclosed", "publiclyDisclosed", "certified",
             "circularInflowPct", "circularOutflowPct", "aepKgco2ePerUnit", "additionality",
             "nationalTargetContribution", "supportMeasures"]
    data = {k: v for k, v in zip(camel, GX[slug]) if v is not None}
    return {"specVersion": "1.0.0", "dataSchema": GX_SCHEMA, "data": data}


def bom_extension(slug):
    inputs = []
    for parent, child, amount, unit, where in BOM:
        if parent == slug and where == "ext":
            i = {"productId": product_urn(child), "amount": amount}
            if unit:
                i["unit"] = unit
            inputs.append(i)
    if not inputs:
        return None
    return {"specVersion": "1.0.0", "dataSchema": BOM_SCHEMA, "data": {"inputs": inputs}}


def footprint(slug, year, memo, *, id_name=None, version=1, g2g_override=None,
              status="Active", preceding=None, created=None):
    p = P[slug]
    y = dict(p["years"][year])
    if g2g_override is not None:
        y["g2g"] = D(g2g_override)
    total = cfp_of(slug, year, memo)
    if g2g_override is not None:
        total = q(total - p["years"][year]["g2g"] + y["g2g"])
    y["total"] = total
    start, end, made = FY[year]
    made = created or made
    ext = [e for e in (gxd(p, y, slug), bom_extension(slug), gx_extension(slug, year)) if e]
    ident = fid(id_name or f"{slug}/{year}")
    common = {
        "id": ident,
        "created": made,
        "status": status,
        "validityPeriodStart": end,
        "validityPeriodEnd": end.replace(end[:4], str(int(end[:4]) + 3)),
        "companyName": p["cname"],
        "companyIds": [company_urn(p["company"])],
        "productDescription": p["desc"],
        "productIds": [product_urn(slug)],
        "productNameCompany": p["name"],
        "comment": f"FY{year} (April–March). Synthetic demonstration data; 合成データ。",
    }
    if preceding:
        common["precedingPfIds"] = preceding
    if p["pact"] == 2:
        doc = {"specVersion": "2.3.0", "version": version, **common,
               "productCategoryCpc": p["cpc"]}
        doc["pcf"] = {
            "declaredUnit": p["unit"],
            "unitaryProductAmount": "1",
            "productMassPerDeclaredUnit": str(p["mass"]),
            "pCfExcludingBiogenic": str(total),
            "pCfIncludingBiogenic": str(total),
            "fossilGhgEmissions": str(total),
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "characterizationFactors": "AR6",
            "ipccCharacterizationFactorsSources": ["AR6"],
            "crossSectoralStandardsUsed": ["GHG Protocol Product standard", "ISO Standard 14067"],
            "crossSectoralStandards": ["GHGP-Product", "ISO14067", "PACT-2.0"],
            "boundaryProcessesDescription": "Cradle-to-gate: materials, parts, own production; transport to the customer excluded.",
            "referencePeriodStart": start,
            "referencePeriodEnd": end,
            **geography(p["geo"]),
            "secondaryEmissionFactorSources": [{"name": "IDEA", "version": "3.3"}],
            "exemptedEmissionsPercent": 0.5,
            "exemptedEmissionsDescription": "Auxiliary materials below the cut-off",
            "packagingEmissionsIncluded": False,
            "primaryDataShare": float(y["pds"]),
            "dqi": dqr_v2(y["dqr"]),
            "assurance": {"assurance": False, "providerName": ""},
        }
    else:
        doc = {"specVersion": "3.0.0", **common,
               "productClassifications": [f"urn:pact:productclassification:un-cpc:{p['cpc']}"]}
        t, te, g = y["dqr"]
        doc["pcf"] = {
            "declaredUnitOfMeasurement": p["unit"],
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": str(p["mass"]),
            "referencePeriodStart": start,
            "referencePeriodEnd": end,
            **geography(p["geo"]),
            "boundaryProcessesDescription": "Cradle-to-gate: materials, parts, own assembly and testing.",
            "pcfExcludingBiogenicUptake": str(total),
            "pcfIncludingBiogenicUptake": str(total),
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "fossilGhgEmissions": str(total),
            "packagingEmissionsIncluded": True,
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["GHGP-Product", "ISO14067", "PACT-3.0"],
            "exemptedEmissionsPercent": "0.5",
            "secondaryEmissionFactorSources": [{"name": "IDEA", "version": "3.4"}],
            "primaryDataShare": str(y["pds"]),
            "dqi": {"technologicalDQR": t, "temporalDQR": te, "geographicalDQR": g},
        }
        if p.get("verified") == year:
            doc["pcf"]["verification"] = {
                "coverage": "product level",
                "providerName": "一般財団法人 検証機構 (fictitious verifier)",
                "completedAt": "2025-06-01T00:00:00Z",
                "standardName": "ISO 14067:2018",
            }
    if ext:
        doc["extensions"] = ext
    return doc


def main():
    memo = {}
    docs = []
    for slug, p in P.items():
        for year in sorted(p["years"]):
            if year == 2024 and p.get("revision2024"):
                # Version 1 was published, then corrected: the same id with version 2.
                docs.append(footprint(slug, year, memo, version=1,
                                      g2g_override=p["revision2024"]["g2g"],
                                      created="2025-05-09T09:00:00Z"))
                docs.append(footprint(slug, year, memo, version=2))
                continue
            if year == 2024 and p.get("draft2024"):
                # A v3 draft superseded by a new footprint that names it in precedingPfIds.
                draft = footprint(slug, year, memo, id_name=f"{slug}/{year}/draft",
                                  g2g_override=p["draft2024"]["g2g"], status="Deprecated",
                                  created="2025-05-09T09:00:00Z")
                docs.append(draft)
                docs.append(footprint(slug, year, memo, preceding=[draft["id"]]))
                continue
            docs.append(footprint(slug, year, memo))

    v2 = [d for d in docs if d["specVersion"].startswith("2.")]
    v3 = [d for d in docs if d["specVersion"].startswith("3.")]
    (HERE / "footprints-pact-v2.json").write_text(
        json.dumps({"data": v2}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (HERE / "footprints-pact-v3.ndjson").write_text(
        "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in v3),
        encoding="utf-8")
    lines = ["parent_product_id,child_product_id,amount,unit"]
    for parent, child, amount, unit, where in BOM:
        if where == "csv":
            lines.append(f"{product_urn(parent)},{product_urn(child)},{amount},{unit}")
    (HERE / "bom.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    cell = lambda v: "" if v is None else ("true" if v is True else "false" if v is False else v)
    gx_lines = ["product_id," + ",".join(GX_FIELDS)]
    for slug, values in GX.items():
        if slug == "kaede-note-14":
            continue  # in its footprint's extension
        gx_lines.append(product_urn(slug) + "," + ",".join(cell(v) for v in values))
    (HERE / "gx-attributes.csv").write_text("\n".join(gx_lines) + "\n", encoding="utf-8")

    print(f"{len(docs)} footprints ({len(v2)} PACT v2, {len(v3)} PACT v3), "
          f"{len(lines) - 1} BOM rows, {len(gx_lines) - 1} GX attribute rows, {len(P)} products")
    for year in (2023, 2024):
        print(f"  KAEDE Note 14 FY{year}: {cfp_of('kaede-note-14', year, memo)} kgCO2e per PC")


if __name__ == "__main__":
    main()
