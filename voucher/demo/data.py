"""The tables of the demo: the Comuni, providers, schemes and the people who use them."""

SEED = 2026

# The Comuni of the Società della Salute Fiorentina Nord-Ovest. ISTAT codes from ISTAT's
# list of Italian Comuni; Belfiore codes as in python-codicefiscale's municipality data.
# The weight is roughly the population, so that residents spread as they would.
COMUNI = (
    ("048005", "B406", "Calenzano", 18),
    ("048006", "B507", "Campi Bisenzio", 47),
    ("048015", "D575", "Fiesole", 14),
    ("048024", "E466", "Lastra a Signa", 20),
    ("048041", "B962", "Scandicci", 50),
    ("048043", "I684", "Sesto Fiorentino", 48),
    ("048044", "I728", "Signa", 19),
    ("048046", "L529", "Vaglia", 5),
)

ENTE_NAME = "Società della Salute Fiorentina Nord-Ovest"

# (key, name, accredited services); the last one is suspended once its work is recorded.
PROVIDERS = (
    ("melograno", "Il Melograno Cooperativa Sociale", ("A1", "A3", "A4", "C1")),
    ("mensa", "La Mensa Solidale Società Cooperativa Sociale", ("A2",)),
    ("girasole", "Centro Diurno Il Girasole Cooperativa Sociale", ("C2", "C3")),
    ("educare", "Educare Insieme Cooperativa Sociale", ("B1", "B2", "B3", "P2", "P4")),
    ("trasporti", "Trasporti Sociali della Piana Cooperativa Sociale", ("C3",)),
    ("bisenzio", "Assistenza Domiciliare Bisenzio S.r.l.", ("A1", "A4", "C1")),
)
OPERATOR_PROVIDER = "melograno"
API_KEY_PROVIDER = "mensa"
SUSPENDED_PROVIDER = "bisenzio"

# What each provider's payments need (voucher.demo.liquidation), so that every payment state
# shows: key -> (DURC valid for this many days from today, None: no DURC; IBAN recorded;
# dedicated account declared). The suspended provider has none of it.
PAYMENT_DATA = {
    "melograno": (240, True, True),  # a month paid and one ready to pay
    "mensa": (20, False, True),  # its DURC expires soon and its IBAN is missing
    "girasole": (-15, True, True),  # its DURC has expired
    "educare": (150, True, True),  # its invoice no longer matches the statement
    "trasporti": (None, True, False),  # no DURC, no dedicated-account declaration
}
PAID_PROVIDER = "melograno"
NO_IBAN_PROVIDER = "mensa"
EXPIRED_DURC_PROVIDER = "girasole"
MISMATCH_PROVIDER = "educare"

COPAY_BANDS = [
    {"isee_max_cents": 800_000, "coverage_percent": 100},
    {"isee_max_cents": 1_500_000, "coverage_percent": 80},
    {"isee_max_cents": 2_500_000, "coverage_percent": 60},
    {"isee_max_cents": 4_000_000, "coverage_percent": 40},
]

