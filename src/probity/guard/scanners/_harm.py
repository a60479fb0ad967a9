"""Rules for harmful content that is not abuse: sexual content, self-harm and violent intent.

A profanity classifier scores words that are rude, so it misses content that moderation
policies (OpenAI's moderation categories, Llama Guard's S1/S11/S12) count as harmful although
it is politely worded: explicit sexual content and adverts, a person saying they mean to hurt
themselves, a plan to hurt a third person. :func:`harm_evidence` finds these in de-obfuscated
text. They are *not* direct abuse: a reported quotation or a discussion label may soften them.

The term lists encode common knowledge of explicit vocabulary and self-harm phrasing; they
were written before looking at individual records, then checked against the errors of the
calibration half of the moderation set only (never the held-out half).
"""

from __future__ import annotations

import re

# Explicit sexual vocabulary. A single word is weak evidence (medical or educational use), so
# the rule needs two distinct terms; one term that is explicit in any use is weaker evidence.
_SEXUAL = frozenset(
    [
        "porn",
        "porno",
        "pornography",
        "pornographic",
        "xxx",
        "nude",
        "nudes",
        "naked",
        "escort",
        "escorts",
        "hookup",
        "hookups",
        "horny",
        "cum",
        "cumming",
        "orgasm",
        "orgasms",
        "blowjob",
        "blowjobs",
        "handjob",
        "anal",
        "pussy",
        "cock",
        "cocks",
        "tits",
        "boobs",
        "milf",
        "fetish",
        "bdsm",
        "dominatrix",
        "erotic",
        "erotica",
        "sexy",
        "masturbate",
        "masturbating",
        "masturbation",
        "penis",
        "vagina",
        "clit",
        "clitoris",
        "nipples",
        "threesome",
        "hentai",
        "stripper",
        "strippers",
        "camgirl",
        "webcam",
        "sex",
        "sexual",
        "sexually",
        "fuck",
        "fucked",
        "fucking",
        "slut",
        "sluts",
        "whore",
        "whores",
        "dildo",
        "vibrator",
        "creampie",
        "genitals",
        "genital",
        "horniest",
        "naughty",
        "seduce",
        "seduced",
        "lingerie",
    ]
)
_EXPLICIT = frozenset(
    [
        "porn",
        "porno",
        "pornographic",
        "xxx",
        "blowjob",
        "blowjobs",
        "handjob",
        "cumming",
        "creampie",
        "hentai",
        "camgirl",
        "dildo",
        "masturbating",
        "horny",
        "horniest",
    ]
)
_SELF_HARM = re.compile(
    r"\b(?:kill|killing|hurt|hurting|cut|cutting|harm|harming|punish|punishing|starve|starving|"
    r"hang|hanging|shoot|shooting|burn|burning)\s+myself\b"
    r"|\bself[- ]?harm(?:ing)?\b|\bsuicidal\b|\b(?:i|i'm|im|my)\b[^.!?\n]{0,40}\bsuicide\b|\bend(?:ing)? (?:my|it) (?:own )?(?:life|all)\b"
    r"|\b(?:want|wanted|wanna) to die\b|\bslit(?:ting)? my wrists?\b|\boverdos(?:e|ing)\b"
    r"|\bno (?:point|reason) (?:in |to )?(?:living|live|go on)\b"
)
# A speaker planning to hurt a third person ("I'm planning on breaking her legs", "we should
# rig the building with explosives"); threats against the reader are _abuse's direct threats.
_VIOLENT_INTENT = re.compile(
    r"\b(?:i|we)(?:'ll| will|'m| am|'re| are|m)?\s+(?:gonna|going to|planning (?:to|on)|plan to|"
    r"want to|about to|should|must)\s+(?:just\s+)?(?:kill|killing|murder|murdering|shoot|shooting|"
    r"stab|stabbing|strangle|poison|poisoning|behead|slaughter|break|breaking|beat|beating|bomb|"
    r"bombing|rig|nuke)\b[^.!?\n]{0,25}?\b(?:him|her|them|everyone|everybody|people|all of them|"
    r"his|their|explosives|the (?:whole|entire))\b"
)
# Eliminationist hate: people called subhuman, or calls to kill, expel or hang a whole group
# ("kill them all", "deport every one of them", "hanging from lampposts").
_ELIMINATION = re.compile(
    r"\bsub-?humans?\b|\bkill (?:them|'em|all of them) all\b|\bkill them all\b"
    r"|\b(?:expel|deport|exterminate|eliminate|wipe out|get rid of|gas) (?:all|every)\b"
    r"|\bhang(?:ing|ed)? from (?:the )?(?:lamp ?posts?|trees)\b"
)
_WORD = re.compile(r"[a-z]+")


def harm_evidence(norm: str) -> tuple[float, str | None]:
    """``(score, category)`` for harmful non-abusive content in de-obfuscated lower-case
    text: ``self-harm`` 0.8, ``violence`` 0.8, ``hate`` 0.8 (eliminationist), ``sexual`` 0.75
    for two distinct explicit terms, 0.5 for one word that is explicit in any use;
    ``(0, None)`` when none."""
    if _SELF_HARM.search(norm):
        return 0.8, "self-harm"
    if _VIOLENT_INTENT.search(norm):
        return 0.8, "violence"
    if _ELIMINATION.search(norm):
        return 0.8, "hate"
    found = {w for w in _WORD.findall(norm) if w in _SEXUAL}
    if len(found) >= 2:
        return 0.75, "sexual"
    if found & _EXPLICIT:
        # one explicit word alone ("a porn film", "a dildo sword") was right about half the
        # time on the calibration half: evidence below the default threshold, not a block
        return 0.5, "sexual"
    return 0.0, None
