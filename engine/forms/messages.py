"""Error messages made from each question, as GOV.UK asks: "Enter your organisation's name".

A page of three empty questions must not say "Enter an answer" three times, so every message
names what it is about. That name comes from the question's label by a few plain rules of
English word order (`topic`):

- a question about a thing, "What is your organisation's name?", gives the thing: "Enter your
  organisation's name";
- a question asking which, how many, when…, "How many referrals did you receive?", gives the
  same words as a statement: "Enter how many referrals you received"; one about a date gives
  the date: "On what date did support start?" gives "Enter the date support started";
- a yes or no question with a pronoun, "Do you accept the terms?", gives "Select yes if you
  accept the terms";
- an instruction, "Describe your project", is its own message; a short label, "Organisation
  name", gives "Enter the organisation name";
- anything the rules cannot turn round safely is quoted: "Select yes or no to answer 'Is your
  organisation community based?'". A quoted label is never wrong; a guessed one might be.

A question may give its own words instead in its `errors` mapping (keys in `MESSAGE_KEYS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine.model import Question

# The keys a question's `errors` mapping may give, each replacing one generated message.
MESSAGE_KEYS = (
    "required",
    "format",
    "too_long",
    "too_low",
    "too_high",
    "too_few",
    "too_many",
    "file_type",
    "file_size",
)

_DETS = {"the", "your", "their", "its", "our", "his", "her", "this", "that", "these", "those"}
_DETS_ANY = _DETS | {"a", "an", "any", "each", "every", "some", "all", "my", "no"}
_PRONOUNS = {"you", "they", "we", "it", "he", "she", "there"}
_BE = {"is", "are", "was", "were"}
_HAVE = {"has", "have", "had"}
_DO = {"do", "does", "did"}
_MODAL = {"will", "would", "can", "could", "should", "may", "might", "must"}
_AUX = _BE | _HAVE | _DO | _MODAL
_WH = {"what", "which", "who", "whose", "when", "where", "why", "how"}
_PREPS = {"of", "for", "to", "with", "in", "on", "at", "from", "by", "about", "into", "as"}
_ADVERBS = {"not", "still", "last", "first", "already", "also", "ever", "never", "recently"}
_INSTRUCTIONS = {
    "describe", "upload", "summarise", "summarize", "tell", "explain", "give", "list", "provide",
    "enter", "briefly", "add", "attach", "outline", "state",
}  # fmt: skip
# Words that look like participles but after "the" are nouns or adjectives ("the monitoring report")
_NOT_PARTICIPLES = {
    "often", "open", "even", "when", "then", "between", "children", "women", "monitoring",
    "funding", "training", "housing", "meeting", "building", "planning", "governing", "banking",
    "learning", "safeguarding", "commissioning", "wellbeing", "evening", "morning", "spending",
    "signposting", "setting", "offering", "understanding", "existing", "outstanding", "ongoing",
}  # fmt: skip
_PARTICIPLES = {
    "held", "met", "made", "done", "given", "taken", "seen", "sent", "paid", "found", "set", "put",
    "known", "told", "kept", "spent", "run", "left", "brought", "bought", "sought", "built", "been",
    "being", "led", "won", "had", "got", "shown", "written", "chosen", "begun", "grown", "said",
}  # fmt: skip
# Verbs the rules recognise after a subject ("does the person NEED…"): past and present forms.
_IRREGULAR = {
    "be": ("was", "is"), "have": ("had", "has"), "do": ("did", "does"), "go": ("went", "goes"),
    "make": ("made", "makes"), "find": ("found", "finds"), "seek": ("sought", "seeks"),
    "give": ("gave", "gives"), "take": ("took", "takes"), "hold": ("held", "holds"),
    "meet": ("met", "meets"), "spend": ("spent", "spends"), "undertake": ("undertook", "undertakes"),
    "plan": ("planned", "plans"), "get": ("got", "gets"), "see": ("saw", "sees"),
    "pay": ("paid", "pays"), "run": ("ran", "runs"), "leave": ("left", "leaves"),
    "keep": ("kept", "keeps"), "know": ("knew", "knows"), "come": ("came", "comes"),
    "set": ("set", "sets"), "put": ("put", "puts"), "send": ("sent", "sends"),
    "tell": ("told", "tells"), "say": ("said", "says"), "bring": ("brought", "brings"),
    "build": ("built", "builds"), "lead": ("led", "leads"), "begin": ("began", "begins"),
    "choose": ("chose", "chooses"), "think": ("thought", "thinks"), "buy": ("bought", "buys"),
    "write": ("wrote", "writes"), "learn": ("learned", "learns"), "win": ("won", "wins"),
}  # fmt: skip
_VERBS = set(_IRREGULAR) | {
    "need", "require", "consider", "include", "live", "work", "cover", "belong", "pass", "affect",
    "want", "start", "end", "finish", "agree", "receive", "raise", "deliver", "provide", "ask",
    "act", "carry", "compare", "use", "fund", "offer", "help", "address", "contribute", "collect",
    "confirm", "expect", "reach", "show", "move", "stay", "apply", "happen", "change", "cost",
    "serve", "manage", "accept", "attend", "identify", "support", "record", "report", "employ",
    "strengthen", "extend", "facilitate", "mobilise", "organise", "prioritise", "recruit", "engage",
    "promote", "ensure", "improve", "reduce", "increase", "develop", "maintain", "create", "design",
}  # fmt: skip
_MONTHS_WORDS = re.compile(r"\b(date|day|month|year|birthday)\b", re.IGNORECASE)
_DATE_HEADS = {
    "when": "the date",
    "on what date": "the date",
    "what date": "the date",
    "on which date": "the date",
    "which date": "the date",
    "by when": "the date by which",
    "by what date": "the date by which",
    "which month": "the month",
    "what month": "the month",
    "which year": "the year",
    "what year": "the year",
    "which day": "the day",
    "what day": "the day",
}


@dataclass(frozen=True)
class Topic:
    """What a question is about, in words a message can use.

    `kind` is "noun" (a thing: "your organisation's name"), "clause" (an embedded question:
    "how many people you supported"), "statement" (a yes or no question turned round: "you
    accept the terms"), "instruction" (the label is one: "Describe your project"), "label" (a
    short label, as "the organisation name") or "quote" (only the label itself is safe).
    """

    kind: str
    text: str
    label: str


def _norm(word: str) -> str:
    return word.lower().strip(",;:()\"'")


def lower_first(text: str) -> str:
    """Text with its first letter lower-cased, unless it starts an acronym ("VCSE partners")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    """Text with its first letter upper-cased, to start a sentence."""
    return text[:1].upper() + text[1:]


