"""Prompt templates that render demonstrations + query: plain text (for base-style scoring) or a chat template.

A ``Template`` formats one example from its fields; ``render`` joins demos and the query. The chat form uses
the model tokenizer's own chat template, with each demo as a user/assistant turn pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Template:
    input: str = "{input}"           # how an example's input is shown
    output: str = " {output}"        # how its answer follows the input
    separator: str = "\n\n"
    instruction: str = ""            # printed once before the demos

    def example(self, fields: dict, with_output: bool = True) -> str:
        text = self.input.format(**fields)
        return text + self.output.format(**fields) if with_output else text


def render(template: Template, demos: list[dict], query: dict) -> str:
    """Plain prompt: instruction, demos with answers, then the query input (the answer is what gets scored)."""
    parts = ([template.instruction] if template.instruction else []) + [template.example(d) for d in demos]
    parts.append(template.example(query, with_output=False))
    return template.separator.join(parts)


def render_chat(template: Template, demos: list[dict], query: dict, tokenizer) -> str:
    """The model's chat template: one user/assistant pair per demo, then the query as the last user turn."""
    messages = [{"role": "system", "content": template.instruction}] if template.instruction else []
    for d in demos:
        messages.append({"role": "user", "content": template.example(d, with_output=False)})
        messages.append({"role": "assistant", "content": template.output.format(**d).strip()})
    messages.append({"role": "user", "content": template.example(query, with_output=False)})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def template_variants(base: Template, answers: Sequence[str] = ()) -> dict[str, Template]:
    """Two renderings of the same demos and query, for reporting how much the wording moves accuracy.

    ``plain``: ``base`` as is (examples separated by a blank line, no instruction). ``instructed``: one instruction
    line first (naming the fixed answers when the task has them, e.g. "Answer with one of: negative, positive.")
    and ``###`` lines between the examples. Both keep the task's own input/answer fields, so the scored answer
    texts are the same and only the surrounding format differs."""
    if answers:
        instruction = "Answer with one of: " + ", ".join(answers) + "."
    else:
        instruction = "Answer the last question the way the examples are answered."
    return {"plain": base, "instructed": replace(base, instruction=instruction, separator="\n###\n")}
