"""Small synthetic stand-ins for TensorFlow's Transformer tutorial downloads: ``tfds.load('ted_hrlr_translate/pt_to_en',
with_info=True, as_supervised=True)`` (Portuguese-English sentence pairs) and the
``ted_hrlr_translate_pt_en_converter`` tokenizers that ``tf.saved_model.load`` reads (here word-level, with the
converter's contract: ``tokenize`` gives int64 RaggedTensor rows wrapped in [START] ... [END], ``detokenize`` text
without the reserved tokens, ``lookup`` the tokens' text, ``get_vocab_size``).

The pairs translate word by word from one small vocabulary into the other, so a Transformer learns them.
"""

import re
import types

import numpy as np

import chainrule as tf

RESERVED = ["[PAD]", "[UNK]", "[START]", "[END]"]
_PT = ("este é um problema que temos de resolver os meus vizinhos ouviram sobre esta ideia vou então muito "
       "rapidamente partilhar convosco algumas histórias coisas mágicas aconteceram o primeiro livro eu fiz li na "
       "enciclopédia casa grande pequeno hoje amanhã").split()
_EN = ("this is a problem that we have solve the my neighbors heard about this idea i'll so very quickly share "
       "with you some stories things magical happened the first book i did read in encyclopedia house big small "
       "today tomorrow").split()


def load(name="ted_hrlr_translate/pt_to_en", with_info=True, as_supervised=True, n_train=256, n_val=64, seed=0):
    """(examples, metadata): examples['train'] / ['validation'] datasets of (pt, en) scalar strings."""
    rng = np.random.default_rng(seed)

    def pairs(n):
        pt, en = [], []
        for _ in range(n):
            words = rng.integers(0, len(_PT), int(rng.integers(4, 12)))
            pt.append(" ".join(_PT[w] for w in words) + " .")
            en.append(" ".join(_EN[w] for w in words) + " .")
        return tf.data.Dataset.from_tensor_slices((np.array(pt), np.array(en)))

    examples = {"train": pairs(n_train), "validation": pairs(n_val)}
    metadata = types.SimpleNamespace(name=name, splits={"train": n_train, "validation": n_val})
    return (examples, metadata) if with_info else examples


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+|[^\w\s]", text.lower())


class _Tokenizer:
    """One language's tokenizer, with the converter's methods."""

    def __init__(self, words):
        self.vocab = RESERVED + sorted(set(words) | {"."})
        self.ids = {word: i for i, word in enumerate(self.vocab)}

    def tokenize(self, strings):
        texts = np.asarray(strings.numpy() if isinstance(strings, tf.Tensor) else strings, dtype=object).reshape(-1)
        rows = [[2] + [self.ids.get(w, 1) for w in _words(t.decode() if isinstance(t, bytes) else t)] + [3]
                for t in texts]
        return tf.ragged.constant(rows, dtype=tf.int64)

    def _rows(self, tokenized):
        if isinstance(tokenized, tf.RaggedTensor):
            return tokenized.to_list()
        return np.asarray(tokenized.numpy() if isinstance(tokenized, tf.Tensor) else tokenized).tolist()

    def detokenize(self, tokenized):
        texts = [" ".join(self.vocab[i] for i in row if i >= len(RESERVED)) for row in self._rows(tokenized)]
        return tf.constant(texts)

    def lookup(self, token_ids):
        rows = [[self.vocab[i] for i in row] for row in self._rows(token_ids)]
        if isinstance(token_ids, tf.RaggedTensor):
            return tf.ragged.constant(rows)
        return tf.constant(rows)

    def get_vocab_size(self):
        return tf.constant(len(self.vocab))

    def get_reserved_tokens(self):
        return tf.constant(RESERVED)


def tokenizers():
    """What ``tf.saved_model.load('ted_hrlr_translate_pt_en_converter')`` gives: ``.pt`` and ``.en``."""
    return types.SimpleNamespace(pt=_Tokenizer(_PT), en=_Tokenizer(_EN))
