"""Evaluation tasks from ../shared/data as cloze examples: an input, answer *texts* as choices, a gold index.

SmolLM2-135M sits at chance on letter-format multiple choice (A/B/C/D), so the OLMES "mc" requests are
parsed back into the question and its answer texts, and each choice is scored as a continuation (cloze).
Every task has a demonstration pool (its train split) and an evaluation split, kept disjoint.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.shared_data import shared_data_dir
from prompts.templates import Template

_OPTION_RE = re.compile(r"^ ([A-Z])\. (.*)$")


@dataclass
class Example:
    id: str
    input: str              # what the template shows before the answer
    choices: list[str]      # answer texts
    gold: int

    @property
    def output(self) -> str:
        return self.choices[self.gold]

    @property
    def fields(self) -> dict:
        return {"input": self.input, "output": self.output}


@dataclass
class Task:
    name: str
    template: Template
    pool: list[Example]
    test: list[Example]
    labels: list[str] = field(default_factory=list)  # fixed label set (classification); empty for open choices

    def label_of(self, ex: Example) -> str:
        return ex.output


def _mc_docs(path: Path) -> list[dict]:
    docs: dict = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            docs.setdefault(r["doc_id"], r["doc"])
    return [docs[k] for k in sorted(docs)]


def _split_mc_query(query: str) -> tuple[str, list[str]]:
    """'Question: ...\\n A. x\\n B. y\\nAnswer:' -> ('Question: ...', ['x', 'y'])."""
    head, options = [], []
    for line in query.split("\n"):
        if m := _OPTION_RE.match(line):
            options.append(m.group(2).strip())
        elif line.strip() != "Answer:":
            (options[-1:] and options.__setitem__(-1, options[-1] + "\n" + line)) if options else head.append(line)
    return "\n".join(head).strip(), options


def _arc(split: str) -> list[Example]:
    out = []
    for d in _mc_docs(shared_data_dir() / "eval_mc/arc_easy" / f"{split}_mc_5shot/requests.jsonl.gz"):
        question, options = _split_mc_query(d["query"])
        out.append(Example(str(d["id"]), question + "\nAnswer:", options, int(d["gold"])))
    return out


def _boolq(split: str, max_passage_chars: int) -> list[Example]:
    out = []
    for d in _mc_docs(shared_data_dir() / "eval_mc/boolq" / f"{split}_mc_5shot/requests.jsonl.gz"):
        head, _ = _split_mc_query(d["query"])
        passage, _, question = head.rpartition("\nQuestion: ")
        if len(passage) > max_passage_chars:
            passage = passage[:max_passage_chars].rsplit(" ", 1)[0] + " ..."
        out.append(Example(f"{split}-{d['id']}", f"{passage}\nQuestion: {question}?\nAnswer:".replace("??", "?"),
                           ["yes", "no"], int(d["gold"])))
    return out


def _piqa(split: str) -> list[Example]:
    return [Example(f"{split}-{d['index']}", f"Goal: {d['goal']}\nAnswer:", [d["sol1"], d["sol2"]], int(d["gold"]))
            for d in _mc_docs(shared_data_dir() / "eval_mc/piqa" / f"{split}_mc_5shot/requests.jsonl.gz")]


SST2_LABELS = ["negative", "positive"]
AGNEWS_LABELS = ["World", "Sports", "Business", "Technology"]
TREC_LABELS = {"ABBR": "abbreviation", "DESC": "description", "ENTY": "entity", "HUM": "person",
               "LOC": "location", "NUM": "number"}


def _sst2(split: str) -> list[Example]:
    path = shared_data_dir() / "eval_cls/sst2" / f"stsa.binary.{split}"
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        label, _, text = line.partition(" ")
        out.append(Example(f"sst2-{split}-{n}", f"Review: {text.strip()}\nSentiment:", SST2_LABELS, int(label)))
    return out


def _agnews() -> tuple[list[Example], list[Example]]:
    """Only AG News test.csv is available: rows whose line number is divisible by 5 form the test split."""
    pool, test = [], []
    with open(shared_data_dir() / "eval_cls/agnews/test.csv", encoding="utf-8", newline="") as f:
        for n, (label, title, desc) in enumerate(list(csv.reader(f))[1:], start=2):
            text = f"{title}. {desc}".replace("\\", " ").replace("#36;", "$")
            ex = Example(f"agnews-{n}", f"Article: {text}\nTopic:", AGNEWS_LABELS, int(label) - 1)
            (test if n % 5 == 0 else pool).append(ex)
    return pool, test


def _trec(split: str) -> list[Example]:
    out = []
    path = shared_data_dir() / "eval_cls/trec" / f"{split}.txt"
    for n, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        label, _, question = line.partition(" ")
        coarse = label.split(":")[0]
        out.append(Example(f"trec-{split}-{n}", f"Question: {question.strip()}\nAnswer type:",
                           list(TREC_LABELS.values()), list(TREC_LABELS).index(coarse)))
    return out


def load_task(name: str, max_passage_chars: int = 600) -> Task:
    plain = Template()
    if name == "arc_easy":
        return Task(name, plain, _arc("train"), _arc("test"))
    if name == "boolq":
        return Task(name, plain, _boolq("train", max_passage_chars), _boolq("val", max_passage_chars), ["yes", "no"])
    if name == "piqa":
        return Task(name, plain, _piqa("train"), _piqa("val"))
    if name == "sst2":
        return Task(name, plain, _sst2("train"), _sst2("test"), SST2_LABELS)
    if name == "agnews":
        pool, test = _agnews()
        return Task(name, plain, pool, test, AGNEWS_LABELS)
    if name == "trec":
        return Task(name, plain, _trec("train"), _trec("test"), list(TREC_LABELS.values()))
    raise ValueError(f"unknown task {name!r}: arc_easy, boolq, piqa, sst2, agnews, trec")


TASKS = ("arc_easy", "boolq", "piqa", "sst2", "agnews", "trec")
