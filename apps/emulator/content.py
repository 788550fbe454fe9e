"""Deterministic, plausible assistant text.

The same messages always give the same answer, so tests can compare runs. The answer is built
from the last user message: a few recognisable questions get a real answer, anything else gets a
short generic reply that quotes the topic. Swedish prompts get Swedish replies (the product is
Swedish first).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_CAPITALS = {
    "france": "Paris",
    "sweden": "Stockholm",
    "sverige": "Stockholm",
    "norway": "Oslo",
    "norge": "Oslo",
    "denmark": "Copenhagen",
    "danmark": "Köpenhamn",
    "finland": "Helsinki",
    "germany": "Berlin",
    "tyskland": "Berlin",
    "spain": "Madrid",
    "italy": "Rome",
    "japan": "Tokyo",
    "united kingdom": "London",
    "england": "London",
}
_SWEDISH_WORDS = {"och", "jag", "är", "vad", "hur", "det", "för", "inte", "med", "hej", "vi", "kan", "svara"}
_GREETINGS = {"hi", "hello", "hey", "hej", "hallå", "tjena"}
# Only a question that is nothing but a sum ("What is 12 * 7?"), so "rate it 1-5" is not arithmetic.
_ARITHMETIC = re.compile(
    r"^(?:what is|what's|calculate|compute|vad är|räkna ut)?\s*"
    r"(-?\d+(?:\.\d+)?)\s*([+\-*/x\u00d7])\s*(-?\d+(?:\.\d+)?)\s*[?.!=]*$",
    re.IGNORECASE,
)
# "Reply with OK", "Respond only with the word yes", "Say hello": tests and smoke checks use these.
_ECHO = re.compile(
    r"(?:\b(?:reply|respond|answer)\s+(?:only\s+)?with\s+(?:only\s+|just\s+|exactly\s+)?(?:the\s+word\s+)?"
    r"|^say\s+)[\"']?(?P<text>[^\"'\n]{1,40}?)[\"']?[.!]?$",
    re.IGNORECASE,
)


def message_text(message: dict[str, Any]) -> str:
    """The text of a message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message).strip()
    return message_text(messages[-1]).strip() if messages else ""


def is_swedish(messages: list[dict[str, Any]]) -> bool:
    text = " ".join(message_text(m) for m in messages).lower()
    if "svenska" in text or "swedish" in text:
        return True
    words = set(re.findall(r"[a-zåäö]+", text))
    return bool(re.search(r"[åäö]", text)) or len(words & _SWEDISH_WORDS) >= 2


def answer(messages: list[dict[str, Any]]) -> str:
    question = last_user_text(messages)
    swedish = is_swedish(messages)
    for rule in (_echo, _capital, _arithmetic, _greeting):
        reply = rule(question, swedish)
        if reply:
            return reply
    return _generic(question, swedish)


def topic(question: str, words: int = 8) -> str:
    """A short quote of the question, used to make replies and JSON strings relate to the prompt."""
    tokens = re.findall(r"[\wåäöÅÄÖ'-]+", question)
    return " ".join(tokens[:words]) or "your request"


def _echo(question: str, swedish: bool) -> str | None:
    match = _ECHO.search(question.strip())
    return match.group("text").strip() if match else None


def _capital(question: str, swedish: bool) -> str | None:
    lowered = question.lower()
    if "capital" not in lowered and "huvudstad" not in lowered:
        return None
    for country, city in _CAPITALS.items():
        if country in lowered:
            name = country.title()
            return f"{city} är huvudstaden i {name}." if swedish else f"The capital of {name} is {city}."
    return None


def _arithmetic(question: str, swedish: bool) -> str | None:
    match = _ARITHMETIC.match(question.strip())
    if not match:
        return None
    try:
        left, right = Decimal(match.group(1)), Decimal(match.group(3))
        result = {"+": left + right, "-": left - right, "/": left / right}.get(match.group(2), left * right)
    except (InvalidOperation, ZeroDivisionError):
        return None
    expression = f"{match.group(1)} {match.group(2)} {match.group(3)}"
    return f"{expression} = {format(result.normalize(), 'f')}."


def _greeting(question: str, swedish: bool) -> str | None:
    words = re.findall(r"[a-zåäö]+", question.lower())
    if not words or words[0] not in _GREETINGS or len(words) > 4:
        return None
    return "Hej! Hur kan jag hjälpa dig i dag?" if swedish else "Hello! How can I help you today?"


def _generic(question: str, swedish: bool) -> str:
    subject = topic(question)
    if swedish:
        return (
            f"Kort svar om \u201d{subject}\u201d: börja i liten skala, mät resultatet och justera "
            "efter vad som fungerar. Säg till om du vill ha mer detaljer."
        )
    return (
        f"Here is a short answer about \u201c{subject}\u201d: start small, measure the results and "
        "adjust based on what works. Let me know if you would like more detail."
    )


def reasoning_text(messages: list[dict[str, Any]]) -> str:
    return f"The user asks about {topic(last_user_text(messages), 6)}. Give a short, direct answer."
