"""``pii``: personal data (names, e-mail addresses, phone numbers, payment cards, IBANs, US
SSNs, IP addresses, URLs, street addresses), offline and without a spaCy model.

Recognisers, in order of trust:

- checksummed numbers: payment cards (Luhn), IBANs (ISO 7064 mod 97-10); a failed checksum
  drops the candidate unless a context word (``card``, ``iban``) is near;
- formats: e-mail, URL/domain (whole host names, any country TLD), IPv4/IPv6 (compressed
  forms, CIDR suffixes), US SSN (area not 000/666/9xx; dashes, spaces or dots), IBANs in any
  case with spaces or dashes, calendar dates (``DATE_TIME``, scored high only near ``born``,
  ``DOB``, ``birthday``...);
- phone numbers: 7 to 15 digits in groups (``+44 20 7946 0958``, ``(37) 788-063``,
  ``01.84.17.61.18``) that are not dates, IPs, SSNs or cards; scored higher with a ``+``/``()``
  prefix or a context word (``call``, ``phone``, ``tel``...), and numbers written with a leading
  ``+`` are checked with ``phonenumbers``;
- names: runs of capitalised words that start with a known given name (a multilingual
  gazetteer), follow an honorific (``Dr``, ``Mrs``), follow a naming phrase (``my name is``,
  ``Dear``), or end in a surname or a surname ending (``-sson``, ``-ić``, ``-ov``, ``-ski``);
- street addresses: house number + street words + street type or unit (``Apt. 4``).

Why not Presidio's recognisers on the hot path: on a 1,000-character text Presidio's analyzer
costs about 30 ms (its phone recogniser runs phonenumbers' matcher over the text, its e-mail
and URL recognisers call tldextract, which tries to download the public suffix list, and every
call builds NLP artefacts), while these compiled regular expressions take well under 1 ms; and
without a NER model Presidio finds no names at all. ``engine: presidio`` adds Presidio's other
pattern recognisers (driver licences, passports, NHS numbers, crypto wallets ...) for the
entity types ours do not cover; ``ner: <spaCy model>`` adds spaCy NER through Presidio when
that model is installed.

Overlaps are resolved by score, then length; each kept span is one finding (category = the
entity type), so a policy can redact each with its own action.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from probity.errors import ConfigError, MissingDependencyError, ModelError
from probity.guard.base import ScanContext, register_scanner
from probity.guard.scanners._names import (
    AMBIGUOUS,
    GIVEN_NAMES,
    NOT_NAME,
    SURNAME_SUFFIXES,
    SURNAMES,
    TITLES,
)
from probity.types import Finding, Span

ENTITIES = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "STREET_ADDRESS",
    "DATE_TIME",
)
# Country-code top-level domains are any two letters, except those that are far more often
# file extensions in developer text ("setup.py", "main.rs", "run.sh").
_FILE_EXT_TLDS = frozenset(
    {"py", "rs", "sh", "md", "js", "ts", "cs", "pl", "pm", "rb", "so", "gz", "mk"}
)
_GENERIC_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "mil",
        "int",
        "io",
        "co",
        "info",
        "biz",
        "ai",
        "app",
        "dev",
        "xyz",
        "online",
        "site",
        "tech",
        "store",
        "shop",
        "blog",
        "cloud",
        "page",
        "news",
        "eu",
        "asia",
        "mobi",
        "name",
        "pro",
        "museum",
        "travel",
        "jobs",
    ]
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()]+[^\s<>\"'().,;:!?]")
# A whole dotted host name (every label, so "google.co.il" is never cut at ".co"), with an
# optional path; accepted when its last label is a known TLD (see _host_ok).
_HOST = re.compile(
    r"(?<![\w.@-])(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-]|\.\w)(?:/[^\s<>\"']*)?"
)
# Dotted quads whatever their octets (an invalid octet is still a near-IP: redact it whole
# rather than leaving "<IP_ADDRESS_1>6"), plus an optional CIDR suffix; scored by validity.
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.]\w|\.\d)")
# IPv6 candidates (compressed forms such as "::1" and "fe80::1" included), checked with the
# standard library's ipaddress; optional CIDR suffix.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:/\d{1,3})?(?![\w:])"
)
_SSN = re.compile(
    r"(?<![\d.-])(?!000|666|9\d\d)\d{3}([- .])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-]|\.\d)"
)
_CARD = re.compile(r"(?<![\d+-])(?:\d[ -]?){11,18}\d(?![\d-])")
# Any case ("de89 3704 ..." typed in lower case), groups separated by spaces or dashes; the
# mod-97 checksum decides.
_IBAN = re.compile(
    r"(?i)(?<![\w-])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?(?![\w-])"
)
_PHONE = re.compile(
    r"(?<![\w+/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,8}){0,5}"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w/]|-\d)"
)
_EXTENSION = re.compile(r"(?i)\s?(?:x|ext\.?|extension)\s?\d{1,6}$")
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# Calendar dates: ISO, numeric with separators, "12 March 1985", "March 12, 1985",
# "12th of March 1985". A date is personal data in context (born, DOB, birthday ...): scored
# 0.85 there and 0.45 elsewhere, under the shipped policies' thresholds.
_DATE = re.compile(
    rf"(?i)(?<![\w.-])(?:(?:19|20)\d{{2}}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])|"
    rf"(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d{{2}}|"
    rf"(?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)?\d{{2}}|"
    rf"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTHS},?\s+(?:19|20)\d{{2}}|"
    rf"{_MONTHS}\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}})(?![\w-]|\.\d)"
)
_DATE_CTX = re.compile(
    r"(?i)\b(?:born|birth|birthday|dob|d\.o\.b|date of birth|died|age|expir\w*|issued|"
    r"admitted|discharged|appointment|geboren|né|née|nacido)\b"
)
_DATE_LIKE = re.compile(
    r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|"
    r"^(?:19|20)\d{2}$"
)
_DATE_START = re.compile(
    r"(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}\b|\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d{2}\b"
)
_PHONE_CTX = re.compile(
    r"(?i)\b(?:phone|call|tel|telephone|mobile|cell|fax|number|contact|"
    r"reach|dial|text me|whatsapp|hotline|landline|ring)\b"
)
_CARD_CTX = re.compile(r"(?i)\b(?:card|credit|debit|visa|mastercard|amex|cc|payment)\b")
_STREET_TYPES = (
    r"Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|"
    r"Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Square|Sq\.?|Terrace|Parkway|Pkwy\.?|"
    r"Highway|Hwy\.?|Circle|Cir\.?|Trail|Crescent|Close|Alley|Row|Walk|Plaza|Loop|"
    r"Straße|Strasse|Weg|Gasse|Platz|Via|Viale|Calle|Rua|Rue|Avenida|Vicolo|Piazza"
)
_UNIT = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Room|#)\s*\d+[A-Za-z]?"
_CAPW = r"[^\W\d_][\w'’.-]*"
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[A-Za-z]?(?:\s\d{{1,5}})?,?\s+(?:{_CAPW}\s+){{0,4}}(?:{_STREET_TYPES})\b|"
    rf"\b\d{{1,6}}(?:\s\d{{1,5}})?\s+(?:{_CAPW}\s+){{1,3}}\d{{1,5}}[A-Za-z]?\b|"
    rf"\b(?:{_STREET_TYPES})\s+(?:{_CAPW}\s+){{0,3}}\d{{1,5}}\b|"
    rf"\b(?:PSC|CMR|Unit|USS|USNS|USNV|USCGC)\s+[\w ]{{1,20}}?,?\s+Box\s+\d+|"
    rf"\b(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{{5}}|"
    rf"\b{_UNIT}\b"
)
# After an address core: units, capitalised place names and postcodes on the same or the next
# lines ("Suite 845\n Evionnaz\n Switzerland 05377"), never across a sentence end.
_ADDR_TAIL = re.compile(
    rf"\.[ \t]*{_UNIT}\b|,?[ \t]*(?:\n[ \t]*)?,?[ \t]*(?:{_UNIT}\b|(?:APO|FPO|DPO)\b|"
    rf"\d{{3,6}}(?:-\d{{3,4}})?\b(?![ \t.-]?\d)|"
    rf"[^\W\d_a-zà-ÿ][\w'’-]*(?:[ \t]+[^\W\d_a-zà-ÿ][\w'’-]*){{0,2}})"
)
# a word of letters that is not part of an alphanumeric token ("W1F3ED8" holds no name "ED")
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:['’-][^\W\d_]+)*(?![\d_])\.?")
_NAME_CUE = re.compile(
    r"(?i)(?:\bmy name is|\bname\s*:|\bnamed|\bcalled|\bi am|\bi'm|\bdear|"
    r"\bsincerely,?|\bregards,?|\bthis is|\bsigned,?|\bby|\bhi|\bhello|"
    r"\bthanks,?|\bcontact|\bmeet|\bask|\bwith|\bfrom|\bmr|\bmrs|\bms|\bdr)"
    r"\s*[,:]?\s*$"
)
_STRONG_CUE = re.compile(
    r"(?i)(?:\bmy name is|\bname\s*:|\bname is|\bnamed|\bcalled|\bcalls me|\bcall me|\bi am|"
    r"\bi'm|\bdear|\bsincerely,?|\bregards,?|\bsigned,?|\bsaid|\bsays|\basked|\breplied|"
    r"\bstarring|\bdirected by|\bwritten by|\bproduced by|\bassistant to|\bhi|\bhey)"
    r"\s*[,:]?\s*$"
)
# A run of capitalised words alone on its line (signatures, address blocks, "> Name").
_OWN_LINE = re.compile(r"(?:^|\n)[ \t>*-]*$")
_LINE_END = re.compile(r"^[ \t]*(?:\n|$|[ \t]{2}|>)")
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "de",
        "der",
        "den",
        "ten",
        "ter",
        "da",
        "di",
        "del",
        "della",
        "dos",
        "das",
        "du",
        "la",
        "le",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "zu",
        "af",
    }
)
_ORG_WORDS = frozenset(
    {
        "inc",
        "ltd",
        "llc",
        "plc",
        "corp",
        "co",
        "company",
        "group",
        "partners",
        "bank",
        "insurance",
        "technologies",
        "solutions",
        "services",
        "systems",
        "university",
        "college",
        "school",
        "hospital",
        "foundation",
        "institute",
        "association",
        "agency",
        "studios",
        "records",
        "press",
        "media",
        "labs",
        "holdings",
        "capital",
        "ventures",
        "consulting",
        "international",
        "republic",
        "kingdom",
        "states",
        "union",
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "lane",
    }
)
_LOWER_NAME = re.compile(
    r"(?i)\b(?:my name is|name\s*:|i am|i'm|this is)\s+"
    r"([a-zà-ÿ][\wà-ÿ'-]+(?: [a-zà-ÿ][\wà-ÿ'-]+)?)"
)
_FOLD = str.maketrans(
    {"ł": "l", "ø": "o", "ß": "ss", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i", "’": "'"}
)


def fold(word: str) -> str:
    """Lower-case ASCII-ish form of a word for gazetteer look-ups (accents removed)."""
    w = unicodedata.normalize("NFKD", word.lower().translate(_FOLD))
    return "".join(c for c in w if not unicodedata.combining(c))


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0 and len(digits) >= 12


def iban_ok(iban: str) -> bool:
    """ISO 7064 mod 97-10 check of an IBAN (spaces ignored)."""
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def _near(rx: re.Pattern, text: str, start: int, before: int = 48) -> bool:
    return bool(rx.search(text, max(0, start - before), start))


class _Hits:
    """Hits so far, with a per-character coverage map: ``covered`` costs O(span length), not
    O(number of hits), so scanning stays linear in the text (the old list scan made a 900k
    character file with many findings take minutes)."""

    def __init__(self, size: int) -> None:
        self.items: list[tuple[int, int, str, float]] = []
        self._mask = bytearray(size)

    def add(self, a: int, b: int, entity: str, score: float) -> None:
        if b > a:
            self.items.append((a, b, entity, min(1.0, score)))
            self._mask[a:b] = b"\x01" * (b - a)

    def covered(self, a: int, b: int) -> bool:
        return self._mask.find(1, a, b) != -1


def _host_ok(host: str) -> bool:
    tld = host.rsplit(".", 1)[-1].lower()
    if tld in _GENERIC_TLDS:
        return True
    return len(tld) == 2 and tld not in _FILE_EXT_TLDS and tld.isalpha()


def _ipv6_ok(s: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(s.split("/", 1)[0])
    except ValueError:
        return False
    return True


def _numbers(text: str, hits: _Hits) -> None:
    for m in _EMAIL.finditer(text):
        hits.add(m.start(), m.end(), "EMAIL_ADDRESS", 1.0)
    for m in _IPV4.finditer(text):
        octets = m.group(0).split("/", 1)[0].split(".")
        valid = all(int(o) <= 255 and (o == "0" or not o.startswith("0")) for o in octets)
        hits.add(m.start(), m.end(), "IP_ADDRESS", 0.95 if valid else 0.6)
    for m in _IPV6.finditer(text):
        ip = m.group(0)
        if ("::" in ip or ip.count(":") >= 7) and _ipv6_ok(ip) and not hits.covered(*m.span()):
            hits.add(m.start(), m.end(), "IP_ADDRESS", 0.85)
    for m in _URL.finditer(text):
        if not hits.covered(m.start(), m.end()):
            hits.add(m.start(), m.end(), "URL", 0.6)
    for m in _HOST.finditer(text):
        host = m.group(0).split("/", 1)[0]
        if not hits.covered(m.start(), m.end()) and _host_ok(host):
            hits.add(m.start(), m.end(), "URL", 0.6)
    for m in _IBAN.finditer(text):
        if iban_ok(re.sub(r"[ -]", "", m.group(0))):
            hits.add(m.start(), m.end(), "IBAN_CODE", 1.0)
    for m in _SSN.finditer(text):
        if not hits.covered(m.start(), m.end()):
            hits.add(m.start(), m.end(), "US_SSN", 0.85 if m.group(1) != "." else 0.7)
    for m in _DATE.finditer(text):
        if not hits.covered(m.start(), m.end()):
            hits.add(
                m.start(), m.end(), "DATE_TIME", 0.85 if _near(_DATE_CTX, text, m.start()) else 0.45
            )
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if not 12 <= len(digits) <= 19 or hits.covered(m.start(), m.end()):
            continue
        if luhn_ok(digits):
            hits.add(
                m.start(),
                m.end(),
                "CREDIT_CARD",
                1.0 if len(digits) >= 13 or _near(_CARD_CTX, text, m.start()) else 0.7,
            )
        elif _near(_CARD_CTX, text, m.start()):
            hits.add(m.start(), m.end(), "CREDIT_CARD", 0.4)
    for m in _PHONE.finditer(text):
        a, b = m.span()
        s = m.group(0)
        digits = sum(c.isdigit() for c in _EXTENSION.sub("", s))
        if (
            not 7 <= digits <= 15
            or hits.covered(a, b)
            or _DATE_LIKE.match(s)
            or _DATE_START.match(s)
            or text[b : b + 1] == ":"
        ):
            continue
        groups = len(re.findall(r"\d+", s))
        if groups == 1 and digits > 12:
            continue
        if s.startswith("+"):
            score = 0.7 + 0.25 * _plausible_intl(s)
        elif "(" in s:
            score = 0.75
        elif groups >= 2:
            score = 0.6
        else:
            score = 0.35
        if _near(_PHONE_CTX, text, a):
            score += 0.3
        hits.add(a, b, "PHONE_NUMBER", score)


@lru_cache(maxsize=4096)
def _plausible_intl(number: str) -> bool:
    try:
        import phonenumbers

        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except Exception:  # phonenumbers raises NumberParseException for junk
        return False


def _addresses(text: str, hits: _Hits) -> None:
    pos = 0
    while True:
        m = _ADDRESS.search(text, pos)
        if m is None:
            break
        a, b = m.span()
        s = m.group(0)
        if _DATE_LIKE.match(s.strip()):
            pos = b
            continue
        for _ in range(8):
            t = _ADDR_TAIL.match(text, b)
            if t is None or t.end() == b:
                break
            b = t.end()
        s = text[a:b]
        score = 0.7 if re.search(_STREET_TYPES, s) or re.search(_UNIT, s) else 0.55
        hits.add(a, b, "STREET_ADDRESS", score)
        pos = b


def _names(text: str, hits: _Hits) -> None:
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    runs: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    for k, (a, b, w) in enumerate(words):
        cap = w[0].isupper()
        if (
            not cap
            and cur
            and w in _PARTICLES
            and k + 1 < len(words)
            and words[k + 1][2][0].isupper()
            and text[cur[-1][1] : a] == " "
            and text[b : words[k + 1][0]] == " "
        ):
            cur.append((a, b, w))  # "Willemine ten Pas", "Ludwig van Beethoven"
            continue
        if cap and cur:
            _, pb, pw = cur[-1]
            gap = text[pb:a]
            joined = (
                gap == " "
                and not pw.endswith(("'s", "’s"))
                and (not pw.endswith(".") or len(pw) <= 3 or fold(pw.rstrip(".")) in TITLES)
            )
            if joined:
                cur.append((a, b, w))
                continue
        if cur:
            runs.append(cur)
        cur = [(a, b, w)] if cap else []
    if cur:
        runs.append(cur)
    for run in runs:
        _name_run(text, run, hits)
    for m in _LOWER_NAME.finditer(text):
        a, b = m.span(1)
        first = m.group(1).split()[0]
        if m.group(1)[0].islower() and fold(first) in GIVEN_NAMES and not hits.covered(a, b):
            parts = m.group(1).split()
            if len(parts) == 2 and fold(parts[1]) in NOT_NAME:
                b = a + len(first)
            hits.add(a, b, "PERSON", 0.7)


def _strip_token(w: str) -> str:
    if w.endswith(("'s", "’s")):
        w = w[:-2]
    return w


def _name_run(text: str, run: list[tuple[int, int, str]], hits: _Hits) -> None:
    titled = False
    i = 0
    while i < len(run):
        f = fold(run[i][2].rstrip("."))
        if f in TITLES:
            titled = True
            i += 1
        elif f in NOT_NAME or (i == 0 and run[i][2].isupper() and len(run[i][2]) > 3):
            i += 1
        else:
            break
    run = run[i:]
    j = 0
    while j < len(run) and fold(run[j][2].rstrip(".")) not in NOT_NAME:
        j += 1
    if any(fold(w.rstrip(".")) in _ORG_WORDS for _, _, w in run):
        return  # "Jackson Street", "Morgan Bank": a place or an organisation
    run = run[:j]
    while run and run[-1][2] in _PARTICLES:
        run = run[:-1]
    if not run:
        return
    given_at = [fold(_strip_token(w).rstrip(".")) in GIVEN_NAMES for _, _, w in run]
    if not titled and not given_at[0] and any(given_at[1:]):
        run = run[given_at.index(True) :]  # "Call Anna Berg": the name starts at "Anna"
    a = run[0][0]
    last = run[-1]
    b = last[0] + len(_strip_token(last[2]).rstrip("."))
    if len(run) > 1 and len(run[-1][2].rstrip(".")) == 1:
        b = last[1]
    toks = [fold(_strip_token(w).rstrip(".")) for _, _, w in run]
    if hits.covered(a, b):
        return
    sentence_start = _at_sentence_start(text, a)
    before = text[max(0, a - 24) : a]
    cue = bool(_NAME_CUE.search(before))
    strong = bool(_STRONG_CUE.search(before))
    given = [t in GIVEN_NAMES for t in toks]
    surnameish = [
        t in SURNAMES or (len(t) > 4 and t.endswith(SURNAME_SUFFIXES) and t not in _common_words())
        for t in toks
    ]
    n = len(toks)
    score = 0.0
    if titled:
        score = 0.9
    elif given[0] and n >= 2:
        score = 0.9 if (toks[0] not in AMBIGUOUS or surnameish[-1] or given[-1]) else 0.6
    elif given[0]:
        if toks[0] in AMBIGUOUS:
            score = 0.75 if strong else 0.3
        else:
            score = 0.8 if (cue or not sentence_start) else 0.65
    elif n >= 2 and (surnameish[-1] or any(given[1:])):
        score = 0.7 if not sentence_start or cue else 0.6
    elif strong:
        score = 0.75
    elif (
        2 <= n <= 3
        and _OWN_LINE.search(text, 0, a)
        and _LINE_END.match(text[b : b + 3])
        and all(len(t) > 1 for t in toks[:1])
    ):
        score = 0.6  # "Satu Elomo" alone on a line of a signature or address block
    elif n == 1 and surnameish[0] and toks[0] in SURNAMES and not sentence_start:
        score = 0.5
    if score > 0:
        hits.add(a, b, "PERSON", score + (0.1 if cue and score < 0.9 else 0.0))


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Common English words (the vocabulary of alt-profanity-check's shipped vectoriser, minus
    our given names and surnames): a surname ending on one of these ("Salesperson",
    "Republic") is not a surname."""
    try:
        from profanity_check import profanity_check as pc

        vocab = set(pc.vectorizer.vocabulary_)
    except Exception:  # pragma: no cover - a core dependency; degrade to no veto
        return frozenset()
    return frozenset(vocab - GIVEN_NAMES - SURNAMES)


