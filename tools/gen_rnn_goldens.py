"""Writes the recurrent golden files under test/golden/rnn/ (development time only; tests never need Python):

    /usr/bin/python3 tools/gen_rnn_goldens.py

layers.safetensors   nn.RNN / nn.LSTM / nn.GRU cases: <case>.<state_dict key>, <case>.input, <case>.h0/.c0 (when
                     the case passes an initial state), <case>.expected.{output,h,c}; the case table (PyTorch
                     constructor kwargs) is in the metadata as JSON.
seq.safetensors      the stacked-LSTM sequence model (src/models/seq.ts): many-to-one and many-to-many heads.
seq2seq.safetensors  the encoder-decoder (src/models/seq2seq.ts): weights, source ids, PyTorch's greedy decode and
                     the beam search below (ids padded with -1, scores).

The beam search here is the reference of the algorithm src/models/seq2seq.ts implements (fairseq-style, constant
beam): every step scores all (hypothesis, token) pairs by cumulative log-probability, keeps the 2*width best
(ties: lower hypothesis index, then lower token id), finalises those ending in EOS that rank within the first
`width`, continues with the first `width` that do not end in EOS; stops once `width` hypotheses are final (or none
continues), or after max_len steps (then the open ones are final too). Final ranking: score / lp(len), GNMT's length penalty
lp(len) = ((5 + len) / 6) ** alpha, len = generated tokens including EOS.
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'rnn')
META = {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__, 'generator': 'tools/gen_rnn_goldens.py'}
PAD, BOS, EOS, UNK = 0, 1, 2, 3

# name, class, kwargs, input shape, initial state given
CASES = [
    ('rnn_tanh', 'RNN', dict(input_size=5, hidden_size=7), (4, 2, 5), False),
    ('rnn_relu_2l_bi_state', 'RNN', dict(input_size=4, hidden_size=6, num_layers=2, nonlinearity='relu', bidirectional=True), (5, 3, 4), True),
    ('rnn_bf_3l_state', 'RNN', dict(input_size=3, hidden_size=9, num_layers=3, batch_first=True), (2, 6, 3), True),
    ('lstm_1l', 'LSTM', dict(input_size=3, hidden_size=5), (5, 3, 3), False),
    ('lstm_2l_bf_state', 'LSTM', dict(input_size=6, hidden_size=9, num_layers=2, batch_first=True), (1, 7, 6), True),
    ('lstm_3l_bi_state', 'LSTM', dict(input_size=4, hidden_size=8, num_layers=3, bidirectional=True), (3, 2, 4), True),
    ('lstm_bi_bf_nobias', 'LSTM', dict(input_size=5, hidden_size=13, bias=False, batch_first=True, bidirectional=True), (3, 4, 5), False),
    ('lstm_2l_h33_dropout', 'LSTM', dict(input_size=16, hidden_size=33, num_layers=2, dropout=0.3), (6, 2, 16), False),
    ('lstm_unbatched_state', 'LSTM', dict(input_size=4, hidden_size=6, num_layers=2), (5, 4), True),
    ('lstm_large_state', 'LSTM', dict(input_size=24, hidden_size=40, num_layers=2), (10, 3, 24), True),
    ('gru_1l', 'GRU', dict(input_size=3, hidden_size=5), (4, 3, 3), False),
    ('gru_2l_bi_bf_state', 'GRU', dict(input_size=6, hidden_size=17, num_layers=2, bidirectional=True, batch_first=True), (3, 5, 6), True),
    ('gru_3l_state', 'GRU', dict(input_size=4, hidden_size=8, num_layers=3), (6, 1, 4), True),
    ('gru_nobias_bi', 'GRU', dict(input_size=7, hidden_size=4, bias=False, bidirectional=True), (3, 2, 7), False),
]


def layers():
    torch.manual_seed(11)
    t = {}
    table = {}
    for name, cls, kw, shape, with_state in CASES:
        m = getattr(nn, cls)(**kw).eval()
        x = torch.randn(*shape)
        D = 2 if kw.get('bidirectional') else 1
        L = kw.get('num_layers', 1)
        H = kw['hidden_size']
        batched = len(shape) == 3
        B = (shape[0] if kw.get('batch_first') else shape[1]) if batched else None
        sshape = (L * D, B, H) if batched else (L * D, H)
        state = None
        if with_state:
            h0 = torch.randn(*sshape) * 0.5
            t[f'{name}.h0'] = h0.numpy()
            state = h0
            if cls == 'LSTM':
                c0 = torch.randn(*sshape) * 0.5
                t[f'{name}.c0'] = c0.numpy()
                state = (h0, c0)
        with torch.no_grad():
            out, hn = m(x, state) if state is not None else m(x)
        if cls == 'LSTM':
            hn, cn = hn
            t[f'{name}.expected.c'] = cn.numpy()
        t[f'{name}.expected.output'] = out.numpy()
        t[f'{name}.expected.h'] = hn.numpy()
        t[f'{name}.input'] = x.numpy()
        for k, v in m.state_dict().items():
            t[f'{name}.{k}'] = v.numpy()
        table[name] = {'class': cls, 'kwargs': kw, 'state': with_state}
    safetensors_py.save(os.path.join(OUT, 'layers.safetensors'), t, {**META, 'cases': json.dumps(table)})


class SeqModel(nn.Module):
    """src/models/seq.ts: stacked LSTM (batch_first) + Linear head over the last timestep or every timestep."""

    def __init__(self, input_size, hidden_size, num_layers, output_size, many_to_many):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        self.many_to_many = many_to_many

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y) if self.many_to_many else self.head(y[:, -1])


def seq():
    torch.manual_seed(12)
    t = {}
    for name, m2m in (('many_to_one', False), ('many_to_many', True)):
        m = SeqModel(5, 12, 2, 3, m2m).eval()
        x = torch.randn(2, 9, 5)
        with torch.no_grad():
            y = m(x)
        t[f'{name}.input'] = x.numpy()
        t[f'{name}.expected'] = y.numpy()
        for k, v in m.state_dict().items():
            t[f'{name}.{k}'] = v.numpy()
    safetensors_py.save(os.path.join(OUT, 'seq.safetensors'), t, META)


class Seq2Seq(nn.Module):
    """src/models/seq2seq.ts: embeddings, stacked LSTM encoder/decoder (batch_first), Linear over the target vocab."""

    def __init__(self, src_vocab, tgt_vocab, emb, hidden, layers):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=PAD)
        self.encoder = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb, padding_idx=PAD)
        self.decoder = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, tgt_vocab)

    def encode(self, src):
        _, state = self.encoder(self.src_embed(src))
        return state

    def step(self, tok, state):
        y, state = self.decoder(self.tgt_embed(tok)[:, None], state)
        return torch.log_softmax(self.out(y[:, 0]), -1), state


@torch.no_grad()
def greedy(m, src, max_len):
    """The PyTorch reference decode loop: argmax each step; a row stops at EOS (EOS not returned)."""
    state = m.encode(src)
    B = src.shape[0]
    tok = torch.full((B,), BOS, dtype=torch.long)
    outs = [[] for _ in range(B)]
    done = [False] * B
    margin = float('inf')
    for _ in range(max_len):
        lp, state = m.step(tok, state)
        top = lp.topk(2, -1).values
        tok = lp.argmax(-1)
        for b in range(B):
            if done[b]:
                continue
            margin = min(margin, float(top[b, 0] - top[b, 1]))
            if int(tok[b]) == EOS:
                done[b] = True
            else:
                outs[b].append(int(tok[b]))
        if all(done):
            break
    return outs, margin


@torch.no_grad()
def beam(m, src, width, max_len, alpha):
    """Reference beam search (algorithm in the module docstring) for one source sequence [1, S]."""
    h, c = m.encode(src)
    active = [(0.0, [], h, c)]
    final = []
    for _ in range(max_len):
        tok = torch.tensor([hyp[1][-1] if hyp[1] else BOS for hyp in active])
        H = torch.cat([hyp[2] for hyp in active], 1)
        C = torch.cat([hyp[3] for hyp in active], 1)
        lp, (H, C) = m.step(tok, (H, C))
        cands = []
        for a, hyp in enumerate(active):
            for v in range(lp.shape[1]):
                cands.append((hyp[0] + float(lp[a, v]), a, v))
        cands.sort(key=lambda e: (-e[0], e[1], e[2]))
        cands = cands[:2 * width]
        nxt = []
        for rank, (s, a, v) in enumerate(cands):
            toks = active[a][1]
            if v == EOS:
                if rank < width:
                    final.append((s, toks, len(toks) + 1))
            elif len(nxt) < width:
                nxt.append((s, toks + [v], H[:, a:a + 1], C[:, a:a + 1]))
        if len(final) >= width or not nxt:
            break
        active = nxt
    else:
        final += [(s, toks, len(toks)) for s, toks, _, _ in active]
    ranked = [(s / (((5 + n) / 6) ** alpha), s, toks) for s, toks, n in final]
    ranked = sorted(enumerate(ranked), key=lambda e: (-e[1][0], e[0]))
    return [r for _, r in ranked[:width]]


def train_reverser(m, vocab, steps):
    """A few hundred Adam steps on "reverse the sequence": a partly trained model decodes to varied lengths,
    ends with EOS, and gives beam search real choices (a random model repeats one token)."""
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    g = torch.Generator().manual_seed(5)
    for _ in range(steps):
        n = int(torch.randint(2, 7, (1,), generator=g))
        src = torch.randint(4, vocab, (32, n), generator=g)
        tgt = torch.cat([src.flip(1), torch.full((32, 1), EOS)], 1)
        inp = torch.cat([torch.full((32, 1), BOS), tgt[:, :-1]], 1)
        h, c = m.encode(src)
        y, _ = m.decoder(m.tgt_embed(inp), (h, c))
        loss = nn.functional.cross_entropy(m.out(y).reshape(-1, vocab), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss)


def seq2seq():
    torch.manual_seed(13)
    SV = TV = 12
    m = Seq2Seq(SV, TV, 8, 24, 2)
    print('reverser loss', round(train_reverser(m, SV, 150), 4))
    m.eval()
    t = {f's2s.{k}': v.numpy() for k, v in m.state_dict().items()}
    src = torch.randint(4, SV, (3, 6))
    max_len = 12
    ids, margin = greedy(m, src, max_len)
    print('greedy lengths', [len(r) for r in ids], 'min top-2 margin', round(margin, 5))
    assert margin > 1e-3, 'greedy decode has a near-tie: pick another seed'
    t['greedy.src'] = src.float().numpy()
    t['greedy.ids'] = torch.tensor([r + [-1] * (max_len - len(r)) for r in ids]).float().numpy()
    for i, (w, alpha, n) in enumerate(((4, 0.6, 3), (3, 0.0, 5), (5, 1.0, 6))):
        s = torch.randint(4, SV, (1, n))
        res = beam(m, s, w, max_len, alpha)
        print(f'beam {i} width {w} alpha {alpha}:', [(round(n, 4), toks) for n, _, toks in res])
        t[f'beam{i}.src'] = s.float().numpy()
        t[f'beam{i}.ids'] = torch.tensor([toks + [-1] * (max_len - len(toks)) for _, _, toks in res]).float().numpy()
        t[f'beam{i}.scores'] = torch.tensor([n for n, _, _ in res]).float().numpy()
        t[f'beam{i}.logprobs'] = torch.tensor([s_ for _, s_, _ in res]).float().numpy()
        t[f'beam{i}.config'] = torch.tensor([w, alpha, max_len]).float().numpy()
    safetensors_py.save(os.path.join(OUT, 'seq2seq.safetensors'), t, META)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    layers()
    seq()
    seq2seq()
    for f in sorted(os.listdir(OUT)):
        print('wrote', os.path.normpath(os.path.join(OUT, f)), os.path.getsize(os.path.join(OUT, f)), 'bytes')