def _participle(word: str) -> bool:
    w = _norm(word)
    if w in _NOT_PARTICIPLES:
        return False
    return w in _PARTICIPLES or (len(w) > 4 and w.endswith(("ed", "ing", "en")))


def _verb_form(aux: str, verb: str) -> str:
    """`verb` as it reads once `aux` (do, does, did) is taken away: "did take" is "took"."""
    base = _norm(verb)
    if aux == "do":
        return verb
    past, present = _IRREGULAR.get(base, (None, None))
    if aux == "did":
        if past:
            return past
        if base.endswith("e"):
            return base + "d"
        if re.search(r"[^aeiou]y$", base):
            return base[:-1] + "ied"
        return base + "ed"
    if present:
        return present
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if re.search(r"[^aeiou]y$", base):
        return base[:-1] + "ies"
    return base + "s"


def _find_verb(rest: list[str], also: set[str] = frozenset()) -> int | None:
    """Where the verb is after a subject: a known verb not straight after a preposition."""
    for j in range(1, len(rest)):
        w = _norm(rest[j])
        if w in _PRONOUNS or w in {"a", "an"}:
            return None  # a second subject ("a project you run"): not a simple question
        if (w in _VERBS or w in also) and _norm(rest[j - 1]) not in _PREPS | _DETS_ANY:
            return j
        if rest[j - 1].endswith(","):
            return None  # the subject would run past a comma: not a simple question
    return None


