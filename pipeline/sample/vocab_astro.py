"""English vocabulary and sentence frames for the NEW domain: planetary science and space missions.

All names of missions, institutes, observatories, people and surface features are invented for this
sample. Written for this project; no third-party text.
"""

from __future__ import annotations

import random

from pipeline.sample.grammar import Grammar

BODIES = [
    "Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Pluto", "Ceres", "Vesta", "Europa",
    "Ganymede", "Callisto", "Io", "Titan", "Enceladus", "Triton", "Charon", "Phobos", "Deimos", "Miranda",
    "Titania", "Oberon", "Rhea", "Dione", "Iapetus", "Mimas", "Tethys", "Eris", "Haumea", "Makemake", "Psyche",
    "Eros", "Pallas", "Hygiea", "the Moon", "Proteus", "Ariel", "Umbriel", "Amalthea",
]

MISSION_NAMES = [
    "Kestrel", "Halcyon", "Meridian", "Lantern", "Corvid", "Solstice", "Orrery", "Wayfarer", "Cinder", "Lodestar",
    "Bellwether", "Pilgrim", "Sextant", "Astrolabe", "Heron", "Quillon", "Harrier", "Tamarind", "Juniper",
    "Farthing", "Gossamer", "Plover", "Caravel", "Tessellate", "Starling", "Ember", "Vireo", "Marlin", "Cobalt",
    "Sable", "Thistle", "Aster", "Kittiwake", "Lyrebird", "Ostrava", "Pennant",
]

CRAFT = [
    "orbiter", "lander", "flyby probe", "rover", "impactor", "sample-return probe", "radar orbiter",
    "atmospheric probe", "small satellite", "ice-penetrating probe", "survey spacecraft", "relay orbiter",
]

FIRST = [
    "Amara", "Tobias", "Ingrid", "Rafael", "Mei", "Oluwaseun", "Priya", "Henrik", "Lucia", "Declan", "Yusuf",
    "Hana", "Mateo", "Sigrid", "Kwame", "Elif", "Noor", "Anselm", "Beatriz", "Caspian", "Dagny", "Emeka", "Farida",
    "Gideon", "Ilse", "Jovan", "Keiko", "Lorcan", "Marisol", "Nikhil", "Odette", "Pavel", "Rosalind", "Santiago",
    "Thandiwe", "Ulrike", "Valentin", "Wren", "Ximena", "Yara", "Zoltan", "Agnieszka", "Bram", "Cormac", "Delphine",
]

LAST = [
    "Okafor", "Lindqvist", "Moreau", "Takahashi", "Brennan", "Castellanos", "Novak", "Adeyemi", "Halvorsen", "Iyer",
    "Kowalczyk", "Rasmussen", "Delacroix", "Mbeki", "Sorensen", "Vasquez", "Whitlock", "Yamada", "Zielinski",
    "Abernathy", "Bauer", "Chaudhry", "Dunmore", "Eklund", "Fairweather", "Grünwald", "Haddad", "Ivanova",
    "Jablonski", "Kaur", "Lachance", "Marchetti", "Nakamura", "Oyelaran", "Petrakis", "Quintero", "Rautio", "Szabo",
    "Tremblay", "Ueda", "Villeneuve", "Wakefield", "Xu", "Yilmaz", "Zapata", "Achterberg", "Boateng", "Cardoso",
    "Drummond", "Esposito", "Fontaine", "Gallagher", "Hoffmann", "Ibarra", "Jovanovic",
]

INSTITUTES = [
    "Calder Planetary Institute", "Westmere University", "Harrowgate Space Centre",
    "Institute for Outer Solar System Studies", "Okonkwo Laboratory for Remote Sensing", "Brightwater Polytechnic",
    "Department of Earth and Planetary Sciences at Eastvale", "Kessler Centre for Lunar Research",
    "Northfield Institute of Technology", "Aldmoor Astrophysical Laboratory", "Rivenhall College",
    "Tarnow Institute of Geophysics", "Sunderby Space Research Centre", "Marlow Academy of Sciences",
    "Pellham Observatory Trust", "Corran Institute for Comet Studies", "Ashgrove University",
    "Delft Mountain Research Station", "Quarry Hill Planetary Lab", "Ravensworth Centre for Space Physics",
    "Valmont Institute of Astronomy", "Greystone University", "Lakeshore Institute of Planetary Geology",
    "Ostwick Centre for Ice Worlds",
]

