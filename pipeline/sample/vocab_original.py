"""English vocabulary and sentence frames for the ORIGINAL pretraining domain: home cooking, kitchen
gardening and the history of everyday domestic life. Deliberately far from the planetary-science crawl so
that continued pretraining on the crawl shows adaptation (and some forgetting) on this domain.

Written for this project; all names are invented. No third-party text.
"""

from __future__ import annotations

import random

from pipeline.sample.grammar import Grammar

DISHES = [
    "barley soup", "onion tart", "rye bread", "plum cobbler", "lentil stew", "apple crumble", "pickled cabbage",
    "oat porridge", "buttermilk soda bread", "leek pie", "bean casserole", "herb omelette", "potato bake",
    "pear compote", "salt cod hash", "seed cake", "mushroom broth", "pea and ham soup", "gingerbread",
    "rhubarb fool", "cheese pudding", "mutton hotpot", "bread pudding", "spiced lentil pottage", "stuffed cabbage",
    "cornmeal mush", "baked custard", "fish pie", "treacle tart", "beetroot soup", "herring in oatmeal",
    "steamed suet pudding", "flatbread with dill", "carrot jam", "nettle soup", "egg custard pie",
    "bean and bacon broth", "honey cake", "saffron loaf", "pumpkin pie", "caraway loaf", "chicken and barley stew",
]

INGREDIENTS = [
    "flour", "butter", "lard", "dripping", "buttermilk", "salt", "black pepper", "nutmeg", "cinnamon", "cloves",
    "dried peas", "barley", "oats", "rye meal", "brown sugar", "treacle", "honey", "vinegar", "mustard seed",
    "onions", "leeks", "carrots", "turnips", "parsnips", "cabbage", "potatoes", "apples", "pears", "plums",
    "currants", "raisins", "eggs", "milk", "cream", "hard cheese", "smoked bacon", "salted herring", "suet",
    "yeast", "baking soda", "lemon peel", "garlic", "walnuts", "hazelnuts", "dried beans", "cornmeal",
]

HERBS = [
    "parsley", "thyme", "sage", "rosemary", "dill", "chives", "mint", "marjoram", "bay leaves", "tarragon",
    "lovage", "sorrel", "chervil", "fennel", "savory", "lemon balm",
]

TOOLS = [
    "cast iron skillet", "earthenware crock", "wooden spoon", "mortar and pestle", "copper pan", "bread trough",
    "fine sieve", "rolling pin", "butter churn", "hand mill", "stone jar", "baking sheet", "heavy kettle",
    "pudding basin", "clay oven", "griddle", "mixing bowl", "chopping board", "paring knife", "ladle", "jelly bag",
    "salting tub", "preserving pan", "flour bin", "tin mould", "meat safe",
]

TECHNIQUES = [
    "slow simmering", "dry salting", "cold smoking", "lacto-fermentation", "braising", "kneading by hand",
    "proving the dough overnight", "blanching", "folding in the egg whites", "rendering fat", "steaming in a cloth",
    "baking in the dying heat of the oven", "pickling in brine", "drying on racks near the stove",
    "potting under butter", "clarifying the stock", "rubbing the fat into the flour", "reducing the liquid by half",
    "scalding the milk",
]

PLANTS = [
    "runner beans", "broad beans", "courgettes", "rhubarb crowns", "sweet peas", "marigolds", "lavender bushes",
    "gooseberries", "parsnips", "kale plants", "chard plants", "garlic bulbs", "shallots", "blackcurrants",
    "raspberries", "strawberries", "lettuces", "radishes", "spring onions", "beetroots", "celery plants",
    "tomatoes", "cucumbers", "squashes", "sunflowers", "nasturtiums", "sweet williams", "dahlias", "apple trees",
    "pear trees", "quinces", "leeks", "spinach plants", "cabbages", "carrots", "early potatoes", "climbing roses",
    "hollyhocks", "wallflowers", "asparagus crowns",
]

GARDEN_TASKS = [
    "mulching the beds", "sowing seeds under glass", "pricking out seedlings", "turning the compost heap",
    "pruning the fruit trees", "staking tall plants", "thinning the carrots", "dividing the perennials",
    "earthing up the potatoes", "clearing the weeds", "digging in manure", "saving seed for next year",
    "netting the fruit bushes", "hardening off young plants", "watering in the cool of the evening",
    "cutting back the herbs", "lifting and storing the onions", "sharpening the tools", "edging the lawn",
    "collecting rainwater", "tying in the climbers", "raking the leaves",
]

SOILS = [
    "heavy clay", "sandy loam", "chalky soil", "peaty ground", "stony soil", "rich black loam", "thin acid soil",
    "silty river soil",
]
AMENDMENTS = [
    "well-rotted manure", "leaf mould", "garden compost", "wood ash", "grit", "seaweed", "spent hops", "bone meal",
]

