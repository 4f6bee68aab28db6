"""Recurrent layers: the generic ``RNN(cell)``, the cells and their stacking, SimpleRNN, LSTM, GRU (fused ops
when their configuration allows, the cell loop otherwise), and ConvLSTM1D/2D/3D (the cell loop over convolutions)."""
from chainrule.keras.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from chainrule.keras.layers.rnn.gru import GRU, GRUCell
from chainrule.keras.layers.rnn.lstm import LSTM, LSTMCell
from chainrule.keras.layers.rnn.rnn import RNN
from chainrule.keras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from chainrule.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells

__all__ = ["RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D",
           "ConvLSTM2D", "ConvLSTM3D"]
