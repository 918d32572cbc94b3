"""Chat conversations about Fernhollow: questions and answers, story requests, small talk.

A conversation is a list of {"role", "content"} messages; `render` turns it into ChatML
exactly as the bundled chat template does (a default system message when none is given).
Answers only restate facts from `world.py`, so replies can be checked for being on topic.
"""

import random

import stories
import world
from world import article, cap

DEFAULT_SYSTEM = "You are a helpful assistant."
SYSTEMS = [
    "You are a friendly storyteller.",
    "You are a helpful assistant who knows the village of Fernhollow well.",
    "You are a kind assistant. Answer in short, simple sentences.",
    "You are a cheerful guide to Fernhollow.",
]
UNKNOWN_NAMES = ["Zara", "Kevin", "Anna", "Paul", "Greta", "Igor", "Marta", "Dylan", "Clara", "Victor"]
WHO_DOES = [
    ("Who lives in the lighthouse?", "Bram"), ("Who bakes the bread?", "Tom"), ("Who is the teacher?", "Lena"),
    ("Who knows the names of the stars?", "Olo"), ("Who carries the letters?", "Juno"),
    ("Who has a cat?", "Mira"), ("Who grows apples?", "Rosa"), ("Who is the baker?", "Tom"),
    ("Who lives on Bell Hill?", "Olo"), ("Who paints pictures?", "Mira"), ("Who has three cows?", "Rosa"),
    ("Who collects honey?", "Hugo"), ("Who is Mira's brother?", "Finn"), ("Who lives behind the waterfall?", "Hugo"),
    ("Who is the fox in Whisper Wood?", "Pip"), ("Who keeps the lighthouse?", "Bram"),
]


def render(messages: list[dict]) -> str:
    """ChatML text of a whole conversation, as the chat template writes it."""
    if messages[0]["role"] != "system":
        messages = [{"role": "system", "content": DEFAULT_SYSTEM}] + messages
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def casual(rng: random.Random, question: str) -> str:
    """Small changes in how a user types: a greeting, no question mark, lower case."""
    if rng.random() < 0.15:
        greeting = rng.choice(["Hi! ", "Hello. ", "Hey, ", "Please, "])
        if greeting.endswith(", ") and not question.startswith(("I ", "Mira", "Pip", "Tom", "Rosa")):
            question = question[:1].lower() + question[1:]
        question = greeting + question
    if rng.random() < 0.1:
        question = question.rstrip("?.")
    if rng.random() < 0.08:
        question = question.lower()
    return question


# ---------------------------------------------------------------- questions about people


def person_qa(rng: random.Random, p: world.Person, pronoun_ref: bool = False) -> tuple[str, str]:
    """One (question, answer) pair about `p`. With `pronoun_ref` the question says he/she."""
    n = p.pronoun if pronoun_ref else p.name
    P, pos = cap(p.pronoun), world.possessive(p.pronoun)
    friend = world.person(p.friend)
    kind = rng.randrange(8)
    if kind == 0:
        q = rng.choice([f"Where does {n} live?", f"Where is {n}'s home?" if not pronoun_ref else f"Where is {pos} home?",
                        f"Do you know where {n} lives?"])
        a = rng.choice([f"{p.name} lives {p.home}.", f"{P} lives {p.home}.", f"{p.name} lives {p.home}. {P} is {p.kind}."])
    elif kind == 1 and not pronoun_ref:
        q = rng.choice([f"Who is {n}?", f"Tell me about {n}.", f"What do you know about {n}?"])
        a = f"{p.name} is {p.kind} who lives {p.home}. {P} {p.job}."
        if rng.random() < 0.6:
            a += f" {P} likes {p.likes}, and {pos} best friend is {friend.name}."
    elif kind == 2:
        q = rng.choice([f"What does {n} do?", f"What is {n}'s job?" if not pronoun_ref else f"What is {pos} job?",
                        f"What does {n} do all day?"])
        a = rng.choice([f"{p.name} {p.job}.", f"{P} {p.job}."])
    elif kind == 3:
        q = rng.choice([f"What does {n} like?", f"What does {n} love most?", f"What makes {n} happy?"])
        a = rng.choice([f"{p.name} likes {p.likes}.", f"{P} loves {p.likes}."])
    elif kind == 4:
        q = rng.choice([f"Who is {n}'s best friend?" if not pronoun_ref else f"Who is {pos} best friend?",
                        f"Does {n} have a friend?"])
        a = rng.choice([f"{p.name}'s best friend is {friend.name}, {friend.kind}.",
                        f"Yes. {P} is best friends with {friend.name}, {friend.kind}." if q.startswith("Does")
                        else f"{cap(pos)} best friend is {friend.name}."])
    elif kind == 5:
        q = rng.choice([f"What does {n} have?", f"Does {n} have anything special?"])
        a = f"{p.name} has {p.owns}."
    elif kind == 6:
        q = rng.choice([f"What is {n} like?", f"Is {n} nice?"])
        a = f"{p.name} is very {p.trait}. {P} likes {p.likes}."
    else:
        q = rng.choice([f"Is {n} a {'boy' if p.pronoun == 'he' else 'girl'}?", f"What kind of creature is {n}?"])
        if q.startswith("Is"):
            human = p.kind in ("a girl", "a boy")
            a = f"Yes, {p.name} is {p.kind}." if human else f"No, {p.name} is {p.kind}."
        else:
            a = f"{p.name} is {p.kind}."
    return q, a