OBSERVATORIES = [
    "Harlow Ridge Observatory", "Cerro Alto array", "Mount Tessaly telescope", "Kaimana Peak Observatory",
    "Eskerdale radio dish", "Brannock infrared telescope", "Sable Point Observatory", "Ullswater solar array",
    "Greenhollow survey telescope", "Altamira Plateau array", "Vinterberg radio observatory",
    "Coralline Bay telescope",
]

NAMEROOT = [
    "Orla", "Vessen", "Tarrow", "Kelvane", "Ishar", "Dunmoor", "Sallow", "Anwen", "Brisca", "Cethil", "Dormal",
    "Elvaro", "Fenwick", "Galen", "Hesper", "Inari", "Joran", "Kalun", "Lethe", "Mirren", "Nerys", "Ottar",
    "Perrin", "Quessa", "Rhosyn", "Sorrel", "Thule", "Ulla", "Varro", "Wessel", "Ysolde", "Zephra", "Aiken",
    "Borrow", "Cairn", "Deverel", "Ebbing", "Frith", "Gwydion", "Harrow", "Ilkay", "Jessamy", "Kenning",
]
FEATTYPE = [
    "Crater", "Planitia", "Chasma", "Mons", "Regio", "Fossae", "Linea", "Patera", "Vallis", "Terra", "Rupes",
    "Dorsa", "Sulcus", "Tholus", "Macula", "Planum", "Labyrinthus", "Montes",
]

FEATURES = [
    "impact crater", "ice shell", "water vapour plume", "dune field", "lava tube", "canyon system", "polar cap",
    "ring arc", "subsurface ocean", "dust storm", "cryovolcano", "ridge belt", "patch of chaos terrain",
    "basin floor", "ejecta blanket", "fault scarp", "layered deposit", "haze layer", "methane lake",
    "sulfur frost deposit", "tidal fracture", "regolith blanket", "central peak", "volcanic plain", "ice cliff",
    "auroral oval", "radiation belt", "boulder field", "salt flat", "river delta", "landslide scar", "impact basin",
    "lobate scarp", "mud volcano", "frost streak", "dark streak", "bright spot", "ammonia cloud band",
    "storm vortex", "magnetic anomaly", "gully network", "fracture zone", "crater chain", "impact melt sheet",
    "pit chain", "wrinkle ridge", "nitrogen glacier", "sinkhole",
]

INSTRUMENTS = [
    "thermal emission spectrometer", "ground-penetrating radar", "fluxgate magnetometer", "wide-angle camera",
    "ultraviolet imaging spectrograph", "laser altimeter", "dust analyser", "neutral mass spectrometer",
    "neutron detector", "gamma-ray spectrometer", "radio science package", "plasma wave receiver",
    "microwave radiometer", "broadband seismometer", "heat flow probe", "X-ray fluorescence sensor",
    "narrow-angle telescope", "infrared mapping spectrometer", "energetic particle detector", "star tracker",
    "sub-millimetre sounder", "colour stereo camera", "ion and electron sensor", "polarimetric imager",
    "weather station", "drill and sampling arm", "accelerometer suite", "ice-sounding radar",
]

QUANTITIES = [
    "surface temperature", "crustal thickness", "ice shell thickness", "heat flow", "albedo", "rotation period",
    "orbital eccentricity", "magnetic field strength", "surface pressure", "bulk density", "tidal heating rate",
    "dust opacity", "deuterium to hydrogen ratio", "salt content", "water vapour abundance", "grain size",
    "thermal inertia", "moment of inertia", "wind speed", "cratering rate", "escape rate of hydrogen",
    "radar reflectivity", "axial tilt", "core radius", "methane abundance", "surface roughness",
    "ozone concentration", "plasma density", "infrared brightness", "rate of mass loss", "sodium content",
]

