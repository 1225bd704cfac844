"""TF-IDF n-gram features exactly as the TypeScript text-classifier computes them (../text-classifier/featurizer.ts).

The featurizer.json written from `fit` is an `anvil.text-featurizer` spec, so the TypeScript side
(evaluation, serving) featurises texts for this recipe's ONNX model with its own code. Lower-cased
text; word tokens are runs of letters, digits and `_`; char n-grams inside each whitespace-separated
word padded with one space; df >= min_df, the max_features most frequent (ties by key), features
sorted by key; idf = float32(ln((1 + n) / (1 + df)) + 1); tf -> 1 + ln(tf) when sublinear; each block
(word, char) L2-normalised separately.
"""
import math
import re
import struct

WORD = re.compile(r"[^\W]+", re.UNICODE)


def fround(value):
    """The nearest float32, as a Python float (JavaScript's Math.fround)."""
    return struct.unpack("f", struct.pack("f", value))[0]


def ngrams_of(text, word_ngrams, char_ngrams):
    lower = text.lower()
    out = []
    if word_ngrams is not None:
        tokens = WORD.findall(lower)
        for n in range(word_ngrams[0], word_ngrams[1] + 1):
            for i in range(0, len(tokens) - n + 1):
                out.append("w:" + " ".join(tokens[i:i + n]))
    if char_ngrams is not None:
        for word in lower.split():
            padded = " " + word + " "
            for n in range(char_ngrams[0], char_ngrams[1] + 1):
                offset = 0
                while True:
                    out.append("c:" + padded[offset:offset + n])
                    if offset + n >= len(padded):
                        break
                    offset += 1
    return out


def fit(texts, word_ngrams, char_ngrams, sublinear_tf, min_df, max_features):
    df = {}
    for text in texts:
        for key in set(ngrams_of(text, word_ngrams, char_ngrams)):
            df[key] = df.get(key, 0) + 1
    kept = [(key, count) for key, count in df.items() if count >= min_df]
    kept.sort(key=lambda item: (-item[1], item[0]))
    chosen = sorted(kept[:max_features], key=lambda item: item[0])
    n = len(texts)
    return {
        "wordNgrams": list(word_ngrams) if word_ngrams is not None else None,
        "charNgrams": list(char_ngrams) if char_ngrams is not None else None,
        "sublinearTf": sublinear_tf,
        "vocabulary": [key for key, _ in chosen],
        "idf": [fround(math.log((1 + n) / (1 + count)) + 1) for _, count in chosen],
    }


class Featurizer:
    def __init__(self, spec):
        self.spec = spec
        self.index = {key: i for i, key in enumerate(spec["vocabulary"])}
        self.idf = spec["idf"]
        self.word = [key.startswith("w:") for key in spec["vocabulary"]]

    @property
    def feature_count(self):
        return len(self.spec["vocabulary"])

    def transform(self, text):
        """One text -> (ids ascending, float weights)."""
        counts = {}
        for key in ngrams_of(text, self.spec["wordNgrams"], self.spec["charNgrams"]):
            i = self.index.get(key)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        weights = {}
        norms = {True: 0.0, False: 0.0}
        for i, tf in counts.items():
            value = (1 + math.log(tf) if self.spec["sublinearTf"] else tf) * self.idf[i]
            weights[i] = value
            norms[self.word[i]] += value * value
        scale = {block: (1 / math.sqrt(total) if total > 0 else 0.0) for block, total in norms.items()}
        ids = sorted(i for i in weights if weights[i] != 0)
        return ids, [weights[i] * scale[self.word[i]] for i in ids]
