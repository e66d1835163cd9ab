"""Danish clinical phrasing for the synthetic notes: finding forms and sentence frames.

Frames are data. Slots: ``{A}``/``{B}`` take a noun form of the finding,
``{A:p}``/``{B:p}`` a predicative form (træt, svimmel); ``[[...]]`` marks a
literal finding span inside a concept-specific frame. A slot at the start of
a sentence is capitalised. The context of each slot (what the gold table
records) is given with the frame. Cues follow DANISH_DATA §7 [S38-S41]:
negation (ingen, ikke, benægter, uden, ikke tegn på), uncertainty (obs.,
mistanke om, kan ikke udelukkes, formentlig, muligvis), abbreviations (pt.,
obs., ua., tlf., p.n., bl.a.).
"""

from __future__ import annotations

#: Finding concepts shared with the NLP rule pack.
CONCEPTS = [
    "dyspnoea",
    "oedema",
    "fatigue",
    "dizziness",
    "fall",
    "weight_loss",
    "confusion",
    "chest_pain",
    "cough",
    "reduced_appetite",
    "loneliness",
    "heart_failure",
]

#: Noun forms (incl. inflected and definite forms) per concept.
NOUN: dict[str, list[str]] = {
    "dyspnoea": [
        "åndenød",
        "åndenød",
        "åndenød",
        "dyspnø",
        "anstrengelsesdyspnø",
        "besværet vejrtrækning",
        "kortåndethed",
        "stakåndethed",
        "hvileåndenød",
    ],
    "oedema": [
        "ødemer",
        "ødemer",
        "ødemer",
        "bensødemer",
        "ankelødemer",
        "underbensødemer",
        "hævede ben",
        "hævelse af underbenene",
        "pittingødemer",
        "ødem",
    ],
    "fatigue": [
        "træthed",
        "træthed",
        "træthed",
        "udmattelse",
        "energiløshed",
        "mathed",
        "udtalt træthed",
    ],
    "dizziness": [
        "svimmelhed",
        "svimmelhed",
        "svimmelhed",
        "svimmelhedsanfald",
        "vertigo",
        "ørhed",
    ],
    "fall": ["fald", "fald", "fald", "faldepisode", "faldepisoder", "faldtendens", "gentagne fald"],
    "weight_loss": [
        "vægttab",
        "vægttab",
        "vægttab",
        "utilsigtet vægttab",
    ],
    "confusion": [
        "forvirring",
        "forvirring",
        "forvirring",
        "konfusion",
        "delir",
        "desorientering",
        "akut forvirring",
    ],
    "chest_pain": [
        "brystsmerter",
        "brystsmerter",
        "brystsmerter",
        "trykken for brystet",
        "smerter i brystet",
        "retrosternale smerter",
        "brystsmerte",
    ],
    "cough": [
        "hoste",
        "hoste",
        "hoste",
        "tør hoste",
        "produktiv hoste",
        "hoste med ekspektorat",
        "hosteanfald",
    ],
    "reduced_appetite": [
        "nedsat appetit",
        "nedsat appetit",
        "appetitløshed",
        "dårlig appetit",
        "manglende appetit",
        "madlede",
    ],
    "loneliness": ["ensomhed", "ensomhed", "ensomhed", "ensomhedsfølelse", "følelse af ensomhed"],
    "heart_failure": [
        "hjertesvigt",
        "hjertesvigt",
        "hjerteinsufficiens",
        "kronisk hjertesvigt",
        "inkompenseret hjertesvigt",
        "hjertesvigt",
        "venstresidig hjertesvigt",
    ],
}

#: Definite forms (åndenøden, ødemerne) for frames that need them ({A:d}).
DEF: dict[str, list[str]] = {
    "dyspnoea": ["åndenøden", "dyspnøen", "åndenøden"],
    "oedema": ["ødemerne", "ødemerne", "bensødemerne", "hævelsen af benene"],
    "fatigue": ["trætheden", "trætheden", "udmattelsen"],
    "dizziness": ["svimmelheden", "svimmelheden"],
    "fall": ["faldet", "faldepisoderne"],
    "weight_loss": ["vægttabet"],
    "confusion": ["forvirringen", "konfusionen"],
    "chest_pain": ["brystsmerterne", "brystsmerterne", "trykken for brystet"],
    "cough": ["hosten", "hosten"],
    "reduced_appetite": ["appetitløsheden", "den nedsatte appetit"],
    "loneliness": ["ensomheden", "ensomhedsfølelsen"],
    "heart_failure": ["hjertesvigtet", "hjerteinsufficiensen"],
}