PROCESSES = [
    "tidal flexing", "space weathering", "the sublimation of surface ice", "slow convection in the mantle",
    "micrometeorite bombardment", "volcanic resurfacing", "seasonal frost deposition",
    "sputtering by charged particles", "impact gardening of the regolith", "wind erosion",
    "outgassing from deep fractures", "the freezing of an ancient ocean", "thermal cracking",
    "the settling of fine dust", "hydrothermal circulation", "the gradual spin-down of the body",
    "photochemistry in the upper atmosphere", "the collapse of buried ice", "solar wind stripping", "ice tectonics",
    "crustal cooling and contraction", "repeated flooding by lava", "the migration of the giant planets",
    "landslides on steep slopes", "the slow creep of glacial ice",
]

ADJ = [
    "faint", "unexpected", "seasonal", "persistent", "narrow", "broad", "ancient", "young", "bright", "dark",
    "layered", "fractured", "subtle", "striking", "patchy", "uneven", "elongated", "circular", "shallow", "deep",
    "smooth", "rugged", "isolated", "extensive", "compact", "diffuse", "remarkable", "puzzling", "well-preserved",
    "heavily eroded", "slightly tilted", "sharply defined", "long-lived", "short-lived", "reddish", "bluish", "icy",
    "dusty", "rocky", "frozen", "variable", "intermittent", "asymmetric", "curved", "sinuous", "jagged", "pitted",
    "glassy", "crumbling", "massive", "modest", "sprawling", "hidden", "exposed", "steep", "irregular",
    "distinctive", "lopsided", "speckled", "ridged",
]

V_FIND = [
    "spotted", "mapped", "detected", "revealed", "imaged", "identified", "pinpointed", "captured", "documented",
    "picked out", "traced", "located", "photographed", "resolved", "surveyed", "charted", "uncovered",
]
V_MEAS = [
    "measure", "constrain", "estimate", "pin down", "refine", "recalculate", "track", "monitor", "map", "derive",
    "narrow down", "re-examine",
]
V_MEAS_PAST = [
    "measured", "constrained", "estimated", "refined", "recalculated", "tracked", "monitored", "mapped", "derived",
    "narrowed down", "re-examined", "pinned down",
]

SCIROLE = [
    "planetary geologist", "atmospheric physicist", "mission scientist", "instrument lead", "astrobiologist",
    "orbital dynamicist", "spectroscopist", "geophysicist", "data analyst", "principal investigator",
    "flight engineer", "navigation engineer", "deputy project scientist", "cartographer", "ice physicist",
    "postdoctoral researcher", "doctoral student", "radio scientist",
]

DATAWORD = [
    "images", "spectra", "radar echoes", "temperature maps", "gravity data", "magnetometer readings",
    "occultation profiles", "altimetry tracks", "dust counts", "radio signals", "stereo pairs", "thermal scans",
    "colour mosaics", "plasma measurements", "neutron counts", "tracking data",
]

EVENTS = [
    "orbit insertion", "the closest approach", "solar conjunction", "the descent phase",
    "a trajectory correction manoeuvre", "the gravity assist", "a safe-mode event", "the extended mission",
    "the primary mapping campaign", "solar array deployment", "the aerobraking campaign", "the final flyby",
    "the landing", "the first drilling attempt", "antenna deployment", "the instrument checkout",
]

TEAMS = [
    "the science team", "the flight team", "mission planners", "the navigation group", "engineers on the ground",
    "the instrument team", "the operations crew", "the analysis group", "the calibration team",
    "controllers at the operations centre",
]

