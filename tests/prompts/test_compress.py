"""Prompt compression: budgets hit, protected spans byte-identical, deterministic, and honest about edge cases."""

from __future__ import annotations

import functools
import json
import re

import pytest

from prompts.compress import compress
from prompts.compress.protect import split_protected
from tests.conftest import shared


@pytest.fixture(scope="module")
def lm():
    from core.models import load_smollm2

    return load_smollm2("cpu")



def _run(prompt, lm, **kw):
    model, tok = lm
    return compress(prompt, model=model, tokenizer=tok, **kw)


def test_protected_pieces():
    text = "Order A-20931 shipped 2026-03-04 at 23:00, see https://x.org/a. Run `make test` <keep>now please</keep>."
    protected = [p.text for p in split_protected(text) if p.protected]
    assert protected == ["A-20931", "2026-03-04", "23:00", "https://x.org/a", "`make test`", "now please"]
    with pytest.raises(ValueError, match="unclosed <keep>"):
        split_protected("a <keep>b")


@pytest.mark.parametrize("rate", [0.5, 0.33, 0.2])
def test_rate_is_met_within_ten_percent_and_protected_spans_survive(gsm8k_prompt, lm, rate):
    c = _run(gsm8k_prompt, lm, rate=rate)
    assert c.original_tokens > 700
    assert abs(c.ratio - rate) <= 0.1 * rate, c.ratio
    assert c.text.endswith(gsm8k_prompt["question"])  # the question is untouched, byte for byte
    kept_items = [i for i in range(len(gsm8k_prompt["context"])) if i not in c.dropped_items]
    for i in kept_items:  # every number of every kept demonstration is still there, in order
        numbers = re.findall(r"\d(?:[\d,.:/-]*\d)?", gsm8k_prompt["context"][i])
        assert all(n in c.text for n in numbers)


def test_target_tokens_and_determinism(gsm8k_prompt, lm):
    a = _run(gsm8k_prompt, lm, target_tokens=300)
    b = _run(gsm8k_prompt, lm, target_tokens=300)
    assert a.text == b.text and a.kept_mask == b.kept_mask
    assert abs(a.compressed_tokens - 300) <= 30


def test_long_prompt_of_8000_tokens(lm):
    text = shared("lm", "wikitext-2_valid.txt").read_text(encoding="utf-8")[:40_000]
    c = _run(text, lm, rate=0.33)
    assert c.original_tokens > 8000 and abs(c.ratio - 0.33) <= 0.033


def test_empty_short_and_protected_only_prompts(lm):
    empty = _run("", lm, rate=0.5)
    assert empty.text == "" and empty.compressed_tokens == 0 and "empty" in empty.note
    short = _run("Hi.", lm, rate=0.5)
    assert short.compressed_tokens <= short.original_tokens
    only = _run({"instruction": "Add the numbers.", "context": ["12 + 30 = 42"], "question": "What is 7 + 5?"}, lm,
                rate=0.3)
    assert only.text == "Add the numbers.\n\n12 + 30 = 42\n\nWhat is 7 + 5?" and "unchanged" in only.note


def test_non_english_text_stays_valid_utf8(lm):
    text = ("Die Bibliothek verlängert ihre Öffnungszeiten während der Prüfungszeit bis 23:00 Uhr, und der Ausschuss "
            "wird die Entscheidung im September überprüfen. 图书馆在考试期间延长开放时间，委员会将在九月份重新审查这一决定。")
    c = _run(text, lm, rate=0.5)
    assert "\ufffd" not in c.text and "23:00" in c.text
    assert c.compressed_tokens < c.original_tokens
    # only whole words of the German, only characters of the Chinese (pruned one by one), all in input order
    assert all(w in text.split() for w in c.text.split() if not any("\u4e00" <= ch <= "\u9fff" for ch in w))
    assert _subsequence(c.text, text)


def test_bad_arguments(lm):
    with pytest.raises(ValueError, match="exactly one"):
        _run("text", lm)
    with pytest.raises(ValueError, match="rate"):
        _run("text", lm, rate=1.5)


# --- protected spans survive compression (issue 15, item 6; case compress-protected after LLMLingua#114) ---