#: Predicative forms (after er / føler sig / virker).
PRED: dict[str, list[str]] = {
    "dyspnoea": ["stakåndet", "forpustet", "kortåndet", "dyspnøisk"],
    "fatigue": ["træt", "træt", "udmattet", "uoplagt", "mat"],
    "dizziness": ["svimmel", "svimmel", "ør", "usikker og svimmel"],
    "confusion": ["forvirret", "forvirret", "konfus", "desorienteret", "delirøs"],
    "loneliness": ["ensom", "ensom"],
    "reduced_appetite": ["appetitløs"],
}

AFF, NEG, UNC, HYP, HIST, FAM, OTH = "aff", "neg", "unc", "hyp", "hist", "fam", "oth"
#: Gold attributes of each context: negated, uncertain, hypothetical, historical, experiencer.
CONTEXT_ATTRS: dict[str, tuple[bool, bool, bool, bool, str]] = {
    AFF: (False, False, False, False, "patient"),
    NEG: (True, False, False, False, "patient"),
    UNC: (False, True, False, False, "patient"),
    HYP: (False, False, True, False, "patient"),
    HIST: (False, False, False, True, "patient"),
    FAM: (False, False, False, False, "family"),
    OTH: (False, False, False, False, "other"),
}

#: Generic single-finding frames per context.
SINGLE: dict[str, list[str]] = {
    AFF: [
        "Pt. har {A}.",
        "Klager over {A}.",
        "Klager i dag over tiltagende {A}.",
        "Henvender sig pga. {A}.",
        "Kommer med {A} gennem den sidste uge.",
        "{A} gennem de sidste 3 dage.",
        "Beskriver {A}, værst om aftenen.",
        "Har haft {A} i ca. 14 dage.",
        "Fortæller om {A} siden sidst.",
        "Der er {A}.",
        "Tiltagende {A}.",
        "{A} er ikke bedret trods behandling.",
        "{A} har pt. haft siden weekenden.",
        "Nu også {A}.",
        "Pårørende beskriver {A}.",
        "Datteren oplyser, at pt. har haft {A} i en uge.",
        "Aktuelt {A}.",
        "Mest generet af {A}.",
        "Ingen bedring af {A}.",
        "Uændret {A}.",
        "Fortsat {A}.",
        "Ingen feber, men {A}.",
        "Ingen ændringer i medicinen, men {A} er tiltaget.",
        "Ikke feber, til gengæld {A}.",
        "Hun har i længere tid haft {A}.",
        "Han beskriver {A} ved let anstrengelse.",
        "{A} – har stået på i ca. 1 uge.",
        "Primært generet af {A} og dårlig søvn.",
        "Pt. oplever {A}, som ikke er aftaget.",
        "Svært ved at klare sig pga. {A}.",
        "Egen læge har bemærket {A}.",
        "Klager bl.a. over {A}.",
        "{A}, men ingen feber.",
        "{A}, som hun ikke har bemærket før.",
        "Indlagt til obs. pga. {A}.",
        "Kontaktede vagtlægen, da {A} opstod i nat.",
        "Datteren ringer, fordi moderen (pt.) har fået {A}.",
        "Har ikke kun {A}, men også smerter i knæene.",
        "I dag klager pt. over {A}.",
        "Siden sidste uge har hun haft {A}.",
        "Om natten får han {A}.",
        "Efter udskrivelsen er {A} blevet værre.",
        "Ved samtalen fremkommer {A}.",
    ],
    NEG: [
        "Ingen {A}.",
        "Ingen {A}.",
        "Benægter {A}.",
        "{A} benægtes.",
        "Ikke {A}.",
        "Har ikke {A}.",
        "Ikke tegn på {A}.",
        "Ingen tegn på {A}.",
        "Uden {A}.",
        "{A}: nej.",
        "Pt. afviser {A}.",
        "Har ikke haft {A}.",
        "{A} har pt. ikke.",
        "Ikke længere {A}.",
        "Der er ikke {A}.",
        "Intet der tyder på {A}.",
        "Ingen klager over {A}.",
        "Fri for {A}.",
        "{A} er der ikke tegn på.",
        "Har på intet tidspunkt haft {A}.",
        "Ingen {A} ved samtalen i dag.",
        "Kan ikke påvise {A}.",
        "Har bl.a. ikke haft {A}.",
        "Ingen {A}, men smerter i ryggen.",
        "I dag ingen {A}.",
        "Siden sidst har hun ikke haft {A}.",
        "Heller ikke {A}.",
        "Nogen {A} har han ikke bemærket.",
    ],
    UNC: [
        "Obs. {A}.",
        "Obs. for {A}.",
        "Mistanke om {A}.",
        "Mulig {A}.",
        "Muligvis {A}.",
        "Formentlig {A}.",
        "{A} kan ikke udelukkes.",
        "Kan ikke udelukke {A}.",
        "Evt. {A}?",
        "? {A}",
        "Tvivlsom {A}.",
        "Der er muligvis tale om {A}.",
        "Usikkert om der er {A}.",
        "Suspekt for {A}.",
        "Differentialdiagnostisk {A}.",
        "Billedet kunne passe med {A}.",
        "Mistænker {A}, afventer svar.",
        "Der kan være tale om {A}.",
        "Det kunne være {A}.",
        "Om der er tale om {A}, er uvist.",
    ],
    HYP: [
        "Ved forværring af {A} kontaktes egen læge.",
        "Hvis {A} tiltager, genhenvendelse.",
        "Ved {A} kontakt til vagtlægen på tlf. 70 15 03 00.",
        "Informeret om at søge læge ved {A}.",
        "Skal henvende sig ved evt. {A}.",
        "Såfremt {A} opstår, tages kontakt til afdelingen.",
        "Instrueret i at ringe ved tiltagende {A}.",
        "Ved nyopstået {A} kontaktes lægen.",
        "Genhenvendelse p.n. ved {A}.",
        "Vi aftaler, at hun ringer, hvis {A} kommer igen.",
        "I tilfælde af {A} kontaktes akuttelefonen.",
        "Skulle {A} opstå, kontaktes egen læge.",
        "Får hun {A}, skal hun ringe.",
        "Opstår der {A}, kontaktes vagtlægen.",
    ],
    HIST: [
        "Tidligere {A}.",
        "Har tidligere haft {A}.",
        "Anamnestisk {A} for flere år siden.",
        "{A} i 2019, intet siden.",
        "Indlagt med {A} for 2 år siden.",
        "Tidligere perioder med {A}.",
        "Havde {A} sidste vinter.",
        "Tidl. {A} i 2017.",
        "Kendt med {A} i 2016, som forsvandt spontant.",
        "For 3 år siden havde hun {A}.",
        "Sidste år var der {A}, nu ophørt.",
    ],
    FAM: [
        "Mor havde {A}.",
        "Far døde af {A}.",
        "Mor med {A}.",
        "Bror har {A}.",
        "Disp.: far og farbror med {A}.",
        "Søsteren er netop indlagt med {A}.",
        "Hustruen har {A}, og pt. hjælper hende.",
        "Moderen fik {A} i 60-års alderen.",
        "Hans far havde svær {A}.",
    ],
    OTH: [
        "Naboen, som pt. ser dagligt, har {A}.",
        "Medpatient på stuen med {A}.",
        "Hjemmehjælperens egen mor har {A}, fortæller hun.",
    ],
}

