"""A few well-known real papers (public bibliographic facts) for the demo and the tests."""

from __future__ import annotations

SAMPLE_RECORDS: list[dict[str, object]] = [
    {
        "title": "Attention Is All You Need",
        "authors": [
            "Ashish Vaswani",
            "Noam Shazeer",
            "Niki Parmar",
            "Jakob Uszkoreit",
            "Llion Jones",
            "Aidan N. Gomez",
            "Lukasz Kaiser",
            "Illia Polosukhin",
        ],
        "year": 2017,
        "venue": "NeurIPS",
        "arxiv": "1706.03762",
    },
    {
        "title": "Deep Residual Learning for Image Recognition",
        "authors": ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"],
        "year": 2016,
        "venue": "CVPR",
        "doi": "10.1109/CVPR.2016.90",
    },
    {
        "title": "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        "authors": ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"],
        "year": 2019,
        "venue": "NAACL",
        "doi": "10.18653/v1/N19-1423",
    },
    {
        "title": "Adam: A Method for Stochastic Optimization",
        "authors": ["Diederik P. Kingma", "Jimmy Ba"],
        "year": 2015,
        "venue": "ICLR",
        "arxiv": "1412.6980",
    },
    {
        "title": "Generative Adversarial Nets",
        "authors": [
            "Ian J. Goodfellow",
            "Jean Pouget-Abadie",
            "Mehdi Mirza",
            "Bing Xu",
            "David Warde-Farley",
            "Sherjil Ozair",
            "Aaron C. Courville",
            "Yoshua Bengio",
        ],
        "year": 2014,
        "venue": "NeurIPS",
    },
    {
        "title": "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
        "authors": [
            "Nitish Srivastava",
            "Geoffrey E. Hinton",
            "Alex Krizhevsky",
            "Ilya Sutskever",
            "Ruslan Salakhutdinov",
        ],
        "year": 2014,
        "venue": "Journal of Machine Learning Research",
    },
    {
        "title": "Language Models are Few-Shot Learners",
        "authors": [
            "Tom B. Brown",
            "Benjamin Mann",
            "Nick Ryder",
            "Melanie Subbiah",
            "Jared Kaplan",
            "Prafulla Dhariwal",
            "Arvind Neelakantan",
            "Pranav Shyam",
            "Girish Sastry",
            "Amanda Askell",
        ],
        "year": 2020,
        "venue": "NeurIPS",
    },
    {
        "title": "Denoising Diffusion Probabilistic Models",
        "authors": ["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"],
        "year": 2020,
        "venue": "NeurIPS",
    },
    {
        "title": "A Watermark for Large Language Models",
        "authors": [
            "John Kirchenbauer",
            "Jonas Geiping",
            "Yuxin Wen",
            "Jonathan Katz",
            "Ian Miers",
            "Tom Goldstein",
        ],
        "year": 2023,
        "venue": "ICML",
    },
    {
        "title": "Deep Learning with Differential Privacy",
        "authors": [
            "Martín Abadi",
            "Andy Chu",
            "Ian J. Goodfellow",
            "H. Brendan McMahan",
            "Ilya Mironov",
            "Kunal Talwar",
            "Li Zhang",
        ],
        "year": 2016,
        "venue": "CCS",
        "doi": "10.1145/2976749.2978318",
    },
    {
        "title": "Machine Unlearning",
        "authors": [
            "Lucas Bourtoule",
            "Varun Chandrasekaran",
            "Christopher A. Choquette-Choo",
            "Hengrui Jia",
            "Adelin Travers",
            "Baiwu Zhang",
            "David Lie",
            "Nicolas Papernot",
        ],
        "year": 2021,
        "venue": "IEEE Symposium on Security and Privacy",
        "doi": "10.1109/SP40001.2021.00019",
    },
    {
        "title": "Sequence to Sequence Learning with Neural Networks",
        "authors": ["Ilya Sutskever", "Oriol Vinyals", "Quoc V. Le"],
        "year": 2014,
        "venue": "NeurIPS",
    },
]

#: A chat answer with three real papers and two invented ones (the last two).
SAMPLE_ANSWER = """Sure! Here are some influential papers on neural networks:

1. "Attention Is All You Need" by Ashish Vaswani, Noam Shazeer, Niki Parmar et al. (2017),
   NeurIPS.
2. He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for image
   recognition. In CVPR.
3. **Adam: A Method for Stochastic Optimization** (Kingma and Ba, 2015), ICLR.
4. "Recursive Attention Fields for Self-Supervised Graph Reasoning" by Ashish Vaswani and
   Jakob Uszkoreit (2019), ICML.
5. Martin Keller, Yuki Tanaka and Priya Raman. "Quantum Gradient Flows for Sparse
   Transformers." NeurIPS, 2021.
"""
