"""Fixed facts of the synthetic North Denmark Region and its calendar.

Sources are cited as [Sx] from ``shared/DANISH_DATA.md``; numbers without a
source are the generator's own assumptions and are listed in ``truth.json``.
"""

from __future__ import annotations

import numpy as np

#: Version of the generator; bump whenever output for a given seed changes.
GENERATOR_VERSION = "1.0.0"

#: Persons simulated together (memory and row groups scale with this).
CHUNK_PERSONS = 10_000

#: Calendar: data run 2015-01-01 .. 2024-12-31. Internal time is days since START.
START_YEAR = 2015
END_YEAR = 2024
YEARS = np.arange(START_YEAR, END_YEAR + 1)
EPOCH_OFFSET = 16436  # days from 1970-01-01 to 2015-01-01
#: First day of each year 2015..2025 in days since 2015-01-01.
YEAR_START = np.array(
    [
        (np.datetime64(f"{y}-01-01") - np.datetime64("2015-01-01")).astype(int)
        for y in range(START_YEAR, END_YEAR + 2)
    ],
    dtype=np.int64,
)
END_DAY = int(YEAR_START[-1])  # 2025-01-01: exclusive end of data
DAYS_PER_YEAR = 365.25  # hazards are rates per year of 365.25 days

#: Region Nordjylland municipalities: code, name, population 2020 [S33,S34].
MUNICIPALITIES: list[tuple[str, str, int]] = [
    ("851", "Aalborg", 217_075),
    ("860", "Hjørring", 64_483),
    ("813", "Frederikshavn", 59_654),
    ("787", "Thisted", 43_423),
    ("846", "Mariagerfjord", 41_800),
    ("849", "Jammerbugt", 38_324),
    ("820", "Vesthimmerland", 36_727),
    ("810", "Brønderslev", 36_304),
    ("840", "Rebild", 31_113),
    ("773", "Morsø", 20_247),
    ("825", "Læsø", 1_786),
]
MUNI_CODES = np.array([m[0] for m in MUNICIPALITIES])
MUNI_POP = np.array([m[2] for m in MUNICIPALITIES], dtype=float)
REGION_POPULATION = int(MUNI_POP.sum())  # 589,936 [S33]
N_PRACTICES = 200  # the "about 200 practices"; DANISH_DATA §2 gives 285 GPs [S17]
PATIENTS_PER_GP = 1_900  # Nordjylland ~1,714 per FTE in 2014, norm 1,600 [S12,S13]

#: Hospital (SHAK) serving each municipality [S37]: 8003 Regionshospital
#: Nordjylland (Hjørring, Frederikshavn) for the north, else 8001 AaUH.
NORTH_MUNIS = {"860", "813", "825", "810"}

#: Danish adult population by 5-year age band at 2015-01-01 (thousands,
#: Statistics Denmark FOLK1A, rounded; the generator's assumption), and the
#: female share per band (women outlive men).
AGE_BANDS = np.array([18, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100])
AGE_BAND_POP = np.array(
    [140, 365, 345, 320, 345, 390, 410, 400, 370, 345, 340, 290, 200, 135, 85, 40, 10],
    dtype=float,
)
AGE_BAND_FEMALE = np.array(
    [
        0.49,
        0.49,
        0.49,
        0.495,
        0.50,
        0.50,
        0.50,
        0.50,
        0.50,
        0.505,
        0.51,
        0.52,
        0.545,
        0.58,
        0.64,
        0.71,
        0.78,
    ]
)

#: GP service codes (ydelseskoder, OK2022) [S11] and their contact form.
GP_SERVICES = np.array(["0101", "0120", "0201", "0204", "0105", "0125", "0411", "0121"])
GP_FORMS = np.array(
    ["consultation", "consultation", "phone", "phone", "email", "video", "home_visit", "home_visit"]
)

#: Chronic conditions (order matters: it is the column order of the state matrix).
CONDITIONS = ["hypertension", "t2d", "af", "copd", "ckd", "hf", "dementia"]
HTN, T2D, AF, COPD, CKD, HF, DEM = range(len(CONDITIONS))