# key → scheme fields (without dates, year and status) and the quantities of one service.
SCHEMES = {
    "home_care": (
        dict(
            name="Assistenza domiciliare anziani",
            description="Ore di assistenza domiciliare sociale e aiuto domestico per persone "
            "anziane, con compartecipazione per fasce ISEE.",
            fund_code="FSC_OS",
            service_codes=["A1", "A4"],
            unit="HOUR",
            unit_price_cents=2_250,
            face_value_cents=135_000,
            budget_cents=6_000_000,
            eligible_categories=["elderly_self_sufficient", "elderly_dependent"],
            min_age=65,
            max_active_per_beneficiary=1,
            max_redemption_cents=20_000,
            copay_bands=COPAY_BANDS,
        ),
        ("1.5", "2", "2", "2.5", "3"),
    ),
    "meals": (
        dict(
            name="Pasti a domicilio",
            description="Pasti consegnati a domicilio a persone anziane sole: la famiglia "
            "acquista i pasti, l'ente paga al fornitore il contributo per suo conto.",
            fund_code="FSC_OS",
            service_codes=["A2"],
            unit="MEAL",
            unit_price_cents=750,
            face_value_cents=60_000,
            budget_cents=3_000_000,
            eligible_categories=["elderly_self_sufficient", "elderly_dependent"],
            min_age=65,
            isee_max_cents=3_000_000,
            max_active_per_beneficiary=1,
            legal_model="contribution",
        ),
        ("5", "8", "10", "12", "15"),
    ),
    "school": (
        dict(
            name="Sostegno educativo minori in età scolare",
            description="Ore di sostegno educativo e doposcuola per minori in età scolare.",
            fund_code="FSC_OS",
            service_codes=["B3"],
            unit="HOUR",
            unit_price_cents=2_400,
            face_value_cents=96_000,
            budget_cents=2_500_000,
            eligible_categories=["minor", "fragile_parenting"],
            min_age=6,
            max_age=17,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
    "day_centre": (
        dict(
            name="Centro diurno disabili",
            description="Accessi giornalieri ai centri diurni per persone con disabilità.",
            fund_code="FSC_OS",
            service_codes=["C2"],
            unit="ACCESS",
            unit_price_cents=4_500,
            face_value_cents=225_000,
            budget_cents=5_000_000,
            eligible_categories=["disabled"],
            max_active_per_beneficiary=1,
        ),
        ("2", "4", "5", "8"),
    ),
    "transport": (
        dict(
            name="Trasporto sociale disabili",
            description="Corse di trasporto verso centri diurni, scuole e luoghi di cura.",
            fund_code="FSC_OS",
            service_codes=["C3"],
            unit="TRIP",
            unit_price_cents=1_800,
            face_value_cents=72_000,
            budget_cents=2_000_000,
            eligible_categories=["disabled"],
            max_active_per_beneficiary=1,
        ),
        ("2", "4", "6"),
    ),
    "poverty": (
        dict(
            name="Sostegno socio-educativo ai nuclei in povertà",
            description="Interventi socio-educativi domiciliari e territoriali per i nuclei "
            "beneficiari di misure di inclusione (D.Lgs. 147/2017, art. 7).",
            fund_code="FONDO_POVERTA",
            service_codes=["P2", "P4"],
            unit="HOUR",
            unit_price_cents=2_600,
            face_value_cents=104_000,
            budget_cents=2_500_000,
            eligible_categories=["inclusion_household"],
            isee_max_cents=1_014_000,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
    "pnrr": (
        dict(
            name="PNRR M5C2 1.2 - Percorsi di autonomia per persone con disabilità",
            description="Assistenza domiciliare per l'autonomia delle persone con disabilità.",
            fund_code="PNRR",
            cup="J84H22000130006",
            service_codes=["C1"],
            unit="HOUR",
            unit_price_cents=2_300,
            face_value_cents=138_000,
            budget_cents=1_500_000,
            eligible_categories=["disabled"],
            min_age=18,
            max_age=64,
            max_active_per_beneficiary=1,
        ),
        ("2", "3", "4"),
    ),
}

# (group, how many, age range, category choices, ISEE range in euro, schemes with odds)
GROUPS = (
    (
        "elderly",
        18,
        (67, 91),
        (["elderly_self_sufficient"], ["elderly_dependent"]),
        (4_000, 34_000),
        (("home_care", 0.75), ("meals", 0.7)),
    ),
    (
        "minor",
        8,
        (7, 15),
        (["minor"], ["minor", "fragile_parenting"]),
        (3_000, 22_000),
        (("school", 1.0),),
    ),
    (
        "disabled",
        10,
        (21, 62),
        (["disabled"],),
        (5_000, 30_000),
        (("day_centre", 0.8), ("transport", 0.8), ("pnrr", 0.6)),
    ),
    (
        "inclusion",
        8,
        (27, 58),
        (["inclusion_household"],),
        (1_500, 9_800),
        (("poverty", 1.0),),
    ),
)

FIRST_NAMES = {
    "F": (
        "Anna", "Giulia", "Maria", "Rosa", "Lucia", "Franca", "Silvia", "Elena", "Paola",
        "Carla", "Marta", "Sara", "Chiara", "Bruna", "Laura", "Ilaria", "Gemma", "Alice",
    ),
    "M": (
        "Mario", "Luca", "Giorgio", "Paolo", "Sergio", "Franco", "Marco", "Andrea", "Piero",
        "Renzo", "Bruno", "Lorenzo", "Tommaso", "Matteo", "Duccio", "Gino", "Enzo", "Leonardo",
    ),
}  # fmt: skip
LAST_NAMES = (
    "Bartolini", "Bianchi", "Cecchi", "Fabbri", "Ferrari", "Gori", "Guidi", "Innocenti",
    "Lombardi", "Mancini", "Martini", "Masi", "Niccolai", "Nocentini", "Pieri", "Poggi",
    "Rossi", "Sarti", "Tognetti", "Vannini",
)  # fmt: skip
BIRTHPLACES = (
    ("Firenze", 12), ("Sesto Fiorentino", 3), ("Prato", 2), ("Pistoia", 1),
    ("Arezzo", 1), ("Napoli", 1), ("Palermo", 1), ("Roma", 1),
)  # fmt: skip
FOREIGN = (
    ("F", "Elona", "Hoxha", "Albania"),
    ("M", "Youssef", "Benali", "Marocco"),
    ("M", "Andrei", "Popescu", "Romania"),
    ("F", "Rosa", "Quispe", "Peru"),
)
