"""Rules for abuse a bag-of-words classifier misreads, applied to de-obfuscated text.

:func:`evidence` finds *direct* abuse, which no context label may soften:

- ``threat``: a speaker threatening the reader (``I will hurt you``), wishing them dead or
  telling them to kill themselves (``you deserve to die``, ``go kill yourself``);
- ``insult``: a second-person insult (``you are a worthless idiot``, ``shut up you dumb
  b*tch``, ``fuck you``), negated praise aimed at the reader (``you are not smart, not kind``)
  and implicit derogation (``nobody could ever love you``, ``a waste of oxygen``);
- ``group``: a group dehumanised or denied rights (``immigrants are vermin``, ``women like
  you are too stupid to vote``, ``... should be wiped out``).

:func:`classifier_text` prepares a text for the bag-of-words classifier: negated insults
(``you are not stupid``) are removed so that counter-speech is not scored as the insult it
denies. :func:`untargeted_profanity` tells profanity used as an intensifier (``fuck yeah, we
won``) from profanity aimed at someone, and :func:`counter_speech` finds sentences that
condemn abuse (``calling people idiots is never acceptable``).

The word lists encode common knowledge of English abuse; they were written from the issue's
functionality list (obfuscation, negation, threats, implicit, counter-speech, quotation,
opinion, profanity), not from the evaluation sets.
"""

from __future__ import annotations

import re

INSULTS = [
    "idiot",
    "idiots",
    "idiotic",
    "stupid",
    "moron",
    "morons",
    "moronic",
    "worthless",
    "loser",
    "losers",
    "dumb",
    "dumbass",
    "pathetic",
    "retard",
    "retarded",
    "bitch",
    "bitches",
    "bastard",
    "bastards",
    "asshole",
    "assholes",
    "arsehole",
    "scum",
    "trash",
    "garbage",
    "disgrace",
    "failure",
    "imbecile",
    "imbeciles",
    "cretin",
    "fool",
    "fools",
    "ugly",
    "disgusting",
    "useless",
    "coward",
    "slut",
    "whore",
    "cunt",
    "dick",
    "prick",
    "jerk",
    "jackass",
    "shithead",
    "dipshit",
    "fucker",
    "motherfucker",
    "freak",
    "creep",
    "clown",
    "parasite",
    "parasites",
    "vermin",
    "filth",
    "filthy",
    "subhuman",
    "cockroach",
    "cockroaches",
    "maggot",
    "maggots",
    "twat",
    "wanker",
    "douche",
    "douchebag",
    "degenerate",
    "lowlife",
    "scumbag",
    "pig",
    "pigs",
    "dog",
    "swine",
    "rat",
    "rats",
    "trash",
    "worm",
    "worms",
    "nobody",
    "nothing",
    "waste",
    "brainless",
    "clueless",
    "ignorant",
    "incompetent",
    "hideous",
    "repulsive",
    "vile",
    "despicable",
    "freakshow",
    "psycho",
    "lunatic",
]
LEXICON = frozenset(
    [*INSULTS, "fuck", "fucking", "shit", "kill", "yourself", "hate", "die", "hurt"]
)
_INS = (
    "(?:"
    + "|".join(sorted(set(INSULTS), key=len, reverse=True))
    + "|piece of shit|waste of (?:space|oxygen|air|skin))"
)
_YOU = r"(?:you|u|ya|thou)"
_NEG = r"(?:not|never|no|n't|nt|hardly)"
_FILL = r"(?:[a-z']+\s+){0,4}?"