#: ICPC-2-DK code per condition [S7]; hypertension has K86 (uncomplicated)
#: and K87 (with organ involvement).
ICPC_OF = {
    HTN: "K86",
    T2D: "T90",
    AF: "K78",
    COPD: "R95",
    CKD: "U99",
    HF: "K77",
    DEM: "P70",
}
#: SKS diagnosis codes per condition as B-diagnoses [S7].
SKS_OF = {
    HTN: ["DI109"],
    T2D: ["DE119", "DE119", "DE118", "DE112"],
    AF: ["DI489", "DI489", "DI480", "DI481"],
    COPD: ["DJ449", "DJ449", "DJ448"],
    CKD: ["DN189", "DN183", "DN184"],
    HF: ["DI500", "DI509", "DI501"],
    DEM: ["DF039", "DF009", "DF019"],
}

#: ICPC codes of acute GP problems that carry no chronic condition, with relative
#: frequencies (the generator's assumption: infections and musculoskeletal first).
ICPC_ACUTE_WEIGHT = np.array(
    [14, 10, 8, 6, 6, 5, 9, 5, 4, 7, 5, 4, 3, 3, 2, 3, 6, 2, 2, 3], dtype=float
)
ICPC_ACUTE = np.array(
    [
        "R74",
        "U71",
        "L03",
        "R05",
        "A03",
        "N01",
        "L02",
        "S18",
        "D01",
        "L86",
        "R78",
        "P06",
        "A97",
        "S74",
        "F70",
        "D12",
        "L15",
        "T93",
        "K95",
        "H71",
    ]
)

#: Lab analyses: NPU code, unit [S19-S26].
LAB_HBA1C, LAB_CREA, LAB_EGFR, LAB_PROBNP, LAB_LDL, LAB_HB = range(6)
LABS = [
    ("NPU27300", "mmol/mol"),
    ("NPU18016", "µmol/L"),
    ("DNK35302", "mL/min/1.73m²"),
    ("NPU21571", "ng/L"),
    ("NPU01568", "mmol/L"),
    ("NPU02319", "mmol/L"),
]

#: Drugs per condition: (ATC, Danish display name with strength, days supply).
#: ATC codes [S27]; two alternatives per slot, chosen per person.
DRUGS: dict[int, list[list[tuple[str, str, int]]]] = {
    HTN: [
        [("C09AA05", "Ramipril 5 mg", 100), ("C09CA01", "Losartan 50 mg", 98)],
        [("C08CA01", "Amlodipin 5 mg", 100), ("C03AA03", "Hydrochlorthiazid 25 mg", 100)],
    ],
    T2D: [
        [("A10BA02", "Metformin 500 mg", 100), ("A10BA02", "Metformin 1 g", 100)],
        [("A10BK01", "Forxiga 10 mg", 98), ("A10BK03", "Jardiance 10 mg", 90)],
        [("A10BJ06", "Ozempic 1 mg", 84), ("A10BJ02", "Victoza 1,2 mg", 50)],
        [("C10AA05", "Atorvastatin 40 mg", 100), ("C10AA01", "Simvastatin 40 mg", 100)],
    ],
    AF: [
        [("B01AF02", "Eliquis 5 mg", 84), ("B01AF01", "Xarelto 20 mg", 98)],
        [("C07AB02", "Metoprolol 50 mg", 100), ("C07AB07", "Bisoprolol 5 mg", 100)],
    ],
    COPD: [
        [("R03BB04", "Spiriva 18 mikrog", 90), ("R03AL03", "Ultibro Breezhaler", 90)],
        [("R03AK07", "Symbicort 160/4,5", 60), ("R03AC02", "Ventoline 0,1 mg", 60)],
    ],
    CKD: [
        [("C09AA02", "Enalapril 10 mg", 100), ("C09CA01", "Losartan 50 mg", 98)],
    ],
    HF: [
        [("C03CA01", "Furix 40 mg", 100), ("C03CA02", "Burinex 1 mg", 100)],
        [("C07AB07", "Bisoprolol 5 mg", 100), ("C07AG02", "Carvedilol 25 mg", 100)],
        [("C03DA01", "Spironolakton 25 mg", 100), ("C09AA05", "Ramipril 5 mg", 100)],
    ],
    DEM: [
        [("N06DA02", "Donepezil 10 mg", 98), ("N06DX01", "Memantin 20 mg", 98)],
    ],
}
#: Drugs of frailty and ageing (GP sector), given with probability by frailty.
FRAIL_DRUGS = [
    ("N02BE01", "Panodil 1 g", 50),
    ("N05CF01", "Zopiclon 7,5 mg", 30),
    ("N02AX02", "Tramadol 50 mg", 25),
    ("A02BC02", "Pantoprazol 40 mg", 56),
    ("N06AB04", "Citalopram 20 mg", 100),
]
#: Short acute courses.
ACUTE_DRUGS = [
    ("J01CE02", "Primcillin 800 mg", 7),
    ("J01CA04", "Amoxicillin 500 mg", 7),
    ("J01XE01", "Furadantin 50 mg", 5),
    ("J01FA09", "Klaritromycin 500 mg", 7),
    ("H02AB06", "Prednisolon 25 mg", 5),
]

