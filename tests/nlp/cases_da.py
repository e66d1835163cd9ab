"""Hand-written Danish clinical sentences with their expected mentions.

Each case: (text, [(surface, concept, flags)]), flags a space-separated
subset of: neg unc hyp hist fam oth. Written for epi's rule development;
not taken from the synthetic generator or any treebank.
"""

CASES: list[tuple[str, list[tuple[str, str, str]]]] = [
    # --- affirmed, inflected, typos ---
    ("Pt. har åndenød.", [("åndenød", "dyspnoea", "")]),
    ("Åndenøden er tiltaget over de sidste dage.", [("Åndenøden", "dyspnoea", "")]),
    ("Klager over dyspnø ved anstrengelse.", [("dyspnø", "dyspnoea", "")]),
    ("Hun er kortåndet i hvile.", [("kortåndet", "dyspnoea", "")]),
    ("Anstrengelsesdyspnø NYHA III.", [("Anstrengelsesdyspnø", "dyspnoea", "")]),
    ("Åndnød ved trappegang.", [("Åndnød", "dyspnoea", "")]),
    ("Ødemerne på underbenene er aftaget.", [("Ødemerne", "oedema", "")]),
    ("Let ankelødem bilateralt.", [("ankelødem", "oedema", "")]),
    ("Hævede ben om aftenen.", [("Hævede ben", "oedema", "")]),
    ("Pt. fremstår træt og uoplagt.", [("træt", "fatigue", ""), ("uoplagt", "fatigue", "")]),
    ("Tiltagende træthed gennem en måned.", [("træthed", "fatigue", "")]),
    ("Svimmelhed ved skift fra liggende til stående.", [("Svimmelhed", "dizziness", "")]),
    ("Borgeren faldt i badeværelset i nat.", [("faldt", "fall", "")]),
    ("Fald i hjemmet for fem år siden.", [("Fald", "fall", "hist")]),
    ("Faldt i hjemmet for to dage siden.", [("Faldt", "fall", "")]),
    ("Utilsigtet vægttab på 5 kg.", [("vægttab", "weight_loss", "")]),
    ("Har tabt sig 4 kg på tre måneder.", [("tabt sig 4 kg", "weight_loss", "")]),
    ("Vægten er faldet siden sidst.", [("Vægten er faldet", "weight_loss", "")]),
    (
        "Pt. er konfus og desorienteret.",
        [("konfus", "confusion", ""), ("desorienteret", "confusion", "")],
    ),
    ("Akut forvirring i aftes.", [("Akut forvirring", "confusion", "")]),
    ("Brystsmerterne debuterede i går.", [("Brystsmerterne", "chest_pain", "")]),
    ("Trykken for brystet ved gang.", [("Trykken for brystet", "chest_pain", "")]),
    (
        "Produktiv hoste med gult opspyt.",
        [("Produktiv hoste", "cough", ""), ("opspyt", "cough", "")],
    ),
    ("Pt. hoster om natten.", [("hoster", "cough", "")]),
    (
        "Nedsat appetit og spiser dårligt.",
        [("Nedsat appetit", "reduced_appetite", ""), ("spiser dårligt", "reduced_appetite", "")],
    ),
    ("Appetitten er nedsat.", [("Appetitten er nedsat", "reduced_appetite", "")]),
    ("Hun føler sig ensom efter mandens død.", [("føler sig ensom", "loneliness", "")]),
    ("Kendt med hjertesvigt siden 2019.", [("hjertesvigt", "heart_failure", "")]),
    ("Hjertesvigt i 2015, nu kompenseret.", [("Hjertesvigt", "heart_failure", "hist")]),
    (
        "Iskæmisk hjertesvigt, HFrEF.",
        [("hjertesvigt", "heart_failure", ""), ("HFrEF", "heart_failure", "")],
    ),
    ("Venstresidig hjerteinsufficiens.", [("hjerteinsufficiens", "heart_failure", "")]),
    # --- negation ---
    ("Ingen ødemer.", [("ødemer", "oedema", "neg")]),
    ("Benægter brystsmerter.", [("brystsmerter", "chest_pain", "neg")]),
    ("Ikke tegn på hjertesvigt.", [("hjertesvigt", "heart_failure", "neg")]),
    ("Ingen tegn på inkompensation.", [("inkompensation", "heart_failure", "neg")]),
    ("Pt. har ikke åndenød.", [("åndenød", "dyspnoea", "neg")]),
    ("Pt. hoster ikke.", [("hoster", "cough", "neg")]),
    (
        "Ingen åndenød, hoste eller brystsmerter.",
        [
            ("åndenød", "dyspnoea", "neg"),
            ("hoste", "cough", "neg"),
            ("brystsmerter", "chest_pain", "neg"),
        ],
    ),
    ("Uden svimmelhed.", [("svimmelhed", "dizziness", "neg")]),
    ("Hjertesvigt er afkræftet ved ekko.", [("Hjertesvigt", "heart_failure", "neg")]),
    (
        "Ingen åndenød, men hoste om natten.",
        [("åndenød", "dyspnoea", "neg"), ("hoste", "cough", "")],
    ),
    (
        "Ingen brystsmerter; har dog let åndenød.",
        [("brystsmerter", "chest_pain", "neg"), ("åndenød", "dyspnoea", "")],
    ),
    ("Ikke kun åndenød men også hoste.", [("åndenød", "dyspnoea", ""), ("hoste", "cough", "")]),
    ("Ingen ændring i åndenøden.", [("åndenøden", "dyspnoea", "")]),
    ("Åndenøden er ikke bedret.", [("Åndenøden", "dyspnoea", "")]),
    ("Har ingen appetit.", [("ingen appetit", "reduced_appetite", "")]),
    ("Ikke nedsat appetit.", [("nedsat appetit", "reduced_appetite", "neg")]),
    ("Fri for brystsmerter efter PCI.", [("brystsmerter", "chest_pain", "neg")]),
    ("Aldrig faldet.", [("faldet", "fall", "neg")]),
    # --- uncertainty ---
    ("Obs. hjertesvigt.", [("hjertesvigt", "heart_failure", "unc")]),
    ("Mistanke om hjertesvigt.", [("hjertesvigt", "heart_failure", "unc")]),
    ("Hjertesvigt kan ikke udelukkes.", [("Hjertesvigt", "heart_failure", "unc")]),
    ("Formentlig konfusion pga. UVI.", [("konfusion", "confusion", "unc")]),
    ("Muligvis hjerteinsufficiens.", [("hjerteinsufficiens", "heart_failure", "unc")]),
    ("Svimmelhed?", [("Svimmelhed", "dizziness", "unc")]),
    (
        "Åndenød, evt. hjertesvigt.",
        [("Åndenød", "dyspnoea", ""), ("hjertesvigt", "heart_failure", "unc")],
    ),
    # --- hypothetical ---
    ("Ved forværring af åndenød kontaktes egen læge.", [("åndenød", "dyspnoea", "hyp")]),
    ("Hvis hævede ben, kontakt hjemmesygeplejen.", [("hævede ben", "oedema", "hyp")]),
    ("Kontakt lægen ved brystsmerter.", [("brystsmerter", "chest_pain", "hyp")]),
    ("Øget risiko for fald.", [("fald", "fall", "hyp")]),
    ("I så fald kontaktes vagtlægen.", []),
    # --- historical ---
    ("Tidligere hjertesvigt, nu velbehandlet.", [("hjertesvigt", "heart_failure", "hist")]),
    ("Tidl. fald med hoftefraktur.", [("fald", "fall", "hist")]),
    # --- experiencer ---
    ("Mor havde hjertesvigt.", [("hjertesvigt", "heart_failure", "fam")]),
    ("Far døde af hjertesvigt som 70-årig.", [("hjertesvigt", "heart_failure", "fam")]),
    ("Hjertesvigt hos mor.", [("Hjertesvigt", "heart_failure", "fam")]),
    ("Hjertesvigt i familien.", [("Hjertesvigt", "heart_failure", "fam")]),
    (
        # a spouse is family (as in the synthetic gold); a neighbour is not
        "Ægtefællen har hjertesvigt, pt. selv har åndenød.",
        [("hjertesvigt", "heart_failure", "fam"), ("åndenød", "dyspnoea", "")],
    ),
    ("Mor havde KOL, pt. har åndenød.", [("åndenød", "dyspnoea", "")]),
    ("Datteren oplyser, at pt. har været forvirret.", [("forvirret", "confusion", "")]),
    # --- added after the first synthetic evaluation (generic Danish constructions) ---
    ("Hverken åndenød eller hoste.", [("åndenød", "dyspnoea", "neg"), ("hoste", "cough", "neg")]),
    ("Brystsmerter benægtes.", [("Brystsmerter", "chest_pain", "neg")]),
    ("Kan ikke påvise ødemer.", [("ødemer", "oedema", "neg")]),
    ("Intet der tyder på hjertesvigt.", [("hjertesvigt", "heart_failure", "neg")]),
    ("Åndenød: nej.", [("Åndenød", "dyspnoea", "neg")]),
    ("Hosten er ikke aftaget.", [("Hosten", "cough", "")]),
    ("Billedet kunne passe med hjertesvigt.", [("hjertesvigt", "heart_failure", "unc")]),
    ("? hjertesvigt", [("hjertesvigt", "heart_failure", "unc")]),
    ("Kan ikke udelukke ødemer.", [("ødemer", "oedema", "unc")]),
    ("Ved nyopstået svimmelhed kontaktes lægen.", [("svimmelhed", "dizziness", "hyp")]),
    ("Pt. ringer: Der er ankelødemer.", [("ankelødemer", "oedema", "")]),
    ("Svimmelheden sidste vinter gik over.", [("Svimmelheden", "dizziness", "hist")]),
    ("Naboen har hjertesvigt.", [("hjertesvigt", "heart_failure", "oth")]),
    ("Hans mor havde hjertesvigt.", [("hjertesvigt", "heart_failure", "fam")]),
    ("Hjemmehjælperens egen mor har hjertesvigt.", [("hjertesvigt", "heart_failure", "oth")]),
    ("Faldende BT og faldende CRP.", []),
    ("Svimmelhedsanfald i går.", [("Svimmelhedsanfald", "dizziness", "")]),
    ("Ånednød og træheden tiltager.", [("Ånednød", "dyspnoea", ""), ("træheden", "fatigue", "")]),
    ("Er ikke orienteret i tid.", [("ikke orienteret", "confusion", "")]),
    ("Pt. er orienteret.", []),
    # --- plan phrasing in municipal care notes (written for this pack) ---
    ("Furix 40 mg p.n. ved ødemer.", [("ødemer", "oedema", "hyp")]),
    ("Skulle borgeren få hoste, kontaktes sygeplejersken.", [("hoste", "cough", "hyp")]),
    ("Skulle der opstå svimmelhed, gives besked.", [("svimmelhed", "dizziness", "hyp")]),
    ("Får hun åndenød, skal hun ringe.", [("åndenød", "dyspnoea", "hyp")]),
    ("Tilkald vagtlægen ved brystsmerter.", [("brystsmerter", "chest_pain", "hyp")]),
    ("Hosten er bedre end ved sidste kontakt.", [("Hosten", "cough", "")]),
    ("Trætheden er uændret siden forrige kontakt.", [("Trætheden", "fatigue", "")]),
    # --- who has it: a reporter is not the experiencer ---
    ("Naboen, som borgeren ser dagligt, har hoste.", [("hoste", "cough", "oth")]),
    ("Obj.: Medpatienten har hoste.", [("hoste", "cough", "oth")]),
    ("Familieanamnese: Medpatient på stuen med hoste.", [("hoste", "cough", "oth")]),
    ("Hustruen har hjertesvigt, og pt. hjælper hende.", [("hjertesvigt", "heart_failure", "fam")]),
    ("Naboens mor har hjertesvigt.", [("hjertesvigt", "heart_failure", "oth")]),
    ("Mors søster har hjertesvigt.", [("hjertesvigt", "heart_failure", "fam")]),
    ("Sønnen fortæller, at borgeren er faldet.", [("faldet", "fall", "")]),
    # --- measurements ---
    ("EF 35 %.", [("EF 35 %", "ejection_fraction", "")]),
    ("LVEF ca. 30-35 %.", [("LVEF ca. 30-35 %", "ejection_fraction", "")]),
    ("BT 145/90, puls 88.", [("BT 145/90", "blood_pressure", "")]),
    ("Blodtryk målt til 132/78 mmHg.", [("Blodtryk målt til 132/78 mmHg", "blood_pressure", "")]),
    ("Vægt 72,5 kg.", [("Vægt 72,5 kg.", "weight", "")]),
    ("Sat 94 % uden ilt.", [("Sat 94 %", "saturation", "")]),
]

#: expected values of measurement cases, by text
VALUES = {
    "EF 35 %.": "35",
    "LVEF ca. 30-35 %.": "30-35",
    "BT 145/90, puls 88.": "145/90",
    "Blodtryk målt til 132/78 mmHg.": "132/78",
    "Vægt 72,5 kg.": "72.5",
    "Sat 94 % uden ilt.": "94",
}