#: Frames for predicative forms.
SINGLE_PRED: dict[str, list[str]] = {
    AFF: [
        "Er {A:p}.",
        "Føler sig {A:p}.",
        "Virker {A:p} i dag.",
        "Pt. er meget {A:p}.",
        "Hun har været {A:p} i flere dage.",
        "Er blevet mere {A:p} den sidste tid.",
        "Plejepersonalet beskriver pt. som {A:p} om aftenen.",
    ],
    NEG: [
        "Er ikke {A:p}.",
        "Føler sig ikke {A:p}.",
        "Ikke {A:p}.",
        "Virker ikke {A:p}.",
        "Er på intet tidspunkt {A:p}.",
    ],
    UNC: ["Muligvis {A:p}?", "Virker evt. lidt {A:p}.", "Måske {A:p}, svært at vurdere."],
    HYP: ["Hvis han bliver {A:p}, ringer hustruen.", "Skal kontakte os, hvis hun bliver {A:p}."],
    HIST: ["Var {A:p} under sidste indlæggelse.", "Var meget {A:p} i foråret."],
}

#: Frames for definite forms.
SINGLE_DEF: dict[str, list[str]] = {
    AFF: [
        "{A:d} er tiltaget.",
        "{A:d} er aftaget, men ikke forsvundet.",
        "{A:d} er bedre end ved sidste kontakt.",
        "Hun nævner, at {A:d} er værst om morgenen.",
        "{A:d} fylder meget i hverdagen.",
        "Ingen bedring af {A:d}.",
        "{A:d} er ikke bedre trods øget dosis.",
    ],
    HIST: [
        "{A:d} i foråret krævede indlæggelse.",
        "{A:d} sidste vinter blev behandlet hos egen læge.",
    ],
}