#: Acute admission A-diagnoses other than heart failure, by theme.
#: Codes are SKS (ICD-10 with D prefix) [S7]; themes select by the person's state.
ACUTE_DX_GENERAL = [
    "DJ189",
    "DN390",
    "DR074",
    "DR559",
    "DE869",
    "DA099",
    "DK590",
    "DR509",
    "DZ039",
    "DL031",
    "DK922",
    "DR104",
    "DI269",
    "DG459",
]
ACUTE_DX_COPD = ["DJ441", "DJ441", "DJ440", "DJ189"]
ACUTE_DX_FALL = ["DS720", "DS000", "DS525", "DR296", "DS321"]
ACUTE_DX_FRAIL = ["DR410", "DE869", "DR296", "DR539", "DN390"]
ACUTE_DX_AF = ["DI489", "DI480"]
ACUTE_DX_T2D = ["DE111", "DE161", "DE116"]
ACUTE_DX_CKD = ["DN179", "DE875"]
#: Planned admissions and outpatient themes (never counted as outcomes).
PLANNED_DX = [
    "DM161",
    "DM171",
    "DK409",
    "DH251",
    "DC349",
    "DC509",
    "DC189",
    "DK802",
    "DN40",
    "DM169",
    "DI739",
    "DI251",
]
OUTPATIENT_DX = ["DZ038", "DZ039", "DM545", "DH269", "DR002", "DI251", "DZ098", "DK219"]

#: SKS procedure codes (labels partly UNVERIFIED, DANISH_DATA §1 [S9]).
PROC_XRAY_CHEST = "UXRC00"  # Røntgenundersøgelse af thorax (label UNVERIFIED)
PROC_CT_HEAD = "UXCA00"  # CT-skanning af cerebrum (UNVERIFIED)
PROC_ECHO = "UXUC80"  # Ekkokardiografi (code UNVERIFIED)
PROC_CARDIOVERSION = "BFCA0"  # Elektrokonvertering (UNVERIFIED)
PROC_ANTIBIOTIC = "BOHJ11"  # systemisk antibiotikabehandling (code UNVERIFIED)
PROC_HIP = "KNFJ51"  # osteosyntese af collum femoris (code UNVERIFIED)
PROC_PLANNED = ["KNFB20", "KNGB20", "KJFB30", "KCJE20", "KLCD10", "KKEC00", "UXMA00", "UXCC00"]

#: FSIII functional conditions (funktionsevnetilstande) [S29]; numbering
#: within areas follows KL's list order (UNVERIFIED), with Danish labels.
FSIII_CONDITIONS = [
    ("J1.1", "Vaske sig", 0.9),
    ("J1.2", "Kropspleje", 0.9),
    ("J1.3", "Af- og påklædning", 0.8),
    ("J1.4", "Spise", 0.4),
    ("J1.6", "Gå på toilet", 0.6),
    ("J2.1", "Lave mad", 0.9),
    ("J2.2", "Lave husligt arbejde", 1.1),
    ("J2.3", "Udføre daglige rutiner", 0.7),
    ("J3.1", "Gå", 0.8),
    ("J3.2", "Forflytte sig", 0.6),
    ("J3.5", "Udholdenhed", 0.9),
    ("J4.1", "Hukommelse", 0.5),
    ("J4.2", "Orienteringsevne", 0.5),
    ("J4.4", "Følelsesfunktioner", 0.3),
    ("J5.1", "Samfundsliv", 0.5),
]

NURSING_INTERVENTIONS = np.array(
    ["medication", "wound_care", "compression", "observation", "injection", "catheter"]
)
