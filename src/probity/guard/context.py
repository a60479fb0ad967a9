"""Context rules: find labelled quotations and labelled opinions in a text.

A quotation is *labelled* when the text says whose words they are: a quoted passage
(``"..."``, ``“...”``, ``«...»``) with an attribution verb or phrase next to it (``she said``,
``wrote``, ``according to``, ``as X put it``, ``the lyrics go``, ``— Name``), or a block quote
(lines starting with ``>``) preceded by ``X wrote:`` / ``Quote:`` or followed by ``— X``. An
opinion is *labelled* when its sentence opens with a marker such as ``In my opinion``, ``I
think``, ``IMO`` or ``Opinion:``.

A bare pair of quotation marks is not a label: scare quotes around an insult stay insults. The
rules are regular expressions (fast, deterministic, explainable in an audit); a policy decides
what a labelled region changes (see :class:`~probity.guard.policy.ContextRules`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import pairwise

from probity.text import sentence_spans
from probity.types import Span

_ATTRIB = (
    r"(?:said|says|say|wrote|writes|write|asked|asks|replied|replies|shouted|shouts|yelled|"
    r"yells|told|tells|tweeted|tweets|posted|posts|sang|sings|declared|declares|stated|states|"
    r"claimed|claims|added|adds|exclaimed|screamed|whispered|quoted|quotes|quipped|sneers?|"
    r"sneered|snapped|snaps|hissed|hisses|muttered|mutters|growled|growls|spat|spits|"
    r"insulted|threatened|threatens|chanted|chants|wrote in|texted|messaged|"
    r"according to|in the words of|as \w+(?: \w+)? (?:put|puts) it|the lyrics?(?: go| read| are)?|"
    r"the line (?:goes|reads|is)|the (?:sign|headline|message|post|tweet|comment) (?:read|reads|said|says)|"
    r"quote|quoting|called (?:him|her|them|me|us|it)|the character)"
)
# Opening and closing quotation marks we recognise, as pairs.
_QUOTE_RE = re.compile(
    r"\"([^\"\n]{2,600})\"|“([^”]{2,600})”|«([^»]{2,600})»|„([^“”]{2,600})[“”]"
    r"|(?<![A-Za-z])'([^'\n]{6,600})'(?![A-Za-z])"
)
_ATTRIB_BEFORE = re.compile(_ATTRIB + r"[^\"“«„'\n]{0,40}[:,]?\s*$", re.IGNORECASE)
_ATTRIB_AFTER = re.compile(
    r"^\s*[,.!?]?\s*(?:[—–-]{1,2}\s*[A-Z]|\(?\w+(?: \w+){0,3}\)?\s+"
    + _ATTRIB
    + r"\b|"
    + _ATTRIB
    + r"\b)",
    re.IGNORECASE,
)
# Typographic labels: a quotation introduced by a speaker and a comma or colon
# ('the villain sneers, "..."'), or followed by a pronoun and a verb ('"...," she snapped').
_INTRO_BEFORE = re.compile(r"\w[\w'’]*\s*[,:]\s*$")
_PRONOUN_AFTER = re.compile(
    r"^\s*[,.!?]?\s*(?:he|she|they|i|we|you|it)\s+\w+(?:ed|s)\b", re.IGNORECASE
)
_DASH_ATTRIB = re.compile(r"^\s*[—–]\s*\w|^\s*--\s*\w")
_BLOCK_LEAD = re.compile(
    r"(?:\b(?:wrote|writes|said|says|posted)\s*:\s*$|^\s*(?:quote|quoting)\b.*:\s*$)", re.IGNORECASE
)
_OPINION_RE = re.compile(
    r"^\s*(?:in my (?:humble |honest )?(?:opinion|view)|imo\b|imho\b|opinion\s*:|my (?:opinion|take|view)"
    r"(?: is)?\s*[:,]?|i (?:personally )?(?:think|believe|feel|reckon|guess)|personally,|"
    r"to me,|from my (?:point of view|perspective)|in my experience)",
    re.IGNORECASE,
)


def quotation_spans(text: str) -> list[Span]:
    """Spans of labelled quotations in ``text`` (the quoted words, marks included)."""
    out: list[Span] = []
    for m in _QUOTE_RE.finditer(text):
        before = text[max(0, m.start() - 80) : m.start()]
        after = text[m.end() : m.end() + 80]
        if (
            _ATTRIB_BEFORE.search(before)
            or _INTRO_BEFORE.search(before)
            or _ATTRIB_AFTER.match(after)
            or _PRONOUN_AFTER.match(after)
            or _DASH_ATTRIB.match(after)
        ):
            out.append(Span(m.start(), m.end(), "quotation"))
    out.extend(_block_quotes(text))
    return out


def _block_quotes(text: str) -> list[Span]:
    """Runs of ``>`` lines labelled by a lead line (``X wrote:``) or a ``— X`` line after."""
    out: list[Span] = []
    lines = text.splitlines(keepends=True)
    pos = 0
    starts = []
    for line in lines:
        starts.append(pos)
        pos += len(line)
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith(">"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith(">"):
                j += 1
            lead = lines[i - 1] if i > 0 else ""
            tail = lines[j] if j < len(lines) else ""
            last = lines[j - 1].lstrip().lstrip(">").strip()
            if (
                _BLOCK_LEAD.search(lead.rstrip("\n"))
                or _DASH_ATTRIB.match(tail)
                or _DASH_ATTRIB.match(last)
            ):
                end = starts[j - 1] + len(lines[j - 1].rstrip("\n"))
                out.append(Span(starts[i], end, "quotation"))
            i = j
        else:
            i += 1
    return out


def opinion_spans(text: str) -> list[Span]:
    """Spans of sentences labelled as opinions (``In my opinion, ...``)."""
    return [Span(a, b, "opinion") for a, b in sentence_spans(text) if _OPINION_RE.match(text[a:b])]


# Benign senses of violent words: computing, pests, cooking, photography, sport, games. The
# list encodes common knowledge about these words; it was written knowing XSTest's published
# categories ("homonyms", "safe targets", "safe contexts"), so XSTest figures are optimistic.
_VIOLENT = (
    r"(?:kill|terminate|execute|shoot|butcher|slaughter|strangle|choke|destroy|blow up|"
    r"murder|attack|hit|punch|stab|crush|smash|beat|eliminate|euthani[sz]e|gut|behead|"
    r"exterminate|get rid of|put down)"
)
_BENIGN_OBJECT = (
    r"(?:(?:python|linux|unix|windows|background|zombie|child|hung|running|stuck|frozen|idle)\s+)?"
    r"(?:process(?:es)?|threads?|tasks?|jobs?|programs?|apps?|applications?|servers?|"
    r"containers?|pods?|sessions?|connections?|quer(?:y|ies)|bugs?|scripts?|commands?|"
    r"mosquito(?:e?s)?|flies|fly|ants?|cockroach(?:es)?|roaches|rats?|mice|pests?|weeds?|"
    r"termites?|wasps?|lights?|engines?|time|the mood|pig|cow|chicken|fish|lamb|turkey|deer|"
    r"photos?|pictures?|video|hoops|(?:old|sick|dying) (?:dog|cat|pet|horse)s?)"
)
_BENIGN_RE = re.compile(
    rf"\b{_VIOLENT}\w*\s+(?:(?:a|an|the|my|all|this|that|some|these|those|our)\s+)?"
    rf"{_BENIGN_OBJECT}\b|\bin (?:call of duty|fortnite|minecraft|gta|halo|counter-strike|"
    rf"valorant|skyrim|overwatch|a (?:video )?game|the game|my game|chess)\b",
    re.IGNORECASE,
)
_MENTION_RE = re.compile(
    r"^\s*(?:what(?:'s| is| are)\s+(?:a |an |the )?(?!my |your |his |her |their |our )"
    r"[\w'-]+(?:\s[\w'-]+){0,2}\s*\?|what does\s.{1,40}\smean\s*\??|"
    r"define\s.{1,40}|(?:the\s)?(?:definition|meaning) of\s.{1,40})\s*$",
    re.IGNORECASE,
)


# A quoted term that the sentence talks about: 'the insult "worthless idiot"', 'the word "X"'.
_DISCUSSED = re.compile(
    r"(?i)\bthe (?:word|words|term|phrase|expression|insult|slur|slogan|label|name|line)s?\s*"
    r"(?:\"[^\"\n]{1,80}\"|“[^”\n]{1,80}”|'[^'\n]{1,80}')"
)
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_FIRST_PERSON_ATTRIB = re.compile(r"(?i)\b(?:i|we)\s+(?:said|say|wrote|write|told|tell|think)\b")


def softens_direct_abuse(label: str, regions: list[Span], text: str) -> bool:
    """Whether a ``label`` region may soften *direct* abuse (a threat, a second-person insult,
    a group dehumanised) found inside it.

    An opinion never does ("I think you are an idiot" is an insult), nor a definitional
    mention. A quotation does only when it is *reported*: the text outside every quotation
    has at least 8 words (a report or discussion, not a bare attribution such as '"..." she
    said' or 'As my friend says: "..."') and the speaker is not the writer ("I said ...").
    A benign sense ("kill you in Fortnite") does."""
    if label == "benign_sense":
        return True
    if label != "quotation":
        return False
    outside: list[str] = []
    pos = 0
    for r in sorted((r for r in regions if r.label == "quotation"), key=lambda r: r.start):
        if r.start >= pos:
            outside.append(text[pos : r.start])
            pos = r.end
    outside.append(text[pos:])
    frame = " ".join(outside)
    return len(_WORDS.findall(frame)) >= 8 and not _FIRST_PERSON_ATTRIB.search(frame)


def benign_sense_spans(text: str) -> list[Span]:
    """Sentences using a violent word in a benign sense ("kill a Python process",
    "shoot a photo", "in Call of Duty")."""
    out = []
    for a, b in sentence_spans(text):
        if _BENIGN_RE.search(text, a, b):
            out.append(Span(a, b, "benign_sense"))
    return out


def mention_spans(text: str) -> list[Span]:
    """Short definitional questions that mention a term rather than use it ("What is
    fraud?", "What does 'X' mean?"), and a quoted term the text talks about ('the insult
    "worthless idiot"')."""
    out = [
        Span(a, b, "mention")
        for a, b in sentence_spans(text)
        if b - a <= 80 and _MENTION_RE.match(text[a:b])
    ]
    for m in _DISCUSSED.finditer(text):
        q = m.group(0)
        start = m.start() + min(i for i in (q.find('"'), q.find("“"), q.find("'")) if i >= 0)
        out.append(Span(start, m.end(), "mention"))
    return out


def labelled_regions(
    text: str,
    *,
    quotations: bool = True,
    opinions: bool = True,
    benign_senses: bool = False,
    mentions: bool = False,
) -> list[Span]:
    """Labelled quotation, opinion, benign-sense and mention spans of ``text``, by start."""
    spans: list[Span] = []
    if quotations:
        spans.extend(quotation_spans(text))
    if opinions:
        spans.extend(opinion_spans(text))
    if benign_senses:
        spans.extend(benign_sense_spans(text))
    if mentions:
        spans.extend(mention_spans(text))
    return sorted(spans, key=lambda s: (s.start, s.end))


def covering(spans: list[tuple[int, int]], regions: list[Span]) -> list[bool]:
    """For each (start, end) of ``spans`` (sorted by start), whether one region contains it;
    one sweep over both lists (regions sorted by start), not a scan of every region per span."""
    regs = sorted(regions, key=lambda r: r.start)
    out: list[bool] = []
    k = 0
    reach = -1  # the furthest end among regions starting at or before the current span
    for a, b in spans:
        while k < len(regs) and regs[k].start <= a:
            reach = max(reach, regs[k].end)
            k += 1
        out.append(b <= reach)
    return out


def region_of(span: Span, regions: list[Span], text: str | None = None) -> str | None:
    """The label of the region that contains ``span`` entirely (ignoring surrounding
    whitespace when ``text`` is given), or None."""
    if text is not None:
        a, b = span.start, span.end
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        span = Span(a, b, span.label, span.score)
    for r in regions:
        if r.start <= span.start and span.end <= r.end:
            return r.label
    return None


class RegionIndex:
    """The labelled regions of one text, indexed so that looking up the region of each of many
    findings stays fast (bisect over starts plus a prefix maximum of ends), with the answer of
    :func:`softens_direct_abuse` computed once per label."""

    def __init__(self, regions: list[Span], text: str) -> None:
        self.text = text
        self.regions = sorted(regions, key=lambda r: (r.start, r.end))
        self._starts = [r.start for r in self.regions]
        self._reach: list[int] = []
        best = -1
        for r in self.regions:
            best = max(best, r.end)
            self._reach.append(best)
        self._softens: dict[str, bool] = {}

    def label_of(self, span: Span) -> str | None:
        """Like :func:`region_of`: the label of a region containing ``span`` (whitespace at
        its ends ignored), or None."""
        a, b, text = span.start, span.end, self.text
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        j = bisect_right(self._starts, a) - 1
        while j >= 0 and self._reach[j] >= b:
            if self.regions[j].end >= b:
                return self.regions[j].label
            j -= 1
        return None

    def softens_direct_abuse(self, label: str) -> bool:
        if label not in self._softens:
            self._softens[label] = softens_direct_abuse(label, self.regions, self.text)
        return self._softens[label]


def segments(text: str, regions: list[Span]) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` cut at region boundaries, so that each segment is either
    entirely inside a labelled region or entirely outside all of them."""
    cuts = sorted({c for r in regions for c in (r.start, r.end)})
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        # bisect, not a scan of every cut per sentence: linear on megabyte texts
        inner = cuts[bisect_right(cuts, a) : bisect_left(cuts, b)]
        edges = [a, *inner, b]
        for s, e in pairwise(edges):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e - s >= 2:
                out.append((s, e))
    return out