def _turned(aux: str, rest: list[str], *, be_reach: int, bare: bool) -> list[str] | None:
    """`aux` + `rest` of a question as a statement ("is it" is "it is"), or None if unsure.

    `be_reach` is how far into the subject a be-question's participle may start (a longer
    subject is too easy to split wrongly); `bare` allows a subject without a determiner.
    """
    if not rest:
        return None
    r0 = _norm(rest[0])
    if r0 in _PRONOUNS:
        if aux in _DO:
            if len(rest) < 2:
                return None
            return [rest[0], _verb_form(aux, rest[1]), *rest[2:]]
        return [rest[0], aux, *rest[1:]]
    if r0 not in _DETS_ANY and not bare and aux != "do":
        return None
    if aux == "do":  # "do the records cover…" is "the records cover…": no word changes
        return rest
    if aux in _DO or aux in _MODAL:
        j = _find_verb(rest, {"be", "have"} if aux in _MODAL else set())
        if j is None:
            return None
        if aux in _DO:
            return [*rest[:j], _verb_form(aux, rest[j]), *rest[j + 1 :]]
        while j > 1 and _norm(rest[j - 1]) in _ADVERBS:
            j -= 1  # "more people still be able" is "more people will still be able"
        return [*rest[:j], aux, *rest[j:]]
    reach = be_reach if aux in _BE else 6
    # after a determiner the subject has a noun too: "the governing document" is no participle
    for j in range(2 if r0 in _DETS_ANY else 1, min(reach, len(rest) - 1) + 1):
        if rest[j - 1].endswith(","):
            return None
        if _participle(rest[j]) or (aux in _BE and _norm(rest[j]) in _ADVERBS):
            return [*rest[:j], aux, *rest[j:]]
    if aux in _BE and r0 in _DETS_ANY and not any(_participle(w) for w in rest[1:]):
        if _norm(rest[-1]) in _PREPS and len(rest) > 2:  # "what is the cost for"
            return [*rest[:-1], aux, rest[-1]]
        if len(rest) <= 4 and not any(_norm(w) in _PREPS for w in rest):
            return [*rest, aux]  # "how old is the person": "how old the person is"
    return None


_STILL_ASKING = re.compile(
    r"(,|\band\b|\bor\b)\s+(?:\S+\s+){0,3}?(%s)\s+(%s)\b"  # noqa: UP031 (braces in the pattern)
    % ("|".join(sorted(_AUX)), "|".join(sorted(_PRONOUNS | _DETS)))
)


def _safe(words: list[str] | None) -> str | None:
    """The words joined, unless a second question is still inside them ("…, and how did you")."""
    if words is None:
        return None
    text = " ".join(words)
    return None if _STILL_ASKING.search(text.lower()) else text


def _question(words: list[str], label: str) -> Topic:
    low = [_norm(w) for w in words]
    quote = Topic("quote", label, label)
    if low[0] in _AUX:  # a yes or no question
        said = _safe(_turned(low[0], words[1:], be_reach=2, bare=False))
        return Topic("statement", said, label) if said else quote
    at = 1 if low[0] in _PREPS and len(low) > 1 and low[1] in _WH else 0
    if low[at] not in _WH:
        return quote
    aux_at = next((i for i in range(at + 1, len(low)) if low[i] in _AUX), None)
    nominal = at == 0 and (
        low[0] in {"what", "which", "who", "whose"}
        or (low[0] == "how" and len(low) > 1 and low[1] in {"many", "much"})
    )
    if aux_at is None:  # "how many came from…": already in statement order
        if not nominal:
            return quote
        if len(words) <= 4 and low[0] in {"which", "what"} and not any(map(_participle, words)):
            return Topic("noun", " ".join(["the", *words[1:]]), label)  # "Which goal?"
        return Topic("clause", lower_first(" ".join(words)), label)
    head, aux, rest = words[:aux_at], low[aux_at], words[aux_at + 1 :]
    r0 = _norm(rest[0]) if rest else ""
    about_a_thing = head == [words[0]] and low[0] == "what" and aux in _BE and r0 in _DETS
    if about_a_thing and _norm(rest[-1]) not in _PREPS and not _participle(rest[-1]):
        return Topic("noun", " ".join(rest), label)
    needs_turning = r0 in _PRONOUNS or r0 in _DETS_ANY or not nominal
    if aux in _DO or aux in _MODAL:
        needs_turning = needs_turning or r0 not in _VERBS | {"be", "have", "not"}
    if needs_turning:
        said = _safe(_turned(aux, rest, be_reach=3, bare=not nominal))
    else:
        said = _safe(rest) and " ".join([aux, *rest])
    if not said:
        return quote
    head_text = " ".join(head).lower()
    for start, noun in _DATE_HEADS.items():
        if head_text == start:
            if aux in _BE and said.endswith(f" {aux}") and " " in said:
                return Topic("noun", f"the date of {said[: -len(aux) - 1]}", label)
            return Topic("noun", f"{noun} {said}", label)
    return Topic("clause", f"{lower_first(' '.join(head))} {said}", label)