PESTS = [
    "slugs", "aphids", "blackfly", "cabbage white caterpillars", "pigeons", "vine weevils", "carrot fly", "snails",
    "wireworms", "mice", "rabbits", "blight",
]

CENTURIES = [
    "the seventeenth century", "the early eighteenth century", "the late eighteenth century",
    "the early nineteenth century", "the middle of the nineteenth century", "the late nineteenth century",
    "the years before the First World War", "the 1920s", "the 1930s", "the years after the Second World War",
    "the 1950s", "the reign of the old queen",
]

HOUSE_ITEMS = [
    "washboard", "copper boiler", "mangle", "oil lamp", "larder", "ice box", "coal range", "flat iron",
    "spinning wheel", "rag rug", "kitchen dresser", "water pump", "stone sink", "warming pan", "tin bath",
    "meat hook", "wash house", "pantry shelf", "candle box", "bread oven", "fire grate", "sewing machine",
    "wireless set", "scullery", "coal scuttle", "clothes horse", "bellows", "dairy churn",
]

OCCUPATIONS = [
    "baker", "miller", "cooper", "dairymaid", "laundress", "chandler", "carter", "tinker", "seed merchant",
    "market gardener", "cook", "housekeeper", "grocer", "blacksmith", "weaver", "butcher", "fishwife",
    "lamplighter", "coal merchant", "rag-and-bone man", "scullery maid", "charwoman", "brewer", "cheesemaker",
]

PLACES = [
    "market towns", "farmhouses", "terraced houses", "fishing villages", "city tenements", "manor kitchens",
    "cottage gardens", "allotments", "mill towns", "hill farms", "coastal parishes", "crowded back streets",
    "rectory kitchens", "boarding houses", "orchard villages",
]

SOURCES = [
    "household account books", "handwritten recipe notebooks", "parish records", "letters home",
    "old seed catalogues", "domestic manuals", "diaries kept by farm wives", "shop ledgers",
    "old newspaper columns", "oral histories", "inventories made after a death",
    "the memoirs of village schoolteachers", "estate records",
]

FIRST = [
    "Martha", "Edwin", "Harriet", "Walter", "Agnes", "Albert", "Florence", "Jacob", "Ada", "Samuel", "Clara",
    "Thomas", "Eliza", "Arthur", "Nellie", "George", "Beatrice", "Frederick", "Winifred", "Horace", "Maud", "Percy",
    "Lottie", "Silas", "Ivy", "Ezra", "Dora", "Cyril", "Mabel", "Reuben", "Hester", "Ambrose",
]
LAST = [
    "Pennington", "Thwaite", "Ashworth", "Calloway", "Hargreaves", "Merriweather", "Oakes", "Bramley", "Fenwick",
    "Gable", "Holloway", "Kettering", "Lindley", "Marsh", "Northcott", "Pettigrew", "Rudd", "Stainforth",
    "Tolliver", "Underwood", "Venables", "Whitcombe", "Yardley", "Copeland", "Dimmock", "Ellery", "Fairbairn",
    "Greaves", "Hebden", "Ingleby",
]

ADJ = [
    "plain", "hearty", "thrifty", "fragrant", "golden", "crumbly", "tender", "sturdy", "humble", "generous",
    "simple", "rustic", "sharp", "mellow", "sweet", "sour", "smoky", "creamy", "dense", "light", "crisp", "modest",
    "patient", "frugal", "warming", "old-fashioned", "reliable", "seasonal", "homely", "robust",
]

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
]
SEASONS = ["spring", "summer", "autumn", "winter"]
NUMW = ["two", "three", "four", "five", "six", "eight", "ten", "a dozen"]
ROOMS = ["kitchen", "scullery", "back kitchen", "pantry", "cellar", "yard", "wash house", "parlour"]
WEATHER = [
    "a late frost", "a wet spring", "a long dry summer", "an early autumn gale", "a hard winter", "a mild winter",
]


def _n(lo: int, hi: int):
    return lambda rng: str(rng.randint(lo, hi))


SLOTS = {
    "DISH": DISHES, "INGR": INGREDIENTS, "HERB": HERBS, "TOOL": TOOLS, "STRAINER": [
        "fine sieve", "jelly bag", "muslin cloth", "colander", "hair sieve",
    ], "TECH": TECHNIQUES, "PLANT": PLANTS,
    "GTASK": GARDEN_TASKS, "SOIL": SOILS, "AMEND": AMENDMENTS, "PEST": PESTS, "CENT": CENTURIES,
    "ITEM": HOUSE_ITEMS, "OCC": OCCUPATIONS, "PLACE": PLACES, "SRC": SOURCES, "ADJ": ADJ, "MONTH": MONTHS,
    "SEASON": SEASONS, "NUMW": NUMW, "ROOM": ROOMS, "WEATHER": WEATHER,
    "PERSON": ["{FIRSTN} {LASTN}"], "FIRSTN": FIRST, "LASTN": LAST,
    "MIN": _n(10, 90), "HOURS": _n(2, 12), "DEGC": _n(150, 230), "GRAMS": _n(50, 900), "CM": _n(5, 60),
    "YEAR": _n(1780, 1960), "PCT": _n(5, 70), "WEEKS": _n(2, 14), "SHILL": _n(2, 30),
}