def test_only_a_short_final_answer_is_kept_with_its_label():
    cot = ("Question: How many clips?\nAnswer: Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips "
           "altogether in April and May. So the answer is 72.")
    labels = [p.text for p in split_protected(cot) if p.kind == "label"]
    assert labels == ["Question:", "Answer:"]  # a chain of thought (> ANSWER_CHARS) stays compressible
    # only the line that ends the item takes its value along (an answer in the middle is ordinary text)
    mid = "Question: Is it?\nAnswer: yes\nQuestion: And this?"
    assert [p.text for p in split_protected(mid) if p.kind == "label"] == ["Question:", "Answer:", "Question: And this?"]


@pytest.mark.parametrize("text, span, kind", [
    ("We upgraded the scheduler to v2.10.3 on Monday.", "v2.10.3", "version"),
    ("Release 1.2.3-rc1 is out.", "1.2.3-rc1", "version"),
    ("The parcel weighed 3.5kg in all.", "3.5kg", "quantity"),
    ("It dropped to -12 degrees outside.", "-12 degrees", "quantity"),
    ("Disk usage reached 45% today.", "45%", "quantity"),
    ("The racks came to $1,234.56 in total.", "$1,234.56", "quantity"),
    ("The train covers 60 km each hour.", "60 km", "quantity"),
    ("A request took 120ms and 10 GB.", "120ms", "quantity"),
    ("Call `systemctl restart x.service` first.", "`systemctl restart x.service`", "code"),
    ("Run\n```\nmake test\n```\nthen.", "```\nmake test\n```", "code"),
    ("The config is <keep>{\"retries\": 3}</keep> now.", "{\"retries\": 3}", "keep"),
    ("Mail ops-team@example.org today.", "ops-team@example.org", "email"),
    ("We met on 2026-03-04 at 14:30.", "2026-03-04", "datetime"),
    ("活动吸引了大约两万名市民参加。", "两万名", "number"),  # CJK numerals keep their counter, like plain numbers
    ("12 * 2 * 3 = 72 eggs in all", "12 * 2 * 3 = 72", "number"),
    # CJK numbers keep counters, units and date parts: pruned apart, 5月から7月 became 57 (verifier's compress-cjk)
    ("梅雨は5月から7月にかけて来る曇りや雨の多い期間のこと。", "5月から7月", "datetime"),
    ("日本の雑節の1つに入梅（6月11日頃）があり", "6月11日", "datetime"),
    ("广茂铁路是在2004年2月29日起，因广州铁路集团", "2004年2月29日", "datetime"),
    ("广茂铁路则全长421.326公里，共有47个车站。", "421.326公里", "quantity"),
    ("广茂铁路则全长421.326公里，共有47个车站。", "47个", "quantity"),
    ("他学了3个月中文。", "3个月", "quantity"),
    ("票价是１５元。", "１５元", "quantity"),
    ("韩国于1947년에 독립했다", "1947년", "datetime"),
    # IPs and versions of any length whole (10.0.0.12 came back as 10.0.0), hashes and paths whole
    ("The worker at 10.0.0.12 stopped answering.", "10.0.0.12", "ip"),
    ("Windows build 10.0.19045.2965 is affected.", "10.0.19045.2965", "version"),
    ("SHA256:q9Xk2mV8 is the host key.", "SHA256:q9Xk2mV8", "id"),
    ("The key is SHA256:q9Xk2mV8 now.", "SHA256:q9Xk2mV8", "id"),
    ("Edit /etc/winnow/config.yaml first.", "/etc/winnow/config.yaml", "path"),
    ("It lives in /usr/local/bin/x now.", "/usr/local/bin/x", "path"),
    ("C:\\x\\y holds the logs.", "C:\\x\\y", "path"),
    # a demonstration's short answer ends its item and stays with its label: pruned, BoolQ demos kept "Answer:" and
    # lost "yes" / "no" in 89 (self-information) and 110 (classifier) of 159 items at rate 0.5
    ("Hydraulic fluid -- Power steering fluid is a sub type of hydraulic fluid.\nQuestion: is it the same?\nAnswer: yes",
     "Answer: yes", "label"),
    ("Question: Which structure surrounds an animal cell?\nAnswer: Cell membrane\n", "Answer: Cell membrane", "label"),
    ("Question: Which structure surrounds an animal cell?\nAnswer: Cell membrane", "Question:", "label"),
])
def test_protected_span_kinds(text, span, kind):
    pieces = [p for p in split_protected(text) if p.protected]
    assert (span, kind) in [(p.text, p.kind) for p in pieces]
    # plain numbers and equations are protected inside a kept item but leave with a dropped one; the rest stays
    assert next(p for p in pieces if p.text == span).hard == (kind not in ("number", "label"))


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    from core.embed import Embedder

    return Embedder(cache=tmp_path_factory.mktemp("embed")).embed