#: Concept-specific frames with literal spans.
SPECIAL: dict[str, dict[str, list[str]]] = {
    "fall": {
        AFF: [
            "Er [[faldet]] i hjemmet i nat.",
            "[[Faldt]] i går på badeværelset.",
            "Har haft et [[fald]] i køkkenet.",
            "Fundet på gulvet efter [[fald]].",
            "Hjemmeplejen fandt pt. på gulvet; hun var [[faldet]] om natten.",
        ],
        NEG: [
            "Er ikke [[faldet]] siden sidst.",
            "Ingen nye [[fald]].",
            "Har ikke haft [[fald]] i perioden.",
        ],
        HIST: [
            "[[Faldt]] for 2 år siden og brækkede håndleddet.",
            "Hoftenær fraktur efter [[fald]] i 2018.",
        ],
    },
    "weight_loss": {
        AFF: [
            "Har [[tabt sig]] 4 kg på 2 mdr.",
            "[[Vægttab]] på ca. 5 kg over 3 mdr.",
            "Vægten er faldende, [[taber sig]] fortsat.",
        ],
        NEG: ["Har ikke [[tabt sig]].", "Vægten er stabil, intet [[vægttab]]."],
    },
    "reduced_appetite": {
        AFF: [
            "[[Spiser dårligt]].",
            "[[Appetitten er nedsat]].",
            "Har [[ingen appetit]] og spiser kun lidt morgenmad.",
        ],
        NEG: ["Spiser godt, ingen [[appetitløshed]].", "Appetitten er god, ingen [[madlede]]."],
    },
    "cough": {
        AFF: ["[[Hoster]] meget om natten.", "Har [[hostet]] i 3 uger."],
        NEG: ["[[Hoster]] ikke.", "Har ikke [[hostet]]."],
    },
    "dyspnoea": {
        AFF: [
            "Bliver [[forpustet]] ved trappegang.",
            "[[Åndenøden]] er tiltaget.",
            "Må stoppe op pga. [[åndenød]] efter 50 m.",
        ],
        NEG: ["Ikke [[forpustet]] ved gang på flad vej.", "Går ture uden [[åndenød]]."],
    },
    "oedema": {
        AFF: [
            "Let [[pittingødem]] på begge underben.",
            "[[Ødemerne]] er tiltaget.",
            "Der ses [[ankelødemer]] bilat.",
            "Hævede fødder og [[underbensødemer]].",
        ],
        NEG: ["Ingen [[ødemer]] på underbenene.", "Underben uden [[ødemer]]."],
    },
    "heart_failure": {
        AFF: [
            "Kendt med [[hjertesvigt]].",
            "Indlagt med [[inkompenseret hjertesvigt]].",
            "Følges i hjertesvigtsklinikken for sin [[hjerteinsufficiens]].",
        ],
        UNC: [
            "Obs. [[hjertesvigt]] – henvises til ekkokardiografi.",
            "Kliniske tegn kunne tale for [[hjertesvigt]], men EKG er normalt.",
        ],
        NEG: [
            "Ekko uden tegn på [[hjertesvigt]].",
            "[[Hjertesvigt]] afkræftet ved ekko.",
            "Normalt NT-proBNP, og [[hjertesvigt]] er udelukket.",
        ],
    },
    "loneliness": {
        AFF: [
            "Giver udtryk for [[ensomhed]] efter hustruens død.",
            "Sidder meget alene og føler sig [[ensom]].",
            "Savner selskab og beskriver [[ensomhed]] i weekenderne.",
        ],
        NEG: [
            "Har god kontakt til familien og føler sig ikke [[ensom]].",
            "Ingen [[ensomhed]], går i dagcenter to gange om ugen.",
        ],
    },
    "confusion": {
        AFF: ["Natlig [[uro og forvirring]].", "Var [[forvirret]] og kunne ikke finde hjem."],
        NEG: ["Klar og orienteret, ikke [[forvirret]].", "Ingen [[konfusion]]."],
    },
    "dizziness": {
        AFF: [
            "[[Svimmelhed]] ved skift fra liggende til stående.",
            "Bliver [[svimmel]], når han rejser sig.",
        ],
        NEG: ["Ingen [[svimmelhed]] ved stillingsskift."],
    },
}