FINDINGS = [
    "the presence of liquid water at shallow depth", "a thinner crust than most models predicted",
    "geological activity within the last few million years", "a magnetic field induced in a salty ocean",
    "an atmosphere that is slowly leaking into space", "a surface younger than a hundred million years",
    "a layer of buried carbon dioxide ice", "a core that is still partly molten",
    "organic molecules trapped in the ice", "a history of repeated giant impacts",
    "an ocean in contact with a rocky seafloor", "a landscape shaped largely by wind",
    "seasonal cycles of frost and thaw", "a slow drift in the orbit", "heat leaking from a warm interior",
    "a ring system only a few million years old", "pockets of brine trapped inside the ice shell",
    "a mantle richer in iron than expected", "ongoing eruptions of gas and dust", "an ancient shoreline",
]

GOALS = [
    "to map the entire surface at metre-scale resolution", "to search for signs of present-day activity",
    "to measure how the ice shell responds to tides", "to sample dust thrown up from the surface",
    "to test models of how the body formed", "to study how sunlight alters the surface",
    "to listen for quakes in the interior", "to return a handful of grains to Earth",
    "to chart the magnetic environment in three dimensions", "to find safe landing sites for a later mission",
    "to watch the weather through a full seasonal cycle", "to measure the gravity field in fine detail",
    "to look for pockets of liquid water below the crust", "to trace where the volatile ices came from",
]

QUOTES = [
    "We did not expect the signal to be this clear", "Every new orbit seems to add another surprise",
    "This is the kind of data set people will be mining for decades",
    "Honestly, the first image made the whole room go quiet",
    "It looks simple in the pictures, but the physics behind it is messy",
    "We are still arguing about what it means, and that is healthy",
    "The spacecraft is performing better than anyone on the team hoped",
    "Nobody wanted to believe it until we had three independent passes",
    "It changes how we think about small icy worlds", "We built this instrument for exactly this moment",
    "The numbers line up with the models, which almost never happens",
    "There is clearly more going on below the surface than we assumed",
    "You can see the layers stacked like pages in a book", "The hardest part was keeping the detector cold enough",
    "Our job now is to rule out the boring explanations first", "It is a beautiful and slightly frustrating result",
    "I have looked at that terrain for years and never noticed it",
    "The public archive will open as soon as the calibration is done",
    "We will need a lander to settle this question",
    "The navigation had to be accurate to within a few hundred metres",
]

DEG = ["noticeably", "slightly", "considerably", "somewhat", "substantially", "marginally", "markedly", "much"]
CMP = ["higher", "lower", "larger", "smaller"]
DIRECTION = ["northern", "southern", "eastern", "western", "north-eastern", "south-western"]
ORD = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth",
]
NUMW = ["six", "seven", "eight", "nine", "ten", "eleven", "twelve", "five"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
]
SEASONS = ["spring", "summer", "autumn", "winter"]
AGENCY_WORDS = [
    "space agency", "research council", "science ministry", "consortium of universities", "funding panel",
]


def _n(lo: int, hi: int):
    return lambda rng: str(rng.randint(lo, hi))


def _dec(lo: float, hi: float, nd: int = 1):
    return lambda rng: f"{rng.uniform(lo, hi):.{nd}f}"


SLOTS = {
    "BODY": BODIES, "FEAT": FEATURES, "INSTR": INSTRUMENTS, "QTY": QUANTITIES, "PROC": PROCESSES, "ADJ": ADJ,
    "VFIND": V_FIND, "VMEAS": V_MEAS, "VMEASP": V_MEAS_PAST, "SCIROLE": SCIROLE, "DATA": DATAWORD,
    "EVENT": EVENTS, "TEAM": TEAMS, "FINDING": FINDINGS, "GOAL": GOALS, "QUOTE": QUOTES, "DEG": DEG, "CMP": CMP,
    "DIRECTION": DIRECTION, "ORD": ORD, "NUMW": NUMW, "MONTH": MONTHS, "SEASON": SEASONS, "INST": INSTITUTES,
    "OBS": OBSERVATORIES, "AGENCYW": AGENCY_WORDS, "CRAFT": CRAFT, "MNAME": MISSION_NAMES,
    "PERSON": ["{FIRSTN} {LASTN}"], "FIRSTN": FIRST, "LASTN": LAST,
    "PLACE": ["{ROOT} {FTYPE}"], "ROOT": NAMEROOT, "FTYPE": FEATTYPE,
    "YEAR": _n(1996, 2025), "N2": _n(12, 95), "N3": _n(110, 980), "PCT": _n(2, 45), "KM": _n(14, 2400),
    "KELVIN": _n(40, 720), "DAYS": _n(3, 300), "AU": _dec(0.4, 45.0), "MPS": _n(5, 180), "HOURS": _n(2, 70),
    "ORBITS": _n(20, 900), "KG": _n(90, 4800),
}