def _at_sentence_start(text: str, pos: int) -> bool:
    k = pos - 1
    while k >= 0 and text[k] in " \t\"'“‘(>*-":
        k -= 1
    return k < 0 or text[k] in ".!?\n:;"


def _resolve(
    items: list[tuple[int, int, str, float]], size: int
) -> list[tuple[int, int, str, float]]:
    """Keep non-overlapping hits, best score first, then longest (a coverage map keeps this
    linear in the text)."""
    kept: list[tuple[int, int, str, float]] = []
    mask = bytearray(size)
    for it in sorted(items, key=lambda x: (-x[3], -(x[1] - x[0]), x[0])):
        a, b = it[0], it[1]
        if mask.find(1, a, b) == -1:
            kept.append(it)
            mask[a:b] = b"\x01" * (b - a)
    return sorted(kept)


@lru_cache(maxsize=4)
def _presidio(ner_model: str | None) -> Any:
    """A Presidio AnalyzerEngine that downloads nothing: the no-op NLP engine (patterns only)
    or, with ``ner_model``, an installed spaCy model."""
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
    except ImportError as exc:  # pragma: no cover - presidio is a core dependency
        raise MissingDependencyError("presidio_analyzer", "guard") from exc
    if ner_model:
        import spacy.util

        if not spacy.util.is_package(ner_model):
            raise ModelError(
                f"spaCy model {ner_model!r} is not installed",
                hint=f"install it (python -m spacy download {ner_model}) on a "
                "machine with network, or drop the 'ner' option",
            )
        engine: Any = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": ner_model}])
    else:
        engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    # Ours replace these (faster, checksummed, and no tldextract network look-ups).
    for name in (
        "EmailRecognizer",
        "UrlRecognizer",
        "PhoneRecognizer",
        "CreditCardRecognizer",
        "IbanRecognizer",
        "IpRecognizer",
        "UsSsnRecognizer",
    ):
        registry.remove_recognizer(name)
    return AnalyzerEngine(registry=registry, nlp_engine=engine)