KITCHEN = [
    "a good {DISH} begins with {INGR}, {INGR} and a little patience.",
    "{P} always made {DISH} in {a:TOOL}, insisting that nothing else gave the same result.",
    "the secret of the {DISH} lies in {TECH}, which draws out a {ADJ} depth of flavour.",
    "add a handful of chopped {HERB} just before serving, along with a pinch of {INGR}.",
    "the dough should rest for about {HOURS} hours in a warm corner of the {ROOM}.",
    "bake the {DISH} at {DEGC} degrees for roughly {MIN} minutes, until the top is firm and golden.",
    "older recipes call for {INGR} rather than {INGR}, because it was cheaper and easier to keep.",
    "if the mixture seems too stiff, loosen it with a splash of {INGR} and stir again.",
    "leftover {DISH} was rarely wasted and often turned up again the next day fried in {INGR}.",
    "{PL} weighed out {GRAMS} grams of {INGR} on a brass scale that had belonged to her grandmother.",
    "a {ADJ} {DISH} needs nothing more than bread and a jug of cold water beside it.",
    "many cooks swear that {TECH} is the only way to keep {INGR} from turning bitter.",
    "once the {INGR} has softened, fold in the {INGR} and season generously.",
    "the {TOOL} sat on the back of the range for most of the day, ready for whatever was needed.",
    "{DISH} keeps well for several days if it is covered and stored somewhere cool.",
    "children were often given the job of stirring the pot or grinding {INGR} in {a:TOOL}.",
    "the smell of {DISH} drifting from the {ROOM} meant that supper was nearly ready.",
    "a spoonful of {INGR} stirred in at the end brightens the whole dish.",
    "cut the {INGR} into pieces about the size of a thumbnail so that they cook evenly.",
    "{PERSON}, who cooked for a large family, kept her recipe for {DISH} written on the back of an envelope.",
    "when {INGR} was scarce, cooks simply used more {INGR} and nobody complained.",
    "the {DISH} is at its best on a cold evening in {MONTH}, eaten straight from the oven.",
    "in some households the {DISH} was made only once a year, for a harvest supper or a wedding.",
    "strain the liquid through {a:STRAINER} and press gently to extract every last drop.",
    "it is worth toasting the {INGR} in a dry pan first, which gives a {ADJ} nutty note.",
]

GARDEN = [
    "{PLANT} do best in {SOIL} that has been improved with plenty of {AMEND}.",
    "{P} began {GTASK} in early {MONTH}, long before the neighbours had stirred.",
    "a row of {PLANT} along the fence gives shelter to the more delicate {PLANT}.",
    "{PEST} can strip a bed of young {PLANT} in a single night if nobody keeps watch.",
    "sow the seed about {CM} centimetres apart and cover it lightly with fine soil.",
    "after {WEATHER}, the {PLANT} were slow to recover and cropped poorly that year.",
    "the old gardeners believed that {GTASK} on a waning moon gave better results.",
    "{PL} kept a notebook of every sowing, with dates, weather and the eventual yield.",
    "a barrow load of {AMEND} worked into the {SOIL} each {SEASON} keeps the ground in good heart.",
    "on {SOIL}, {PLANT} tend to grow tall and leafy, while {PLANT} struggle to root.",
    "netting is the simplest defence against {PEST}, though a few plants are always lost.",
    "{PLANT} planted beside {PLANT} seem to suffer less from {PEST}.",
    "the allotment was divided into {NUMW} beds, rotated each year so that no crop followed itself.",
    "by late {SEASON} the {PLANT} were ready to pick, and the surplus went to friends and neighbours.",
    "{GTASK} is dull work, but it saves a great deal of trouble later in the year.",
    "{PERSON} swore by a mulch of {AMEND} spread thickly around the {PLANT}.",
    "a cold frame lets you start {PLANT} several weeks before the last frost.",
    "the greenhouse was little more than old windows nailed to a timber frame, yet it grew fine {PLANT}.",
    "water the {PLANT} deeply once a week rather than a little every day.",
    "many cottage gardens mixed {PLANT} and {PLANT} together, so that flowers and food grew side by side.",
    "once the {PLANT} have finished cropping, cut them down and add the stems to the compost heap.",
    "seed saved from the best {PLANT} was dried on newspaper and stored in paper twists until {MONTH}.",
    "a sheltered corner facing south is ideal for {PLANT}, which dislike cold winds.",
    "heavy rain in {MONTH} washed the topsoil from the beds and left the {PLANT} with bare roots.",
    "the first {PLANT} of the year were a small triumph, carried proudly into the {ROOM}.",
]

