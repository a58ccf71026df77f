"""French, German and Spanish vocabularies for the ``non_english`` pages (same space topic, other
languages), which the language filter must remove. Written for this project; no third-party text.
Nouns are stored with their article so that the frames need no agreement rules.
"""

from __future__ import annotations

import random

from pipeline.sample.grammar import Grammar
from pipeline.sample.vocab_astro import BODIES, FIRST, LAST, MISSION_NAMES, NAMEROOT


def _n(lo: int, hi: int):
    return lambda rng: str(rng.randint(lo, hi))


_COMMON = {
    "N2": _n(12, 95), "N3": _n(110, 980), "PCT": _n(2, 45), "KM": _n(14, 2400), "YEAR": _n(1996, 2025),
    "KELVIN": _n(40, 720), "DAYS": _n(3, 300), "PERSON": ["{FIRSTN} {LASTN}"], "FIRSTN": FIRST, "LASTN": LAST,
    "ROOT": NAMEROOT,
}

# --------------------------------------------------------------------------------------------- French
FR_SLOTS = dict(_COMMON)
FR_SLOTS.update({
    "FEAT": [
        "un cratère d'impact", "une coulée de lave", "une calotte polaire", "un champ de dunes",
        "une faille profonde", "une plaine volcanique", "un panache de vapeur", "un lac de méthane",
        "une falaise de glace", "un réseau de ravines", "une tache sombre", "une chaîne de cratères",
        "un bassin ancien", "une crête sinueuse", "un dépôt de givre",
    ],
    "INSTR": [
        "le spectromètre infrarouge", "le radar de sondage", "la caméra grand angle", "le magnétomètre",
        "l'altimètre laser", "le détecteur de poussières", "le sismomètre", "la caméra couleur",
        "le spectromètre de masse", "le radiomètre micro-ondes",
    ],
    "QTY": [
        "la température de surface", "l'épaisseur de la croûte", "la densité moyenne", "la pression atmosphérique",
        "la vitesse des vents", "l'abondance de vapeur d'eau", "la période de rotation", "la teneur en sel",
        "l'intensité du champ magnétique", "l'épaisseur de la glace",
    ],
    "ADJ": [
        "étonnante", "discrète", "remarquable", "inattendue", "ancienne", "récente", "étrange", "nette", "fragile",
        "importante", "surprenante", "durable",
    ],
    "TEAM": [
        "l'équipe scientifique", "le centre de contrôle", "le groupe de recherche", "l'équipe de navigation",
        "la direction de la mission",
    ],
    "INST": [
        "l'Institut de planétologie de Valmont", "l'Université de Rivecourt", "l'Observatoire du Pic Ardent",
        "le Centre spatial de Montclar", "le Laboratoire des mondes glacés",
    ],
    "VERB": ["a révélé", "a détecté", "a cartographié", "a photographié", "a repéré", "a mesuré"],
    "MONTH": [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
        "décembre",
    ],
    "PROC": [
        "l'érosion par le vent", "le bombardement de micrométéorites", "la sublimation de la glace",
        "le réchauffement par les marées", "une activité volcanique récente", "la convection dans le manteau",
    ],
    "PLACE": ["la région de {ROOT}", "le bassin de {ROOT}", "les plaines de {ROOT}", "le plateau de {ROOT}"],
})
FR_FRAMES = [
    "la sonde {M} {VERB} {FEAT} près de {PLACE}, à environ {KM} kilomètres de l'équateur.",
    "selon {P}, chercheuse à {INST}, ces données changent notre vision de {BFR}.",
    "{INSTR} a permis de mesurer {QTY} avec une précision d'environ {PCT} pour cent.",
    "les scientifiques pensent que {PROC} explique en grande partie cette découverte {ADJ}.",
    "la mission a été lancée en {YEAR} et devrait fonctionner encore plusieurs années.",
    "{TEAM} a passé {DAYS} jours à préparer cette manœuvre délicate.",
    "au cours du survol, la sonde est passée à seulement {KM} kilomètres de la surface.",
    "les images montrent des détails que personne n'avait jamais vus auparavant.",
    "il faudra encore des mois d'analyse avant de pouvoir tirer des conclusions solides.",
    "pour {PL}, le détail le plus frappant se trouve dans {PLACE}, où l'on devine {FEAT}.",
    "la température y atteint à peine {KELVIN} kelvins pendant la longue nuit polaire.",
    "{TEAM} espère que la prochaine campagne d'observation confirmera ces premiers indices.",
    "une découverte aussi {ADJ} n'était prévue par aucun modèle théorique.",
    "ce n'est pas la première fois que {BFR} surprend les astronomes, loin de là.",
    "les données brutes seront mises à la disposition du public dès le mois de {MONTH}.",
    "en comparant ces mesures avec celles de {BODYFR}, les chercheurs ont remarqué une différence {ADJ}.",
    "d'après {PERSON}, il est encore trop tôt pour parler d'un océan souterrain.",
    "la sonde transporte une dizaine d'instruments, dont {INSTR} et {INSTR}.",
    "les ingénieurs ont dû corriger la trajectoire à {N2} reprises depuis le lancement.",
    "cette mission coûte moins cher que prévu, ce qui est assez rare dans le domaine spatial.",
    "sur les clichés, on distingue clairement les couches successives de roche et de glace.",
    "les signaux mettent plusieurs dizaines de minutes pour parvenir jusqu'aux antennes terrestres.",
    "{P} rappelle que chaque orbite apporte son lot de nouvelles questions.",
    "les chercheurs de {INST} ont publié leurs résultats ce mois-ci dans une revue spécialisée.",
    "la prochaine étape consistera à cartographier l'ensemble de l'hémisphère nord.",
    "beaucoup de spécialistes restent prudents et attendent des observations complémentaires.",
    "à long terme, l'agence envisage d'envoyer un atterrisseur pour étudier le sol de plus près.",
    "le budget de la mission prolongée couvre encore {N2} mois d'exploitation.",
]
FR_INTROS = [
    "En {MONTH} {YEAR}, ", "Pour la première fois, ", "Selon les chercheurs, ", "Toutefois, ", "De plus, ",
    "Quelques semaines plus tard, ", "Par ailleurs, ", "En revanche, ",
]
FR_TITLES = [
    "La sonde {M} dévoile les secrets de {BFR}", "Une découverte étonnante sur {BFR}",
    "Ce que {M} nous apprend sur {BFR}", "Nouvelles images de la région de {ROOT}",
]
FR_BODIES = {"the Moon": "la Lune", "Mercury": "Mercure", "Venus": "Vénus", "Mars": "Mars", "Jupiter": "Jupiter",
             "Saturn": "Saturne", "Neptune": "Neptune", "Uranus": "Uranus", "Pluto": "Pluton", "Titan": "Titan",
             "Europa": "Europe", "Ganymede": "Ganymède", "Enceladus": "Encelade", "Callisto": "Callisto", "Io": "Io",
             "Ceres": "Cérès", "Triton": "Triton"}