@register_scanner("pii")
class PiiScanner:
    """Personal data. ``entities``: the types to report (default: all of ``ENTITIES``, plus
    Presidio's types with ``engine: presidio``); ``engine``: ``fast`` (default) or
    ``presidio``; ``ner``: an installed spaCy model name for NER through Presidio;
    ``min_score``: lowest score reported."""

    name = "pii"
    version = "1.0"

    def __init__(
        self,
        entities: Sequence[str] | None = None,
        engine: str = "fast",
        ner: str | None = None,
        min_score: float = 0.3,
    ) -> None:
        if engine not in ("fast", "presidio"):
            raise ConfigError(f"pii: unknown engine {engine!r}; expected 'fast' or 'presidio'")
        self.entities = set(entities) if entities else None
        self.min_score = float(min_score)
        self.analyzer = _presidio(ner) if (engine == "presidio" or ner) else None
        if self.analyzer is not None:
            self.version = f"1.0+presidio{'+' + ner if ner else ''}"

    def spans(self, text: str) -> list[tuple[int, int, str, float]]:
        """``(start, end, entity, score)`` for each PII span of ``text``."""
        hits = _Hits(len(text))
        _numbers(text, hits)
        _addresses(text, hits)
        _names(text, hits)
        if self.analyzer is not None:
            for r in self.analyzer.analyze(text, language="en"):
                hits.add(r.start, r.end, r.entity_type, float(r.score))
        out = _resolve(hits.items, len(text))
        return [
            h
            for h in out
            if h[3] >= self.min_score and (self.entities is None or h[2] in self.entities)
        ]

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        return [
            [
                Finding(self.name, ent, score, (Span(a, b, ent, score),), f"{ent} detected")
                for a, b, ent, score in self.spans(t)
            ]
            for t in texts
        ]