HISTORY = [
    "in {CENT}, most {PLACE} relied on {a:ITEM} for jobs that are now done by machines.",
    "washing day usually fell on a Monday and could take from dawn until well after dark.",
    "the {OCC} was a familiar figure in {PLACE}, calling at back doors with news as well as goods.",
    "{SRC} from {YEAR} show that a family of {NUMW} spent a large share of its income on bread.",
    "the {ITEM} stood in the {ROOM}, and keeping it clean was a daily chore for the youngest daughter.",
    "historians such as {P} have used {SRC} to piece together what ordinary people ate.",
    "before refrigerators, food was kept in a cool {ROOM} or lowered in a bucket into the well.",
    "an apprentice {OCC} might work twelve hours a day for little more than board and lodging.",
    "according to {SRC}, {a:ITEM} cost about {SHILL} shillings, a considerable sum at the time.",
    "the arrival of gas lighting changed the rhythm of evenings in {PLACE} almost overnight.",
    "{PL} describes how the {ITEM} was handed down from mother to daughter for three generations.",
    "coal was delivered by the sack, and the {OCC} tipped it through a hatch into the cellar.",
    "in many {PLACE}, the whole street shared a single pump and a single wash house.",
    "{SRC} reveal that meat was eaten perhaps once or twice a week, usually on a Sunday.",
    "the {ITEM} was considered a luxury in {CENT}, and only wealthier households owned one.",
    "women often earned extra money by taking in washing or selling eggs at the market.",
    "{PERSON}, born in {YEAR}, remembered queuing for bread with a penny wrapped in a handkerchief.",
    "the kitchen was the warmest room in the house, so the family ate, worked and talked there.",
    "by {CENT}, the {OCC} had largely disappeared from {PLACE}, replaced by shops and delivery vans.",
    "fuel was precious, so the oven was used for several dishes at once whenever it was lit.",
    "{SRC} describe the annual pig killing as a noisy, busy event that fed the household for months.",
    "children collected firewood, ran errands for the {OCC} and helped with {GTASK}.",
    "the {ITEM} needed careful handling, and accidents with it were common enough to be recorded in {SRC}.",
    "a good {OCC} was valued by the whole community and often trusted with credit and gossip alike.",
    "the move from open hearths to enclosed ranges in {CENT} changed both cooking and housework.",
]

SHARED = [
    "{P} learned most of this from watching rather than from any book.",
    "the habit survives today in a few {PLACE}, though it is fading quickly.",
    "it was {a:ADJ} way of living, shaped as much by necessity as by choice.",
    "{SRC} offer a rare glimpse of these small daily routines.",
    "nothing was thrown away if it could be mended, reused or fed to the hens.",
    "{PL} still keeps a jar of {INGR} on the windowsill, as her mother did.",
    "the work followed the seasons, with a busy {SEASON} and a quieter {SEASON}.",
    "some of these customs seem odd now, but each had a practical reason behind it.",
    "neighbours shared tools, recipes and surplus produce as a matter of course.",
    "there is a quiet pleasure in doing things slowly and doing them well.",
]

INTROS = [
    "In {MONTH}, ", "Traditionally, ", "In those days, ", "As a rule, ", "Even so, ", "By the end of the week, ",
    "On most farms, ", "For many families, ", "Looking back, ", "In practice, ", "According to {PERSON}, ",
    "Years later, ", "Every {SEASON}, ", "Not surprisingly, ", "In a good year, ",
]

TAILS = [
    ", or so the old saying goes", ", as {PL} recalls", ", at least in the better years", ", according to {SRC}",
    ", which saved both time and fuel", ", much to the annoyance of the neighbours",
    ", though opinions differed from house to house", ", especially after {WEATHER}",
]

NO_INTRO_WORDS = frozenset(
    "if when because not in at during within over seen compared for earlier even once after by on before "
    "one some many a an roughly tiny nothing there it older cut add bake sow water".split()
)


def make_context(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {"P": f"{first} {last}", "PL": last}


def _theme(frames: list[str]) -> Grammar:
    return Grammar(slots=SLOTS, frames=frames + SHARED, intros=INTROS, tails=TAILS, intro_p=0.25, tail_p=0.2,
                   no_intro_words=NO_INTRO_WORDS)


THEMES = {"kitchen": _theme(KITCHEN), "garden": _theme(GARDEN), "history": _theme(HISTORY)}
