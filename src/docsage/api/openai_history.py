"""A follow-up question made standalone from the conversation, so retrieval sees what
"it" means: "How do I install tidepool?" then "And how do I remove it again?" searches for
"how do I remove tidepool again?".

With a chat model configured the model rewrites the question; with the extractive default
there is no model, so a rule does it: a follow-up (it opens with "and", "what about"... or
leans on a pronoun) gets its pronouns replaced by the topic of the earlier question (its
words minus question words and generic verbs), or the topic appended when there is no
pronoun. Earlier turns are resolved first, so a chain of follow-ups keeps its topic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from docsage.ports.chat import ChatModel, ChatRequest, Message
from docsage.text import TOPIC_STOPWORDS

log = logging.getLogger(__name__)

OPENER = re.compile(r"^\s*(?:and|but|also|so|then|ok(?:ay)?|what about|how about)\b[\s,]*", re.I)
PRONOUN = re.compile(r"\b(?:it|its|this|that|these|those|them|they|one)\b", re.I)
WORD = re.compile(r"[\w.\-]+")
MAX_TURNS = 6
MAX_TURN_CHARS = 1000
REWRITE = (
    "Rewrite the user's last question so that it can be understood without the "
    "conversation: replace pronouns and references with what they refer to. Reply with "
    "the rewritten question only, on one line."
)


def is_follow_up(question: str) -> bool:
    return bool(OPENER.match(question) or PRONOUN.search(question))


def topic(question: str) -> str:
    words = [w.strip(".-") for w in WORD.findall(question)]
    return " ".join(w for w in words if w and w.lower() not in TOPIC_STOPWORDS)


def rule_rewrite(users: Sequence[str]) -> str:
    """The last user question made standalone from the earlier ones, without a model."""
    resolved = ""
    for question in users:
        resolved = _resolve(question, resolved) if resolved else question
    return resolved


def _resolve(question: str, previous: str) -> str:
    subject = topic(previous)
    if not subject or not is_follow_up(question):
        return question
    body = OPENER.sub("", question, count=1)
    body = body[:1].upper() + body[1:]
    replaced, count = PRONOUN.subn(subject, body)
    return replaced if count else f"{body} ({subject})"


def model_rewrite(model: ChatModel, turns: Sequence[tuple[str, str]]) -> str | None:
    """The model's standalone question from the last ``MAX_TURNS`` turns (role, text), or
    None when the call fails or answers nothing, so the caller can use the rule instead."""
    history = "\n".join(f"{role}: {text[:MAX_TURN_CHARS]}" for role, text in turns[-MAX_TURNS:])
    request = ChatRequest(
        messages=(Message(role="system", content=REWRITE), Message(role="user", content=history)),
        max_tokens=100,
    )
    try:
        text = model.complete(request).text.strip().splitlines()
    except Exception:  # a failed rewrite must not fail the answer: the rule still works
        log.warning("question rewrite by the model failed; using the rule", exc_info=True)
        return None
    return text[0].strip() if text and text[0].strip() else None


def standalone(turns: Sequence[tuple[str, str]], model: ChatModel | None) -> str:
    """The question to answer: the last user turn, made standalone when it follows up."""
    users = [text for role, text in turns if role == "user" and text.strip()]
    if len(users) < 2 or not is_follow_up(users[-1]):
        return users[-1] if users else ""
    if model is not None:
        rewritten = model_rewrite(model, turns)
        if rewritten:
            return rewritten
    return rule_rewrite(users[-MAX_TURNS:])