# --------------------------------------------------------------------------------------------- German
DE_SLOTS = dict(_COMMON)
DE_SLOTS.update({
    "FEAT": [
        "einen Einschlagkrater", "eine Lavaröhre", "eine Polkappe", "ein Dünenfeld", "einen tiefen Graben",
        "eine vulkanische Ebene", "eine Dampffontäne", "einen Methansee", "eine Eisklippe", "ein Netz aus Rinnen",
        "einen dunklen Fleck", "eine Kraterkette", "ein altes Becken", "einen gewundenen Rücken",
    ],
    "INSTR": [
        "das Infrarotspektrometer", "das Bodenradar", "die Weitwinkelkamera", "das Magnetometer",
        "der Laserhöhenmesser", "der Staubdetektor", "das Seismometer", "die Farbkamera", "das Massenspektrometer",
    ],
    "INSTR_DAT": [
        "dem Infrarotspektrometer", "dem Bodenradar", "der Weitwinkelkamera", "dem Magnetometer",
        "dem Laserhöhenmesser", "dem Staubdetektor", "dem Seismometer", "der Farbkamera",
    ],
    "QTY": [
        "die Oberflächentemperatur", "die Dicke der Kruste", "die mittlere Dichte", "den Luftdruck",
        "die Windgeschwindigkeit", "den Gehalt an Wasserdampf", "die Rotationsdauer", "den Salzgehalt",
        "die Stärke des Magnetfelds", "die Dicke der Eisschicht",
    ],
    "ADJ": ["überraschend", "bemerkenswert", "ungewöhnlich", "erstaunlich", "auffällig", "verblüffend"],
    "TEAM": [
        "das Wissenschaftsteam", "das Kontrollzentrum", "die Forschungsgruppe", "das Navigationsteam",
        "die Missionsleitung",
    ],
    "INST": [
        "dem Institut für Planetenforschung in Waldhagen", "der Universität Rabenstein",
        "der Sternwarte am Hohen Kamm", "dem Raumfahrtzentrum Lindenau", "dem Labor für Eiswelten",
    ],
    "VERB": ["entdeckte", "kartierte", "fotografierte", "vermaß", "registrierte", "beobachtete"],
    "MONTH": [
        "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
        "Dezember",
    ],
    "PROC": [
        "die Erosion durch Wind", "der Einschlag winziger Meteoriten", "die Sublimation von Eis",
        "die Erwärmung durch Gezeitenkräfte", "junger Vulkanismus", "Konvektion im Mantel",
    ],
    "PLACE": ["der Region {ROOT}", "dem Becken {ROOT}", "der Ebene von {ROOT}", "dem Hochland von {ROOT}"],
})
DE_FRAMES = [
    "die Sonde {M} {VERB} {FEAT} in der Nähe von {PLACE}, etwa {KM} Kilometer vom Äquator entfernt.",
    "nach Ansicht von {P}, Forscherin an {INST}, verändern diese Daten unser Bild von {BDE}.",
    "mit {INSTR_DAT} ließ sich {QTY} auf etwa {PCT} Prozent genau bestimmen.",
    "die Wissenschaftler vermuten, dass {PROC} diese Entdeckung zum großen Teil erklärt.",
    "die Mission startete im Jahr {YEAR} und soll noch mehrere Jahre lang arbeiten.",
    "{TEAM} hat {DAYS} Tage lang an der Vorbereitung dieses schwierigen Manövers gearbeitet.",
    "beim Vorbeiflug näherte sich die Sonde der Oberfläche bis auf {KM} Kilometer.",
    "die Bilder zeigen Einzelheiten, die bisher noch niemand gesehen hatte.",
    "bis belastbare Schlussfolgerungen vorliegen, werden wohl noch viele Monate vergehen.",
    "für {PL} ist das Ergebnis {ADJ} und wirft eine Reihe neuer Fragen auf.",
    "während der langen Polarnacht steigt die Temperatur dort kaum über {KELVIN} Kelvin.",
    "{TEAM} hofft, dass die nächste Beobachtungskampagne diese ersten Hinweise bestätigen wird.",
    "eine so {ADJ} klare Struktur hatte kein theoretisches Modell vorhergesagt.",
    "es ist nicht das erste Mal, dass {BDE} die Astronomen überrascht.",
    "die Rohdaten werden ab {MONTH} für die Öffentlichkeit freigegeben.",
    "im Vergleich mit {BODYDE} fiel den Forschern ein {ADJ} großer Unterschied auf.",
    "laut {PERSON} ist es noch zu früh, um von einem Ozean unter dem Eis zu sprechen.",
    "an Bord befinden sich rund zehn Instrumente, darunter {INSTR} und {INSTR}.",
    "die Ingenieure mussten die Flugbahn seit dem Start {N2} Mal korrigieren.",
    "die Mission ist günstiger als geplant, was in der Raumfahrt eher selten vorkommt.",
    "auf den Aufnahmen erkennt man deutlich die übereinander liegenden Schichten aus Gestein und Eis.",
    "die Signale brauchen mehrere Dutzend Minuten, bis sie die Antennen auf der Erde erreichen.",
    "{P} betont, dass jeder neue Umlauf auch neue Rätsel mit sich bringt.",
    "die Forscher an {INST} haben ihre Ergebnisse in diesem Monat in einer Fachzeitschrift veröffentlicht.",
    "als nächstes soll die gesamte Nordhalbkugel kartiert werden.",
    "viele Fachleute bleiben vorsichtig und warten auf weitere Messungen.",
    "langfristig denkt die Raumfahrtagentur über einen Lander nach, der den Boden genauer untersuchen könnte.",
    "das Budget für die verlängerte Mission reicht für weitere {N2} Monate Betrieb.",
]
DE_TITLES = [
    "Sonde {M} lüftet die Geheimnisse von {BDE}", "Eine überraschende Entdeckung auf {BDE}",
    "Was uns {M} über {BDE} verrät", "Neue Bilder aus der Region {ROOT}",
]
DE_BODIES = {"Mercury": "Merkur", "Venus": "Venus", "Mars": "Mars", "Jupiter": "Jupiter",
             "Saturn": "Saturn", "Neptune": "Neptun", "Uranus": "Uranus", "Pluto": "Pluto", "Titan": "Titan",
             "Europa": "Europa", "Ganymede": "Ganymed", "Enceladus": "Enceladus", "Callisto": "Kallisto", "Io": "Io",
             "Ceres": "Ceres", "Triton": "Triton"}

