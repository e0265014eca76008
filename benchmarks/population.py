"""The people, groups, applications and browsers of a large tenant, made once per data file.

The demo generator plays a small tenant (a few hundred people, a dozen groups and apps), which
is right for the demo but makes a benchmark file whose values repeat far more than a real
tenant's log: a compressor or an index that learns across records would look better on it than
on real data. The benchmark's records keep the demo generator's shapes and take their names,
ids and user agents from here instead: tens of thousands of people, thousands of groups,
hundreds of applications, each made once with all its values, so that the same person keeps
one id, one user principal name and one display name in every record.

Names come from the name, word and job lists Faker ships (factory-boy's dependency), not from
its per-call generators: drawing from plain lists is what keeps a million-record file fast.
A seed gives the same tenant as long as those lists stay the same (Faker's version).
Every value is checked to need no escaping in JSON, even inside a JSON text inside JSON (how
Entra writes modified-property values), so records can be filled in as text.
"""

import functools
import importlib
import random
import unicodedata
import uuid
from dataclasses import dataclass

from faker.providers.address.de_DE import Provider as GermanAddresses
from faker.providers.company.en_US import Provider as Companies
from faker.providers.job.en_US import Provider as Jobs
from faker.providers.lorem.en_US import Provider as Words

from logs.activity_catalogue import CATALOGUE
from logs.demo_data import APP_KINDS, APP_SUBJECTS, CODE_NAMES, DOMAIN, NEW_GROUP_KINDS

PEOPLE = 40_000
GROUPS = 4_000
APPS = 400
# Objects of each other target type (policies, devices, the directory).
OTHER_OBJECTS = 1_000
OBJECT_TYPES = {"User": "person", "Group": "group", "Application": "app", "ServicePrincipal": "app"}

# Locales whose names are written in the Latin alphabet, so that a user principal name can be
# made from them; the first two more often, as in a tenant with an English-speaking head office.
NAME_LOCALES = {"en_US": 4, "en_GB": 2, "de_DE": 1, "fr_FR": 1, "es_ES": 1, "it_IT": 1,
                "sv_SE": 1, "nl_NL": 1, "fi_FI": 1, "pt_BR": 1, "da_DK": 1, "cs_CZ": 1,
                "no_NO": 1, "tr_TR": 1}  # fmt: skip
DEPARTMENTS = ["Finance", "Human Resources", "Sales", "Engineering", "Marketing", "Legal",
               "Operations", "Support", "Procurement", "Research", "Facilities", "IT",
               "Customer Success", "Security", "Communications", "Logistics", "Quality",
               "Internal Audit", "Treasury", "Product"]  # fmt: skip
REGIONS = ["EMEA", "APAC", "Americas", "UK", "DACH", "Nordics", "Benelux", "Iberia", "France",
           "Italy", "Japan", "India", "Brazil", "Canada", "US East", "US West"]  # fmt: skip
# Letters Unicode does not decompose into a base letter and a mark.
ASCII_FOLDS = str.maketrans({"ß": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ł": "l",
                             "Ł": "l", "đ": "d", "\u0131": "i", "œ": "oe"})  # fmt: skip


@dataclass(frozen=True)
class Person:
    id: str
    displayName: str
    userPrincipalName: str
    department: str
    jobTitle: str


@dataclass(frozen=True)
class Group:
    id: str
    displayName: str
    description: str


@dataclass(frozen=True)
class App:
    id: str
    appId: str
    servicePrincipalId: str
    displayName: str
    # The name a rename gives it: its first word with another kind of tool (as the demo does).
    renamedTo: str


@dataclass(frozen=True)
class OtherObject:
    id: str


class Population:
    """A tenant's objects, drawn from with a bias: a few of each far more often than the rest,
    as the busiest admins, groups and apps are in a real log."""

    def __init__(self, seed: int, people=PEOPLE, groups=GROUPS, apps=APPS):
        rng = random.Random(f"population-{seed}")
        self.people = _people(rng, people)
        self.groups = _groups(rng, groups)
        self.apps = _apps(rng, apps)
        other_types = sorted({entry.target_type for entry in CATALOGUE} - set(OBJECT_TYPES))
        self.others = {
            kind_of(target_type): [OtherObject(_guid(rng)) for _ in range(OTHER_OBJECTS)]
            for target_type in other_types
        }
        self.user_agents = user_agents()
        self.departments = DEPARTMENTS
        self.job_titles = _job_titles()

    def of_kind(self, kind: str) -> list:
        """The objects of ``kind`` (``kind_of`` a target type)."""
        if kind in self.others:
            return self.others[kind]
        return {"person": self.people, "group": self.groups, "app": self.apps}[kind]


def kind_of(target_type: str) -> str:
    """The kind of object a target of ``target_type`` is drawn from."""
    return OBJECT_TYPES.get(target_type, f"other {target_type}")


@functools.lru_cache(maxsize=2)
def population(seed: int) -> Population:
    """The tenant of ``seed``, made once per process (it takes about half a second)."""
    return Population(seed)


