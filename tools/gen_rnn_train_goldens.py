"""Writes test/golden/rnn_train/steps.safetensors: one training step of recurrent models in PyTorch (loss and
every parameter gradient) for test/train/rnn_train.test.ts. Weights come from the shared closed-form hash
(tools/hashweights.py = src/models/hashweights.ts), so the file holds inputs, targets, losses and gradients
(and, for the two classifiers, losses and weights after three Adam steps).
The case table (module structure) is mirrored in the test. Development time only:

    /usr/bin/python3 tools/gen_rnn_train_goldens.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402
from hashweights import hash_state_dict  # noqa: E402

torch.manual_seed(5)
out = {}


class SeqModel(nn.Module):
    """src/models/seq.ts SequenceLSTM / SequenceGRU: batch_first RNN, Linear head on the last step or every step."""

    def __init__(self, cell, inp, hidden, layers, outs, head):
        super().__init__()
        setattr(self, cell, getattr(nn, cell.upper())(inp, hidden, layers, batch_first=True))
        self.cell = cell
        self.head = nn.Linear(hidden, outs)
        self.mode = head

    def forward(self, x):
        y = getattr(self, self.cell)(x)[0]
        return self.head(y[:, -1] if self.mode == 'last' else y)


class Stack(nn.Module):
    """nn.Sequential of a recurrent layer (output sequence only) and a Linear: keys 0.*, 1.* (and 2.* with an embedding first)."""

    def __init__(self, *mods):
        super().__init__()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
            if isinstance(x, tuple):
                x = x[0]
        return x


def case(name, model, x, y, loss_fn, seed):
    hash_state_dict(model, seed)
    model.train()
    out[f'{name}.input'] = x.numpy().astype(np.float32)
    out[f'{name}.target'] = y.numpy().astype(np.float32)
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    out[f'{name}.loss'] = np.array([loss.item()], dtype=np.float32)
    for k, p in model.named_parameters():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        out[f'{name}.grad.{k}'] = g.detach().numpy().reshape(-1).copy()


def adam3(name, make, seed):
    """Three Adam steps (lr 2e-3) on the case's batch from the same hashed start: losses and updated weights."""
    m = make()
    hash_state_dict(m, seed)
    m.train()
    x, y = torch.from_numpy(out[f'{name}.input']), torch.from_numpy(out[f'{name}.target']).long()
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        l = F.cross_entropy(m(x), y)
        l.backward()
        opt.step()
        losses.append(l.item())
    out[f'{name}.adam.losses'] = np.array(losses, dtype=np.float32)
    for k, p in m.named_parameters():
        out[f'{name}.adam.{k}'] = p.detach().numpy().reshape(-1).copy()


case('lstm_cls', SeqModel('lstm', 5, 8, 2, 3, 'last'), torch.randn(4, 6, 5), torch.tensor([0, 2, 1, 2]), F.cross_entropy, 21)
adam3('lstm_cls', lambda: SeqModel('lstm', 5, 8, 2, 3, 'last'), 21)
case('lstm_m2m', SeqModel('lstm', 4, 6, 2, 2, 'every'), torch.randn(3, 5, 4), torch.randn(3, 5, 2), F.mse_loss, 22)
case('gru_cls', SeqModel('gru', 5, 7, 2, 4, 'last'), torch.randn(5, 4, 5), torch.tensor([3, 0, 1, 2, 3]), F.cross_entropy, 23)
adam3('gru_cls', lambda: SeqModel('gru', 5, 7, 2, 4, 'last'), 23)
case('lstm_bi', Stack(nn.LSTM(4, 6, 2, bidirectional=True), nn.Linear(12, 3)), torch.randn(5, 3, 4), torch.randn(5, 3, 3), F.mse_loss, 24)
case('gru_bi_bf', Stack(nn.GRU(3, 5, 2, bidirectional=True, batch_first=True), nn.Linear(10, 2)), torch.randn(2, 4, 3), torch.randn(2, 4, 2), F.mse_loss, 25)
case('gru_nobias', Stack(nn.GRU(3, 4, 1, bias=False), nn.Linear(4, 2)), torch.randn(3, 2, 3), torch.randn(3, 2, 2), F.mse_loss, 26)
case('rnn_tanh_bi', Stack(nn.RNN(4, 5, 2, bidirectional=True), nn.Linear(10, 3)), torch.randn(4, 2, 4), torch.randn(4, 2, 3), F.mse_loss, 27)
case('rnn_relu_bf', Stack(nn.RNN(3, 6, 2, nonlinearity='relu', batch_first=True), nn.Linear(6, 2)), torch.randn(3, 4, 3), torch.randn(3, 4, 2), F.mse_loss, 28)
case('lstm_unbatched', Stack(nn.LSTM(3, 4, 2), nn.Linear(4, 2)), torch.randn(5, 3), torch.randn(5, 2), F.mse_loss, 31)
case('gru_b1_bf_3l', Stack(nn.GRU(2, 3, 3, batch_first=True, bidirectional=True), nn.Linear(6, 2)), torch.randn(1, 6, 2), torch.randn(1, 6, 2), F.mse_loss, 32)
ids = torch.tensor([[1, 4, 0, 7], [2, 2, 9, 0], [5, 3, 8, 6]])
case('embed_lstm', Stack(nn.Embedding(10, 4, padding_idx=0), nn.LSTM(4, 5, batch_first=True), nn.Linear(5, 3)), ids, torch.randn(3, 4, 3), F.mse_loss, 29)



class Seq2Seq(nn.Module):
    """src/models/seq2seq.ts (as tools/gen_rnn_goldens.py) with its training objective: teacher forcing, the decoder
    reads BOS + target[:, :-1] from the encoder's final (h, c); cross-entropy over non-PAD target positions."""

    def __init__(self, src_vocab, tgt_vocab, emb, hidden, layers):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=0)
        self.encoder = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb, padding_idx=0)
        self.decoder = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, tgt_vocab)

    def forward(self, src, tgt):
        _, state = self.encoder(self.src_embed(src))
        dec_in = torch.cat([torch.full((tgt.shape[0], 1), 1, dtype=torch.long), tgt[:, :-1]], 1)
        y, _ = self.decoder(self.tgt_embed(dec_in), state)
        return self.out(y).reshape(-1, self.out.out_features)


def seq2seq_case(name, seed):
    m = Seq2Seq(9, 8, 4, 5, 2)
    hash_state_dict(m, seed)
    src = torch.tensor([[0, 0, 4, 5, 8, 6], [3, 7, 4, 4, 5, 8], [0, 6, 5, 7, 4, 3]])
    tgt = torch.tensor([[4, 5, 6, 2, 0], [7, 4, 4, 5, 2], [6, 2, 0, 0, 0]])
    out[f'{name}.input'] = src.numpy().astype(np.float32)
    out[f'{name}.target'] = tgt.numpy().astype(np.float32)
    m.zero_grad()
    loss = F.cross_entropy(m(src, tgt), tgt.reshape(-1), ignore_index=0)
    loss.backward()
    out[f'{name}.loss'] = np.array([loss.item()], dtype=np.float32)
    for k, p in m.named_parameters():
        out[f'{name}.grad.{k}'] = p.grad.detach().numpy().reshape(-1).copy()


seq2seq_case('seq2seq', 30)

path = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'rnn_train', 'steps.safetensors')
safetensors_py.save(path, out, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                'generator': 'tools/gen_rnn_train_goldens.py'})
print('wrote', os.path.normpath(path), os.path.getsize(path), 'bytes')