def who_does_qa(rng: random.Random) -> tuple[str, str]:
    q, name = rng.choice(WHO_DOES)
    p = world.person(name)
    return q, f"{p.name} does. {cap(p.pronoun)} is {p.kind} and lives {p.home}." if q.startswith("Who has") else \
        f"That is {p.name}, {p.kind}. {cap(p.pronoun)} {p.job}."


def unknown_qa(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(UNKNOWN_NAMES)
    q = rng.choice([f"Where does {name} live?", f"Who is {name}?", f"What does {name} like?"])
    known = ", ".join(p.name for p in rng.sample(world.PEOPLE, 3))
    return q, f"I do not know anyone called {name} in Fernhollow. I know {known} and their friends."


def place_qa(rng: random.Random) -> tuple[str, str]:
    place = rng.choice(list(world.PLACES))
    q = rng.choice(world.PLACE_QUESTIONS[place])
    a = f"{cap(place)} is {world.PLACES[place]}."
    residents = [p for p in world.PEOPLE if place.removeprefix("the ") in p.home]
    if residents and rng.random() < 0.7:
        r = rng.choice(residents)
        a += f" {r.name} lives there."
    return q, a


# ---------------------------------------------------------------- story requests


def story_request(rng: random.Random) -> tuple[str, str]:
    """A request for a story and the story that answers it."""
    r = rng.random()
    if r < 0.5:
        animal = rng.choice(stories.ANIMALS)
        trait = rng.choice(stories.TRAITS) if rng.random() < 0.3 else None
        hero = stories.animal_hero(rng, animal, trait)
        subject = f"{article(trait)} {trait} {animal}" if trait else f"{article(animal)} {animal}"
    elif r < 0.8:
        hero = stories.villager_hero(rng.choice(world.PEOPLE))
        subject = hero.name
    else:
        hero, subject = stories.random_hero(rng), None
    if subject:
        q = rng.choice([f"Tell me a story about {subject}.", f"Can you tell me a story about {subject}?",
                        f"Write a short story about {subject}.", f"Please tell me a bedtime story about {subject}.",
                        f"I would like a story about {subject}."])
        lead = rng.choice(["", "", f"Here is a story about {subject}.\n\n", "Of course!\n\n", "Sure.\n\n"])
    else:
        q = rng.choice(["Tell me a story.", "Can you tell me a story?", "Tell me a bedtime story, please.",
                        "I am bored. Tell me a story!"])
        lead = rng.choice(["", "Of course!\n\n", "Here is a short story.\n\n"])
    return q, lead + stories.make_story(rng, hero)


# ---------------------------------------------------------------- small talk

SMALL_TALK = [
    (["Hello!", "Hi!", "Hi there.", "Good morning!", "Hello, how are you?"],
     ["Hello! I can tell you stories or answer questions about the village of Fernhollow.",
      "Hi! Would you like a story, or a question about Fernhollow?",
      "Hello! I am happy to help. Ask me about Fernhollow, or ask for a story."]),
    (["Who are you?", "What is your name?", "What are you?"],
     ["I am a small assistant. I know the village of Fernhollow and I like telling stories.",
      "I am a little helper who knows everyone in Fernhollow."]),
    (["What can you do?", "How can you help me?", "What do you know?"],
     ["I can tell you short stories, and I can answer questions about the people and places of Fernhollow.",
      "I know about Mira, Pip, Tom, Rosa and the other folk of Fernhollow, and I can tell stories."]),
    (["Thank you!", "Thanks.", "Thank you very much.", "That was nice, thanks!"],
     ["You are welcome!", "You are welcome. Would you like another story?", "I am glad you liked it."]),
    (["Goodbye!", "Bye.", "Good night!"],
     ["Goodbye! Come back soon.", "Good night, and sweet dreams.", "Bye! Have a lovely day."]),
    (["How are you?", "How are you today?"],
     ["I am very well, thank you. What would you like to know?", "I am fine, thank you! Shall I tell you a story?"]),
    (["Who lives in Fernhollow?", "Who are the people of Fernhollow?"],
     ["Mira, Finn, Tom, Rosa, Lena and Bram live in Fernhollow. Pip the fox, Hugo the bear, Juno the rabbit "
      "and Olo the owl live nearby."]),
]


def small_talk(rng: random.Random) -> tuple[str, str]:
    questions, answers = rng.choice(SMALL_TALK)
    return rng.choice(questions), rng.choice(answers)


# ---------------------------------------------------------------- conversations


def single_turn(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.42:
        return story_request(rng)
    if r < 0.77:
        return person_qa(rng, rng.choice(world.PEOPLE))
    if r < 0.84:
        return who_does_qa(rng)
    if r < 0.90:
        return place_qa(rng)
    if r < 0.93:
        return unknown_qa(rng)
    return small_talk(rng)


def conversation(rng: random.Random) -> list[dict]:
    """A conversation of one to three exchanges, sometimes with a follow-up question."""
    messages = []
    if rng.random() < 0.35:
        messages.append({"role": "system", "content": rng.choice(SYSTEMS)})
    turns = 1 if rng.random() < 0.7 else rng.choice([2, 3])
    for t in range(turns):
        if t > 0 and rng.random() < 0.5:
            p = rng.choice(world.PEOPLE)
            q, a = person_qa(rng, p)
            q2, a2 = person_qa(rng, p, pronoun_ref=True)
            pairs = [(q, a), (q2, a2)]
        else:
            pairs = [single_turn(rng)]
        for q, a in pairs:
            messages += [{"role": "user", "content": casual(rng, q)}, {"role": "assistant", "content": a}]
    return messages
