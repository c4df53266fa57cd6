"""EDA's four word-level edits (Wei & Zou 2019, "EDA: Easy Data Augmentation Techniques for Boosting Performance
on Text Classification Tasks", EMNLP; reference code github.com/jasonwei20/eda_nlp ``code/eda.py``).

- synonym replacement (SR): n = max(1, int(alpha * words)) distinct non-stop words, each replaced (every
  occurrence) by a random WordNet synonym;
- random insertion (RI): n times, a synonym of a random word (any word, up to 10 tries to find one with
  synonyms) is inserted at a random position;
- random swap (RS): n times, two random positions swap (up to 3 redraws when both positions coincide);
- random deletion (RD): each word is deleted with probability alpha; if all go, one random word stays.

Differences from the reference code, and why: words are whitespace tokens kept as written (the reference lowercases
the sentence and strips every non-letter, which would also edit the text outside the edit); a token is looked up
lowercased and only when it is letters (with inner hyphens/apostrophes) so punctuation never gets a synonym;
synonyms are listed in WordNet order, not from a Python set, so a seed gives the same output in every process;
RI picks its synonym at random instead of the set's arbitrary first element.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

# the reference code's stop-word list (eda.py), which SR never replaces
STOP_WORDS = frozenset("""i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom this that these those am is
are was were be been being have has had having do does did doing a an the and but if or because as until while of at
by for with about against between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more most other some such no nor
not only own same so than too very s t can will just don should now""".split())

OPERATIONS = ("synonym", "insert", "swap", "delete")

Synonyms = Callable[[str], Sequence[str]]  # word (lowercase) -> its synonyms, the word itself excluded
_WORD = re.compile(r"^[a-z]+(?:[-'][a-z]+)*$")


def _lookup(synonyms: Synonyms, token: str) -> list[str]:
    word = token.lower()
    return list(synonyms(word)) if _WORD.match(word) else []


def edit_count(n_words: int, alpha: float) -> int:
    """n = max(1, int(alpha * n_words)), as the reference code sizes SR, RI and RS."""
    return max(1, int(alpha * n_words))


def synonym_replacement(words: list[str], n: int, synonyms: Synonyms, rng: random.Random) -> list[str]:
    out = list(words)
    candidates = sorted({w for w in words if w.lower() not in STOP_WORDS})
    rng.shuffle(candidates)
    replaced = 0
    for word in candidates:
        options = _lookup(synonyms, word)
        if options:
            choice = rng.choice(options)
            out = [choice if w == word else w for w in out]
            replaced += 1
        if replaced >= n:
            break
    return " ".join(out).split(" ")  # a multi-word synonym becomes several words


def random_insertion(words: list[str], n: int, synonyms: Synonyms, rng: random.Random) -> list[str]:
    out = list(words)
    for _ in range(n):
        options: list[str] = []
        for _try in range(10):
            options = _lookup(synonyms, out[rng.randrange(len(out))])
            if options:
                break
        if not options:
            continue
        out.insert(rng.randrange(len(out)), rng.choice(options))
    return " ".join(out).split(" ")


def random_swap(words: list[str], n: int, rng: random.Random) -> list[str]:
    out = list(words)
    for _ in range(n):
        i = j = rng.randrange(len(out))
        tries = 0
        while j == i and tries <= 3:
            j = rng.randrange(len(out))
            tries += 1
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(words: list[str], p: float, rng: random.Random) -> list[str]:
    if len(words) <= 1:
        return list(words)
    out = [w for w in words if rng.random() > p]
    return out or [words[rng.randrange(len(words))]]


def apply(operation: str, text: str, alpha: float, synonyms: Synonyms, rng: random.Random) -> tuple[str, dict]:
    """One edit of ``text``: (new text, parameters: alpha and n, the number of edits asked for; for delete,
    n is the number of words deleted). Raises ValueError for an unknown operation."""
    words = text.split()
    if not words:
        return text, {"alpha": alpha, "n": 0}
    n = edit_count(len(words), alpha)
    if operation == "synonym":
        out = synonym_replacement(words, n, synonyms, rng)
    elif operation == "insert":
        out = random_insertion(words, n, synonyms, rng)
    elif operation == "swap":
        out = random_swap(words, n, rng)
    elif operation == "delete":
        out = random_deletion(words, alpha, rng)
        n = len(words) - len(out)
    else:
        raise ValueError(f"unknown operation {operation!r}: one of {', '.join(OPERATIONS)}")
    return " ".join(out), {"alpha": alpha, "n": n}