def biased(items: list, rng: random.Random):
    """One of ``items``, the first ones far more often (a quadratic bias, as the demo's)."""
    return items[int(len(items) * rng.random() ** 2)]


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _names(values) -> list[str]:
    """A Faker list or weighted mapping as a plain list, without values JSON would escape."""
    return [value for value in dict.fromkeys(values) if text_safe(value)]


def text_safe(value: str) -> bool:
    """Whether ``value`` goes into JSON (and JSON inside a JSON string) unescaped."""
    return not any(char in '"\\' or ord(char) < 0x20 for char in value)


def _locale_names() -> list[tuple[list[str], list[str], int]]:
    lists = []
    for locale, weight in NAME_LOCALES.items():
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        firsts = _names(getattr(provider, "first_names", ()))
        lasts = _names(getattr(provider, "last_names", ()))
        if firsts and len(lasts) > 1:
            lists.append((firsts, lasts, weight))
    return lists


def ascii_name(name: str) -> str:
    """The part of a user principal name made from ``name``: Ångström -> angstrom."""
    folded = unicodedata.normalize("NFKD", name.translate(ASCII_FOLDS))
    return "".join(char for char in folded.lower() if char.isascii() and char.isalnum())


def _people(rng: random.Random, count: int) -> list[Person]:
    locales = _locale_names()
    weights = [weight for _, _, weight in locales]
    job_titles = _job_titles()
    taken: set[str] = set()
    people = []
    while len(people) < count:
        firsts, lasts, _ = rng.choices(locales, weights)[0]
        first, last = rng.choice(firsts), rng.choice(lasts)
        local = f"{ascii_name(first)}.{ascii_name(last)}"
        if local.startswith(".") or local.endswith("."):
            continue
        upn, number = f"{local}@{DOMAIN}", 2
        while upn in taken:  # a namesake: john.smith2@contoso.com
            upn, number = f"{local}{number}@{DOMAIN}", number + 1
        taken.add(upn)
        department, job_title = rng.choice(DEPARTMENTS), rng.choice(job_titles)
        people.append(Person(_guid(rng), f"{first} {last}", upn, department, job_title))
    return people


def _groups(rng: random.Random, count: int) -> list[Group]:
    words = [word.title() for word in Words.word_list] + list(GermanAddresses.cities) + CODE_NAMES
    candidates = [f"{kind} {word}" for kind in NEW_GROUP_KINDS for word in _names(words)]
    candidates += [f"{department} {region}" for department in DEPARTMENTS for region in REGIONS]
    names = rng.sample(sorted(set(candidates)), count)
    return [Group(_guid(rng), name, f"{name}: members and shared files") for name in names]


def _apps(rng: random.Random, count: int) -> list[App]:
    nouns = [noun.title() for noun in Companies.catch_phrase_words[2] if " " not in noun]
    subjects = sorted(set(APP_SUBJECTS + nouns))
    names = rng.sample([f"{subject} {kind}" for subject in subjects for kind in APP_KINDS], count)
    apps = []
    for name in names:
        subject, kind = name.split(" ", 1)
        renamed = f"{subject} {rng.choice([other for other in APP_KINDS if other != kind])}"
        apps.append(App(_guid(rng), _guid(rng), _guid(rng), name, renamed))
    return apps


def _job_titles() -> list[str]:
    return _names(Jobs.jobs)


def user_agents() -> list[str]:
    """Browser and PowerShell user agents in the forms their makers write them, over a few
    years of versions; the most used first (Edge and Chrome on Windows), since draws favour
    the first."""
    windows, mac = "Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7"
    agents = []
    for version in range(131, 99, -1):
        chrome = f"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36"
        for build in (2045, 2088, 2151, 2210):
            edge = f"Edg/{version}.0.{build}.{version % 90}"
            agents.append(f"Mozilla/5.0 ({windows}) {chrome} {edge}")
        for system in (windows, mac, "X11; Linux x86_64"):
            agents.append(f"Mozilla/5.0 ({system}) {chrome}")
    for version in range(133, 109, -1):
        for system in (windows, "Macintosh; Intel Mac OS X 10.15"):
            firefox = f"Gecko/20100101 Firefox/{version}.0"
            agents.append(f"Mozilla/5.0 ({system}; rv:{version}.0) {firefox}")
    webkit = "AppleWebKit/605.1.15 (KHTML, like Gecko)"
    for major in (16, 17, 18):
        for minor in range(7):
            release = f"Version/{major}.{minor}"
            agents.append(f"Mozilla/5.0 ({mac}) {webkit} {release} Safari/605.1.15")
            iphone = f"iPhone; CPU iPhone OS {major}_{minor} like Mac OS X"
            agents.append(f"Mozilla/5.0 ({iphone}) {webkit} {release} Mobile/15E148 Safari/604.1")
    powershell = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.17763"
    agents += [f"{powershell}.{build}" for build in (1971, 2090, 3932, 4252, 5458, 6189)]
    return [agent for agent in agents if text_safe(agent)]