FRAMES = [
    "{MISSION} {VFIND} {a:ADJ} {FEAT} near {PLACE}, roughly {KM} kilometres from the rim of the nearest crater.",
    "images returned by the {INSTR} show {a:ADJ} {FEAT} cutting across the floor of {PLACE}.",
    "{P} and colleagues at the {INST} used the {INSTR} to {VMEAS} the {QTY} of {B} to within about {PCT} percent.",
    "the new estimate of the {QTY} is {DEG} {CMP} than the value published after the {ORD} survey in {YEAR}.",
    "\"{QUOTE},\" said {P}, {a:SCIROLE} at the {INST}.",
    "\"{QUOTE},\" {PERSON} of the {INST} told reporters after the briefing.",
    "\"{QUOTE},\" added {PERSON}, who has worked on the {INSTR} since it was first proposed.",
    "{TEAM} spent {DAYS} days preparing for {EVENT}, rehearsing each step on a spare copy of the spacecraft.",
    "one explanation for the {ADJ} {FEAT} is {PROC}, although {PROC} could leave a similar pattern.",
    "if the readings hold up, they would point to {FINDING} on {B}.",
    "the spacecraft carries {NUMW} instruments, among them {a:INSTR} and {a:INSTR} built in-house at the {INST}.",
    "{PLACE} stretches for about {KM} kilometres and is bordered on its {DIRECTION} side by {a:ADJ} {FEAT}.",
    "at the time of {EVENT}, {B} was roughly {AU} astronomical units from the Sun.",
    "compared with {BODY}, {B} seems to have {a:DEG} {CMP} {QTY}, a contrast that modellers are still trying to explain.",
    "the {ADJ} {FEAT} was first noticed in {DATA} collected by the {OBS} in {YEAR}, long before any spacecraft arrived.",
    "{PL} argues that {PROC} is the simplest way to account for the {DATA}.",
    "not everyone is convinced, and {PERSON}, {a:SCIROLE} who was not involved in the work, calls the case for {FINDING} premature.",
    "over {ORBITS} orbits, the {INSTR} has built up a map covering nearly {PCT} percent of the {DIRECTION} hemisphere.",
    "daytime readings near {PLACE} reach about {KELVIN} kelvin, while the nights are far colder.",
    "the mission was approved by the {AGENCYW} in {YEAR} with a stated goal {GOAL}.",
    "{MISSION} weighs about {KG} kilograms and draws its power from two folding solar wings.",
    "the closest pass brought the spacecraft within {KM} kilometres of the surface, close enough to resolve individual boulders.",
    "a second team, working from {DATA} gathered at the {OBS}, reached a broadly similar conclusion.",
    "the {INSTR} recorded a {ADJ} dip in the {QTY} just as the spacecraft crossed over {PLACE}.",
    "some of the {DATA} were lost during {EVENT}, so part of the map still has gaps.",
    "signals from the spacecraft take about {HOURS} minutes to cross the gulf to the antennas on Earth.",
    "for {PL}, the most exciting part of the result is the hint of {FINDING}.",
    "the shape of the {FEAT} suggests it formed in several stages rather than in a single event.",
    "in the {ORD} season of observations, the {FEAT} grew by roughly {PCT} percent before fading again.",
    "modellers at the {INST} reproduced the pattern by combining {PROC} with {PROC}.",
    "earlier missions flew past {B} too quickly to see anything like this.",
    "the team plans to point the {INSTR} at {PLACE} again during {EVENT} to check whether the {FEAT} has changed.",
    "seen at low sun angles, the {FEAT} casts long shadows that reveal its {ADJ} relief.",
    "winds near {PLACE} were clocked at about {MPS} metres per second, strong enough to move loose grains.",
    "the rate of {PROC} on {B} is thought to be {DEG} {CMP} than on {BODY}.",
    "because {B} has no thick atmosphere, the {FEAT} has barely been softened since it formed.",
    "{TEAM} uploaded a revised pointing sequence after noticing that the {INSTR} was drifting slightly out of focus.",
    "a paper describing the measurements appeared this month, with {P} as lead author and more than {N2} co-authors.",
    "data from the {INSTR} are released to the public about {DAYS} days after they reach the ground.",
    "amateur observers using small telescopes have helped by timing how {B} dims when it passes in front of distant stars.",
    "the {QTY} matters because it controls how quickly heat escapes from the interior.",
    "{MISSION} is expected to keep working until at least {YEAR}, fuel and funding permitting.",
    "a similar {FEAT} exists on {BODY}, but it is {DEG} {CMP} and far less sharply defined.",
    "the {ADJ} texture of the terrain around {PLACE} is unlike anything seen elsewhere in the outer solar system.",
    "ground controllers at the {INST} confirmed that every instrument came through {EVENT} without damage.",
    "within a few months, the {INSTR} had {VMEASP} the {QTY} across most of the {DIRECTION} plains.",
    "the most likely age for the {FEAT} is somewhere between {N2} and {N3} million years.",
    "tiny variations in the tracking signal allowed the radio team to weigh {B} more precisely than ever before.",
    "at {PLACE}, the {INSTR} picked up traces of {FINDING}, though the signal is weak.",
    "{PERSON}, {a:SCIROLE} on the mission, spent weeks checking whether the pattern could be an instrument artefact.",
    "the spacecraft's {ORD} orbit was deliberately tilted so it could pass over the {DIRECTION} polar regions.",
    "a proposed follow-up mission would carry {a:INSTR} capable of probing several kilometres below the surface.",
    "roughly {PCT} percent of the craters near {PLACE} show bright rays, a sign that they are geologically fresh.",
    "scientists had long suspected {FINDING}, but direct evidence was missing until now.",
    "during {EVENT}, the spacecraft switched to its backup computer for about {HOURS} hours.",
    "the {FEAT} appears {ADJ} in visible light but stands out clearly in the infrared.",
    "{B} completes one turn on its axis every {HOURS} hours, which sets the rhythm of its surface temperatures.",
    "a network of {ADJ} fractures radiates from the centre of {PLACE}, hinting at stress from below.",
    "the {INSTR} was calibrated against {BODY} during the long cruise, which gave the team a useful reference.",
    "{PL} compares the layered walls of {PLACE} to a history book whose pages have been shuffled.",
    "gravity measurements suggest that the {FEAT} sits above a denser block of material buried in the crust.",
    "several of the {DATA} show the same {ADJ} feature, which makes a calibration error unlikely.",
    "the observing plan for next {SEASON} includes repeated passes over {PLACE} at different times of day.",
    "funding for the extended mission covers another {N2} months of operations and a modest data analysis budget.",
    "even small changes in the {QTY} can alter how the surface reflects sunlight.",
    "the discovery adds {B} to a short list of worlds where {PROC} is still active today.",
    "students at the {INST} helped to count more than {N3} craters in the first release of {DATA}.",
    "{TEAM} chose {PLACE} as a priority target because it lies on the boundary between two distinct kinds of terrain.",
    "the {INSTR} can distinguish grains only a few micrometres across, which is why its {DATA} are so valuable.",
    "long exposures from the {OBS} had shown a {ADJ} glow around {B}, but its origin remained unclear for years.",
    "a fault system near {PLACE} offsets older craters by as much as {N2} kilometres.",
    "the atmosphere of {BODY} offers a useful comparison, since both worlds experience {PROC}.",
    "the team expects the next release of {DATA} to settle whether the {FEAT} is still growing.",
    "navigation engineers steered the spacecraft using {N2} small thruster firings spread over several weeks.",
    "{PERSON} notes that the {QTY} inferred from orbit agrees well with laboratory experiments on similar materials.",
    "when sunlight strikes the {FEAT} at a low angle, the {INSTR} sees a faint haze of suspended particles.",
    "the best current model places the {FEAT} above a reservoir that may hold {FINDING}.",
    "a brief loss of contact in {MONTH} {YEAR} turned out to be caused by a software timer rather than a hardware fault.",
    "the landing ellipse around {PLACE} measures about {KM} kilometres from end to end.",
    "radar soundings reveal at least {NUMW} distinct layers beneath the {DIRECTION} plains of {B}.",
    "in a public lecture at the {INST}, {PL} described the first results as both exciting and humbling.",
]