#: Affirmed frames for heart failure (a diagnosis, not a complaint).
HF_AFF = [
    "Kendt med {A}.",
    "Pt. med {A}.",
    "Følges for {A}.",
    "Behandles for {A}.",
    "{A} er velbehandlet.",
    "Kendt {A} siden 2019.",
    "Diagnosen er {A}.",
]

#: Two-finding frames: (context of A, context of B, frame).
PAIRS: list[tuple[str, str, str]] = [
    (AFF, AFF, "Pt. har {A} og {B}."),
    (AFF, AFF, "Klager over {A} samt {B}."),
    (AFF, AFF, "Ikke kun {A}, men også {B}."),
    (AFF, AFF, "Både {A} og {B}."),
    (AFF, AFF, "{A} og {B} gennem en uges tid."),
    (AFF, AFF, "Har bl.a. haft {A} og {B}."),
    (AFF, AFF, "Tiltagende {A}, desuden {B}."),
    (NEG, NEG, "Ingen {A} eller {B}."),
    (NEG, NEG, "Benægter {A} og {B}."),
    (NEG, NEG, "Ikke {A}, ikke {B}."),
    (NEG, NEG, "Hverken {A} eller {B}."),
    (NEG, NEG, "Ingen {A}, {B} eller feber."),
    (AFF, NEG, "Har {A}, men ingen {B}."),
    (AFF, NEG, "{A}, men benægter {B}."),
    (AFF, NEG, "Klager over {A}; ikke {B}."),
    (AFF, NEG, "{A} uden {B}."),
    (NEG, AFF, "Ingen {A}, men {B}."),
    (NEG, AFF, "Benægter {A}, men har {B}."),
    (NEG, AFF, "Ikke {A}, dog {B}."),
    (NEG, AFF, "Ingen tegn på {A}, derimod {B}."),
    (NEG, AFF, "Ingen {A}. Til gengæld {B}."),
    (UNC, AFF, "Mistanke om {A} pga. {B}."),
    (UNC, AFF, "Obs. {A} ved {B}."),
    (AFF, UNC, "{A} – obs. {B}."),
    (AFF, UNC, "{A}, formentlig {B}."),
    (FAM, AFF, "Mor havde {A}; pt. selv har {B}."),
    (FAM, AFF, "Far med {A}, pt. klager nu over {B}."),
    (AFF, FAM, "Pt. har {A}, og hendes søster har {B}."),
    (NEG, HYP, "Ingen {A} aktuelt; ved {B} kontaktes lægen."),
    (AFF, HYP, "{A} er bedre; ved {B} genhenvendelse."),
    (HIST, AFF, "Tidligere {A}, nu {B}."),
    (HIST, NEG, "Tidligere {A}, men ingen {B} nu."),
]

