"""Spans compression must never touch: ``<keep>`` blocks, code, URLs, e-mail addresses, version strings, numbers
with units, dates and times, IDs, plain numbers, line-leading format labels (``Question:``, ``Answer:``) and a
demonstration's short answer: a label line that ends the context item with a value of at most ``ANSWER_CHARS``
characters (``Answer: yes``, ``Answer: Cell membrane``; a GSM8K chain of thought is longer and stays compressible).
Demonstrations teach the label space and the format (Min et al. 2022, "Rethinking the Role of Demonstrations",
EMNLP, sections 4-5): pruned word by word, BoolQ demonstrations lost their ``yes`` / ``no`` in 89 (self-information)
and 110 (classifier) of 159 kept items at rate 0.5, leaving ``Answer:`` with nothing after it.

LLMLingua's users report lost numbers, IDs and "do not compress" spans (LLMLingua#114); here spans are cut out
before any scoring and put back byte for byte. Users mark extra spans with ``<keep>...</keep>``; the markers are
removed, the content is kept.

Two strengths (``Piece.kind``):

- ``HARD_KINDS`` (``keep``, ``code``, ``url``, ``email``, ``path``, ``ip``, ``version``, ``quantity``, ``datetime``,
  ``id``) survive everything: when the coarse step drops the item that holds them, the item is reduced to these spans instead of
  disappearing (``prompts.compress.compress``).
- ``number`` (plain numbers and equations such as ``12 * 2 = 24``) and ``label`` are never pruned word by word
  inside a kept item, but leave with their item when the coarse step drops it: without their sentence they say
  nothing, and a dropped GSM8K demonstration would otherwise leave a trail of bare numbers.

Chinese, Japanese and Korean numbers keep their counters and units (``421.326公里``, ``3个月``, ``1947년``), and
dates and ranges written with them are one span (``2004年2月29日``, ``5月から7月``): pruned character by character,
the counters between two numbers would otherwise go and the numbers fuse into a new one (``5月から7月`` -> ``57``).
Written with digits they are ``quantity`` or ``datetime``; with CJK numerals (``两万名``, ``三个``) ``number``.
IPv4 addresses (``10.0.0.12``), versions of any length (``10.0.19045.2965``), ``LABEL:token`` hashes
(``SHA256:q9Xk2mV8``, kind ``id``) and file paths (``/usr/local/bin/x``, ``C:\\x\\y``) are single spans too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEEP_OPEN, KEEP_CLOSE = "<keep>", "</keep>"

HARD_KINDS = frozenset({"keep", "code", "url", "email", "path", "ip", "version", "quantity", "datetime", "id"})

_NUMBER = r"[-+]?[$€£¥￥]?\d(?:[\d,.．:/-]*\d)?[%％]?"
# units written after a number: glued (3.5kg, 120ms, 10GB) or after one space (60 km, -12 degrees, 5 min)
_GLUED_UNIT = r"(?:[kKMGTP]i?B|[kMG]?Hz|[kmcµμn]?[mgslLWV]|kWh|mph|kph|km/h|m/s|min|hrs?|[hd]|px|pt|em|°[CFK]?|[KMB]|x|bps)"
_SPACED_UNIT = (r"(?:degrees?|percent|°[CFK]?|[kKMGTP]i?B|[kMG]?Hz|bytes?|bits?|kWh|[kcm]?m|km/h|m/s|mph|kg|mg|g|lbs?"
                r"|oz|ml|mL|L|litres?|liters?|ms|µs|ns|s|sec(?:ond)?s?|min(?:ute)?s?|h|hrs?|hours?|days?|weeks?"
                r"|months?|years?|miles?|km|ft|feet|inch(?:es)?|px|tokens?|USD|EUR|GBP|JPY|CNY|W|kW|MW|V|mA)")
# Chinese/Japanese numerals with a magnitude (两万, 三千五百, 十几), and digits with one (2万, 3.5亿)
_CJK_MAGNITUDE = "[十百千万萬亿億兆]"
_CJK_NUMERAL = f"(?=[〇零一二两兩三四五六七八九十百千万萬亿億兆几幾]{{2}})[〇零一二两兩三四五六七八九几幾]*{_CJK_MAGNITUDE}" \
               f"[〇零一二两兩三四五六七八九十百千万萬亿億兆几幾]*"
# counters and units written right after a number in Chinese, Japanese and Korean (longest first, so 公里 wins over 里)
_CJK_COUNTERS = "|".join(sorted(set(
    "年 月 日 号 號 时 時 点 點 分 秒 人 名 位 个 個 件 次 回 岁 歳 歲 元 円 圆 圓 块 塊 角 毛 公里 千米 公斤 千克 克 米 厘米 毫米 "
    "平方米 平方公里 吨 噸 升 毫升 度 倍 条 條 张 張 本 枚 台 辆 輛 家 所 座 场 場 届 屆 册 冊 页 頁 章 节 節 周 週 天 小时 小時 "
    "分钟 分鐘 世纪 世紀 年代 年間 年间 种 種 项 項 层 層 楼 樓 阶 階 番 号線 号线 线 線 つ 匹 頭 軒 ヶ月 か月 カ月 ケ月 箇月 个月 個月 "
    "時間 分間 日間 週間 丁目 番地 キロ キロメートル メートル センチ ミリ グラム キログラム トン リットル パーセント ドル ユーロ 円 "
    "년 월 일 시 분 초 명 개 원 살 세 번 층 회 차 권 장 달러 킬로미터 미터 킬로그램 퍼센트 % ％ ℃ °C 美元 欧元 港元 英镑 日元".split()),
    key=lambda u: (-len(u), u)))
_CJK_DIGITS = r"[-+]?[$€£¥￥]?\d+(?:[,，]\d{3})*(?:[.．]\d+)?"
_CJK_NUMERALS = "(?!一(?![〇零一二两兩三四五六七八九十百千万萬亿億兆几幾]))[〇零一二两兩三四五六七八九十百千万萬亿億兆几幾]+"  # not a lone 一
_CJK_QUANTITY = rf"(?:{_CJK_DIGITS}[十百千万萬亿億兆]*(?:{_CJK_COUNTERS})|{_CJK_DIGITS}[十百千万萬亿億兆]+" \
                rf"|{_CJK_NUMERALS}(?:{_CJK_COUNTERS}))"
_CJK_RANGE = r"[ \t]?(?:から|至|到|~|～|〜|-|–|—|－)[ \t]?"
_CJK_DATE_RE = re.compile(r"\d{1,4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月(?:\d{1,2}日)?|\d{1,2}日"
                          r"|\d{1,4}년(?: ?\d{1,2}월(?: ?\d{1,2}일)?)?|\d{1,2}월(?: ?\d{1,2}일)?")
ANSWER_CHARS = 40  # the longest final answer kept with its label (ARC-style short answers; not a chain of thought)
# line-leading labels (Question:, Answer:); when the label's line ends the item and its value is short, the value
# too (Answer: yes): a demonstration's answer
_LABEL = rf"(?m:^[A-Z][\w ]{{0,24}}:(?:[ \t]+\S[^\n]{{0,{ANSWER_CHARS - 1}}}(?=\s*\Z)|(?!\S)))"
PROTECTED_RE = re.compile(
    r"(?P<path>(?<![\w/:.~])(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]*\w"     # /usr/local/bin/x, ./a/b, ~/.x/y
    r"|\b[A-Za-z]:\\(?:[\w .-]+\\)*[\w.-]*\w)"                           # C:\Users\x
    r"|(?P<hash>\b[A-Za-z][A-Za-z0-9_-]{0,15}:(?=[\w+/=-]*\d)(?=[\w+/=-]*[A-Za-z])[A-Za-z0-9+=_-][\w+/=-]{5,})"
    rf"|(?P<label>{_LABEL})"
    r"|(?P<code>```.*?```|`[^`\n]+`)"                          # fenced and inline code
    r"|(?P<url>(?:https?://|www\.)\S*[^\s.,;:!?)\]'\"])"       # URLs (without trailing punctuation)
    r"|(?P<email>[\w.+-]+@[\w-]+\.[\w.-]*\w)"                  # e-mail
    r"|(?P<ip>\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?:/\d{1,2})?\b(?!\.\d))"    # 10.0.0.12, 192.168.1.0/24
    r"|(?P<version>\b[vV]\d+(?:\.\d+)*(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?(?:\+[0-9A-Za-z.]+)?\b"
    r"|\b\d+(?:\.\d+){2,}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?(?:\+[0-9A-Za-z.]+)?\b)"  # v2.10.3, 1.2.3-rc1, 10.0.19045.2965
    rf"|(?P<cjk>{_CJK_QUANTITY}+(?:{_CJK_RANGE}{_CJK_QUANTITY}+)?)"  # 2004年2月29日, 5月から7月, 421.326公里, 两万名
    r"|(?P<id>\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{3,}\b)"    # IDs: letters and digits mixed (A1234, gpt-4)
    rf"|(?P<number>{_NUMBER}(?:[ \t]*[-+*/x×=<>][ \t]*{_NUMBER})*"  # numbers, money, dates, times, equations
    rf"(?P<unit>{_GLUED_UNIT}(?![\w])|[ \t\u00a0]{_SPACED_UNIT}(?![\w]))?{_CJK_MAGNITUDE}?"
    rf"|{_CJK_NUMERAL})",
    re.S,
)
_DATETIME_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?")


@dataclass(frozen=True)
class Piece:
    text: str
    protected: bool
    kind: str = ""  # protected pieces: keep, code, url, email, path, ip, version, quantity, datetime, id, number, label

    @property
    def hard(self) -> bool:
        """Survives the coarse step dropping its item (see ``HARD_KINDS``)."""
        return self.protected and self.kind in HARD_KINDS


def split_protected(text: str, protect_patterns: bool = True) -> list[Piece]:
    """Text as alternating free and protected pieces; user-marked spans lose their markers.

    Raises ``ValueError`` for a ``<keep>`` without its ``</keep>``."""
    pieces: list[Piece] = []
    pos = 0
    while True:
        start = text.find(KEEP_OPEN, pos)
        if start < 0:
            pieces.extend(_pattern_pieces(text[pos:], protect_patterns))
            break
        end = text.find(KEEP_CLOSE, start)
        if end < 0:
            raise ValueError(f"unclosed {KEEP_OPEN} at character {start}: close it with {KEEP_CLOSE}")
        pieces.extend(_pattern_pieces(text[pos:start], protect_patterns))
        pieces.append(Piece(text[start + len(KEEP_OPEN): end], True, "keep"))
        pos = end + len(KEEP_CLOSE)
    return [p for p in pieces if p.text]


_QUANTITY_ID_RE = re.compile(rf"{_NUMBER}{_GLUED_UNIT}")  # 120ms, 10GB: matched as IDs, counted as quantities


def _kind(m: re.Match) -> str:
    if m.lastgroup == "id" and _QUANTITY_ID_RE.fullmatch(m.group(0)):
        return "quantity"
    if m.lastgroup == "hash":
        return "id"
    if m.lastgroup == "cjk":
        text = m.group(0)
        if not any(c.isdigit() for c in text):
            return "number"  # CJK numerals (两万名, 三个): like plain numbers, they leave with a dropped item
        parts = re.split(_CJK_RANGE, text)
        return "datetime" if all(_CJK_DATE_RE.fullmatch(p) for p in parts) else "quantity"
    if m.lastgroup != "number":
        return m.lastgroup
    text = m.group("number")
    if m.group("unit") or any(c in text for c in "$€£¥￥%％"):
        return "quantity"
    return "datetime" if _DATETIME_RE.fullmatch(text) else "number"


def _pattern_pieces(text: str, protect_patterns: bool) -> list[Piece]:
    if not protect_patterns:
        return [Piece(text, False)]
    out, pos = [], 0
    for m in PROTECTED_RE.finditer(text):
        out.append(Piece(text[pos: m.start()], False))
        out.append(Piece(m.group(0), True, _kind(m)))
        pos = m.end()
    out.append(Piece(text[pos:], False))
    return out


def strip_markers(text: str) -> str:
    return text.replace(KEEP_OPEN, "").replace(KEEP_CLOSE, "")