INTROS = [
    "In {MONTH} {YEAR}, ", "During the {ORD} close pass, ", "According to {PERSON}, ", "Within a few weeks, ",
    "By contrast, ", "For the first time, ", "After months of calibration, ", "Earlier this year, ",
    "Seen from orbit, ", "On closer inspection, ", "Somewhat surprisingly, ", "As {PL} pointed out, ",
    "Over the next decade, ", "In the raw {DATA}, ", "Taken together, ", "In practical terms, ", "Until recently, ",
    "At first glance, ", "Later in the mission, ", "Even so, ", "In hindsight, ", "From a distance, ",
    "Early in the cruise phase, ", "In the months that followed, ", "Crucially, ",
]

TAILS = [
    ", a finding that surprised several members of the team", ", according to a preliminary analysis by {PERSON}",
    ", although the uncertainties remain large", ", which hints at {PROC} beneath the surface",
    ", at least in the {DIRECTION} hemisphere", ", as {PL} had predicted several years earlier",
    ", though the team is cautious about drawing firm conclusions",
    ", based on {DATA} gathered over {ORBITS} orbits", ", a point the mission's critics have raised before",
    ", which should become clearer once more {DATA} arrive", ", in line with measurements from the {OBS}",
    ", a detail that was easy to overlook in the early {DATA}", ", and the pattern repeats on the far side",
    ", something no previous spacecraft could have seen",
    ", according to a report circulated among mission scientists", ", well beyond what the original plan required",
]

