"""The invented world of the demo model: the village of Fernhollow and the folk who live there.

Every fact the model is meant to know lives in this file. The story and dialogue
generators only ever state these facts, so an answer such as "Mira lives in a small
blue house by the Silver River" can be checked against `PEOPLE` below.
"""

from dataclasses import dataclass

VILLAGE = "Fernhollow"


@dataclass(frozen=True)
class Person:
    """One inhabitant of Fernhollow. Text fields are written to follow the name or pronoun."""

    name: str
    kind: str  # "a girl", "a little red fox", ...
    pronoun: str  # "he" or "she"
    home: str  # follows "lives"
    job: str  # follows "<name> "
    likes: str  # follows "likes"
    friend: str  # a name from PEOPLE
    owns: str  # follows "has"
    trait: str  # an adjective


PEOPLE = [
    Person("Mira", "a girl", "she", "in a small blue house by the Silver River",
           "paints pictures of the river and the boats", "painting and long walks",
           "Pip", "a grey cat named Moss", "curious"),
    Person("Pip", "a little red fox", "he", "in a den under the old oak tree in Whisper Wood",
           "looks after the paths in Whisper Wood", "wild berries and chasing leaves",
           "Mira", "a bright red scarf", "clever"),
    Person("Tom", "the baker", "he", "above the bakery on Market Street",
           "bakes bread and honey cakes for the whole village", "warm bread and early mornings",
           "Rosa", "a big brick oven", "cheerful"),
    Person("Rosa", "a farmer", "she", "on a farm at the edge of the village",
           "grows apples and pumpkins", "her apple trees and sunny days",
           "Tom", "three brown cows", "kind"),
    Person("Bram", "an old sailor", "he", "in the white lighthouse on Gull Point",
           "keeps the lamp of the lighthouse burning every night", "the sea and old songs",
           "Olo", "a small green boat called Pebble", "patient"),
    Person("Olo", "a wise owl", "he", "in the tall pine tree on Bell Hill",
           "knows the names of all the stars", "quiet nights and riddles",
           "Bram", "a telescope made of brass", "wise"),
    Person("Lena", "the teacher", "she", "in a yellow house next to the school",
           "teaches the children to read and count", "books and the smell of rain",
           "Mira", "a shelf full of books", "gentle"),
    Person("Finn", "a boy", "he", "in the small blue house by the Silver River with his sister Mira",
           "helps Bram mend the fishing nets", "boats and skipping stones",
           "Juno", "a wooden toy ship", "brave"),
    Person("Juno", "a young rabbit", "she", "in a burrow in Rosa's carrot field",
           "carries letters from house to house", "carrots and running fast",
           "Finn", "a little blue bag for the letters", "quick"),
    Person("Hugo", "a big brown bear", "he", "in a cave behind the waterfall in Whisper Wood",
           "collects honey and shares it with his friends", "honey and long naps",
           "Pip", "a very large honey pot", "friendly"),
]

PLACES = {
    "Fernhollow": "a small village between Bell Hill and the sea",
    "Whisper Wood": "a deep green forest to the north of Fernhollow, full of oak trees and foxgloves",
    "Bell Hill": "a round green hill above the village where the wind always sings",
    "the Silver River": "a clear river that runs through Fernhollow down to the sea",
    "Gull Point": "a rocky point by the sea where the white lighthouse stands",
    "Market Street": "the busy street in the middle of Fernhollow, with the bakery and the market",
}

PLACE_QUESTIONS = {
    "Fernhollow": ["What is Fernhollow?", "Where is Fernhollow?", "Tell me about Fernhollow."],
    "Whisper Wood": ["What is Whisper Wood?", "Where is Whisper Wood?", "Tell me about Whisper Wood."],
    "Bell Hill": ["What is Bell Hill?", "Where is Bell Hill?", "Tell me about Bell Hill."],
    "the Silver River": ["What is the Silver River?", "Where does the Silver River go?",
                         "Tell me about the Silver River."],
    "Gull Point": ["What is Gull Point?", "Where is the lighthouse?", "Tell me about Gull Point."],
    "Market Street": ["What is Market Street?", "Where is the bakery?", "Tell me about Market Street."],
}


def person(name: str) -> Person:
    """Look a person up by name."""
    return next(p for p in PEOPLE if p.name == name)


def article(word: str) -> str:
    """'a' or 'an' for the word that follows."""
    return "an" if word[0].lower() in "aeiou" else "a"


def cap(text: str) -> str:
    """Capitalise the first letter only."""
    return text[:1].upper() + text[1:]


def possessive(pronoun: str) -> str:
    return {"he": "his", "she": "her"}[pronoun]


def objective(pronoun: str) -> str:
    return {"he": "him", "she": "her"}[pronoun]