def _case_prompt(case: str) -> dict:
    return json.loads(shared("..", "cases", case, "prompts.jsonl").read_text(encoding="utf-8").splitlines()[0])


# every protected span of the case, as the user wrote it (markers removed): all must come back byte for byte
CASE_SPANS = ["-12 degrees", "45%", "node-7", "$1,234.56", "v2.10.3", "2026-03-04", "14:30", "3.5kg",
              "ops-team@example.org", "https://wiki.example.org/ops/nightly?run=88",
              '{"retries": 3, "timeout_s": 120, "queues": ["fast", "slow"], "owner": "ops"}',
              "`systemctl restart winnow-worker.service`", '`journalctl -u winnow-worker --since "10 min ago"`']


def test_case_compress_protected_spans_come_back_and_dropped_items_are_reported(lm, minilm, tmp_path, monkeypatch,
                                                                                capsys):
    """`winnow compress prompts.jsonl --rate 0.33` on the case, through the CLI (the flow replaced by the file
    function it wraps, so no Prefect server is needed)."""
    import flows.compress
    from flows.cli import main
    from prompts.compress.batch import compress_file

    # wraps: the CLI's options are generated from the flow's signature (flows.cli_options), kept by the stand-in
    monkeypatch.setattr(flows.compress, "compress_prompts", functools.wraps(flows.compress.compress_prompts.fn)(
        lambda path, out, rate, target_tokens, config: compress_file(path, out, rate, target_tokens, config)))
    out = tmp_path / "out.jsonl"
    assert main(["compress", str(shared("..", "cases", "compress-protected", "prompts.jsonl")), "--rate", "0.33",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for span in CASE_SPANS:
        assert span in row["compressed"], span
    # MiniLM ranks the job configuration and the runbook below the nightly report for this question, so the coarse
    # step drops items 1 and 2; each is reduced to its protected spans instead of vanishing
    assert row["dropped_items"] == [1, 2]
    assert row["spans_of_dropped"] == [CASE_SPANS[10:11], CASE_SPANS[11:]]
    assert "line 1 (id spans): coarse step dropped context items 1, 2 (0-based); 3 protected spans kept" in printed
    # the spans alone exceed a third of the prompt: the miss is said, not hidden
    assert "cannot be met" in row["note"] and "cannot be met" in printed
    assert row["compressed"].endswith(row["question"])


def test_without_pattern_protection_only_keep_blocks_survive_a_dropped_item(lm, minilm):
    from prompts.compress import CompressConfig

    prompt = _case_prompt("compress-protected")
    c = _run(prompt, lm, rate=0.33, embed=minilm, config=CompressConfig(protect_patterns=False))
    assert c.dropped_items and abs(c.ratio - 0.33) <= 0.033  # nothing but the <keep> block is fixed now
    assert CASE_SPANS[10] in c.text
    assert all(s == ([CASE_SPANS[10]] if i == 1 else []) for i, s in zip(c.dropped_items, c.spans_of_dropped))


# --- languages without spaces (issue 15, item 1; case compress-cjk after LLMLingua#152) ---

def _valid(text: str) -> bool:
    """Well-formed text: encodes to UTF-8 strictly (no lone surrogates) and holds no replacement character."""
    text.encode("utf-8", "strict")
    return "\ufffd" not in text


def _subsequence(short: str, long: str) -> bool:
    """Only characters of the input, in its order (whitespace aside: a space may be put back between words)."""
    it = iter("".join(long.split()))
    return all(ch in it for ch in "".join(short.split()))


def test_case_compress_cjk_meets_the_rate_and_keeps_the_answer(lm):
    prompt = _case_prompt("compress-cjk")
    c = _run({k: prompt[k] for k in ("context", "question")}, lm, rate=0.5)
    assert abs(c.ratio - 0.5) <= 0.05, c.ratio  # within 10 % in SmolLM2 tokens (the one paragraph was 0.064 before)
    context = c.text.removesuffix("\n\n" + prompt["question"])
    assert _valid(c.text) and _subsequence(context, prompt["context"][0])
    # the answer's paragraph is pruned character by character, not dropped whole, and its number stays
    assert not c.dropped_items and "两万" in context
    chars = len(context) / len(prompt["context"][0])
    assert 0.35 <= chars <= 0.65, chars  # half the tokens is about half the characters too


JA_TSUYU = ("梅雨（つゆ、ばいう）は、北海道と小笠原諸島を除く日本、朝鮮半島南部、中国の南部から長江流域にかけての沿海部、および台湾など、"
            "東アジアの広範囲においてみられる特有の気象現象で、5月から7月にかけて来る曇りや雨の多い期間のこと。雨季の一種である。"
            "梅雨の時期が始まることを梅雨入りや入梅（にゅうばい）といい、社会通念上・気象学上は春の終わりであるとともに夏の始まり（初夏）と"
            "される。なお、日本の雑節の1つに入梅（6月11日頃）があり、暦の上ではこの日を入梅とするが、これは水を必要とする田植えの時期の"
            "目安とされている。")
ZH_RAILWAY = ("广茂铁路是中国广东省一条起自广州市广州西站，向西跨越北江、西江，经佛山、三水、肇庆、云浮、阳江至茂名市茂名站的铁路，"
              "全长364.6公里，由三茂铁路股份有限公司管理运营。如将此两条支线计算在内，广茂铁路则全长421.326公里，共有47个车站。"
              "广茂铁路是在2004年2月29日起，因广州铁路集团控股的三茂铁路股份有限公司管辖范围增加原由广铁集团羊城铁路总公司管辖的广三铁路。"
              "广三铁路于1903年筑成，全长49公里。而全长357公里的三茂铁路则于1991年投入运营。")


@pytest.mark.parametrize("text, spans", [
    (JA_TSUYU, ["5月から7月", "6月11日"]),
    (ZH_RAILWAY, ["364.6公里", "421.326公里", "47个", "2004年2月29日", "1903年", "49公里", "357公里", "1991年"]),
])
def test_cjk_numbers_keep_their_counters_and_never_fuse(lm, text, spans):
    """Verifier's compress-cjk variants: at rate 0.5 these became 57, 611, 2004229 and 421.326里."""
    c = _run(text, lm, rate=0.5)
    assert abs(c.ratio - 0.5) <= 0.05, c.ratio
    for span in spans:
        assert span in c.text, span
    # no number in the output that the input does not hold: a digit run of the output is one of the input
    assert set(re.findall(r"\d+", c.text)) <= set(re.findall(r"\d+", text))


def test_numbers_never_fuse_when_the_text_between_them_is_pruned():
    from prompts.compress.token_level import Unit, join

    units = [Unit("5", True), Unit("か", False), Unit("ら", False), Unit("7", True), Unit("月", False)]
    for u in units[1:3]:
        u.keep = False
    assert join(units) == "5 7月"  # not 57


def _paragraph(lang: str, max_chars: int) -> str:
    """The first paragraph of 150 to ``max_chars`` characters of real running text in ``lang``."""
    rows = (json.loads(line) for line in shared("multilingual", f"{lang}.jsonl").read_text(encoding="utf-8").splitlines())
    return next(r["text"] for r in rows if 150 <= len(r["text"]) <= max_chars and r.get("unit") != "sentence")


@pytest.mark.parametrize("lang, max_chars", [("ja", 260), ("th", 260), ("ko", 400)])  # no Korean paragraph is shorter
def test_scripts_without_spaces_meet_the_rate(lm, lang, max_chars):
    """Japanese and Thai are pruned character by character; Korean, spaced, word by word."""
    text = _paragraph(lang, max_chars)
    c = _run(text, lm, rate=0.5)
    assert abs(c.ratio - 0.5) <= 0.05, c.ratio
    assert _valid(c.text) and _subsequence(c.text, text)
    assert not c.text.startswith(" ")