#: Neutral sentences (no finding; some carry negation cues as distractors).
FILLER_GP = [
    "Ingen feber.",
    "Ikke ryger.",
    "Ingen allergi.",
    "Ingen ændring i medicin.",
    "Sover godt.",
    "Normal afføring og vandladning.",
    "Ikke tegn på infektion.",
    "Ingen kendte allergier.",
    "Går til fysioterapi 1 gang ugentligt.",
    "Ryger ikke, drikker lidt.",
    "Har haft det godt siden sidst.",
    "Kommer til årskontrol.",
    "Bor med sin ægtefælle.",
    "Bor alene i lejlighed på 2. sal uden elevator.",
    "Får hjælp til rengøring hver 14. dag.",
    "Ikke faldende tendens i BT.",
    "Faldende P-kreatinin siden sidst.",
    "Ønsker ikke yderligere udredning.",
]
FILLER_HOSP = [
    "CAVE: Penicillin.",
    "CAVE: ingen kendte.",
    "Ingen feber under indlæggelsen.",
    "Mobiliseret til egen stue.",
    "Tilset af fysioterapeut.",
    "Pt. informeret om forløbet.",
    "Udskrives til eget hjem.",
    "Ikke behov for kommunal opfølgning.",
    "Hjemmeplejen er orienteret.",
    "Rtg. af thorax uden infiltrater.",
    "EKG: sinusrytme.",
    "EKG: atrieflimren med normofrekvent ventrikelrespons.",
    "Ingen ændringer i FMK.",
]
FILLER_MUNI = [
    "Borger er glad og imødekommende.",
    "Hjælp til bad som aftalt.",
    "Medicin dispenseret for 14 dage.",
    "Borger sidder i stolen ved besøget.",
    "Ingen ændringer siden sidst.",
    "Har fået madservice.",
    "Datteren var på besøg.",
    "Borger ønsker ikke hjælp til rengøring.",
    "Nødkald afprøvet og virker.",
    "Ikke behov for yderligere hjælp p.t.",
    "Tryksårsforebyggelse fortsætter.",
]

GP_HEADINGS = {
    "anamnese": ["Anamnese:", "Anamnese:", "A:", "ANAMNESE:", "Anamnese -"],
    "objektivt": ["Objektivt:", "Obj.:", "Objektivt:", "O:", "OBJEKTIVT:"],
    "vurdering": ["Vurdering:", "Vurd.:", "Konkl.:", "Vurdering:", "V:"],
    "plan": ["Plan:", "Plan:", "P:", "PLAN:", "Aftale:"],
    "familie": ["Familieanamnese:", "Fam. anamnese:", "Disp.:"],
}

#: Municipal FSIII headings (helbredstilstande / funktionsevnetilstande) [S29].
MUNI_HEADING_OF = {
    "dyspnoea": "Respiration og cirkulation",
    "oedema": "Respiration og cirkulation",
    "cough": "Respiration og cirkulation",
    "chest_pain": "Smerter og sanseindtryk",
    "heart_failure": "Respiration og cirkulation",
    "weight_loss": "Ernæring",
    "reduced_appetite": "Ernæring",
    "loneliness": "Psykosociale forhold",
    "confusion": "Mentale funktioner",
    "fatigue": "Søvn og hvile",
    "dizziness": "Smerter og sanseindtryk",
    "fall": "Mobilitet",
}
MUNI_EXTRA_HEADINGS = [
    "Funktionsniveau",
    "Hud og slimhinder",
    "Udskillelse af affaldsstoffer",
    "Egenomsorg",
    "Praktiske opgaver",
    "Kommunikation",
]

MED_LINES = {
    "hf": [
        "Tbl. Furix 40 mg 1x2",
        "Tbl. Bisoprolol 5 mg 1x1",
        "Tbl. Spironolakton 25 mg 1x1",
        "Tbl. Entresto 49/51 mg 1x2",
        "Tbl. Forxiga 10 mg 1x1",
    ],
    "t2d": [
        "Tbl. Metformin 500 mg 2x2",
        "Inj. Ozempic 1 mg 1 gang ugentligt",
        "Tbl. Jardiance 10 mg 1x1",
    ],
    "af": ["Tbl. Eliquis 5 mg 1x2", "Tbl. Metoprolol 50 mg 1x1"],
    "copd": [
        "Inh. Spiriva 18 mikrog 1x1",
        "Inh. Symbicort 160/4,5 2 pust x 2",
        "Inh. Ventoline p.n.",
    ],
    "htn": ["Tbl. Amlodipin 5 mg 1x1", "Tbl. Ramipril 5 mg 1x1", "Tbl. Losartan 50 mg 1x1"],
    "any": [
        "Tbl. Panodil 1 g 1x3 p.n.",
        "Tbl. Pantoprazol 40 mg 1x1",
        "Tbl. Magnyl 75 mg 1x1",
        "Tbl. Atorvastatin 40 mg 1x1",
    ],
}
