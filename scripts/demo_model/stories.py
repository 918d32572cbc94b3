"""Short, grammatical stories built from a few interchangeable parts.

A story has a hero (an inhabitant of Fernhollow or an animal with a name), an opening,
one of several plots (a lost thing, a journey, a new friend, a storm, a gift, a fear of
the dark) and an ending. Each part has several wordings, so the number of different
stories is far larger than any corpus drawn from it.
"""

import random
from dataclasses import dataclass

import world
from world import article, cap

ANIMALS = [
    "fox", "rabbit", "bear", "cat", "dog", "duck", "mouse", "owl", "frog", "turtle",
    "squirrel", "hedgehog", "goat", "horse", "deer", "badger", "otter", "robin", "pig", "lamb",
]
NAMES = {
    "he": ["Benny", "Oscar", "Leo", "Max", "Toby", "Sam", "Jack", "Milo", "Ollie", "Ned", "Rufus", "Arlo"],
    "she": ["Lily", "Daisy", "Ruby", "Nell", "Poppy", "Rose", "Ivy", "Luna", "Hazel", "Maisie", "Bella", "Tess"],
}
TRAITS = ["brave", "shy", "clever", "kind", "curious", "happy", "gentle", "quick", "small", "friendly", "busy",
          "sleepy", "cheerful", "careful", "little"]
HOMES = {
    "fox": "in a den in Whisper Wood", "rabbit": "in a burrow under a hedge", "bear": "in a cave in the hills",
    "cat": "in a warm house in Fernhollow", "dog": "on a farm near the village", "duck": "by a quiet pond",
    "mouse": "in a tiny hole in a garden wall", "owl": "in a hollow tree", "frog": "by the edge of a pond",
    "turtle": "by the Silver River", "squirrel": "in a tall oak tree", "hedgehog": "under a pile of leaves",
    "goat": "on the side of Bell Hill", "horse": "in a green field", "deer": "in a quiet part of the forest",
    "badger": "in a sett under the old hill", "otter": "by the Silver River", "robin": "in a nest in a hedge",
    "pig": "on Rosa's farm", "lamb": "in a meadow near the farm",
}
LIKES = ["apples", "playing in the sun", "long walks", "singing songs", "reading stories", "looking at the stars",
         "splashing in puddles", "picking flowers", "climbing trees", "making new friends", "warm cocoa",
         "counting clouds", "building little houses out of sticks"]
GAMES = ["playing hide and seek", "splashing in puddles", "climbing trees", "rolling down the hill",
         "building little houses out of sticks", "catching falling leaves", "singing songs"]
TIMES = ["One morning", "One sunny morning", "One rainy afternoon", "One cold winter day", "One warm summer evening",
         "One windy autumn day", "One day", "Early one spring morning", "Late one afternoon"]
PLACES = ["the meadow", "the forest", "the river", "the top of Bell Hill", "the garden", "the old bridge",
          "the pond", "Whisper Wood", "the market", "the beach", "the field of sunflowers"]
SPOTS = ["a big rock", "a pile of leaves", "an old log", "a bush of berries", "the bridge", "a wooden bench",
         "a tall fern", "a basket of apples"]
ITEMS = [("red", "ball"), ("blue", "kite"), ("yellow", "hat"), ("little", "key"), ("favourite", "book"),
         ("shiny", "shell"), ("green", "scarf"), ("lucky", "acorn"), ("wooden", "flute"), ("striped", "sock")]
GIFTS = ["a cake", "a painting", "a basket of berries", "a necklace of shells", "a song", "a little boat",
         "a bunch of flowers", "a warm blanket"]
DESTINATIONS = [("the sea", "the waves sparkled in the sun"), ("the top of Bell Hill", "the whole village lay below"),
                ("the lighthouse on Gull Point", "the great lamp shone over the water"),
                ("the waterfall in Whisper Wood", "the water sang as it fell"),
                ("the market in Fernhollow", "everyone was laughing and selling bread and apples")]


@dataclass(frozen=True)
class Hero:
    """Who a story is about."""

    name: str
    animal: str | None  # the kind of animal, None for a villager
    kind: str  # "a little fox", "the baker", ...
    pronoun: str
    trait: str
    home: str
    likes: str
    friend: str | None  # name of a friend, when the hero is a villager