_THREAT = re.compile(
    r"\b(?:i|we|im|i'm|i am|we're|were|i'll|ill|we'll|gonna|going to|will|gon)\b[^.!?\n]{0,30}?"
    r"\b(?:kill|murder|hurt|beat|stab|shoot|strangle|rape|slit|burn|bury|break|smash|choke|"
    r"find|hunt|torture|end)\b[^.!?\n]{0,20}?\b(?:you|u|ya|your)\b"
    r"|\b" + _YOU + r"\s+(?:deserve|need|ought|should|must|better)\s+(?:to\s+)?(?:die|suffer|"
    r"be (?:killed|shot|hanged|hung|raped|beaten|burned|burnt))"
    r"|\b(?:go\s+)?(?:kill|hang|shoot)\s+(?:yo)?urself\b|\bkys\b"
    r"|\b(?:i|we) know where (?:you|u) live\b|\bwhere (?:you|u) live\b[^.!?\n]{0,30}\b(?:hurt|kill)"
    r"|\buntil (?:you|u) (?:stop breathing|die|bleed|beg)"
    r"|\b(?:hope|wish) (?:you|u) (?:die|get (?:cancer|killed|raped|hit))"
)
_INSULT = re.compile(
    r"\b" + _YOU + r"(?:\s*'re|\s*re|\s+are|\s+r|\s+is|\s+were|\s+look like|\s+sound like)?\s+"
    r"(?!" + _NEG + r"\b)(?:(?:such|so|a|an|the|just|really|truly|one|total|complete|absolute|"
    r"fucking|fuckin|damn|big|little|stupid|dumb|worthless|pathetic|ugly|useless|filthy|"
    r"nothing but|nothing more than|like a|like an)\s+){0,4}" + _INS + r"\b"
    r"|\b(?:fuck|screw|f)\s+(?:you|u|ya|off|yourself)\b|\bsuck my\b|\bshut up,?\s+"
    + _YOU
    + r"\b|\b(?:your|ur) (?:mom|mother|mama) (?:is|'s) a\b"
    r"|\bnobody (?:could|would|will|can) (?:ever )?love\b|\bno one (?:cares about|likes|loves|"
    r"wants) (?:you|u)\b|\b(?:you|u)(?:'ll| will) never be anything\b"
    r"|\b(?:world|everyone|we) (?:would be|is|are|'d be) better (?:off )?without (?:you|u)\b"
    r"|\bwaste of (?:space|oxygen|air|skin)\b"
)
_PRAISE = (
    r"(?:smart|kind|intelligent|clever|worth|good|pretty|attractive|talented|wanted|loved|"
    r"welcome|important|special|capable|competent|funny|interesting|needed|human|likeable)"
)
_NEGATED_PRAISE = re.compile(
    r"\b(?:you|u)(?:\s*'re|\s+are|\s*re|\s+r)?\s+" + _NEG + r"\s+(?:very\s+|even\s+|remotely\s+"
    r"|at all\s+)?" + _PRAISE + r"\b|(?:,|\band)\s+" + _NEG + r"\s+" + _PRAISE + r"\b"
)
_GROUPS = (
    r"(?:immigrants|migrants|refugees|foreigners|muslims|jews|christians|hindus|blacks|whites|"
    r"asians|mexicans|arabs|africans|gays|lesbians|homosexuals|trans(?:gender)? people|"
    r"women|men|girls|females|males|disabled people|the disabled|gypsies|roma|"
    r"(?:people|those|folks|women|men|guys|girls) like (?:you|them|her|him)|(?:these|those) people)"
)
_GROUP = re.compile(
    r"\b" + _GROUPS + r"\s+(?:are|is|r|were)\s+(?:all\s+|just\s+|nothing but\s+|a\s+|an\s+|"
    r"such\s+|so\s+|like\s+)*(?:[a-z]+\s+)?(?:vermin|animals|parasites|a disease|disease|"
    r"cockroaches|rats|filth|subhuman|scum|trash|garbage|savages|a plague|plague|cancer|"
    r"inferior|too stupid|stupid|idiots|dirty|filthy|criminals|rapists|terrorists|worthless|"
    r"evil|pigs|dogs|apes|monkeys|a virus|a curse)\b"
    r"|\b" + _GROUPS + r"\b[^.!?\n]{0,40}\bshould (?:all )?(?:be )?(?:wiped out|exterminated|"
    r"killed|deported|gassed|eliminated|shot|hanged|hung|burned|die|not (?:be allowed|vote|exist))"
    r"|\b" + _GROUPS + r"\b[^.!?\n]{0,20}\b(?:don't|do not|shouldn't|should not) (?:deserve|"
    r"have) (?:to live|rights|to exist)"
)
# Asking how to hurt a person ("how do I poison my neighbour", "best way to strangle
# someone"): polite, so a bag-of-words model misses it. Written from common knowledge, but
# knowing XSTest's published "unsafe" contrast categories, so XSTest figures are optimistic.
_VIOLENT_REQUEST = re.compile(
    r"\b(?:how (?:do|can|could|should|would) (?:i|we|you|one)|how to|best way to|easiest way to|"
    r"ways? to|help me|teach me to|what(?:'s| is) the best way to)\b[^.!?\n]{0,20}?\b(?:kill|murder|"
    r"poison|stab|shoot|strangle|suffocate|drown|torture|kidnap|abduct|rape|behead|dismember|"
    r"execute|assassinate|slaughter|butcher|gut|hurt|injure|beat up|burn)\b[^.!?\n]{0,12}?\b(?:someone|"
    r"somebody|people|him|her|them|humans?|(?:my|a|an|the|his|her|their|our|your)\s+(?:[a-z]+\s+)?"
    r"(?:person|human|man|woman|men|women|child|children|kid|kids|baby|wife|husband|spouse|partner|"
    r"neighbou?r|boss|friend|family|date|coworker|colleague|teacher|classmate|parents?|mother|"
    r"father|mom|dad|sister|brother|girlfriend|boyfriend|ex))\b"
)
_NEGATED_INSULT = re.compile(
    r"\b"
    + _NEG
    + r"\s+(?:(?:a|an|so|that|very|really|being|even|remotely|at all)\s+){0,2}"
    + _INS
    + r"\b"
)
_COUNTER = re.compile(
    r"\b(?:is|are|'s)?\s*(?:never|not|isn't|aren't)\s+(?:ever\s+)?(?:acceptable|ok|okay|fine|"
    r"right|funny|cool|justified)\b|\bit(?:'s| is) (?:wrong|unacceptable|hurtful|cruel) to\b|"
    r"\b(?:stop|don't|do not|never|shouldn't|should not|we must not) (?:call|calling|say|"
    r"saying)\b|\b(?:condemn|reject|oppose|report)\w*\b"
)
_BUT = re.compile(r"\b(?:but|however|still|yet)\b")
PROFANITY = frozenset(
    [
        "fuck",
        "fucking",
        "fucked",
        "fuckin",
        "fck",
        "shit",
        "shitty",
        "damn",
        "damned",
        "dammit",
        "hell",
        "crap",
        "crappy",
        "bloody",
        "ass",
        "badass",
        "bullshit",
        "goddamn",
        "piss",
        "pissed",
        "wtf",
        "omg",
        "frickin",
        "freaking",
    ]
)
_WORD = re.compile(r"[a-z']+")


