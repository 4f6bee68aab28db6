"""``keras.preprocessing.sequence``: ``pad_sequences`` (:mod:`chainrule.keras.utils.sequence_utils`), and tf.keras's
word2vec helpers ``skipgrams`` and ``make_sampling_table`` (:mod:`chainrule.keras.preprocessing.skipgrams`), and its
``TimeseriesGenerator`` (:mod:`chainrule.keras.preprocessing.timeseries_generator`)."""
from chainrule.keras.preprocessing.skipgrams import make_sampling_table, skipgrams
from chainrule.keras.preprocessing.timeseries_generator import TimeseriesGenerator
from chainrule.keras.utils.sequence_utils import pad_sequences

__all__ = ["TimeseriesGenerator", "make_sampling_table", "pad_sequences", "skipgrams"]