@lru_cache(maxsize=4096)
def topic(label: str) -> Topic:
    """What a question's label is about, as words a message can use (see the module's rules)."""
    label = " ".join(label.split())
    clean = re.sub(r",? in pounds(?=[?.]?$)", "", label).rstrip("?.:! ")
    words = clean.split()
    if not words or "?" in clean or ". " in clean:  # two sentences: quoted as they are
        return Topic("quote", label, label)
    first = _norm(words[0])
    if first == "i":  # "I confirm that…": what the person is asked to say, as "you confirm…"
        mine = {"i": "you", "my": "your", "me": "you", "am": "are", "myself": "yourself"}
        return Topic("statement", " ".join(mine.get(w.lower(), w) for w in words), label)
    if first in _INSTRUCTIONS:
        return Topic("instruction", clean, label)
    if label.endswith("?"):
        return _question(words, label)
    if first in _WH:  # "How you will know it has worked"
        return Topic("clause", lower_first(clean), label)
    text = lower_first(clean)
    if first not in _DETS_ANY and not first[:1].isdigit():
        text = f"the {text}"
    return Topic("label", text, label)


def _own(q: Question, key: str) -> str | None:
    own = q.spec.get("errors") or {}
    return own.get(key) if isinstance(own, dict) else None


def _subject(q: Question, fallback: str) -> str:
    """What the question is about, to start a sentence: "The organisation name", or `fallback`."""
    t = topic(q.label)
    return upper_first(t.text) if t.kind in ("noun", "label") else fallback


def _quoted(t: Topic) -> str:
    return f"'{t.label.removesuffix('.')}'"


def missing(q: Question) -> str:
    """The message for a required question left blank."""
    if own := _own(q, "required"):
        return own
    t = topic(q.label)
    kind = q.type
    if kind == "group":
        return f"Add at least one {q.spec.get('item_label', 'item')}"
    if kind == "yesno":
        if t.kind == "statement":
            return f"Select yes if {t.text}"
        return f"Select yes or no to answer {_quoted(t)}"
    if kind == "scale":
        lo, hi = int(q.spec.get("min", 1)), int(q.spec.get("max", 5))
        about = t.text if t.kind in ("noun", "clause") else _quoted(t)
        return f"Select a score from {lo} to {hi} for {about}"
    if kind in ("radios", "select", "checkboxes"):
        if t.kind in ("noun", "clause"):
            return f"Select {t.text}"
        if t.kind == "statement" and kind != "checkboxes":
            return f"Select whether {t.text}"
        if kind == "checkboxes":
            return f"Select at least one answer to {_quoted(t)}"
        return f"Select an answer to {_quoted(t)}"
    if kind == "file":
        if (
            t.kind == "instruction"
            and _norm(t.text.split()[0]) == "upload"
            and " if " not in t.text
        ):
            return f"Select {lower_first(t.text.split(' ', 1)[1])} to upload"
        if t.kind in ("noun", "label"):
            return f"Select {t.text} to upload"
        return f"Select a file to upload for {_quoted(t)}"
    if kind == "date":
        if t.kind in ("noun", "label"):
            return (
                f"Enter {t.text}" if _MONTHS_WORDS.search(t.text) else f"Enter the date of {t.text}"
            )
        if t.kind == "clause":
            return f"Enter {t.text}"
        return f"Enter a date for {_quoted(t)}"
    if t.kind in ("noun", "label", "clause"):
        return f"Enter {t.text}"
    if t.kind == "instruction":
        return t.text
    return f"Enter an answer to {_quoted(t)}"


