"""The 176 language labels of fastText lid.176 and the check every configured language code goes through.

lid.176 labels are mostly ISO 639-1 (``en``, ``fr``), some ISO 639-3 (``ceb``, ``yue``) and a few Wikipedia
codes (``als``, ``bh``, ``sh``). A code outside this list can never match a prediction, so a config naming one
would remove every document without a word: it is refused, with a hint when the user gave a 3-letter code,
a bibliographic code, a region tag or an English name (``eng`` -> ``en``, ``French`` -> ``fr``, ``en-US`` -> ``en``).
Hints come from ISO 639-3 data (pycountry). The list is checked against the model file in the tests.
"""

from __future__ import annotations

import re

LID176_LABELS: tuple[str, ...] = (
    "af", "als", "am", "an", "ar", "arz", "as", "ast", "av", "az", "azb", "ba", "bar", "bcl", "be", "bg", "bh", "bn",
    "bo", "bpy", "br", "bs", "bxr", "ca", "cbk", "ce", "ceb", "ckb", "co", "cs", "cv", "cy", "da", "de", "diq", "dsb",
    "dty", "dv", "el", "eml", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "frr", "fy", "ga", "gd", "gl", "gn",
    "gom", "gu", "gv", "he", "hi", "hif", "hr", "hsb", "ht", "hu", "hy", "ia", "id", "ie", "ilo", "io", "is", "it",
    "ja", "jbo", "jv", "ka", "kk", "km", "kn", "ko", "krc", "ku", "kv", "kw", "ky", "la", "lb", "lez", "li", "lmo",
    "lo", "lrc", "lt", "lv", "mai", "mg", "mhr", "min", "mk", "ml", "mn", "mr", "mrj", "ms", "mt", "mwl", "my", "myv",
    "mzn", "nah", "nap", "nds", "ne", "new", "nl", "nn", "no", "oc", "or", "os", "pa", "pam", "pfl", "pl", "pms",
    "pnb", "ps", "pt", "qu", "rm", "ro", "ru", "rue", "sa", "sah", "sc", "scn", "sco", "sd", "sh", "si", "sk", "sl",
    "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "tyv", "ug", "uk", "ur", "uz",
    "vec", "vep", "vi", "vls", "vo", "wa", "war", "wuu", "xal", "xmf", "yi", "yo", "yue", "zh",
)
_LABELS = frozenset(LID176_LABELS)

# codes ISO data does not map onto a lid.176 label by itself: deprecated ISO 639-1 codes, Chinese varieties,
# Norwegian Bokmål (lid.176 has one "no"), Filipino
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no", "nob": "no", "cmn": "zh",
            "zho": "zh", "chi": "zh", "fil": "tl", "tgl": "tl", "hbs": "sh"}
_SUBTAG_RE = re.compile(r"^([A-Za-z]{2,3})[-_][A-Za-z0-9-_]+$")


def suggest_language(code: str) -> str | None:
    """The lid.176 label a user most likely meant by ``code`` (a 3-letter code, an English name, ``en-US``)."""
    text = code.strip()
    if not text:
        return None
    low = text.lower()
    if low in _LABELS:
        return low
    if low in _ALIASES:
        return _ALIASES[low]
    if m := _SUBTAG_RE.match(text):
        return suggest_language(m.group(1))
    import pycountry

    try:
        lang = pycountry.languages.lookup(text)
    except LookupError:
        return None
    for candidate in (getattr(lang, "alpha_2", None), lang.alpha_3, _ALIASES.get(lang.alpha_3)):
        if candidate in _LABELS:
            return candidate
    return None


def language_name(code: str) -> str:
    import pycountry

    lang = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    return lang.name if lang is not None else code


def check_language(code: str) -> str:
    """``code`` if lid.176 predicts it; else ValueError with a hint and the valid codes (the caller names the value)."""
    if code in _LABELS:
        return code
    hint = suggest_language(code)
    did_you_mean = f"did you mean {hint!r} ({language_name(hint)})? " if hint else ""
    raise ValueError(f"not a lid.176 language code; {did_you_mean}"
                     f"valid codes ({len(LID176_LABELS)}): {', '.join(LID176_LABELS)}")
