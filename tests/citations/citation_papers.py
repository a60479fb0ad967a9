"""Database records for the black-box tests: the sample papers plus the real-world shapes the
outside testers hit (one author, particles, hyphens, a journal, conference acronyms)."""

from __future__ import annotations

from probity.citations._sample import SAMPLE_RECORDS

EXTRA_RECORDS: list[dict[str, object]] = [
    {
        "title": "Tighter Bounds on the Expressivity of Transformer Encoders",
        "authors": ["David Chiang", "Peter Cholak", "Anand Pillay"],
        "year": 2023,
        "venue": "ICML",
    },
    {
        "title": "The Distribution of Teacher Quality and Implications for Policy",
        "authors": ["Eric A. Hanushek", "Steven G. Rivkin"],
        "year": 2012,
        "venue": "Annual Review of Economics",
        "doi": "10.1146/annurev-economics-080511-111001",
    },
    {
        "title": "Stereo Vision Matching through a Hopfield Neural Network",
        "authors": ["Francisco Pajares"],
        "year": 1996,
        "venue": "Pattern Recognition Letters",
    },
    {
        "title": "Black-Box Batch Active Learning for Regression",
        "authors": ["Andreas Kirsch"],
        "year": 2023,
        "venue": "Transactions on Machine Learning Research",
    },
    {
        "title": "Deep Learning",
        "authors": ["Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton"],
        "year": 2015,
        "venue": "Nature",
        "doi": "10.1038/nature14539",
    },
    {
        "title": "Scikit-learn: Machine Learning in Python",
        "authors": ["Fabian Pedregosa", "Gaël Varoquaux", "Alexandre Gramfort", "Vincent Michel"],
        "year": 2011,
        "venue": "Journal of Machine Learning Research",
    },
    {
        "title": "Visualizing Data using t-SNE",
        "authors": ["Laurens van der Maaten", "Geoffrey Hinton"],
        "year": 2008,
        "venue": "Journal of Machine Learning Research",
    },
    {
        "title": "Long Short-Term Memory",
        "authors": ["Sepp Hochreiter", "Jürgen Schmidhuber"],
        "year": 1997,
        "venue": "Neural Computation",
        "doi": "10.1162/neco.1997.9.8.1735",
    },
]

RECORDS: list[dict[str, object]] = [*SAMPLE_RECORDS, *EXTRA_RECORDS]

#: Invented papers, written like real ones (a real author is kept on some: the usual pattern).
FABRICATED: list[dict[str, object]] = [
    {
        "title": "Recursive Attention Fields for Self-Supervised Graph Reasoning",
        "authors": ["Ashish Vaswani", "Jakob Uszkoreit"],
        "year": 2019,
        "venue": "ICML",
    },
    {
        "title": "Quantum Gradient Flows for Sparse Transformers",
        "authors": ["Martin Keller", "Yuki Tanaka", "Priya Raman"],
        "year": 2021,
        "venue": "NeurIPS",
    },
    {
        "title": "Teacher Turnover and the Persistence of Achievement Gaps",
        "authors": ["Eric A. Hanushek"],
        "year": 2014,
        "venue": "Annual Review of Economics",
    },
    {
        "title": "Expressivity Limits of Looped Transformer Decoders",
        "authors": ["David Chiang", "Anand Pillay"],
        "year": 2024,
        "venue": "ICLR",
    },
]