def not_valid(q: Question) -> str:
    """The message for an answer of the wrong kind: not a number, not one of the options…"""
    if own := _own(q, "format"):
        return own
    t = topic(q.label)
    kinds = {
        "money": f"in whole pounds, like {_example_pounds(q)}",
        "number": "a whole number, like 12",
    }
    kinds |= {"decimal": "a number, like 4.5", "percent": "a number, like 45"}
    if q.type in kinds:
        want = kinds[q.type]
        if t.kind in ("noun", "label"):  # "The amount must be in whole pounds, like 25000"
            return f"{upper_first(t.text)} must be {want}"
        if t.kind == "clause":  # "Enter how many people you supported as a whole number, like 12"
            return f"Enter {t.text} {want if q.type == 'money' else 'as ' + want}"
        return f"Enter the amount {want}" if q.type == "money" else f"Enter {want}"
    if q.type == "date":
        return f"{_subject(q, 'The date')} must be a real date"
    return missing(q)


def _example_pounds(q: Question) -> int:
    """An example amount a person could type: 25000, or the nearest bound the question allows."""
    like = 25000
    lo, hi = q.spec.get("min"), q.spec.get("max")
    if lo is not None and like < lo:
        like = int(lo)
    if hi is not None and like > hi:
        like = int(hi)
    return like


def year_in_full(q: Question) -> str:
    """The message for a year typed short ("20" for 2020), which would be read as the year 20."""
    if own := _own(q, "format"):
        return own
    return f"{_subject(q, 'The date')} must include the year in full, like 2024"


def date_incomplete(q: Question, parts: list[str]) -> str:
    """The message for a date missing a day, month or year ("must include a month")."""
    if own := _own(q, "format"):
        return own
    names = [n for n, p in zip(("day", "month", "year"), parts, strict=True) if not p]
    words = " and ".join(names) if len(names) < 3 else "day, month and year"
    return f"{_subject(q, 'The date')} must include a {words}"


def _amount(q: Question, value: float) -> str:
    if q.type == "money":
        return f"£{value:,.0f}"
    if q.type == "percent":
        return f"{value:g}%"
    return f"{value:,g}" if abs(value) >= 10_000 else f"{value:g}"


def out_of_range(q: Question, too_high: bool) -> str:
    """The message for a number outside the question's own bounds (money as "£25,000")."""
    if own := _own(q, "too_high" if too_high else "too_low"):
        return own
    words = {"money": "The amount", "percent": "The percentage", "scale": "The score"}
    subject = _subject(q, words.get(q.type, "The number"))
    lo, hi = q.spec.get("min"), q.spec.get("max")
    if q.type == "money" and lo is None and not too_high:
        lo = 0
    if q.type == "percent":
        lo, hi = (0 if lo is None else lo), (100 if hi is None else hi)
    if lo is not None and hi is not None:
        return f"{subject} must be between {_amount(q, lo)} and {_amount(q, hi)}"
    if too_high:
        return f"{subject} must be {_amount(q, hi)} or less"
    return f"{subject} must be {_amount(q, lo)} or more"


def too_long(q: Question, limit: int, used: int, unit: str) -> str:
    """The message for text over the question's word or character limit."""
    if own := _own(q, "too_long"):
        return own
    t = topic(q.label)
    counted = f"{limit:,} {unit} or fewer"
    if unit == "words":  # a count of words is hard to make by eye, so the message gives it
        counted += f"; you have used {used:,}"
    if t.kind == "instruction":
        return f"{t.text} in {counted}"
    if t.kind == "clause":
        return f"Enter {t.text} in {counted}"
    if t.kind in ("noun", "label"):
        return f"{upper_first(t.text)} must be {counted}"
    return f"The answer to {_quoted(t)} must be {counted}"


def selections(q: Question, limit: int, too_many: bool) -> str:
    """The message for too few or too many boxes ticked."""
    if own := _own(q, "too_many" if too_many else "too_few"):
        return own
    t = topic(q.label)
    about = t.text if t.kind in ("noun", "label") else _quoted(t)
    most = "no more than" if too_many else "at least"
    return f"Select {most} {limit} {'option' if limit == 1 else 'options'} for {about}"


def file_type(q: Question, accept: list[str]) -> str:
    """The message for an upload of a type the question does not take."""
    if own := _own(q, "file_type"):
        return own
    kinds = [a.upper() for a in accept]
    listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    return f"The selected file must be a {listed}"


def file_size(q: Question, limit: Any) -> str:
    """The message for an upload larger than the question allows."""
    if own := _own(q, "file_size"):
        return own
    return f"The selected file must be smaller than {limit:g} MB"
