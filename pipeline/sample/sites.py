"""Invented web sites hosting the synthetic crawl, and the page chrome (menus, footers) they use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    host: str  # e.g. "www.orbitalnotes.com"
    name: str  # display name
    lang: str = "en"
    sections: tuple[str, ...] = ("news", "missions", "features", "science")


_EN_SECTIONS = (
    ("news", "missions", "features", "science"),
    ("planets", "explainers", "news", "opinion"),
    ("blog", "observing", "missions", "archive"),
    ("stories", "research", "space", "reviews"),
)

# (host, display name) -- all invented
_EN = [
    ("www.orbitalnotes.com", "Orbital Notes"), ("www.skyledger.org", "Sky Ledger"),
    ("www.planetarydispatch.net", "Planetary Dispatch"), ("www.farsidejournal.com", "Farside Journal"),
    ("news.cometwatch.org", "Comet Watch"), ("www.deepfieldreview.com", "Deep Field Review"),
    ("www.heliopausepost.com", "Heliopause Post"), ("www.ringplane.net", "Ringplane"),
    ("www.craterlines.org", "Crater Lines"), ("www.outerworldsweekly.com", "Outer Worlds Weekly"),
    ("www.regolithreport.com", "The Regolith Report"), ("blog.probechronicle.io", "Probe Chronicle"),
    ("www.starboardastronomy.org", "Starboard Astronomy"), ("www.solarsystemdesk.com", "Solar System Desk"),
    ("www.lunarlimb.net", "Lunar Limb"), ("www.ecliptictimes.com", "Ecliptic Times"),
    ("www.perihelionpress.co.uk", "Perihelion Press"), ("www.apoapsisnews.com", "Apoapsis News"),
    ("www.albedoarchive.net", "Albedo Archive"), ("www.occultationdaily.com", "Occultation Daily"),
    ("www.icyworldsblog.net", "Icy Worlds Blog"), ("www.planetsciencedigest.org", "Planet Science Digest"),
    ("www.nightsidenotes.com", "Nightside Notes"), ("www.spacecraftbulletin.com", "Spacecraft Bulletin"),
    ("www.orbitinsertion.co.uk", "Orbit Insertion"), ("www.meteorfieldguide.org", "Meteor Field Guide"),
]

EN_SITES = [Site(h, n, "en", _EN_SECTIONS[i % len(_EN_SECTIONS)]) for i, (h, n) in enumerate(_EN)]

FOREIGN_SITES = {
    "fr": [Site("www.cielprofond.fr", "Ciel Profond", "fr", ("actualites", "missions", "dossiers")),
           Site("www.astronomie-en-direct.fr", "Astronomie en direct", "fr", ("espace", "planetes", "breves"))],
    "de": [Site("www.sternenbote.de", "Sternenbote", "de", ("nachrichten", "missionen", "hintergrund")),
           Site("www.weltraum-aktuell.de", "Weltraum aktuell", "de", ("raumfahrt", "planeten", "magazin"))],
    "es": [Site("www.cielonocturno.es", "Cielo Nocturno", "es", ("noticias", "misiones", "reportajes")),
           Site("www.noticiasdelcosmos.es", "Noticias del Cosmos", "es", ("espacio", "planetas", "ciencia"))],
}

SPAM_SITES = [
    Site("www.best-telescope-deals-online.biz", "Best Telescope Deals", "en", ("deals", "shop", "offers")),
    Site("www.cheapstargazergear.shop", "Cheap Stargazer Gear", "en", ("buy", "sale", "discount")),
    Site("www.discount-binoculars-outlet.net", "Discount Binoculars Outlet", "en", ("outlet", "store", "deals")),
    Site("www.top10telescopesnow.com", "Top 10 Telescopes Now", "en", ("top", "best", "cheap")),
]

# Hosts whose URL contains a hard-banned word of datatrove's URLFilter ("cialis", "nsfw"): the page text
# itself is an ordinary article, only the URL gets it removed.
BLOCKED_SITES = [
    Site("www.cialis-skywatch.com", "Skywatch Pharmacy Blog", "en", ("blog", "astronomy")),
    Site("www.nsfw-space-news.net", "Space News Unfiltered", "en", ("news", "space")),
]

# Copies of articles found on other hosts (syndication / scrapers)
MIRROR_SITES = [
    Site("www.spacenewsaggregator.com", "Space News Aggregator", "en", ("syndicated", "world")),
    Site("mirror.astro-feeds.net", "Astro Feeds", "en", ("feed", "items")),
]

NAV = {
    "en": ["Home", "News", "Missions", "Planets", "Night Sky", "Features", "About", "Contact"],
    "fr": ["Accueil", "Actualités", "Missions", "Planètes", "Le ciel ce mois-ci", "À propos", "Contact"],
    "de": ["Startseite", "Nachrichten", "Missionen", "Planeten", "Sternhimmel", "Über uns", "Kontakt"],
    "es": ["Inicio", "Noticias", "Misiones", "Planetas", "El cielo del mes", "Quiénes somos", "Contacto"],
}
FOOTER_LINKS = {
    "en": ["About us", "Advertise", "Contact", "Privacy", "Cookies", "Terms"],
    "fr": ["Qui sommes-nous", "Publicité", "Contact", "Confidentialité", "Mentions légales"],
    "de": ["Impressum", "Werbung", "Kontakt", "Datenschutz", "Nutzungsbedingungen"],
    "es": ["Quiénes somos", "Publicidad", "Contacto", "Privacidad", "Aviso legal"],
}
RIGHTS = {"en": "All rights reserved.", "fr": "Tous droits réservés.", "de": "Alle Rechte vorbehalten.",
          "es": "Todos los derechos reservados."}
BY = {"en": "By", "fr": "Par", "de": "Von", "es": "Por"}
RELATED = {"en": "Related stories", "fr": "À lire aussi", "de": "Mehr zum Thema", "es": "Te puede interesar"}
