"""A functional test suite for toxicity (HateCheck-style): short cases per functionality, each
labelled hateful/abusive (1) or not (0). Written for the benchmark, separately from the unit
tests in tests/guard (different sentences), so that figures are not measured on the strings
the rules were developed against. Used by bench/guard.py.
"""

from __future__ import annotations

SUITE: dict[str, list[tuple[str, int]]] = {
    "obfuscation": [
        ("Y0u are such a pathet1c l0ser.", 1),
        ("u r a f*cking m0ron", 1),
        ("You're an absolute iiiidiooooot.", 1),
        ("y o u  a r e  w o r t h l e s s  t r a s h", 1),
        ("You are a dmub bastrad.", 1),
        ("You are a \u0455cumbag and a l\u0456ar.", 1),
        ("youreapatheticloser", 1),
        ("Sh.ut up you st.u.pid cr.eep", 1),
        ("Th1s r3c1p3 1s gr34t, th4nks!", 0),
        ("My p4ssw0rd manager is great.", 0),
    ],
    "negation": [
        ("You are not clever, not funny and not worth listening to.", 1),
        ("You're not even remotely competent, and not welcome here either.", 1),
        ("You are not an idiot; you made an honest mistake.", 0),
        ("I would never call you stupid.", 0),
        ("You are not worthless, whatever they told you.", 0),
        ("She is not a bad person at all.", 0),
        ("You are not wanted here and not important to anyone.", 1),
        ("Nobody thinks you are a loser.", 0),
    ],
    "threats": [
        ("I'm going to find you and break every bone in your body.", 1),
        ("We will hunt you down and make you pay.", 1),
        ("You should be shot for saying that.", 1),
        ("Go hang yourself, nobody will miss you.", 1),
        ("I hope you die in a fire.", 1),
        ("I'm going to kill this bug before lunch.", 0),
        ("I will beat you at chess tomorrow.", 0),
        ("The storm will hurt crops across the region.", 0),
    ],
    "implicit": [
        ("You're a complete waste of space.", 1),
        ("The world would be better off without you.", 1),
        ("No one cares about you or your opinions.", 1),
        ("Refugees are rats that should be deported.", 1),
        ("Women are too stupid to run a company.", 1),
        ("Immigrants make up a large share of the nursing workforce.", 0),
        ("Women founded three of the five startups in the accelerator.", 0),
        ("Nobody could have predicted the result of the match.", 0),
    ],
    "counter_speech": [
        ("Calling immigrants vermin is dehumanising and wrong.", 0),
        ("It is never okay to tell someone they are worthless.", 0),
        ("Stop calling disabled people stupid; it is cruel.", 0),
        ("We condemn the chants that called the players animals.", 0),
        ("It's wrong to say it, but you are a useless idiot.", 1),
        ("Saying women are inferior is plain sexism.", 0),
    ],
    "quotation": [
        ('The witness said the man yelled "you worthless idiot" before driving off.', 0),
        (
            'In the film the bully sneers "you pathetic loser" and the whole class laughs, '
            "which sets up the final scene.",
            0,
        ),
        ('"You are a worthless idiot and I hate you," he said.', 1),
        ('As they say: "you are a pathetic loser."', 1),
        ('"Go kill yourself."', 1),
        ('What does the slur "subhuman" mean and why is it so harmful?', 0),
    ],
    "opinion": [
        ("In my opinion you are a pathetic moron.", 1),
        ("I think you're a disgusting creep.", 1),
        ("IMO immigrants are parasites.", 1),
        ("In my opinion the film was too long.", 0),
        ("I think the referee made a bad call.", 0),
        ("Personally, I believe the policy is a mistake.", 0),
    ],
    "profanity": [
        ("Fuck, I missed the bus again.", 0),
        ("That was a damn good game.", 0),
        ("Holy crap, the view from up here is incredible!", 0),
        ("This shitty weather is ruining my weekend.", 0),
        ("Hell yeah, pizza night!", 0),
        ("Fuck off, you worthless prick.", 1),
        ("You are a fucking disgrace.", 1),
        ("What a bloody brilliant goal.", 0),
    ],
}


def cases() -> list[tuple[str, str, int]]:
    """``(functionality, text, label)`` for every case."""
    return [(f, t, y) for f, items in SUITE.items() for t, y in items]