TITLES = [
    "{M} {CRAFTD} finds {a:ADJ} {FEAT} on {B}", "What the {INSTR} revealed about {B}",
    "New maps of {PLACE} hint at {FINDING}", "{B} is more active than we thought, {M} data suggest",
    "Inside the {M} mission's first year at {B}", "Scientists puzzle over {ADJ} {FEAT} near {PLACE}",
    "How {PROC} shapes the surface of {B}", "{M} team measures the {QTY} of {B}", "A closer look at {PLACE} on {B}",
    "The long road to {B}: an interview with {P}",
]

NO_INTRO_WORDS = frozenset(
    "if when because not in at during within over seen compared for earlier even once after by on before "
    "one some many a an roughly tiny nothing there it older cut add bake sow water".split()
)


def make_context(rng: random.Random) -> dict[str, str]:
    """The topic a single article is about."""
    body = rng.choice(BODIES)
    name = rng.choice(MISSION_NAMES)
    craft = rng.choice(CRAFT)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "B": body,
        "M": name,
        "CRAFTD": craft,
        "MISSION": f"the {name} {craft}",
        "P": f"{first} {last}",
        "PL": last,
    }


GRAMMAR = Grammar(
    slots=SLOTS, frames=FRAMES, intros=INTROS, tails=TAILS, titles=TITLES, intro_p=0.3, tail_p=0.25,
    no_intro_words=NO_INTRO_WORDS,
)