# --------------------------------------------------------------------------------------------- Spanish
ES_SLOTS = dict(_COMMON)
ES_SLOTS.update({
    "FEAT": [
        "un cráter de impacto", "un tubo de lava", "un casquete polar", "un campo de dunas", "una falla profunda",
        "una llanura volcánica", "un penacho de vapor", "un lago de metano", "un acantilado de hielo",
        "una red de barrancos", "una mancha oscura", "una cadena de cráteres", "una cuenca antigua",
    ],
    "INSTR": [
        "el espectrómetro infrarrojo", "el radar de sondeo", "la cámara gran angular", "el magnetómetro",
        "el altímetro láser", "el detector de polvo", "el sismómetro", "la cámara en color",
        "el espectrómetro de masas",
    ],
    "QTY": [
        "la temperatura de la superficie", "el grosor de la corteza", "la densidad media", "la presión atmosférica",
        "la velocidad del viento", "la cantidad de vapor de agua", "el periodo de rotación", "el contenido de sal",
        "la intensidad del campo magnético", "el grosor del hielo",
    ],
    "ADJ": ["sorprendente", "notable", "inesperada", "curiosa", "llamativa", "clara", "importante"],
    "TEAM": [
        "el equipo científico", "el centro de control", "el grupo de investigación", "el equipo de navegación",
        "la dirección de la misión",
    ],
    "INST": [
        "el Instituto de Ciencias Planetarias de Valdeluz", "la Universidad de Peñaclara",
        "el Observatorio del Alto Roble", "el Centro Espacial de Marbuena", "el Laboratorio de Mundos Helados",
    ],
    "VERB": ["descubrió", "cartografió", "fotografió", "detectó", "localizó", "midió"],
    "MONTH": [
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
        "noviembre", "diciembre",
    ],
    "PROC": [
        "la erosión del viento", "el impacto de micrometeoritos", "la sublimación del hielo",
        "el calentamiento por mareas", "una actividad volcánica reciente", "la convección en el manto",
    ],
    "PLACE": ["la región de {ROOT}", "la cuenca de {ROOT}", "las llanuras de {ROOT}", "la meseta de {ROOT}"],
})
ES_FRAMES = [
    "la sonda {M} {VERB} {FEAT} cerca de {PLACE}, a unos {KM} kilómetros del ecuador.",
    "según {P}, investigadora en {INST}, estos datos cambian nuestra idea de {BES}.",
    "gracias a {INSTR} fue posible medir {QTY} con una precisión de alrededor del {PCT} por ciento.",
    "los científicos creen que {PROC} explica buena parte de este hallazgo.",
    "la misión despegó en {YEAR} y debería seguir funcionando durante varios años más.",
    "{TEAM} dedicó {DAYS} días a preparar esta maniobra tan delicada.",
    "durante el sobrevuelo, la nave pasó a solo {KM} kilómetros de la superficie.",
    "las imágenes muestran detalles que nadie había visto hasta ahora.",
    "todavía harán falta muchos meses de análisis antes de sacar conclusiones firmes.",
    "para {PL}, lo más llamativo está en {PLACE}, donde se aprecia {FEAT}.",
    "durante la larga noche polar la temperatura apenas supera los {KELVIN} kelvin.",
    "{TEAM} espera que la próxima campaña de observación confirme estos primeros indicios.",
    "ningún modelo teórico había previsto una estructura tan {ADJ} como esta.",
    "no es la primera vez que {BES} sorprende a los astrónomos, ni mucho menos.",
    "los datos sin procesar estarán disponibles para el público a partir de {MONTH}.",
    "al comparar estas medidas con las de {BODYES}, los investigadores notaron una diferencia {ADJ}.",
    "de acuerdo con {PERSON}, aún es pronto para hablar de un océano bajo el hielo.",
    "la nave lleva una decena de instrumentos, entre ellos {INSTR} y {INSTR}.",
    "los ingenieros han tenido que corregir la trayectoria {N2} veces desde el lanzamiento.",
    "la misión ha costado menos de lo previsto, algo poco habitual en el sector espacial.",
    "en las fotografías se distinguen con claridad las capas sucesivas de roca y de hielo.",
    "las señales tardan varias decenas de minutos en llegar hasta las antenas en la Tierra.",
    "{P} recuerda que cada nueva órbita trae consigo nuevas preguntas.",
    "los investigadores de {INST} publicaron sus resultados este mes en una revista especializada.",
    "el siguiente paso será cartografiar todo el hemisferio norte.",
    "muchos especialistas se muestran prudentes y esperan nuevas observaciones.",
    "a largo plazo, la agencia estudia enviar un módulo de aterrizaje para analizar el suelo.",
    "el presupuesto de la misión ampliada cubre otros {N2} meses de trabajo.",
]
ES_INTROS = [
    "En {MONTH} de {YEAR}, ", "Por primera vez, ", "Según los investigadores, ", "Sin embargo, ", "Además, ",
    "Unas semanas después, ", "Por otra parte, ", "En cambio, ",
]
ES_TITLES = [
    "La sonda {M} desvela los secretos de {BES}", "Un hallazgo sorprendente en {BES}",
    "Lo que {M} nos enseña sobre {BES}", "Nuevas imágenes de la región de {ROOT}",
]
ES_BODIES = {"the Moon": "la Luna", "Mercury": "Mercurio", "Venus": "Venus", "Mars": "Marte", "Jupiter": "Júpiter",
             "Saturn": "Saturno", "Neptune": "Neptuno", "Uranus": "Urano", "Pluto": "Plutón", "Titan": "Titán",
             "Europa": "Europa", "Ganymede": "Ganímedes", "Enceladus": "Encélado", "Callisto": "Calisto", "Io": "Ío",
             "Ceres": "Ceres", "Triton": "Tritón"}

LANGS = {
    "fr": (Grammar(slots=FR_SLOTS, frames=FR_FRAMES, intros=FR_INTROS, titles=FR_TITLES, english=False, intro_p=0.2),
           FR_BODIES, "BFR", "BODYFR"),
    "de": (Grammar(slots=DE_SLOTS, frames=DE_FRAMES, titles=DE_TITLES, english=False, intro_p=0.0),
           DE_BODIES, "BDE", "BODYDE"),
    "es": (Grammar(slots=ES_SLOTS, frames=ES_FRAMES, intros=ES_INTROS, titles=ES_TITLES, english=False, intro_p=0.2),
           ES_BODIES, "BES", "BODYES"),
}

for _lang, (_g, _bodies, _bkey, _bodykey) in LANGS.items():
    _g.slots[_bodykey] = sorted(set(_bodies.values()))  # type: ignore[index]

_ = BODIES, MISSION_NAMES  # re-exported names used by the generator


def make_context(lang: str, rng: random.Random) -> dict[str, str]:
    grammar, bodies, bkey, _ = LANGS[lang]
    body = rng.choice(sorted(bodies))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {bkey: bodies[body], "M": rng.choice(MISSION_NAMES), "P": f"{first} {last}", "PL": last}