def animal_hero(rng: random.Random, animal: str | None = None, trait: str | None = None) -> Hero:
    """A new animal with a name, a trait and a home."""
    animal = animal or rng.choice(ANIMALS)
    pronoun = rng.choice(["he", "she"])
    trait = trait or rng.choice(TRAITS)
    return Hero(rng.choice(NAMES[pronoun]), animal, f"{article(trait)} {trait} {animal}", pronoun, trait,
                HOMES[animal], rng.choice(LIKES), None)


def villager_hero(p: world.Person) -> Hero:
    """A story hero made from an inhabitant of Fernhollow."""
    return Hero(p.name, None, p.kind, p.pronoun, p.trait, p.home, p.likes, p.friend)


def random_hero(rng: random.Random) -> Hero:
    return villager_hero(rng.choice(world.PEOPLE)) if rng.random() < 0.35 else animal_hero(rng)


def helper_for(rng: random.Random, hero: Hero) -> tuple[str, str]:
    """(name, short description) of someone who helps the hero."""
    if hero.friend and rng.random() < 0.7:
        friend = world.person(hero.friend)
        return friend.name, friend.kind
    if rng.random() < 0.4:
        p = rng.choice([p for p in world.PEOPLE if p.name != hero.name])
        return p.name, p.kind
    animal = rng.choice([a for a in ANIMALS if a != hero.animal])
    pronoun = rng.choice(["he", "she"])
    name = rng.choice([n for n in NAMES[pronoun] if n != hero.name])
    return name, f"{article(animal)} {animal}"


def opening(rng: random.Random, h: Hero) -> str:
    p = cap(h.pronoun)
    if h.animal is None:
        return rng.choice([
            f"In the village of Fernhollow, there lived {h.kind} named {h.name}. {h.name} lived {h.home}.",
            f"{h.name} was {h.kind} who lived {h.home}. {p} was {h.trait} and liked {h.likes}.",
            f"Once upon a time, {h.name} lived {h.home}. {p} was {h.kind}, and {h.pronoun} liked {h.likes}.",
        ])
    return rng.choice([
        f"Once upon a time, there was {h.kind} named {h.name}. {p} lived {h.home}.",
        f"Once there was {h.kind} called {h.name} who lived {h.home}. {p} liked {h.likes}.",
        f"Long ago, {h.name} the {h.animal} lived {h.home}. {p} was {h.trait} and loved {h.likes}.",
        f"There was once {h.kind} named {h.name}. Every day, {h.pronoun} liked {h.likes}.",
    ])


def plot_lost(rng: random.Random, h: Hero) -> str:
    adj, item = rng.choice(ITEMS)
    place, spot = rng.choice(PLACES), rng.choice(SPOTS)
    helper, helper_kind = helper_for(rng, h)
    p, pos = cap(h.pronoun), world.possessive(h.pronoun)
    return " ".join([
        f"{rng.choice(TIMES)}, {h.name} lost {pos} {adj} {item} near {place}.",
        rng.choice([f"{p} looked everywhere, but {h.pronoun} could not find it.",
                    f"{p} looked under the trees and behind the stones, but the {item} was gone.",
                    f"{h.name} felt very sad and sat down to think."]),
        rng.choice([f"Then {helper}, {helper_kind}, came by and asked, \"Why are you sad?\"",
                    f"Soon {helper}, {helper_kind}, walked by and saw {h.name}."]),
        f"\"I lost my {item},\" said {h.name}. \"I will help you look,\" said {helper}.",
        rng.choice([f"Together they searched and found the {item} under {spot}.",
                    f"They looked together, and at last {helper} found the {item} next to {spot}."]),
        f"{h.name} was very happy and thanked {helper}.",
    ])


def plot_journey(rng: random.Random, h: Hero) -> str:
    dest, view = rng.choice(DESTINATIONS)
    helper, helper_kind = helper_for(rng, h)
    p = cap(h.pronoun)
    return " ".join([
        f"{rng.choice(TIMES)}, {h.name} decided to walk to {dest}.",
        rng.choice([f"The path was long, and soon {h.pronoun} felt tired.",
                    f"On the way, {h.pronoun} came to a wide stream and did not know how to cross it.",
                    f"Halfway there, the sky grew dark and {h.name} was not sure which way to go."]),
        rng.choice([f"Just then, {helper}, {helper_kind}, came along and showed {world.objective(h.pronoun)} the way.",
                    f"Luckily, {helper}, {helper_kind}, was nearby and walked with {world.objective(h.pronoun)}."]),
        f"At last they reached {dest}, where {view}.",
        rng.choice([f"{p} smiled and said, \"It was worth the long walk.\"",
                    f"{h.name} and {helper} sat there for a long time and watched.",
                    f"{p} felt proud that {h.pronoun} had not given up."]),
    ])


