#!/usr/bin/env python3
"""Write held-out.txt: validation documents of the demo model's corpus (make_corpus.py's generator with
the validation seed) that do not occur in its training text, about 14,000 characters. `radixserve bench
--workload quantization` reads it to measure how far int8 weights move each model from its unquantized
predictions.

    python3 make_held_out.py            # rewrites held-out.txt next to this script
"""
from pathlib import Path

from make_corpus import documents

TRAIN_SEED, TRAIN_DOCS, CHARACTERS = 1, 80000, 14000  # as train-demo-model.sh makes the corpus

train = set(documents(TRAIN_SEED, TRAIN_DOCS))
text = ''
for document in documents(TRAIN_SEED + 1000, 400):
    if document not in train and len(text) < CHARACTERS:
        text += document
(Path(__file__).resolve().parent / 'held-out.txt').write_text(text, encoding='utf-8')
print(f'held-out.txt: {len(text)} characters')
