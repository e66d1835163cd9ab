"""Danish clinical notes for all three sectors, with a gold table of finding mentions.

Which findings a note mentions, and in which context, is drawn from the
person's latent state (vectorised per chunk); the text is then assembled
from the frames of :mod:`._phrases` with exact character offsets, so every
mention's span, concept and attributes are known. Typos hit finding words at
a low rate and the gold span points at the misspelt text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

from epi.data.synth import _phrases as ph
from epi.data.synth._constants import AF, CKD, COPD, DEM, HF, HTN, T2D, YEAR_START
from epi.data.synth._simulate import Chunk
from epi.data.synth._tables import Table, frailty_at, state_at

NC = len(ph.CONCEPTS)
CI = {c: i for i, c in enumerate(ph.CONCEPTS)}
TYPO_RATE = 0.03
LITERAL_TYPO_RATE = 0.04  # a typo in the words around the finding (no gold effect)

_SLOT_RE = re.compile(r"\{([AB])(?::([pd]))?\}|\[\[(.+?)\]\]")


def _compile(frame: str) -> list[tuple[str, str, str]]:
    """Split a frame into ("lit", text, "") / ("slot", "A"|"B", form) / ("span", text, "")."""
    out: list[tuple[str, str, str]] = []
    pos = 0
    for m in _SLOT_RE.finditer(frame):
        if m.start() > pos:
            out.append(("lit", frame[pos : m.start()], ""))
        if m.group(3) is not None:
            out.append(("span", m.group(3), ""))
        else:
            out.append(("slot", m.group(1), m.group(2) or "n"))
        pos = m.end()
    if pos < len(frame):
        out.append(("lit", frame[pos:], ""))
    return out


SINGLE = {ctx: [_compile(f) for f in frames] for ctx, frames in ph.SINGLE.items()}
SINGLE_PRED = {ctx: [_compile(f) for f in frames] for ctx, frames in ph.SINGLE_PRED.items()}
SINGLE_DEF = {ctx: [_compile(f) for f in frames] for ctx, frames in ph.SINGLE_DEF.items()}
SPECIAL = {
    c: {ctx: [_compile(f) for f in fr] for ctx, fr in d.items()} for c, d in ph.SPECIAL.items()
}
HF_AFF = [_compile(f) for f in ph.HF_AFF]
PAIRS: dict[tuple[str, str], list[list[tuple[str, str, str]]]] = {}
for _a, _b, _f in ph.PAIRS:
    PAIRS.setdefault((_a, _b), []).append(_compile(_f))


class FastRandom(random.Random):
    """``random.Random`` with cheaper ``choice``/``shuffle`` (one float per draw)."""

    def choice(self, seq):  # type: ignore[no-untyped-def,override]
        """A uniformly chosen element of ``seq``."""
        return seq[int(self.random() * len(seq))]

    def shuffle(self, x):  # type: ignore[no-untyped-def,override]
        """Shuffle list ``x`` in place (Fisher-Yates)."""
        for i in range(len(x) - 1, 0, -1):
            j = int(self.random() * (i + 1))
            x[i], x[j] = x[j], x[i]


def typo(word: str, rnd: random.Random) -> str:
    """A plausible typing error: swap, drop or double an inner letter."""
    if len(word) < 5:
        return word
    i = rnd.randrange(1, len(word) - 2)
    if not (word[i].isalpha() and word[i + 1].isalpha()):
        return word
    k = rnd.random()
    if k < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if k < 0.7:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


@dataclass
class Doc:
    """A note under construction: text pieces and gold mentions with offsets."""

    parts: list[str] = field(default_factory=list)
    pos: int = 0
    mentions: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    citizen: bool = False  # municipal notes say "borger", not "pt."

    def add(self, s: str) -> None:
        if self.citizen and "t." in s:
            s = s.replace("Pt. ", "Borger ").replace("pt. ", "borger ")
        self.parts.append(s)
        self.pos += len(s)

    def mention(self, s: str, concept: str, ctx: str) -> None:
        self.mentions.append((self.pos, self.pos + len(s), concept, ctx, s))
        self.parts.append(s)
        self.pos += len(s)

    def newline(self, s: str = "") -> None:
        """Start a new line (dropping trailing blanks of the current one), then add ``s``."""
        if self.parts and self.parts[-1].endswith(" "):
            last = self.parts.pop()
            self.pos -= len(last)
            self.add(last.rstrip(" "))
        self.add("\n" + s)

    def text(self) -> str:
        return "".join(self.parts).rstrip()


def _form(concept: str, form: str, rnd: random.Random) -> str:
    if form == "p":
        return rnd.choice(ph.PRED[concept])
    if form == "d":
        return rnd.choice(ph.DEF[concept])
    return rnd.choice(ph.NOUN[concept])


def render(
    doc: Doc,
    frame: list[tuple[str, str, str]],
    fills: dict[str, tuple[str, str]],
    rnd: random.Random,
    special: tuple[str, str] | None = None,
) -> None:
    """Append one sentence built from ``frame`` with its mentions."""
    first = True
    for kind, val, form in frame:
        if kind == "lit":
            if len(val) > 8 and rnd.random() < LITERAL_TYPO_RATE:
                words = val.split(" ")
                k = int(rnd.random() * len(words))
                if len(words[k]) >= 6 and words[k].isalpha():
                    words[k] = typo(words[k], rnd)
                    val = " ".join(words)
            doc.add(val)
        else:
            if kind == "span":
                assert special is not None
                concept, ctx = special
                s = val
            else:
                concept, ctx = fills[val]
                s = _form(concept, form, rnd)
            if first:
                s = s[0].upper() + s[1:]
            if rnd.random() < TYPO_RATE:
                s = typo(s, rnd)
            doc.mention(s, concept, ctx)
        first = False


def sentence(doc: Doc, concept: str, ctx: str, rnd: random.Random) -> None:
    """One sentence mentioning ``concept`` in context ``ctx`` (frame chosen at random)."""
    options: list[tuple[list[tuple[str, str, str]], bool]] = []
    if concept == "heart_failure" and ctx == ph.AFF:
        options += [(f, False) for f in HF_AFF]
    else:
        options += [(f, False) for f in SINGLE.get(ctx, [])]
    if concept in ph.PRED:
        options += [(f, False) for f in SINGLE_PRED.get(ctx, [])] * 2
    if concept in ph.DEF:
        options += [(f, False) for f in SINGLE_DEF.get(ctx, [])]
    if concept in SPECIAL and ctx in SPECIAL[concept]:
        options += [(f, True) for f in SPECIAL[concept][ctx]] * 3
    frame, special = rnd.choice(options)
    render(doc, frame, {"A": (concept, ctx)}, rnd, (concept, ctx) if special else None)


def pair(doc: Doc, a: tuple[str, str], b: tuple[str, str], rnd: random.Random) -> bool:
    """A sentence with two findings if a frame for their contexts exists."""
    frames = PAIRS.get((a[1], b[1]))
    if not frames:
        return False
    render(doc, rnd.choice(frames), {"A": a, "B": b}, rnd)
    return True


def sentences(doc: Doc, items: list[tuple[str, str]], rnd: random.Random, sep: str = " ") -> None:
    """Write ``items`` as sentences, pairing some two-finding sentences."""
    i = 0
    started = False
    while i < len(items):
        if started:
            doc.add(sep)
        started = True
        pairable = (
            "heart_failure" not in (items[i][0], items[i + 1][0]) if i + 1 < len(items) else False
        )
        if pairable and items[i][0] != items[i + 1][0] and rnd.random() < 0.35:
            if pair(doc, items[i], items[i + 1], rnd):
                i += 2
                continue
        sentence(doc, items[i][0], items[i][1], rnd)
        i += 1


def _date(day: float) -> str:
    d = np.datetime64("2015-01-01") + np.timedelta64(int(np.floor(day)), "D")
    y, m, dd = str(d).split("-")
    return f"{dd}.{m}.{y}"


def _bp(rnd: random.Random, htn: bool) -> str:
    sys_ = int(rnd.gauss(138 + 8 * htn, 14))
    dia = int(rnd.gauss(80 + 3 * htn, 9))
    return f"{sys_}/{dia}"


def _measure(doc: Doc, label: str, value: str, concept: str) -> None:
    doc.mention(f"{label} {value}", concept, ph.AFF)


# --------------------------------------------------------------------------- mention draws


def draw_contexts(
    rng: np.random.Generator,
    ch: Chunk,
    person: np.ndarray,
    day: np.ndarray,
    sector: str,
    boost: np.ndarray | None = None,
) -> np.ndarray:
    """Context code per note and concept: '' (not mentioned), 'aff', 'neg', 'unc'.

    Affirmed findings follow the latent state; negations are pertinent
    negatives; uncertain mentions are rare except suspected heart failure.
    """
    m = person.size
    st = state_at(ch, person, day)
    fr = frailty_at(ch, person, day)
    tr = ch.traits
    c, s = tr.cardio[person], tr.loneliness[person]
    f = st.astype(float)
    logit = np.empty((m, NC))
    logit[:, CI["dyspnoea"]] = -3.2 + 0.6 * c + 1.9 * f[:, HF] + 1.7 * f[:, COPD]
    logit[:, CI["oedema"]] = -3.6 + 0.4 * c + 2.1 * f[:, HF] + 0.6 * f[:, CKD]
    logit[:, CI["fatigue"]] = -3.0 + 0.8 * fr + 0.9 * f[:, HF] + 0.4 * f[:, CKD]
    logit[:, CI["dizziness"]] = -3.4 + 0.7 * fr + 0.6 * f[:, AF]
    logit[:, CI["fall"]] = -3.6 + 1.0 * fr
    logit[:, CI["weight_loss"]] = -4.0 + 0.7 * fr + 0.6 * f[:, COPD]
    logit[:, CI["confusion"]] = -4.2 + 2.6 * f[:, DEM] + 0.4 * fr
    logit[:, CI["chest_pain"]] = -3.6 + 0.6 * c + 0.5 * f[:, AF]
    logit[:, CI["cough"]] = -3.0 + 1.7 * f[:, COPD] + 0.3 * f[:, HF]
    logit[:, CI["reduced_appetite"]] = -3.7 + 0.8 * fr + 0.7 * f[:, DEM]
    logit[:, CI["loneliness"]] = -3.6 + 1.2 * s + 0.3 * fr
    logit[:, CI["heart_failure"]] = np.where(st[:, HF], 0.0, -9.0)
    if sector == "municipal":
        for k in ("fall", "confusion", "loneliness", "reduced_appetite", "fatigue"):
            logit[:, CI[k]] += 0.9
        logit[:, CI["chest_pain"]] -= 0.6
        logit[:, CI["heart_failure"]] -= 1.5
    elif sector == "hospital":
        for k in ("dyspnoea", "oedema", "confusion"):
            logit[:, CI[k]] += 0.5
    if boost is not None:
        logit += boost
    p_aff = 1 / (1 + np.exp(-logit))
    u = rng.random((3, m, NC))
    out = np.full((m, NC), "", dtype="<U3")
    aff = u[0] < p_aff
    out[aff] = ph.AFF
    p_neg = np.full(NC, 0.05)
    if sector != "municipal":
        for k in ("dyspnoea", "oedema", "chest_pain"):
            p_neg[CI[k]] = 0.18
    p_neg[CI["heart_failure"]] = 0.0
    neg = ~aff & (u[1] < p_neg)
    out[neg] = ph.NEG
    p_unc = np.full((m, NC), 0.012)
    p_unc[:, CI["heart_failure"]] = np.where(~st[:, HF] & (c > 0.8), 0.15, 0.01)
    if sector == "municipal":
        p_unc[:, CI["heart_failure"]] = 0.0
    unc = ~aff & ~neg & (u[2] < p_unc)
    out[unc] = ph.UNC
    # a suspected heart failure is sometimes explicitly ruled out instead
    hfk = CI["heart_failure"]
    ruled = unc[:, hfk] & (rng.random(m) < 0.3)
    out[ruled, hfk] = ph.NEG
    return out


_FAM_CONCEPTS = ["heart_failure"] * 7 + ["chest_pain", "chest_pain", "dyspnoea"]
_HYP_CONCEPTS = [
    "dyspnoea",
    "chest_pain",
    "fall",
    "dizziness",
    "confusion",
    "oedema",
    "dyspnoea",
    "chest_pain",
    "fatigue",
]
_HIST_CONCEPTS = [
    "fall",
    "chest_pain",
    "weight_loss",
    "confusion",
    "dizziness",
    "cough",
    "dyspnoea",
    "heart_failure",
]


def _extras(
    rnd: random.Random, p_hyp: float, p_hist: float, p_fam: float, p_oth: float
) -> list[tuple[str, str]]:
    out = []
    if rnd.random() < p_hyp:
        out.append((rnd.choice(_HYP_CONCEPTS), ph.HYP))
    if rnd.random() < p_hist:
        out.append((rnd.choice(_HIST_CONCEPTS), ph.HIST))
    if rnd.random() < p_fam:
        out.append((rnd.choice(_FAM_CONCEPTS), ph.FAM))
    if rnd.random() < p_oth:
        out.append((rnd.choice(["heart_failure", "cough", "confusion"]), ph.OTH))
    return out


def _item_lists(ctx: np.ndarray) -> list[list[tuple[str, str]]]:
    """Per note, the (concept, context) pairs drawn in ``ctx``."""
    out: list[list[tuple[str, str]]] = [[] for _ in range(ctx.shape[0])]
    rows, cols = np.nonzero(ctx != "")
    vals = ctx[rows, cols].tolist()
    for r, c, v in zip(rows.tolist(), cols.tolist(), vals, strict=True):
        out[r].append((ph.CONCEPTS[c], v))
    return out


# --------------------------------------------------------------------------- note writers


def _gp_note(
    rnd: random.Random, items: list[tuple[str, str]], form: str, st: np.ndarray, labs: str
) -> Doc:
    doc = Doc()
    rnd.shuffle(items)
    if form in ("phone", "email"):
        doc.add(
            rnd.choice(
                [
                    "Tlf. fra pt.: ",
                    "Tlf.konsultation: ",
                    "E-konsultation: ",
                    "Pt. ringer: ",
                    "Datteren ringer på vegne af pt.: ",
                ]
            )
        )
        main = [i for i in items if i[1] != ph.HYP][:3]
        hyp = [i for i in items if i[1] == ph.HYP]
        if not main:
            doc.add(
                rnd.choice(
                    [
                        "Ønsker svar på blodprøver. ",
                        "Spørger til medicin. ",
                        "Vil gerne have fornyet recept. ",
                    ]
                )
            )
        sentences(doc, main, rnd)
        doc.newline(rnd.choice(["Aftale: ", "Plan: ", "Råd: "]))
        if hyp:
            sentences(doc, hyp, rnd)
        else:
            doc.add(
                rnd.choice(
                    [
                        "Ses i konsultationen i næste uge.",
                        "Recept fornyet.",
                        "Blodprøver bestilles.",
                        "Ingen videre.",
                    ]
                )
            )
        return doc
    hyp = [i for i in items if i[1] == ph.HYP]
    fam = [i for i in items if i[1] in (ph.FAM, ph.OTH)]
    unc = [i for i in items if i[1] == ph.UNC]
    obj = [i for i in items if i[0] == "oedema" and i[1] in (ph.AFF, ph.NEG)]
    rest = [i for i in items if i not in hyp and i not in fam and i not in unc and i not in obj]
    h = ph.GP_HEADINGS
    doc.add(rnd.choice(h["anamnese"]) + " ")
    if form == "annual":
        doc.add(rnd.choice(["Årskontrol. ", "Kommer til årskontrol. ", "Kronikerkontrol. "]))
    if rnd.random() < 0.5:
        doc.add(rnd.choice(ph.FILLER_GP) + " ")
    if rest:
        sentences(doc, rest, rnd)
    else:
        doc.add(
            rnd.choice(
                [
                    "Har det efter omstændighederne godt.",
                    "Ingen nye klager.",
                    "Kommer til kontrol.",
                    "Kontrol af BT.",
                ]
            )
        )
    if fam and rnd.random() < 0.7:
        doc.newline(rnd.choice(h["familie"]) + " ")
        sentences(doc, fam, rnd)
        fam = []
    doc.newline(rnd.choice(h["objektivt"]) + " ")
    if rnd.random() < 0.75:
        _measure(
            doc,
            rnd.choice(["BT", "BT", "BT:", "Blodtryk"]),
            _bp(rnd, bool(st[HTN])),
            "blood_pressure",
        )
        rhythm = rnd.choice([" reg.", "", " uregelmæssig" if st[AF] else " reg."])
        stop = "" if rhythm.endswith(".") else "."
        doc.add(f", P {int(rnd.gauss(74, 10))}{rhythm}{stop} ")
    doc.add(
        rnd.choice(
            [
                "St.p.: ua. ",
                "St.c.: RRR, ingen mislyd. ",
                "Lungestetoskopi: ua. ",
                "Almentilstand: upåvirket. ",
                "Let påvirket. ",
                "",
            ]
        )
    )
    if obj:
        sentences(doc, obj, rnd)
    if labs:
        doc.add(labs if doc.parts[-1].endswith(" ") else " " + labs)
    doc.newline(rnd.choice(h["vurdering"]) + " ")
    if unc:
        sentences(doc, unc, rnd)
    else:
        doc.add(
            rnd.choice(
                [
                    "Stabil.",
                    "Velbehandlet.",
                    "Status quo.",
                    "Ukompliceret forløb.",
                    "Behov for justering af behandlingen.",
                ]
            )
        )
    if fam:
        doc.add(" ")
        sentences(doc, fam, rnd)
    doc.newline(rnd.choice(h["plan"]) + " ")
    doc.add(
        rnd.choice(
            [
                "Kontrol om 3 mdr. ",
                "Blodprøver om 1 uge. ",
                "Fortsætter uændret. ",
                "Henvises til ambulatoriet. ",
                "Ny tid om 14 dage. ",
                "",
            ]
        )
    )
    if hyp:
        sentences(doc, hyp, rnd)
    return doc


def _med_lines(rnd: random.Random, st: np.ndarray) -> list[str]:
    lines = []
    for key, k in (("hf", HF), ("t2d", T2D), ("af", AF), ("copd", COPD), ("htn", HTN)):
        if st[k]:
            lines += rnd.sample(ph.MED_LINES[key], k=min(2, len(ph.MED_LINES[key])))
    lines += rnd.sample(ph.MED_LINES["any"], k=1)
    return lines


_ADX_TEXT = {
    "DI500": "Kronisk hjerteinsufficiens",
    "DI509": "Hjertesvigt UNS",
    "DI501": "Venstresidig hjerteinsufficiens",
    "DJ189": "Pneumoni UNS",
    "DN390": "Urinvejsinfektion uden angivelse af lokalisation",
    "DJ441": "KOL med akut eksacerbation UNS",
    "DR296": "Faldtendens IKA",
    "DZ039": "Obs. pga mistanke om sygdom eller tilstand UNS",
    "DI489": "Atrieflimren UNS",
    "DS720": "Brud på lårbenshals",
    "DR410": "Desorientering UNS",
    "DE869": "Dehydrering",
}


_ADX_CONCEPT = {
    "DI500": "heart_failure",
    "DI509": "heart_failure",
    "DI501": "heart_failure",
    "DR296": "fall",
    "DR410": "confusion",
}


def _dx(doc: Doc, label: str, adx: str, text: str, concept: str | None) -> None:
    doc.add(f"{label}{adx}")
    if text:
        doc.add(" ")
        if concept:
            doc.mention(text, concept, ph.AFF)
        else:
            doc.add(text)
    doc.newline()


def _hosp_note(
    rnd: random.Random,
    items: list[tuple[str, str]],
    kind: int,
    adx: str,
    start: float,
    end: float,
    st: np.ndarray,
    labs: str,
) -> Doc:
    doc = Doc()
    rnd.shuffle(items)
    hyp = [i for i in items if i[1] == ph.HYP]
    fam = [i for i in items if i[1] in (ph.FAM, ph.OTH)]
    unc = [i for i in items if i[1] == ph.UNC]
    rest = [i for i in items if i not in hyp and i not in fam and i not in unc]
    dx_text = _ADX_TEXT.get(adx, "")
    dx_concept = _ADX_CONCEPT.get(adx)
    if kind in (0, 1, 3):
        doc.add(rnd.choice(["Epikrise\n", "EPIKRISE\n", "Epikrise til egen læge\n"]))
        doc.add(f"Indlagt: {_date(start)}. Udskrevet: {_date(end)}.\n")
        _dx(doc, "Aktionsdiagnose: ", adx, dx_text, dx_concept)
        if rnd.random() < 0.5:
            doc.add(rnd.choice(ph.FILLER_HOSP) + "\n")
        if fam:
            doc.add("Dispositioner: ")
            sentences(doc, fam, rnd)
            doc.newline()
        doc.add(rnd.choice(["Resumé af forløb: ", "Forløb: ", "Resumé:\n"]))
        doc.add(
            rnd.choice(
                [
                    "Pt. indlægges akut via FAM. ",
                    "Indlagt via egen læge. ",
                    "Akut indlagt med ambulance. ",
                    "Indlagt via lægevagten. ",
                ]
                if kind != 3
                else ["Planlagt indlæggelse. "]
            )
        )
        if rest:
            sentences(doc, rest, rnd)
        doc.newline("Objektivt ved indlæggelsen: ")
        _measure(doc, "BT", _bp(rnd, bool(st[HTN])), "blood_pressure")
        doc.add(
            f", puls {int(rnd.gauss(86, 14))}, SAT {int(min(100, rnd.gauss(94, 3)))} % på "
            f"stuen, T {rnd.gauss(37.2, 0.5):.1f}".replace(".", ",")
            + ". "
        )
        if labs:
            doc.newline("Paraklinik: " + labs)
        if st[HF] and rnd.random() < 0.6:
            doc.add(" Ekkokardiografi: ")
            ef = rnd.choice([25, 30, 35, 35, 40, 45, 50])
            _measure(doc, rnd.choice(["EF", "LVEF", "EF ca."]), f"{ef} %", "ejection_fraction")
            doc.add(".")
        doc.newline(rnd.choice(["Konklusion: ", "Konkl.: ", "Vurdering: "]))
        if unc:
            sentences(doc, unc, rnd)
        else:
            doc.add(
                rnd.choice(
                    ["Velbehandlet ved udskrivelsen.", "Stabil.", "Udskrives i habituel tilstand."]
                )
            )
        doc.newline("Medicin ved udskrivelse:\n" + "\n".join(_med_lines(rnd, st)))
        doc.newline("Anbefalinger til egen læge: ")
        doc.add(
            rnd.choice(
                [
                    "Kontrol af elektrolytter om 1 uge. ",
                    "Opfølgning efter behov. ",
                    "Vurdering af behandlingen om 4 uger. ",
                    "",
                ]
            )
        )
        if hyp:
            sentences(doc, hyp, rnd)
        return doc
    title = {2: "Skadestuenotat", 4: "Ambulant notat", 5: "Akutnotat"}.get(kind, "Notat")
    doc.add(f"{title} {_date(start)}\n")
    _dx(doc, "Diagnose: ", adx, dx_text, dx_concept)
    allx = rest + unc + fam
    if allx:
        sentences(doc, allx, rnd)
    else:
        doc.add(rnd.choice(["Kontrol uden nye klager.", "Velbehandlet.", "Stabil tilstand."]))
    if labs:
        doc.add(" " + labs)
    if kind == 4 and adx.startswith("DI50") and rnd.random() < 0.5:
        doc.add(" ")
        _measure(doc, "EF", f"{rnd.choice([30, 35, 40, 45])} %", "ejection_fraction")
        doc.add(".")
    doc.add(
        "\nPlan: "
        + rnd.choice(
            [
                "Ny kontrol om 3 mdr. ",
                "Afsluttes til egen læge. ",
                "Telefonkonsultation om 6 uger. ",
            ]
        )
    )
    if hyp:
        sentences(doc, hyp, rnd)
    return doc


_MUNI_HYP = ["Ved forværring kontaktes sygeplejen.", "Aftalt at hjemmeplejen observerer."]


def _muni_note(rnd: random.Random, items: list[tuple[str, str]], kind: str) -> Doc:
    doc = Doc(citizen=True)
    rnd.shuffle(items)
    if kind == "faldregistrering":
        doc.add(rnd.choice(["Faldregistrering\n", "FALDREGISTRERING\n"]))
        k = rnd.randrange(3)
        if k == 0:
            doc.add("Borger fundet på gulvet af hjemmeplejen. ")
        elif k == 1:
            doc.add("Borger har tilkaldt hjælp via nødkald efter at være ")
            doc.mention("faldet", "fall", ph.AFF)
            doc.add(". ")
        else:
            doc.add("Borger fortæller, at hun ")
            doc.mention("faldt", "fall", ph.AFF)
            doc.add(" ved sengen i nat. ")
    hyp = [i for i in items if i[1] == ph.HYP]
    groups: dict[str, list[tuple[str, str]]] = {}
    for it in items:
        if it[1] == ph.HYP:
            continue
        groups.setdefault(ph.MUNI_HEADING_OF[it[0]], []).append(it)
    heads = list(groups)
    if rnd.random() < 0.6:
        heads.append(rnd.choice(ph.MUNI_EXTRA_HEADINGS))
    rnd.shuffle(heads)
    for i, hd in enumerate(heads):
        if i or kind == "faldregistrering":
            doc.newline()
        doc.add(hd + rnd.choice([":\n", ": ", "\n"]))
        if hd in groups:
            sentences(doc, groups[hd], rnd)
        else:
            doc.add(rnd.choice(ph.FILLER_MUNI))
    if not heads:
        doc.add(rnd.choice(ph.FILLER_MUNI))
    if hyp or rnd.random() < 0.3:
        doc.newline("Aftaler: ")
        if hyp:
            sentences(doc, hyp, rnd)
        else:
            doc.add(rnd.choice(_MUNI_HYP))
    return doc


# --------------------------------------------------------------------------- per chunk


@dataclass
class NoteBatch:
    """Notes of one sector in a chunk, with their gold mentions."""

    person: np.ndarray
    time: np.ndarray
    note_type: np.ndarray
    text: list[str | None]
    gold: list[tuple[int, int, int, str, str, str]]  # note row, start, end, concept, ctx, text


def _lab_line(rnd: random.Random, st: np.ndarray, age: float) -> str:
    bits = []
    if rnd.random() < 0.5:
        bits.append(f"Hb {rnd.gauss(8.4 - 0.6 * st[CKD], 0.6):.1f}".replace(".", ","))
    if rnd.random() < 0.5 or st[CKD]:
        bits.append(f"kreatinin {int(rnd.gauss(80 + 50 * st[CKD], 12))}")
    if st[T2D] and rnd.random() < 0.7:
        v = int(rnd.gauss(54, 8))
        bits.append(f"HbA1c {v},0" if rnd.random() < 0.4 else f"HbA1c {v}")
    if st[HF] and rnd.random() < 0.6:
        v = int(np.exp(rnd.gauss(np.log(1800), 0.6)))
        bits.append(f"NT-proBNP {v:,}".replace(",", "."))
    if rnd.random() < 0.3:
        bits.append(f"kalium {rnd.gauss(4.1, 0.3):.1f}".replace(".", ","))
    if not bits:
        return ""
    line = ", ".join(bits) + "."
    return line[0].upper() + line[1:]


def _finish(docs: list[Doc], rnd: random.Random) -> tuple[list[str | None], list]:
    texts: list[str | None] = []
    gold = []
    for r, d in enumerate(docs):
        t = d.text()
        if rnd.random() < 0.001:
            texts.append(None)  # a note whose text is missing in the extract
            continue
        texts.append(t)
        for s, e, c, ctx, surf in d.mentions:
            gold.append((r, s, e, c, ctx, surf))
    return texts, gold


def gp_notes(ch: Chunk, rng: np.random.Generator, rnd: random.Random, contacts: Table) -> NoteBatch:
    """Journal notes for a sample of GP contacts (more for the old and the sick)."""
    person, day, form = contacts["_person"], contacts["date"], contacts["contact_form"]
    svc = contacts["service_code"]
    age = ch.age_at(day, person)
    st = state_at(ch, person, day)
    nsick = st.sum(1)
    face = np.isin(form, ["consultation", "home_visit"])
    p = np.where(face, 0.04 + 0.10 * (age >= 65) + 0.06 * (nsick >= 2), 0.015 + 0.02 * (age >= 65))
    sel = np.flatnonzero(rng.random(person.size) < p)
    person, day, form, svc = person[sel], day[sel], form[sel], svc[sel]
    st = st[sel]
    age = age[sel]
    ctx = draw_contexts(rng, ch, person, day, "gp")
    time = day + rng.uniform(8 / 24, 16 / 24, sel.size)
    docs = []
    types = []
    lists = _item_lists(ctx)
    for i in range(sel.size):
        items = lists[i] + _extras(rnd, 0.35, 0.08, 0.07, 0.01)
        f = "annual" if svc[i] == "0120" else str(form[i])
        labs = _lab_line(rnd, st[i], age[i]) if f in ("annual",) or rnd.random() < 0.2 else ""
        docs.append(_gp_note(rnd, items, f, st[i], labs))
        types.append(
            {
                "consultation": "konsultation",
                "phone": "telefonkonsultation",
                "email": "e-konsultation",
                "video": "videokonsultation",
                "home_visit": "sygebesøg",
                "annual": "årskontrol",
            }[f]
        )
    texts, gold = _finish(docs, rnd)
    return NoteBatch(person, time, np.array(types, dtype=object), texts, gold)


def hospital_notes(
    ch: Chunk, rng: np.random.Generator, rnd: random.Random, contacts: Table
) -> NoteBatch:
    """Epikriser for admissions; notes for some outpatient and emergency contacts."""
    kind = contacts["_kind"]
    p = np.select(
        [kind <= 1, kind == 3, kind == 2, kind == 4, kind == 5], [1.0, 1.0, 0.3, 0.2, 0.3]
    )
    sel = np.flatnonzero(rng.random(kind.size) < p)
    person = contacts["_person"][sel]
    start = contacts["start_time"][sel]
    end = contacts["end_time"][sel]
    kind = kind[sel]
    adx = contacts["_adx"][sel]
    m = sel.size
    boost = np.zeros((m, NC))
    is_hf = kind == 1
    boost[is_hf, CI["dyspnoea"]] += 3.0
    boost[is_hf, CI["oedema"]] += 2.0
    boost[is_hf, CI["heart_failure"]] += 12.0
    copd = np.char.startswith(adx.astype(str), "DJ44")
    boost[copd, CI["dyspnoea"]] += 2.5
    boost[copd, CI["cough"]] += 2.0
    fall = np.isin(adx, ["DS720", "DS000", "DS525", "DR296", "DS321"])
    boost[fall, CI["fall"]] += 4.0
    conf = np.isin(adx, ["DR410"])
    boost[conf, CI["confusion"]] += 4.0
    chest = np.isin(adx, ["DR074"])
    boost[chest, CI["chest_pain"]] += 4.0
    ctx = draw_contexts(rng, ch, person, start, "hospital", boost)
    st = state_at(ch, person, start)
    age = ch.age_at(start, person)
    time = np.where(kind <= 3, np.where(kind == 2, end, end + rng.uniform(0, 0.1, m)), end)
    time = np.where(np.isin(kind, [0, 1, 3]), end + rng.uniform(0.01, 0.1, m), end)
    time = np.minimum(time, ch.end_day()[person] - 1e-3)
    time = np.maximum(time, start)
    docs = []
    types = []
    lists = _item_lists(ctx)
    for i in range(m):
        items = lists[i] + _extras(rnd, 0.5 if kind[i] <= 3 else 0.2, 0.08, 0.03, 0.01)
        labs = _lab_line(rnd, st[i], age[i]) if kind[i] != 5 else ""
        docs.append(
            _hosp_note(rnd, items, int(kind[i]), str(adx[i]), start[i], end[i], st[i], labs)
        )
        types.append(
            {
                0: "epikrise",
                1: "epikrise",
                3: "epikrise",
                2: "skadestuenotat",
                4: "ambulant notat",
                5: "akutnotat",
            }[int(kind[i])]
        )
    texts, gold = _finish(docs, rnd)
    return NoteBatch(person, time, np.array(types, dtype=object), texts, gold)


def municipal_notes(
    ch: Chunk, rng: np.random.Generator, rnd: random.Random, muni: dict[str, Table]
) -> NoteBatch:
    """Care notes (monthly), nursing notes and fall registrations with FSIII headings."""
    hc = muni["muni_home_care"]
    prac = hc["_person"]
    wk = hc["week_start"]
    # about one care note a month per recipient: a random ~23 % of care weeks
    practical = hc["service"] == "HOMECARE_PRACTICAL"
    sel = practical & (rng.random(prac.size) < 0.23)
    p1, d1 = prac[sel], wk[sel] + rng.integers(0, 5, int(sel.sum()))
    t1 = np.full(p1.size, "plejenotat", dtype=object)
    nv = muni["muni_nursing"]
    nsel = rng.random(nv["person_id"].size) < 0.2
    p2 = (nv["person_id"][nsel] - ch.first - 1).astype(np.int64)
    d2 = nv["date"][nsel]
    t2 = np.full(p2.size, "sygeplejenotat", dtype=object)
    fl = muni["muni_falls"]
    p3 = (fl["person_id"] - ch.first - 1).astype(np.int64)
    d3 = fl["date"]
    t3 = np.full(p3.size, "faldregistrering", dtype=object)
    person = np.r_[p1, p2, p3]
    day = np.r_[d1, d2, d3].astype(float)
    ntype = np.r_[t1, t2, t3]
    o = np.lexsort((ntype, day, person))
    person, day, ntype = person[o], day[o], ntype[o]
    day = np.minimum(day, ch.end_day()[person] - 1)
    ok = day >= 0
    person, day, ntype = person[ok], day[ok], ntype[ok]
    time = np.minimum(day + rng.uniform(7 / 24, 21 / 24, day.size), ch.end_day()[person] - 1e-3)
    boost = np.zeros((person.size, NC))
    boost[ntype == "faldregistrering", CI["fall"]] = -20.0  # the fall is in the heading sentence
    ctx = draw_contexts(rng, ch, person, day, "municipal", boost)
    docs = []
    lists = _item_lists(ctx)
    for i in range(person.size):
        items = lists[i] + _extras(rnd, 0.15, 0.05, 0.0, 0.01)
        docs.append(_muni_note(rnd, items, str(ntype[i])))
    texts, gold = _finish(docs, rnd)
    return NoteBatch(person, time, ntype, texts, gold)


__all__ = ["NoteBatch", "gp_notes", "hospital_notes", "municipal_notes", "typo"]

_ = YEAR_START