def plot_friend(rng: random.Random, h: Hero) -> str:
    animal = rng.choice([a for a in ANIMALS if a != h.animal])
    pronoun = rng.choice(["he", "she"])
    name = rng.choice([n for n in NAMES[pronoun] if n != h.name])
    place, game = rng.choice(PLACES), rng.choice(GAMES)
    return " ".join([
        f"{rng.choice(TIMES)}, {h.name} went to {place} and met {article(animal)} {animal} named {name}.",
        rng.choice([f"{name} was sitting alone and looked sad.", f"{name} was new and did not know anyone yet."]),
        f"\"Would you like to play with me?\" asked {h.name}.",
        f"{name} smiled and said, \"Yes, please!\"",
        rng.choice([f"They played all day, and {name} showed {h.name} how much fun {game} could be.",
                    f"They talked and laughed until the sun went down."]),
        rng.choice([f"From that day on, {h.name} and {name} were the best of friends.",
                    f"After that, {h.name} and {name} met at {place} every day."]),
    ])


def plot_storm(rng: random.Random, h: Hero) -> str:
    helper, helper_kind = helper_for(rng, h)
    p = cap(h.pronoun)
    return " ".join([
        f"{rng.choice(TIMES)}, a big storm came over the hills.",
        rng.choice([f"The wind blew hard and the rain fell, and {h.name} was far from home.",
                    f"Thunder rolled across the sky, and {h.name} felt scared."]),
        rng.choice([f"{p} ran to find a dry place to hide.", f"{p} looked for shelter under the trees."]),
        rng.choice([f"Then {helper}, {helper_kind}, called out, \"Come inside, it is warm in here!\"",
                    f"{helper}, {helper_kind}, saw {world.objective(h.pronoun)} and opened the door wide."]),
        f"They waited together and shared some warm soup until the storm was over.",
        rng.choice([f"In the morning the sun came out, and {h.name} walked home happily.",
                    f"When the rain stopped, a rainbow shone over Fernhollow."]),
    ])


def plot_gift(rng: random.Random, h: Hero) -> str:
    helper, _ = helper_for(rng, h)
    gift = rng.choice(GIFTS)
    p = cap(h.pronoun)
    return " ".join([
        f"{rng.choice(TIMES)}, {h.name} remembered that it was {helper}'s birthday.",
        f"{p} wanted to make {gift} as a present.",
        rng.choice([f"It was hard work, and the first try went wrong.",
                    f"{p} worked all morning, but it did not look quite right."]),
        rng.choice([f"{h.name} did not give up and tried again, slowly and carefully.",
                    f"So {h.pronoun} took a deep breath and started again."]),
        f"In the evening, {h.name} gave {gift} to {helper}.",
        rng.choice([f"{helper} was so happy that {h.name} laughed too.",
                    f"\"This is the best present ever,\" said {helper}."]),
    ])


def plot_dark(rng: random.Random, h: Hero) -> str:
    p = cap(h.pronoun)
    return " ".join([
        f"{h.name} was afraid of the dark.",
        f"Every night, {h.pronoun} hid under {world.possessive(h.pronoun)} blanket and could not sleep.",
        f"One night, Olo the wise owl flew to {h.name}'s window.",
        "\"Come and look at the sky,\" said Olo. \"The dark is full of stars.\"",
        f"{p} looked up and saw thousands of little lights.",
        rng.choice([f"Olo told {world.objective(h.pronoun)} the names of the stars, one by one.",
                    f"Olo showed {world.objective(h.pronoun)} the star that shines over Bell Hill."]),
        f"After that night, {h.name} was not afraid of the dark any more.",
    ])


PLOTS = [plot_lost, plot_journey, plot_friend, plot_storm, plot_gift, plot_dark]

ENDINGS = ["The end.", "And they all lived happily in Fernhollow.", "", "",
           "Sometimes a little help from a friend makes everything better.",
           "It was a day to remember."]


def make_story(rng: random.Random, hero: Hero | None = None) -> str:
    """One complete short story, about `hero` if given."""
    hero = hero or random_hero(rng)
    plots = [p for p in PLOTS if not (p is plot_dark and hero.name == "Olo")]
    parts = [opening(rng, hero), rng.choice(plots)(rng, hero), rng.choice(ENDINGS)]
    return " ".join(p for p in parts if p)