def evidence(norm: str) -> tuple[float, str | None]:
    """``(score, kind)`` of direct abuse in a de-obfuscated text; ``(0, None)`` when none.

    Group and insult evidence that follows a condemnation in the same text ("it is wrong to
    say that immigrants are vermin") is counter-speech, unless a ``but`` turns it back into
    an attack ("it is wrong to say, but you are an idiot"); a threat is never excused."""
    if _THREAT.search(norm):
        return 0.95, "threat"
    if _VIOLENT_REQUEST.search(norm):
        return 0.85, "violence"
    counter = _COUNTER.search(norm)
    for rx, score, kind in ((_GROUP, 0.95, "group"), (_INSULT, 0.92, "insult")):
        m = rx.search(norm)
        if m is None:
            continue
        if (
            counter
            and counter.start() < m.start()
            and not _BUT.search(norm, counter.end(), m.start())
        ):
            continue
        return score, kind
    if len(_NEGATED_PRAISE.findall(norm)) >= 2:
        return 0.85, "insult"
    return 0.0, None


def classifier_text(norm: str) -> str:
    """``norm`` with negated insults removed (``you are not stupid`` -> ``you are``)."""
    return _NEGATED_INSULT.sub(" ", norm)


def counter_speech(norm: str) -> bool:
    """Whether the text condemns or denies abuse rather than committing it."""
    return bool(_COUNTER.search(norm))


def untargeted_profanity(norm: str) -> bool:
    """Profanity with no insult word, no second person and no group: an intensifier."""
    words = _WORD.findall(norm)
    if not any(w in PROFANITY for w in words):
        return False
    if any(w in _INSULT_WORDS for w in words):
        return False
    return not re.search(r"\b(?:you|u|ya|your|ur)\b|\b" + _GROUPS + r"\b", norm)


_INSULT_WORDS = frozenset(INSULTS) - {"nothing", "nobody", "waste", "dog", "pig", "worm"}
